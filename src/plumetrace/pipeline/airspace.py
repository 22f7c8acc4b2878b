"""``plumetrace airspace``: which zone a point is in, may an operator fly there, how far out.

Zones are built per 1° tile (plus a 60 km margin) around the points asked about and
cached; a point's distance to the nearest unauthorized airspace is measured in the tile's
local azimuthal-equidistant projection. When the nearest unauthorized airspace lies beyond
the tile's margin, the tile's zones are rebuilt with a growing margin (up to 2,000 km);
beyond that the distance is reported as null.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from plumetrace.data import CountryLand, country_land
from plumetrace.errors import InvalidParameterError
from plumetrace.flight.airspace import INTERNATIONAL, Zones, build_zones
from plumetrace.flight.boundary_distance import boundary_segments, distance_to_segments
from plumetrace.flight.operators import Operator

__all__ = ["AirspaceChecker", "CheckResult", "export_zones"]

_TILE_DEG = 1.0
_MARGIN_M = 60_000.0
_MAX_RADIUS_M = 2_000_000.0


@dataclass(frozen=True)
class CheckResult:
    """Zone and authorization of one point (the JSON of ``airspace check``)."""

    lat: float
    lon: float
    zone: str
    allowed: bool
    distance_to_unauthorized_m: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the contract's JSON object."""
        d = self.distance_to_unauthorized_m
        return {
            "lat": self.lat,
            "lon": self.lon,
            "zone": self.zone,
            "allowed": self.allowed,
            "distance_to_unauthorized_m": None if d is None else round(d, 1),
        }


@dataclass(frozen=True)
class _Tile:
    zones: Zones
    authorized: BaseGeometry
    unauthorized: BaseGeometry
    edges: NDArray[np.float64]  # (k, 4) segments of the unauthorized area's boundary, m


class AirspaceChecker:
    """Answers zone/authorization/distance questions for one operator.

    Parameters
    ----------
    operator : Operator
        Whose authorization applies.
    countries : CountryLand, optional
        Country land (the packaged Natural Earth data by default).
    seas : dict of str to shapely geometry, optional
        Authoritative territorial seas (lon/lat) replacing the computed ones.
    """

    def __init__(
        self,
        operator: Operator,
        countries: CountryLand | None = None,
        seas: dict[str, BaseGeometry] | None = None,
    ) -> None:
        self.operator = operator
        self.seas = seas
        self.countries = country_land() if countries is None else countries
        self._tiles: dict[tuple[int, int], _Tile] = {}
        self._far_tiles: dict[tuple[tuple[int, int], float], _Tile] = {}

    def _areas(self, zones: Zones) -> _Tile:
        auth = zones.authorized(
            self.operator.authorized,
            include=self.operator.include_extra,
            exclude=self.operator.exclude,
        )
        auth = shapely.intersection(auth, zones.region)
        unauth = shapely.difference(zones.region, auth)
        # the region's own edge is not a boundary with unauthorized airspace
        shapely.prepare(auth)
        shapely.prepare(unauth)
        return _Tile(zones, auth, unauth, boundary_segments(unauth))

    def _tile(self, key: tuple[int, int]) -> _Tile:
        if key not in self._tiles:
            lon0 = max(-180.0, key[0] * _TILE_DEG)
            lat0 = max(-90.0, key[1] * _TILE_DEG)
            bbox = (lon0, lat0, min(180.0, lon0 + _TILE_DEG), min(90.0, lat0 + _TILE_DEG))
            self._tiles[key] = self._areas(
                build_zones(self.countries, bbox, margin_m=_MARGIN_M, seas=self.seas)
            )
        return self._tiles[key]

    def _far_distances(
        self, key: tuple[int, int], x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Distances beyond the tile margin: the tile's zones rebuilt with growing margins.

        ``x, y`` are the points in the tile's projection (m): the rebuilt zones keep it
        (same centre), so a distance of D km measured from a point up to ~80 km
        off-centre is off by well under 1 %.
        """
        out = np.full(x.shape[0], np.nan)
        todo = np.arange(x.shape[0])
        lon0 = max(-180.0, key[0] * _TILE_DEG)
        lat0 = max(-90.0, key[1] * _TILE_DEG)
        bbox = (lon0, lat0, min(180.0, lon0 + _TILE_DEG), min(90.0, lat0 + _TILE_DEG))
        radius = 4.0 * _MARGIN_M
        while todo.size and radius <= _MAX_RADIUS_M:
            cached = self._far_tiles.get((key, radius))
            if cached is None:
                try:
                    zones = build_zones(self.countries, bbox, margin_m=radius, seas=self.seas)
                except InvalidParameterError:
                    break  # the search region outgrew one projection: leave these unknown
                cached = self._far_tiles[(key, radius)] = self._areas(zones)
            tile = cached
            if not tile.unauthorized.is_empty:
                # the distance to the unauthorized area: 0 on it, else to its boundary
                xt, yt = x[todo], y[todo]
                d = distance_to_segments(xt, yt, tile.edges, max_distance=radius)
                d[shapely.intersects_xy(tile.unauthorized, xt, yt)] = 0.0
                ok = d <= radius
                out[todo[ok]] = d[ok]
                todo = todo[~ok]
            radius *= 2.0
        return out

    def check(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> list[CheckResult]:
        """Check points (see :meth:`check_arrays`); one :class:`CheckResult` per point."""
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        zone, allowed, dist = self.check_arrays(lat_a, lon_a)
        return [
            CheckResult(la, lo, z, a, None if d != d else d)
            for la, lo, z, a, d in zip(
                lat_a.tolist(),
                lon_a.tolist(),
                zone.tolist(),
                allowed.tolist(),
                dist.tolist(),
                strict=True,
            )
        ]

    def check_arrays(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> tuple[NDArray[np.str_], NDArray[np.bool_], NDArray[np.float64]]:
        """Check points, column-wise.

        Returns
        -------
        zone : (n,) ndarray of str
        allowed : (n,) ndarray of bool
        distance_to_unauthorized_m : (n,) ndarray
            0 where not allowed; NaN where no unauthorized airspace lies within 2,000 km.

        Parameters
        ----------
        lat, lon : (n,) ndarray, degrees
            WGS 84 positions.

        Raises
        ------
        InvalidParameterError
            If a coordinate is outside [-90, 90] / [-180, 180] or not finite.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise InvalidParameterError(
                f"point {i + 1}: lat {lat[i]}, lon {lon[i]} is not a WGS 84 position"
            )
        zone = np.empty(lat.shape[0], dtype="<U13")
        allowed = np.zeros(lat.shape[0], dtype=bool)
        dist = np.full(lat.shape[0], np.nan)
        kx = np.floor(np.minimum(lon, 179.999999) / _TILE_DEG).astype(np.int64)
        ky = np.floor(np.minimum(lat, 89.999999) / _TILE_DEG).astype(np.int64)
        code = (kx + 200) * 1000 + (ky + 100)
        order = np.argsort(code, kind="stable")
        ordered = code[order]
        bounds = np.flatnonzero(np.diff(ordered)) + 1
        bounds = np.concatenate([[0], bounds, [code.shape[0]]]) if code.size else np.zeros(1, int)

        def one_tile(k: int) -> None:
            sel = order[bounds[k] : bounds[k + 1]]
            c = int(ordered[bounds[k]])
            key = (c // 1000 - 200, c % 1000 - 100)
            tile = self._tile(key)
            x, y = tile.zones.to_local(lon[sel], lat[sel])
            zone[sel] = tile.zones.zone_of(x, y)
            inside = shapely.contains_xy(tile.authorized, x, y)
            allowed[sel] = inside
            d = np.zeros(sel.shape[0])
            # inside the authorized area, the distance to the unauthorized area is the
            # distance to their common boundary; beyond the margin the tile is blind
            # (inf): those are measured again on larger regions
            d[inside] = distance_to_segments(
                x[inside], y[inside], tile.edges, max_distance=_MARGIN_M
            )
            far = np.flatnonzero(inside & (d > _MARGIN_M))
            if far.size:
                d[far] = self._far_distances(key, x[far], y[far])
            dist[sel] = d

        # tiles are independent and their work (GEOS, PROJ, numpy) releases the GIL
        tiles = range(bounds.shape[0] - 1)
        if len(tiles) > 1:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(one_tile, tiles))
        else:
            for k in tiles:
                one_tile(k)
        return zone.astype(str), allowed, dist


def export_zones(
    operator: Operator,
    bbox: tuple[float, float, float, float],
    countries: CountryLand | None = None,
    seas: dict[str, BaseGeometry] | None = None,
) -> dict[str, Any]:
    """Return the zones of a lon/lat box as GeoJSON, marked for ``operator``.

    One Feature per zone (each country's land and territorial sea together, and the
    international airspace) with properties ``zone``, ``allowed``, ``operator``; plus the
    operator's authorized area (``zone`` = ``"authorized"``).
    """
    zones = build_zones(
        country_land() if countries is None else countries, bbox, margin_m=0.0, seas=seas
    )
    auth = shapely.intersection(
        zones.authorized(
            operator.authorized, include=operator.include_extra, exclude=operator.exclude
        ),
        zones.region,
    )
    feats: list[dict[str, Any]] = []

    def add(name: str, geom: BaseGeometry, allowed: bool) -> None:
        if geom.is_empty or geom.area <= 0.0:
            return
        ll = shapely.make_valid(zones.to_lonlat(geom))
        feats.append(
            {
                "type": "Feature",
                "geometry": mapping(ll),
                "properties": {"zone": name, "allowed": allowed, "operator": operator.id},
            }
        )

    for code in dict.fromkeys(zones.codes):
        add(code, zones.country_area(code), code in operator.authorized)
    add(INTERNATIONAL, zones.international(), INTERNATIONAL in operator.authorized)
    add("authorized", auth, True)
    if not feats:
        raise InvalidParameterError(f"nothing to export in {bbox}")
    return {"type": "FeatureCollection", "features": feats}
