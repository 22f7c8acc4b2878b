"""Civilian-context layers: population rasters (GeoTIFF) and buildings (GeoJSON).

Population
    A single-band GeoTIFF of persons per pixel (WorldPop, GHS-POP, ...) on a
    north-up or rotated grid in any CRS. :func:`read_population` reads it whole or, given a
    lon/lat bounding box, only the window covering the box (rounded outwards to whole
    pixels); no-data pixels become NaN. :func:`write_population` writes float32 with the
    no-data value -99999 (WorldPop's).

Buildings and facilities
    A GeoJSON FeatureCollection (lon/lat, WGS84). A feature whose ``kind`` (or, failing
    that, ``amenity``) property is ``"school"`` or ``"hospital"`` is a facility (any
    geometry: points or polygons); every other feature is a building footprint and must be
    a Polygon or MultiPolygon, with an optional boolean ``residential`` property (absent
    or null: unknown use). A facility is not also a building: list its footprint as a
    separate building feature if it is one. :func:`write_buildings` writes buildings with
    ``kind: "building"`` and the facilities with their kind, so files round-trip.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.geojson import geometry_shape, read_geojson, write_geojson
from plumetrace.io.geotiff import check_read_size, write_geotiff
from plumetrace.sites.context import Features, PopulationGrid

__all__ = [
    "POPULATION_NODATA",
    "population_bounds",
    "read_buildings",
    "read_population",
    "store_population_file",
    "write_buildings",
    "write_population",
]

logger = logging.getLogger(__name__)

POPULATION_NODATA = -99999.0
"""No-data value of written population rasters (WorldPop's convention)."""

_FACILITY_KINDS = ("school", "hospital")


def _crs_text(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else str(crs.to_wkt())


def read_population(
    path: str | Path, bbox: tuple[float, float, float, float] | None = None
) -> PopulationGrid:
    """Read a population raster (persons per pixel) from a GeoTIFF.

    Parameters
    ----------
    path : str or Path
        Single-band GeoTIFF with a CRS and an affine transform.
    bbox : tuple of 4 float or None, degrees
        ``(west, south, east, north)`` in WGS84 lon/lat: read only the pixels covering it
        (the box is transformed to the raster's CRS with densified edges and rounded
        outwards to whole pixels). ``None`` reads the whole raster. Rotated rasters are
        always read whole.

    Returns
    -------
    PopulationGrid
        Values as float64 persons per pixel (no-data pixels NaN), the window's transform
        and the CRS as ``"EPSG:nnnn"`` or WKT.

    Raises
    ------
    DataSourceError
        If the file is missing, or the box does not overlap the raster.
    FormatError
        One line naming the file: not a readable GeoTIFF, not georeferenced, more than
        one band, or negative persons.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    from rasterio.transform import Affine
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    p = Path(path)
    if not p.is_file():
        raise DataSourceError(p, "file not found" if not p.exists() else "not a file")
    if bbox is not None:
        west, south, east, north = (float(v) for v in bbox)
        if not (west < east and south < north and all(map(math.isfinite, bbox))):
            raise DataSourceError(p, f"bad bounding box {bbox}: need west < east, south < north")
    try:
        with (
            warnings.catch_warnings(action="ignore", category=NotGeoreferencedWarning),
            rasterio.open(p) as src,
        ):
            if src.count != 1:
                raise FormatError(p, f"expected one band of persons per pixel, found {src.count}")
            if src.crs is None or src.transform == Affine.identity():
                raise FormatError(p, "the population raster is not georeferenced")
            window = None
            a, b, c, d, e, f = (float(v) for v in tuple(src.transform)[:6])
            if bbox is not None and b == 0 and d == 0:
                xmin, ymin, xmax, ymax = transform_bounds(
                    "EPSG:4326", src.crs, west, south, east, north, densify_pts=21
                )
                if a == 0 or e == 0:
                    raise FormatError(p, f"degenerate transform {tuple(src.transform)[:6]}")
                cols = sorted(((xmin - c) / a, (xmax - c) / a))
                rows = sorted(((ymin - f) / e, (ymax - f) / e))
                if not all(map(math.isfinite, (*cols, *rows))):
                    raise DataSourceError(p, f"the bounding box {bbox} does not overlap the raster")
                col0, row0 = max(math.floor(cols[0]), 0), max(math.floor(rows[0]), 0)
                col1 = min(math.ceil(cols[1]), src.width)
                row1 = min(math.ceil(rows[1]), src.height)
                if col1 <= col0 or row1 <= row0:
                    raise DataSourceError(p, f"the bounding box {bbox} does not overlap the raster")
                window = Window(col0, row0, col1 - col0, row1 - row0)
                c, f = c + col0 * a, f + row0 * e
            if window is None:
                check_read_size(p, 1, src.height, src.width, src.dtypes[0])
            else:
                check_read_size(p, 1, int(window.height), int(window.width), src.dtypes[0])
            data = src.read(1, window=window, masked=True)
            crs = _crs_text(src.crs)
    except (RasterioError, CPLE_BaseError) as exc:  # GDAL's errors are not all RasterioErrors
        raise FormatError(p, f"not a readable GeoTIFF ({' '.join(str(exc).split())})") from None
    values = np.ma.filled(data.astype(np.float64), np.nan)
    if np.nanmin(values, initial=0.0) < 0:
        bad = int(np.count_nonzero(values < 0))
        raise FormatError(p, f"{bad} pixels hold negative persons (undeclared no-data value?)")
    logger.debug("read population %s: %d x %d pixels", p, *values.shape)
    return PopulationGrid(values=values, transform=(a, b, c, d, e, f), crs=crs)


def write_population(path: str | Path, grid: PopulationGrid) -> None:
    """Write a population raster as a float32 GeoTIFF (atomically).

    NaN pixels are written as :data:`POPULATION_NODATA`, declared as the no-data value.

    Raises
    ------
    DataSourceError
        If the file cannot be written.
    """
    from plumetrace.geo import Georef

    write_geotiff(
        path,
        np.asarray(grid.values, dtype=np.float32),
        Georef(crs=grid.crs, transform=grid.transform),
        nodata=POPULATION_NODATA,
        band_descriptions=["population"],
        tags={"units": "persons per pixel"},
    )


def _kind(properties: dict[str, Any]) -> str | None:
    for key in ("kind", "amenity"):
        value = properties.get(key)
        if isinstance(value, str) and value.strip().lower() in _FACILITY_KINDS:
            return value.strip().lower()
    return None


def _read_collection_fast(path: Path) -> tuple[list[dict[str, Any]], list[Any]] | None:
    """Properties and geometries of a GeoJSON file, read by GDAL (pyogrio).

    Returns None when the file needs the general reader: unreadable by GDAL, a feature
    without geometry, or a ``residential`` field GDAL did not type as boolean (the
    general reader then names the feature at fault).
    """
    import pyogrio.raw
    import shapely
    import shapely.errors

    try:
        with warnings.catch_warnings():
            # GDAL's warnings (e.g. "Unsupported geometry type ... NULL geometry") concern
            # features the general reader then names in its error
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _fids, wkb, fields = pyogrio.raw.read(str(path), read_geometry=True)
    except (RuntimeError, OSError, ValueError):  # pyogrio's errors are RuntimeErrors;
        return None  # undecodable field names are a ValueError
    if wkb is None or len(wkb) == 0:
        return None
    names = [str(n) for n in meta["fields"]]
    dtypes = [str(d) for d in meta["dtypes"]]
    columns = dict(zip(names, fields, strict=True))
    n = len(wkb)
    residential: list[bool | None] = [None] * n
    if "residential" in columns:
        if dtypes[names.index("residential")] != "bool":
            return None
        residential = [None if np.isnan(v) else bool(v) for v in columns["residential"]]
    kinds = {k: columns[k] for k in ("kind", "amenity") if k in columns}
    props: list[dict[str, Any]] = [
        {"residential": residential[i], **{k: col[i] for k, col in kinds.items()}} for i in range(n)
    ]
    try:
        geoms = list(shapely.from_wkb(wkb))
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        return None
    if any(g is None for g in geoms):
        return None
    return props, geoms


def read_buildings(path: str | Path) -> Features:
    """Read building footprints, schools and hospitals from a GeoJSON file.

    Parameters
    ----------
    path : str or Path
        A FeatureCollection in lon/lat (format in the module docstring).

    Returns
    -------
    Features
        Buildings with their ``residential`` flags (None when absent), schools and
        hospitals, in file order.

    Raises
    ------
    DataSourceError
        If the file is missing or unreadable.
    FormatError
        One line naming the file and the feature (``features[i]``): invalid JSON or
        GeoJSON, a building that is not a (valid) polygon, or a ``residential`` value that
        is not a boolean.
    """
    import shapely

    p = Path(path)
    fast = _read_collection_fast(p)
    if fast is not None:
        props_list, geoms = fast
    else:
        doc = read_geojson(p)
        props_list = [f["properties"] for f in doc["features"]]
        geoms = [
            geometry_shape(f["geometry"], p, f"features[{i}]")
            for i, f in enumerate(doc["features"])
        ]
    buildings: list[Any] = []
    flags: list[bool | None] = []
    facilities: dict[str, list[Any]] = {kind: [] for kind in _FACILITY_KINDS}
    valid = shapely.is_valid(np.asarray(geoms, dtype=object)) if geoms else np.zeros(0, bool)
    for i, (geom, props) in enumerate(zip(geoms, props_list, strict=True)):
        if geom.is_empty:
            raise FormatError(p, f"features[{i}] has an empty geometry")
        kind = _kind(props)
        if kind is not None:
            facilities[kind].append(geom)
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise FormatError(
                p,
                f"features[{i}] is a {geom.geom_type}, not a building polygon "
                '(mark schools and hospitals with "kind")',
            )
        if not valid[i]:
            raise FormatError(
                p, f"features[{i}] is not a valid polygon: {shapely.is_valid_reason(geom)}"
            )
        flag = props.get("residential")
        if flag is not None and not isinstance(flag, bool):
            raise FormatError(
                p, f"features[{i}] residential must be true, false or null, got {flag!r}"
            )
        buildings.append(geom)
        flags.append(flag)
    logger.debug(
        "read %d buildings, %d schools, %d hospitals from %s",
        len(buildings),
        len(facilities["school"]),
        len(facilities["hospital"]),
        p,
    )
    return Features(
        buildings=buildings,
        residential=flags,
        schools=facilities["school"],
        hospitals=facilities["hospital"],
    )


def write_buildings(path: str | Path, features: Features) -> None:
    """Write buildings, schools and hospitals as one GeoJSON FeatureCollection (atomically).

    Buildings get ``{"kind": "building", "residential": true | false | null}``, facilities
    ``{"kind": "school"}`` or ``{"kind": "hospital"}``; coordinates are rounded to 1e-7
    degree (about 1 cm).

    Raises
    ------
    DataSourceError
        If the file cannot be written.
    """
    items: list[dict[str, Any]] = [
        {"geometry": geom, "properties": {"kind": "building", "residential": flag}}
        for geom, flag in zip(features.buildings, features.residential, strict=True)
    ]
    for kind, geoms in (("school", features.schools), ("hospital", features.hospitals)):
        items.extend({"geometry": geom, "properties": {"kind": kind}} for geom in geoms)
    write_geojson(path, items)


def store_population_file(src: str | Path, root: str | Path) -> tuple[str, Path]:
    """Copy a population raster under ``root`` by content hash; return (sha256, path).

    The copy is atomic and happens once per content: loading the same file again
    writes nothing.

    Raises
    ------
    DataSourceError
        If the file cannot be read or the copy written.
    """
    import hashlib

    from plumetrace.io._atomic import atomic_write_bytes, ensure_dir

    p = Path(src)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataSourceError(p, f"cannot be read: {exc.strerror or exc}") from None
    sha = hashlib.sha256(data).hexdigest()
    dest = ensure_dir(Path(root)) / f"population-{sha}{p.suffix.lower() or '.tif'}"
    if not dest.exists():
        atomic_write_bytes(dest, data)
    return sha, dest


def population_bounds(path: str | Path) -> tuple[float, float, float, float]:
    """Return a population raster's extent as WGS84 ``(west, south, east, north)``.

    Raises
    ------
    DataSourceError, FormatError
        As :func:`read_population`.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError
    from rasterio.warp import transform_bounds

    p = Path(path)
    if not p.is_file():
        raise DataSourceError(p, "file not found")
    try:
        with rasterio.open(p) as src:
            if src.crs is None:
                raise FormatError(p, "the population raster is not georeferenced")
            w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
    except (RasterioError, CPLE_BaseError) as exc:  # GDAL's errors are not all RasterioErrors
        raise FormatError(p, f"not a readable GeoTIFF ({' '.join(str(exc).split())})") from None
    return float(w), float(s), float(e), float(n)
