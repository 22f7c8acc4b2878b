"""Plume geometry on the pixel grid: wind vectors, along/cross-wind coordinates, outlines.

Grid conventions: pixel ``(r, c)`` covers ``[r, r+1) x [c, c+1)`` in continuous grid
coordinates, so its centre is ``(r + 0.5, c + 0.5)``. A grid's orientation on the ground
is given by its Jacobian ``J`` (2 x 2, metres per pixel): ``[east, north] = J @ [dcol, drow]``.
A north-up grid with square pixels of size ``p`` has ``J = [[p, 0], [0, -p]]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = [
    "along_cross",
    "downwind_unit_vector",
    "mask_outline",
    "north_up_jacobian",
    "principal_axis",
]


def north_up_jacobian(pixel_size_m: float) -> NDArray[np.float64]:
    """Return the Jacobian (m per pixel) of a north-up grid with square pixels."""
    if not pixel_size_m > 0:
        raise InvalidParameterError(f"pixel size must be positive, got {pixel_size_m}")
    return np.array([[pixel_size_m, 0.0], [0.0, -pixel_size_m]])


def downwind_unit_vector(wind_dir_deg: float, jacobian: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the unit vector ``(drow, dcol)`` on the grid pointing where the wind blows TO.

    Parameters
    ----------
    wind_dir_deg : float, degrees
        Meteorological direction, clockwise from north, the wind blows FROM.
    jacobian : (2, 2) ndarray, m per pixel
        ``[east, north] = J @ [dcol, drow]``.

    Returns
    -------
    (2,) ndarray
        ``(drow, dcol)``, unit length in pixel units.
    """
    theta = np.deg2rad(wind_dir_deg)
    to_en = np.array([-np.sin(theta), -np.cos(theta)])  # (east, north) of the travel direction
    dcol, drow = np.linalg.solve(np.asarray(jacobian, dtype=np.float64), to_en)
    v = np.array([drow, dcol])
    return np.asarray(v / np.hypot(*v))


def along_cross(
    rows: NDArray[np.float64],
    cols: NDArray[np.float64],
    origin: tuple[float, float],
    direction: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the along- and cross-direction coordinates (pixels) of points from an origin.

    Parameters
    ----------
    rows, cols : (n,) ndarray
        Point positions in grid coordinates.
    origin : (row, col)
    direction : (2,) ndarray
        Unit ``(drow, dcol)``.

    Returns
    -------
    along : (n,) ndarray, pixels
        Signed distance along ``direction``.
    cross : (n,) ndarray, pixels
        Signed distance to the left of ``direction`` (right-handed in (col, -row)).
    """
    dr = np.asarray(rows, dtype=np.float64) - origin[0]
    dc = np.asarray(cols, dtype=np.float64) - origin[1]
    along = dr * direction[0] + dc * direction[1]
    cross = dc * direction[0] - dr * direction[1]
    return along, cross


def principal_axis(
    rows: NDArray[np.float64], cols: NDArray[np.float64], weights: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float]:
    """Return the weighted principal axis ``(drow, dcol)`` of points and their elongation.

    Parameters
    ----------
    rows, cols : (n,) ndarray
        Pixel centres.
    weights : (n,) ndarray
        Non-negative weights (e.g. enhancement); all-zero weights count points equally.

    Returns
    -------
    axis : (2,) ndarray
        Unit vector of the largest spread (sign arbitrary).
    elongation : float
        ``sqrt(λ1 / λ2)`` of the weighted covariance (1 for a disc), capped at 1000.
    """
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    if not w.sum() > 0:
        w = np.ones_like(w)
    w = w / w.sum()
    mr = float(w @ rows)
    mc = float(w @ cols)
    dr = rows - mr
    dc = cols - mc
    cov = np.array([[w @ (dr * dr), w @ (dr * dc)], [w @ (dr * dc), w @ (dc * dc)]])
    cov += np.eye(2) / 12.0  # a pixel's own extent
    vals, vecs = np.linalg.eigh(cov)
    elongation = float(min(np.sqrt(vals[1] / max(vals[0], 1e-12)), 1000.0))
    return np.asarray(vecs[:, 1]), elongation


def mask_outline(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Return the outer ring of a mask as grid-coordinate vertices ``(row, col)``.

    Holes are filled; parts are bridged by a morphological closing of up to 12 pixels,
    and parts still apart after that are joined by their convex hull (a Polygon is what
    GeoJSON consumers expect).

    Parameters
    ----------
    mask : (rows, cols) ndarray of bool
        At least one pixel set.

    Returns
    -------
    (n, 2) ndarray
        Closed ring (first vertex repeated last) of pixel-edge vertices in grid
        coordinates; orient it after georeferencing (a grid's row axis may point south).
    """
    from rasterio import features
    from scipy import ndimage as ndi
    from shapely.geometry import shape
    from shapely.ops import unary_union

    if not mask.any():
        raise InvalidParameterError("cannot outline an empty mask")
    filled = ndi.binary_fill_holes(mask)
    # Fragments of one plume: bridge gaps by closing (up to 12 px) before the last resort.
    if ndi.label(filled, structure=np.ones((3, 3), dtype=bool))[1] > 1:
        padded = np.pad(filled, 13)
        for it in (2, 4, 8, 12):
            closed = ndi.binary_closing(padded, np.ones((3, 3), dtype=bool), iterations=it)
            if ndi.label(closed, structure=np.ones((3, 3), dtype=bool))[1] == 1:
                filled = ndi.binary_fill_holes(closed)[13:-13, 13:-13] | filled
                break
    polys = [
        shape(geom)
        for geom, value in features.shapes(filled.astype(np.uint8), mask=filled, connectivity=8)
        if value == 1
    ]
    merged = unary_union(polys)
    if merged.geom_type != "Polygon":
        merged = merged.convex_hull
    xy = np.asarray(merged.exterior.coords, dtype=np.float64)  # (x=col, y=row)
    return np.column_stack([xy[:, 1], xy[:, 0]])
