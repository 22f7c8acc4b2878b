"""The ``audit`` job: a flown track against an operator's authorized airspace.

Zones are built for the track's extent (plus 60 km) in a local azimuthal-equidistant
projection; incursions come from :func:`plumetrace.flight.audit.find_incursions`. Writes
REPORT.json (the contract), REPORT.geojson (track, incursions, deepest points, zones) and
REPORT.png (a map).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping

from plumetrace import __version__
from plumetrace.data import country_land
from plumetrace.errors import DataSourceError
from plumetrace.flight.airspace import build_zones
from plumetrace.flight.audit import Incursion, find_incursions
from plumetrace.flight.operators import Operator
from plumetrace.io.audit_png import write_audit_png
from plumetrace.io.geojson import write_geojson
from plumetrace.io.tables import write_json
from plumetrace.io.tracks import Track, read_track

__all__ = ["AuditResult", "run_audit"]

_MARGIN_M = 60_000.0
_SIMPLIFY_M = 1.0


def _simplified(lon: np.ndarray, lat: np.ndarray) -> shapely.Geometry:
    """Return the track as a line simplified to ~1 m (so a long track's GeoJSON stays small)."""
    if lon.shape[0] == 1:
        return shapely.Point(float(lon[0]), float(lat[0]))
    line = shapely.LineString(np.column_stack([lon, lat]))
    return shapely.simplify(line, _SIMPLIFY_M / 111_000.0, preserve_topology=False)


@dataclass(frozen=True)
class AuditResult:
    """What ``audit`` wrote."""

    report: dict[str, Any]
    json_path: Path
    geojson_path: Path
    png_path: Path


def _time(t: float, absolute: bool) -> str | float:
    if absolute:
        return dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat(timespec="milliseconds")
    return round(t, 3)


def _report(
    operator: Operator,
    track: Track,
    incursions: list[Incursion],
    zone_names: list[str],
    entry_ll: list[tuple[float, float]],
    exit_ll: list[tuple[float, float]],
) -> dict[str, Any]:
    abs_t = track.time_is_absolute
    items = []
    for inc, zone, (elon, elat), (xlon, xlat) in zip(
        incursions, zone_names, entry_ll, exit_ll, strict=True
    ):
        items.append(
            {
                "zone": zone,
                "entry_time": _time(inc.entry_time_s, abs_t),
                "exit_time": _time(inc.exit_time_s, abs_t),
                "duration_s": round(inc.duration_s, 3),
                "max_depth_m": round(inc.max_depth_m, 1),
                "entry_lat": elat,
                "entry_lon": elon,
                "exit_lat": xlat,
                "exit_lon": xlon,
            }
        )
    return {
        "operator": operator.id,
        "points": track.size,
        "start": _time(float(track.time_s[0]), abs_t),
        "end": _time(float(track.time_s[-1]), abs_t),
        "total_unauthorized_s": round(sum(i.duration_s for i in incursions), 3),
        "incursions": items,
        "warnings": list(track.warnings),
        "authorized": list(operator.authorized),
        "plumetrace_version": __version__,
    }


def run_audit(
    track_path: Path,
    operator: Operator,
    out: Path,
    seas: dict[str, shapely.Geometry] | None = None,
) -> AuditResult:
    """Audit a flown track (see the module docstring).

    Raises
    ------
    PlumetraceError
        On an unreadable track or an unwritable output.
    """
    if not (out.parent if str(out.parent) else Path()).is_dir():
        raise DataSourceError(out, "its directory does not exist")
    track = read_track(track_path)
    bbox = (
        float(track.lon.min()),
        float(track.lat.min()),
        float(track.lon.max()),
        float(track.lat.max()),
    )
    zones = build_zones(country_land(), bbox, margin_m=_MARGIN_M, seas=seas)
    authorized = shapely.intersection(
        zones.authorized(
            operator.authorized, include=operator.include_extra, exclude=operator.exclude
        ),
        zones.region,
    )
    # containment in lon/lat against the unprojected area (most samples are inside); only
    # outside samples and their neighbours are projected for crossings and depths
    auth_ll = shapely.make_valid(zones.to_lonlat(authorized))
    shapely.prepare(auth_ll)
    inside = shapely.contains_xy(auth_ll, track.lon, track.lat)
    # only the samples measured (depth probes, crossings) are projected, on demand
    nan = np.full(track.size, np.nan)

    def project(idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return zones.to_local(track.lon[idx], track.lat[idx])

    incursions = find_incursions(nan, nan, track.time_s, authorized, inside=inside, project=project)
    inv = zones.to_lonlat
    deep = np.array([inc.deepest for inc in incursions], dtype=np.intp)
    names = [str(z) for z in zones.zone_of(*project(deep))] if deep.size else []

    def ll(p: tuple[float, float]) -> tuple[float, float]:
        g = inv(shapely.Point(p))
        return round(float(g.x), 7), round(float(g.y), 7)

    entry = [ll(i.entry_xy) for i in incursions]
    exit_ = [ll(i.exit_xy) for i in incursions]
    report = _report(operator, track, incursions, names, entry, exit_)
    write_json(out, report)
    geo_path = out.with_suffix(".geojson")
    feats: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": mapping(_simplified(track.lon, track.lat)),
            "properties": {
                "kind": "track",
                "operator": operator.id,
                "simplified_to_m": _SIMPLIFY_M,
            },
        }
    ]
    for k, inc in enumerate(incursions):
        sl = slice(inc.first, inc.last + 1)
        seg = shapely.get_coordinates(_simplified(track.lon[sl], track.lat[sl]))
        coords = [list(entry[k]), *seg.tolist(), list(exit_[k])]
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"kind": "incursion", **report["incursions"][k]},
            }
        )
        feats.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(track.lon[inc.deepest]), float(track.lat[inc.deepest])],
                },
                "properties": {
                    "kind": "deepest",
                    "max_depth_m": report["incursions"][k]["max_depth_m"],
                },
            }
        )
    feats.append(
        {
            "type": "Feature",
            "geometry": mapping(auth_ll),
            "properties": {"kind": "authorized", "operator": operator.id},
        }
    )
    write_geojson(geo_path, feats)
    png_path = out.with_suffix(".png")
    write_audit_png(
        png_path,
        track.lon,
        track.lat,
        incursions,
        auth_ll,
        title=(
            f"{report['operator']}: {len(incursions)} incursion(s), "
            f"{report['total_unauthorized_s']:.0f} s unauthorized (green: authorized)"
        ),
    )
    return AuditResult(report, out, geo_path, png_path)
