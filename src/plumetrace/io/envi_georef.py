"""ENVI ``map info`` / ``coordinate system string`` <-> :class:`~plumetrace.geo.Georef`.

``map info = {name, ref x, ref y, easting, northing, x size, y size, [zone, North|South,]
datum, units=..., rotation=...}``. The reference pixel is 1-based and ``(1, 1)`` is the
upper-left corner of the upper-left pixel. ``rotation`` (degrees) turns the grid
counter-clockwise, as read by GDAL (>= 2.2), so that with ``ρ`` the rotation::

    x = E + xs·cos ρ · (col - cx) + ys·sin ρ · (row - cy)
    y = N + xs·sin ρ · (col - cx) - ys·cos ρ · (row - cy)

with ``(cx, cy) = (ref x - 1, ref y - 1)`` and ``(col, row)`` fractional corner coordinates.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from pyproj import CRS
from pyproj.exceptions import CRSError

from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.geo import Georef

__all__ = ["georef_from_envi", "map_info_from_georef"]

logger = logging.getLogger(__name__)

_WGS84_NAMES = {"wgs-84", "wgs84", "wgs 84", "wgs_1984"}
_NAD83_NAMES = {"north america 1983", "nad83", "nad-83"}
_NAD27_NAMES = {"north america 1927", "nad27", "nad-27"}


def _crs_text(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


def _crs_from_css(css: str | None, source: Path) -> str | None:
    if not css:
        return None
    try:
        return _crs_text(CRS.from_wkt(css))
    except CRSError as exc:
        logger.warning("%s: cannot interpret the coordinate system string: %s", source, exc)
        return None


def _utm_crs(zone_text: str, hemi_text: str, datum: str | None, source: Path) -> str | None:
    try:
        zone = int(float(zone_text))
    except (ValueError, OverflowError):
        raise FormatError(source, f"map info: UTM zone {zone_text!r} is not a number") from None
    if not 1 <= zone <= 60:
        raise FormatError(source, f"map info: UTM zone {zone} is outside 1-60")
    hemi = hemi_text.strip().lower()
    if hemi not in ("north", "south"):
        raise FormatError(source, f"map info: hemisphere must be North or South, got {hemi_text!r}")
    north = hemi == "north"
    d = (datum or "WGS-84").strip().lower()
    if datum is None:
        logger.warning("%s: map info names no datum; assuming WGS-84", source)
    if d in _WGS84_NAMES:
        return f"EPSG:{(32600 if north else 32700) + zone}"
    if d in _NAD83_NAMES and north and zone <= 23:
        return f"EPSG:{26900 + zone}"
    if d in _NAD27_NAMES and north and zone <= 22:
        return f"EPSG:{26700 + zone}"
    return None


def _float_item(items: list[str], k: int, what: str, source: Path) -> float:
    try:
        value = float(items[k])
    except ValueError:
        raise FormatError(source, f"map info: {what} {items[k]!r} is not a number") from None
    if not math.isfinite(value):
        raise FormatError(source, f"map info: {what} must be finite, got {items[k]!r}")
    return value


def georef_from_envi(
    map_info: list[str] | None, coordinate_system_string: str | None, source: str | Path
) -> Georef:
    """Build a :class:`Georef` from ENVI ``map info`` and ``coordinate system string``.

    UTM on WGS-84 (and NAD83/NAD27 North) and Geographic Lat/Lon on WGS-84 map to EPSG
    codes; any other projection is taken from the coordinate system string. A map info
    whose projection cannot be identified gives a transform without a CRS (logged).

    Raises
    ------
    FormatError
        If ``map info`` is malformed (too few items, non-numeric values, sizes <= 0).
    """
    src = Path(source)
    if not map_info:
        return Georef(crs=_crs_from_css(coordinate_system_string, src))
    named: dict[str, str] = {}
    positional: list[str] = []
    for item in map_info:
        key, sep, value = item.partition("=")
        if sep:
            named[key.strip().lower()] = value.strip()
        else:
            positional.append(item.strip())
    if len(positional) < 7:
        raise FormatError(
            src,
            f"map info has {len(positional)} items; at least 7 are needed (projection, "
            "reference pixel x and y, easting, northing, pixel size x and y)",
        )
    names = ("reference pixel x", "reference pixel y", "easting", "northing")
    refx, refy, east, north = (_float_item(positional, k + 1, n, src) for k, n in enumerate(names))
    xs = _float_item(positional, 5, "pixel size x", src)
    ys = _float_item(positional, 6, "pixel size y", src)
    if xs <= 0 or ys <= 0:
        raise FormatError(src, f"map info: pixel sizes must be positive, got {xs} and {ys}")
    rotation = 0.0
    if "rotation" in named:
        try:
            rotation = float(named["rotation"])
        except ValueError:
            raise FormatError(
                src, f"map info: rotation {named['rotation']!r} is not a number"
            ) from None
        if not math.isfinite(rotation):
            raise FormatError(src, f"map info: rotation must be finite, got {named['rotation']!r}")
    rho = math.radians(rotation)
    cos_r, sin_r = (1.0, 0.0) if rotation == 0 else (math.cos(rho), math.sin(rho))
    a, b, d, e = xs * cos_r, ys * sin_r, xs * sin_r, -ys * cos_r
    cx, cy = refx - 1.0, refy - 1.0
    transform = (a, b, east - a * cx - b * cy, d, e, north - d * cx - e * cy)

    name = positional[0].lower()
    units = named.get("units", "").lower()
    crs: str | None = None
    if name.startswith("utm") and len(positional) >= 9:
        if units not in ("", "meters", "metres"):
            logger.warning("%s: UTM map info in %r units is not supported", src, units)
        else:
            datum = positional[9] if len(positional) > 9 else None
            crs = _utm_crs(positional[7], positional[8], datum, src)
    elif name.startswith("geographic lat"):
        datum = positional[7].lower() if len(positional) > 7 else "wgs-84"
        if datum in _WGS84_NAMES and units in ("", "degrees"):
            crs = "EPSG:4326"
    if crs is None:
        crs = _crs_from_css(coordinate_system_string, src)
    if crs is None:
        logger.warning(
            "%s: map info projection %r is not supported and there is no usable coordinate "
            "system string; the image is read without georeferencing",
            src,
            positional[0],
        )
    return Georef(crs=crs, transform=transform)


def _fmt(x: float) -> str:
    return repr(float(x))


def map_info_from_georef(georef: Georef | None) -> tuple[list[str] | None, str | None]:
    """Return ``(map info items, coordinate system string)`` for a grid ``georef``.

    EPSG:326zz/327zz is written as ``UTM``, EPSG:4326 as ``Geographic Lat/Lon``; any other
    CRS is written with its name and an ESRI WKT coordinate system string. A rotated
    (non north-up) grid gets a ``rotation=`` item.

    Raises
    ------
    InvalidParameterError
        If ``georef`` holds per-pixel lat/lon only (ENVI headers cannot), or its transform
        is skewed or mirrored.
    """
    if georef is None or (georef.crs is None and georef.lat is None):
        return None, None
    if georef.crs is None or georef.transform is None:
        raise InvalidParameterError(
            "an ENVI header holds a regular grid (crs + transform) only; per-pixel lat/lon "
            "needs a GeoTIFF with GCPs or an EMIT-style netCDF"
        )
    try:
        crs_obj = CRS.from_user_input(georef.crs)
    except CRSError as exc:
        raise InvalidParameterError(f"unknown CRS {georef.crs!r}: {exc}") from exc
    a, b, c, d, e, f = (float(v) for v in georef.transform)
    xs, ys = math.hypot(a, d), math.hypot(b, e)
    if xs == 0 or ys == 0:
        raise InvalidParameterError(f"degenerate transform {georef.transform}")
    rho = math.atan2(d, a)
    tol = 1e-9 * max(xs, ys)
    if abs(b - ys * math.sin(rho)) > tol or abs(e + ys * math.cos(rho)) > tol:
        raise InvalidParameterError(
            f"transform {georef.transform} is skewed or mirrored; ENVI map info holds "
            "a (possibly rotated) north-up grid only"
        )
    epsg = crs_obj.to_epsg()
    tail: list[str]
    if epsg is not None and (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        zone, hemi = epsg % 100, ("North" if epsg < 32700 else "South")
        name, tail = "UTM", [str(zone), hemi, "WGS-84", "units=Meters"]
    elif epsg == 4326:
        name, tail = "Geographic Lat/Lon", ["WGS-84", "units=Degrees"]
    else:
        name, tail = crs_obj.name.replace(",", " ").replace("{", "(").replace("}", ")"), []
    items = [name, "1", "1", _fmt(c), _fmt(f), _fmt(xs), _fmt(ys), *tail]
    if abs(rho) > 1e-12:
        items.append(f"rotation={_fmt(math.degrees(rho))}")
    try:
        css = crs_obj.to_wkt("WKT1_ESRI")
    except CRSError:
        css = crs_obj.to_wkt("WKT1_GDAL")
    return items, css
