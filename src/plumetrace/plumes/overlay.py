"""A plume's enhancement resampled onto a regular lon/lat grid, for a map overlay.

Web maps place an image on a lon/lat rectangle; scene pixels are on the sensor's grid
(rotated, UTM, or per-pixel coordinates). :func:`overlay_grid` takes the pixel centres
around a plume and returns their values on a regular lon/lat grid (nearest pixel within
~0.75 pixel, else NaN), so the overlay keeps the scene's resolution.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from plumetrace.errors import InvalidParameterError

__all__ = ["MAX_SIDE_PX", "overlay_grid"]

MAX_SIDE_PX = 512
"""Largest side of an overlay, pixels (coarser than the scene beyond this)."""

_M_PER_DEG = 111_320.0


def overlay_grid(
    values: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    bounds: tuple[float, float, float, float],
    pixel_m: float,
) -> NDArray[np.float64]:
    """Return scene values on a regular lon/lat grid covering ``bounds``.

    Parameters
    ----------
    values, lon, lat : (n,) ndarray
        Pixel values (NaN: no data) and their centres, degrees (WGS84).
    bounds : (west, south, east, north), degrees
    pixel_m : float, m
        The scene's pixel size.

    Returns
    -------
    (h, w) ndarray of float64
        Row 0 is the north edge; NaN where no scene pixel lies within 0.75 pixel.

    Raises
    ------
    InvalidParameterError
        Empty bounds, a non-positive pixel size, or arrays of different lengths.
    """
    w, s, e, n = bounds
    if not (e > w and n > s and pixel_m > 0):
        raise InvalidParameterError(f"bad overlay bounds {bounds} or pixel size {pixel_m}")
    v, x, y = (np.asarray(a, dtype=np.float64).ravel() for a in (values, lon, lat))
    if not (v.size == x.size == y.size):
        raise InvalidParameterError("values, lon and lat must have the same length")
    coslat = math.cos(math.radians(0.5 * (s + n)))
    step = pixel_m / _M_PER_DEG
    # cells of the scene's size (a whisker under a whole number stays that number)
    width = min(max(math.ceil((e - w) * coslat / step - 1e-6), 1), MAX_SIDE_PX)
    height = min(max(math.ceil((n - s) / step - 1e-6), 1), MAX_SIDE_PX)
    out = np.full((height, width), np.nan)
    if v.size == 0:
        return out
    gx = w + (np.arange(width) + 0.5) * (e - w) / width
    gy = n - (np.arange(height) + 0.5) * (n - s) / height
    qx, qy = np.meshgrid(gx, gy)
    tree = cKDTree(np.column_stack([x * coslat, y]))
    dist, idx = tree.query(np.column_stack([qx.ravel() * coslat, qy.ravel()]))
    near = dist <= 0.75 * max(step, (e - w) * coslat / width, (n - s) / height)
    flat = out.ravel()
    flat[near] = v[idx[near]]
    return flat.reshape(height, width)
