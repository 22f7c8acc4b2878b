"""Plume overlays for the map: each plume's enhancement as a transparent lon/lat PNG.

Given the enhancement raster a ``plumes.geojson`` was found in, every plume with an
outline gets the raster's values around it resampled onto a lon/lat grid
(:func:`plumetrace.plumes.overlay.overlay_grid`) and cut to the outline, rendered as a PNG
(:func:`plumetrace.io.overlay_png.overlay_png`), stored content-addressed with the other
evidence files, and named in the detection's properties (``image``: sha256 and
``[[south, west], [north, east]]`` bounds) for the map to draw.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import shapely
import shapely.geometry

from plumetrace.io.evidence import DetectionRecord
from plumetrace.io.evidence_files import store_evidence_file
from plumetrace.io.geotiff import read_geotiff
from plumetrace.io.overlay_png import overlay_png
from plumetrace.plumes.overlay import overlay_grid

__all__ = ["with_overlays"]

_PAD_PX = 3


def with_overlays(
    records: list[DetectionRecord], enhancement: Path, evidence_dir: Path
) -> list[DetectionRecord]:
    """Return ``records`` with an ``image`` property on each plume that has an outline.

    Parameters
    ----------
    records : list of DetectionRecord
        From a ``plumes.geojson``.
    enhancement : Path
        The enhancement GeoTIFF (ppm·m) the plumes were found in.
    evidence_dir : Path
        Where evidence files are kept (content-addressed).

    Raises
    ------
    PlumetraceError
        An unreadable raster, or one without georeferencing.
    """
    raster = read_geotiff(enhancement)
    data = np.asarray(raster.data, dtype=np.float64)
    if data.ndim == 3:
        data = data[0]
    if raster.nodata is not None:
        data = np.where(data == raster.nodata, np.nan, data)
    rows, cols = np.mgrid[: data.shape[0], : data.shape[1]].astype(np.float64)
    lon, lat = raster.georef.grid_to_lonlat(rows + 0.5, cols + 0.5)
    jac = raster.georef.jacobian_m(data.shape)
    pixel_m = math.sqrt(abs(float(np.linalg.det(jac))))
    out = []
    for rec in records:
        outline = rec.properties.get("outline")
        if rec.kind != "plume" or not isinstance(outline, dict):
            out.append(rec)
            continue
        shape = shapely.geometry.shape(outline)
        w, s, e, n = shape.bounds
        pad_lat = _PAD_PX * pixel_m / 111_320.0
        pad_lon = pad_lat / max(math.cos(math.radians(0.5 * (s + n))), 0.01)
        w, s, e, n = w - pad_lon, s - pad_lat, e + pad_lon, n + pad_lat
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        grid = overlay_grid(data[inside], lon[inside], lat[inside], (w, s, e, n), pixel_m)
        # only the plume: cells outside its outline (widened by a pixel) are transparent
        h, wd = grid.shape
        gx = w + (np.arange(wd) + 0.5) * (e - w) / wd
        gy = n - (np.arange(h) + 0.5) * (n - s) / h
        qx, qy = np.meshgrid(gx, gy)
        near = shape.buffer(pad_lat / _PAD_PX)
        grid[~shapely.contains_xy(near, qx, qy)] = np.nan
        finite = grid[np.isfinite(grid)]
        vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
        sha = store_evidence_file(evidence_dir, overlay_png(grid, vmax))
        image = {"sha256": sha, "bounds": [[s, w], [n, e]], "vmax_ppm_m": round(vmax, 1)}
        out.append(dataclasses.replace(rec, properties={**rec.properties, "image": image}))
    return out
