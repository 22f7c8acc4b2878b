"""``plumetrace airspace``: which zone a point is in, may an operator fly there, how far out.

Zones are built per 1° tile (plus a 60 km margin) around the points asked about and
cached; a point's distance to the nearest unauthorized airspace is measured in the tile's
local azimuthal-equidistant projection. When the nearest unauthorized airspace lies beyond
the tile's margin, the tile's zones are rebuilt with a growing margin (up to 2,000 km);
beyond that the distance is reported as null.
"""

from __future__ import annotations

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
    edges: shapely.STRtree | None  # the unauthorized area's boundary, in short pieces


def _edge_tree(area: BaseGeometry) -> shapely.STRtree | None:
    """Build an STRtree of an area's boundary cut into pieces of at most 32 vertices."""
    if area.is_empty:
        return None
    pieces = []
    for line in shapely.get_parts(shapely.get_parts(shapely.boundary(area))):
        xy = shapely.get_coordinates(line)
        for a in range(0, max(1, xy.shape[0] - 1), 31):
            chunk = xy[a : a + 32]
            if chunk.shape[0] >= 2:
                pieces.append(shapely.LineString(chunk))
    return shapely.STRtree(pieces) if pieces else None


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
        return _Tile(zones, auth, unauth, _edge_tree(unauth))

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
        self, key: tuple[int, int], lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Distances beyond the tile margin: the tile's zones rebuilt with growing margins.

        The projection stays centred on the tile, so a distance of D km measured from a
        point up to ~80 km off-centre is off by well under 1 %.
        """
        out = np.full(lat.shape[0], np.nan)
        todo = np.arange(lat.shape[0])
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
                # few points, big regions: a polygon distance beats a nearest-edge search
                x, y = tile.zones.to_local(lon[todo], lat[todo])
                d = shapely.distance(shapely.points(x, y), tile.unauthorized)
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
        zone = np.empty(lat.shape[0], dtype=object)
        allowed = np.zeros(lat.shape[0], dtype=bool)
        dist = np.full(lat.shape[0], np.nan)
        kx = np.floor(np.minimum(lon, 179.999999) / _TILE_DEG).astype(np.int64)
        ky = np.floor(np.minimum(lat, 89.999999) / _TILE_DEG).astype(np.int64)
        codes, inverse = np.unique((kx + 200) * 1000 + (ky + 100), return_inverse=True)
        inverse = inverse.reshape(-1)
        keys = [(int(c // 1000) - 200, int(c % 1000) - 100) for c in codes]
        for k, (tx, ty) in enumerate(keys):
            sel = np.flatnonzero(inverse == k)
            tile = self._tile((int(tx), int(ty)))
            x, y = tile.zones.to_local(lon[sel], lat[sel])
            zone[sel] = tile.zones.zone_of(x, y)
            inside = shapely.contains_xy(tile.authorized, x, y)
            allowed[sel] = inside
            d = np.zeros(sel.shape[0])
            if tile.edges is None:
                d[inside] = np.inf
            elif np.any(inside):
                # inside the authorized area, the distance to the unauthorized area is the
                # distance to their common boundary: nearest edge piece from a tree
                pts = shapely.points(x[inside], y[inside])
                # beyond the margin the tile is blind: those are measured again below
                found, near = tile.edges.query_nearest(
                    pts, max_distance=_MARGIN_M, return_distance=True, all_matches=False
                )
                di = np.full(pts.shape[0], np.inf)
                di[found[0]] = near
                d[inside] = di
            dist[sel] = d
        far = allowed & (dist > _MARGIN_M)
        if np.any(far):
            for k, (tx, ty) in enumerate(keys):
                sel = np.flatnonzero(far & (inverse == k))
                if sel.size:
                    dist[sel] = self._far_distances((int(tx), int(ty)), lat[sel], lon[sel])
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
