"""A synthetic town: population raster and building layers for civilian-context tests.

:func:`synthetic_town` lays out, around a centre, in local metres (``size_m`` square,
north up, zone boxes in :data:`TOWN_ZONES` as fractions of ``size_m``):

* a dense **residential** neighbourhood: small houses (12 x 10 m, 25 m apart, slightly
  jittered and rotated), mostly flagged residential, a few corner shops (non-residential)
  and a few of unknown use; about 1 person per 10 m pixel (10,000 per km²);
* an **industrial** zone: warehouses (50 x 35 m, 80 m apart), non-residential; about
  0.04 person per pixel;
* **open land** everywhere else, nearly empty (0.001 person per pixel), with a small
  lake of no-data pixels (NaN);
* one **school** (an 80 x 50 m polygon, also listed as a non-residential building) south
  of the neighbourhood and one **hospital** (a point) north of it.

The raster has 10 m pixels on the UTM zone of the centre. Everything is drawn from
``numpy.random.default_rng(seed)``, so a seed gives the same town every time.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from plumetrace.errors import InvalidParameterError
from plumetrace.geo import local_projection, local_to_lonlat, utm_georef
from plumetrace.sites.context import Features, PopulationGrid

__all__ = [
    "HOSPITAL_AT",
    "TOWN_DENSITY",
    "TOWN_PIXEL_M",
    "TOWN_ZONES",
    "synthetic_town",
    "town_point",
]

TOWN_PIXEL_M = 10.0
"""Pixel size of the synthetic population raster, m."""

TOWN_ZONES: Mapping[str, tuple[float, float, float, float]] = {
    "residential": (-0.45, -0.25, -0.05, 0.35),
    "industrial": (0.10, -0.35, 0.45, 0.05),
    "open": (0.10, 0.20, 0.45, 0.45),
    "lake": (0.30, -0.48, 0.48, -0.40),
    "school": (-0.27, -0.345, -0.23, -0.32),
}
"""Zone boxes ``(west, south, east, north)`` as fractions of ``size_m`` from the centre
(east and north positive). ``"open"`` is a box of open land far from everything; open land
also fills whatever no other zone covers."""

TOWN_DENSITY: Mapping[str, float] = {"residential": 1.0, "industrial": 0.04, "open": 0.001}
"""Mean persons per 10 m pixel of each zone."""

HOSPITAL_AT: tuple[float, float] = (-0.25, 0.42)
"""Hospital position, fractions of ``size_m`` east and north of the centre."""

_HOUSE = (12.0, 10.0, 25.0)  # width, depth, spacing (m)
_WAREHOUSE = (50.0, 35.0, 80.0)
_SHOP_FRACTION = 0.05
_UNKNOWN_FRACTION = 0.05


def town_point(
    lat: float, lon: float, east: float, north: float, size_m: float = 2000.0
) -> tuple[float, float]:
    """Return (lat, lon) of a point given as fractions of ``size_m`` east/north of the centre.

    Parameters
    ----------
    lat, lon : float, degrees
        Town centre.
    east, north : float
        Offsets as fractions of ``size_m`` (e.g. the middle of a :data:`TOWN_ZONES` box).
    size_m : float, m
        Side of the town.
    """
    plon, plat = local_to_lonlat(east * size_m, north * size_m, lat, lon)
    return float(plat), float(plon)


def _rectangles(
    cx: NDArray[np.float64],
    cy: NDArray[np.float64],
    width: float,
    depth: float,
    angle: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return the corners (n, 5, 2) in metres of rotated rectangles (closed rings)."""
    ux = np.array([-1.0, 1.0, 1.0, -1.0, -1.0]) * width / 2.0
    uy = np.array([-1.0, -1.0, 1.0, 1.0, -1.0]) * depth / 2.0
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = cx[:, None] + cos * ux - sin * uy
    y = cy[:, None] + sin * ux + cos * uy
    return np.stack([x, y], axis=-1)


def _lattice(
    box: tuple[float, float, float, float], size_m: float, spacing: float, margin: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    west, south, east, north = (v * size_m for v in box)
    xs = np.arange(west + margin, east - margin + 1e-9, spacing)
    ys = np.arange(south + margin, north - margin + 1e-9, spacing)
    gx, gy = np.meshgrid(xs, ys)
    return gx.ravel(), gy.ravel()


def _in_box(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    box: tuple[float, float, float, float],
    size: float,
) -> NDArray[np.bool_]:
    west, south, east, north = (v * size for v in box)
    return (x >= west) & (x < east) & (y >= south) & (y < north)


def synthetic_town(
    lat: float, lon: float, seed: int, size_m: float = 2000.0
) -> tuple[PopulationGrid, Features]:
    """Make a synthetic town around (lat, lon): population raster and building layers.

    Parameters
    ----------
    lat, lon : float, degrees
        Centre of the town (WGS84).
    seed : int
        Seed of every random draw.
    size_m : float, m
        Side of the square town (at least 500 m).

    Returns
    -------
    population : PopulationGrid
        Persons per 10 m pixel on the centre's UTM zone, ``size_m / 10`` pixels a side;
        the lake is NaN.
    features : Features
        Houses and warehouses (with residential flags), the school footprint (also a
        non-residential building), the school and the hospital.

    Raises
    ------
    InvalidParameterError
        If the town is smaller than 500 m or the centre has no UTM zone.
    """
    if not size_m >= 500.0:
        raise InvalidParameterError(f"the town must be at least 500 m wide, got {size_m}")
    rng = np.random.default_rng(seed)
    n = round(size_m / TOWN_PIXEL_M)
    georef = utm_georef(lat, lon, n, n, TOWN_PIXEL_M)
    crs, transform = str(georef.crs), georef.transform or (1.0, 0.0, 0.0, 0.0, -1.0, 0.0)
    a, _, c, _, e, f = transform
    # pixel centres -> local metres of the town frame
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    plon, plat = to_lonlat.transform(a * cols + c, e * rows + f)
    fwd, _ = local_projection(lon, lat)
    px, py = fwd.transform(plon, plat)
    px, py = np.asarray(px), np.asarray(py)
    density = np.full((n, n), TOWN_DENSITY["open"])
    for zone in ("residential", "industrial"):
        density[_in_box(px, py, TOWN_ZONES[zone], size_m)] = TOWN_DENSITY[zone]
    values = rng.gamma(4.0, density / 4.0)
    values[_in_box(px, py, TOWN_ZONES["lake"], size_m)] = np.nan

    hx, hy = _lattice(TOWN_ZONES["residential"], size_m, _HOUSE[2], _HOUSE[2] / 2)
    jitter = rng.uniform(-3.0, 3.0, (2, hx.size))
    houses = _rectangles(
        hx + jitter[0], hy + jitter[1], _HOUSE[0], _HOUSE[1], rng.uniform(-0.2, 0.2, hx.size)
    )
    draw = rng.random(hx.size)
    flags: list[bool | None] = [
        None if u < _UNKNOWN_FRACTION else u >= _UNKNOWN_FRACTION + _SHOP_FRACTION for u in draw
    ]
    wx, wy = _lattice(TOWN_ZONES["industrial"], size_m, _WAREHOUSE[2], _WAREHOUSE[2] / 2)
    warehouses = _rectangles(
        wx, wy, _WAREHOUSE[0], _WAREHOUSE[1], rng.uniform(-0.05, 0.05, wx.size)
    )
    west, south, east, north = (v * size_m for v in TOWN_ZONES["school"])
    school = _rectangles(
        np.array([(west + east) / 2]),
        np.array([(south + north) / 2]),
        east - west,
        north - south,
        np.zeros(1),
    )
    rings = np.concatenate([houses, warehouses, school])
    rlon, rlat = local_to_lonlat(rings[..., 0], rings[..., 1], lat, lon)
    polygons = list(shapely.polygons(np.stack([rlon, rlat], axis=-1)))
    hlat, hlon = town_point(lat, lon, *HOSPITAL_AT, size_m=size_m)
    features = Features(
        buildings=polygons,
        residential=[*flags, *([False] * (len(polygons) - len(flags)))],
        schools=[polygons[-1]],
        hospitals=[shapely.Point(hlon, hlat)],
    )
    return PopulationGrid(values, transform, crs), features
