"""``plumetrace airspace``: which zone a point is in, may an operator fly there, how far out.

Zones are built per 1° tile (plus a 60 km margin) around the points asked about and
cached; a point's distance to the nearest unauthorized airspace is measured in the tile's
local azimuthal-equidistant projection. When the nearest unauthorized airspace lies beyond
the tile's margin, the point is measured again in zones centred on it with a growing
radius (up to 2,000 km), where distances from the centre are exact.
"""

from __future__ import annotations

import math
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


class AirspaceChecker:
    """Answers zone/authorization/distance questions for one operator.

    Parameters
    ----------
    operator : Operator
        Whose authorization applies.
    countries : CountryLand, optional
        Country land (the packaged Natural Earth data by default).
    """

    def __init__(self, operator: Operator, countries: CountryLand | None = None) -> None:
        self.operator = operator
        self.countries = country_land() if countries is None else countries
        self._tiles: dict[tuple[int, int], _Tile] = {}

    def _areas(self, zones: Zones) -> _Tile:
        auth = zones.authorized(
            self.operator.authorized,
            include=self.operator.include_extra,
            exclude=self.operator.exclude,
        )
        auth = shapely.intersection(auth, zones.region)
        return _Tile(zones, auth, shapely.difference(zones.region, auth))

    def _tile(self, key: tuple[int, int]) -> _Tile:
        if key not in self._tiles:
            lon0 = max(-180.0, key[0] * _TILE_DEG)
            lat0 = max(-90.0, key[1] * _TILE_DEG)
            bbox = (lon0, lat0, min(180.0, lon0 + _TILE_DEG), min(90.0, lat0 + _TILE_DEG))
            self._tiles[key] = self._areas(build_zones(self.countries, bbox, margin_m=_MARGIN_M))
        return self._tiles[key]

    def _far_distance(self, lon: float, lat: float) -> float | None:
        radius = 2.0 * _MARGIN_M
        while radius <= _MAX_RADIUS_M:
            dlat = math.degrees(radius / 6_371_000.0)
            dlon = min(180.0, dlat / max(math.cos(math.radians(lat)), 0.05))
            bbox = (
                max(-180.0, lon - dlon),
                max(-90.0, lat - dlat),
                min(180.0, lon + dlon),
                min(90.0, lat + dlat),
            )
            tile = self._areas(build_zones(self.countries, bbox, margin_m=1000.0))
            x, y = tile.zones.to_local(np.array([lon]), np.array([lat]))
            if not tile.unauthorized.is_empty:
                d = float(shapely.distance(shapely.Point(x[0], y[0]), tile.unauthorized))
                if d <= radius:
                    return d
            radius *= 2.0
        return None

    def check(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> list[CheckResult]:
        """Check points.

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
        kx = np.floor(np.minimum(lon, 179.999999) / _TILE_DEG).astype(int)
        ky = np.floor(np.minimum(lat, 89.999999) / _TILE_DEG).astype(int)
        keys, inverse = np.unique(np.column_stack([kx, ky]), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for k, (tx, ty) in enumerate(keys):
            sel = np.flatnonzero(inverse == k)
            tile = self._tile((int(tx), int(ty)))
            x, y = tile.zones.to_local(lon[sel], lat[sel])
            zone[sel] = tile.zones.zone_of(x, y)
            inside = shapely.contains_xy(tile.authorized, x, y)
            allowed[sel] = inside
            if tile.unauthorized.is_empty:
                d = np.full(sel.shape[0], np.inf)
            else:
                d = shapely.distance(shapely.points(x, y), tile.unauthorized)
            dist[sel] = np.where(inside, d, 0.0)
        far = np.flatnonzero(allowed & (dist > _MARGIN_M))
        for j in far:
            got = self._far_distance(float(lon[j]), float(lat[j]))
            dist[j] = np.nan if got is None else got
        return [
            CheckResult(
                lat=float(lat[i]),
                lon=float(lon[i]),
                zone=str(zone[i]),
                allowed=bool(allowed[i]),
                distance_to_unauthorized_m=None if np.isnan(dist[i]) else float(dist[i]),
            )
            for i in range(lat.shape[0])
        ]


def export_zones(
    operator: Operator,
    bbox: tuple[float, float, float, float],
    countries: CountryLand | None = None,
) -> dict[str, Any]:
    """Return the zones of a lon/lat box as GeoJSON, marked for ``operator``.

    One Feature per zone (each country's land and territorial sea together, and the
    international airspace) with properties ``zone``, ``allowed``, ``operator``; plus the
    operator's authorized area (``zone`` = ``"authorized"``).
    """
    zones = build_zones(country_land() if countries is None else countries, bbox, margin_m=0.0)
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
