"""The ``audit`` job: a flown track against an operator's authorized airspace.

Zones are built for the track's extent (plus 60 km) in a local azimuthal-equidistant
projection; incursions come from :func:`plumetrace.flight.audit.find_incursions`. Writes
REPORT.json (the contract), REPORT.geojson (track, incursions, deepest points, zones) and
REPORT.png (a map).

Independent work overlaps in two worker threads (shapely, pyproj, numpy and Pillow's
encoder release the GIL): the track's simplified line is built and the map's drawing
library loaded while the zones are built; once containment gives the stretches outside,
their GeoJSON lines are simplified and the map drawn while the incursions' crossings and
depths are measured; the map is finished while the GeoJSON is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from plumetrace.io.geojson import write_geojson
from plumetrace.io.tables import write_json
from plumetrace.io.tracks import Track, read_track

if TYPE_CHECKING:
    from plumetrace.io.audit_png import AuditMap

__all__ = ["AuditResult", "run_audit"]

_MARGIN_M = 60_000.0
_SIMPLIFY_M = 1.0
_WORKERS = 2
_GRID_POINTS = 50_000  # containment of longer tracks is looked up on a grid first
_GRID_CELLS = 256  # cells across the track's longer side


def _simplified(lon: np.ndarray, lat: np.ndarray) -> shapely.Geometry:
    """Return the track as a line simplified to ~1 m (so a long track's GeoJSON stays small)."""
    if lon.shape[0] == 1:
        return shapely.Point(float(lon[0]), float(lat[0]))
    line = shapely.LineString(np.column_stack([lon, lat]))
    return shapely.simplify(line, _SIMPLIFY_M / 111_000.0, preserve_topology=False)


def _own_copy(geom: shapely.Geometry) -> shapely.Geometry:
    """Return an identical geometry of its own (for another thread to read)."""
    return shapely.from_wkb(shapely.to_wkb(geom))


def _contains(
    area: shapely.Geometry, x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.bool_]:
    return np.asarray(shapely.contains_xy(area, x, y), dtype=bool)


def _inside(
    area: shapely.Geometry, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Return which samples are inside ``area`` (lon/lat), as ``shapely.contains_xy``.

    A long track is looked up on a grid of ~256 x 256 cells over its extent: a cell the
    area's boundary comes nowhere near (not in it, nor in a neighbouring cell) lies wholly
    inside or wholly outside, like its centre; only samples in cells near the boundary
    are tested one by one. Same answers, a fraction of the point-in-polygon tests.
    """
    shapely.prepare(area)
    if lon.shape[0] < _GRID_POINTS or area.geom_type not in ("Polygon", "MultiPolygon"):
        return _contains(area, lon, lat)
    x0, x1 = float(lon.min()), float(lon.max())
    y0, y1 = float(lat.min()), float(lat.max())
    cell = max(x1 - x0, y1 - y0) / _GRID_CELLS
    if not cell > 0.0:
        return _contains(area, lon, lat)
    nx, ny = int((x1 - x0) / cell) + 1, int((y1 - y0) / cell) + 1
    # cells the boundary passes through (sampled every quarter cell), then their neighbours
    edge = shapely.clip_by_rect(
        shapely.boundary(area), x0 - 2 * cell, y0 - 2 * cell, x1 + 2 * cell, y1 + 2 * cell
    )
    pts = shapely.get_coordinates(shapely.segmentize(edge, cell / 4))
    near = np.zeros((ny + 2, nx + 2), dtype=bool)  # one cell of padding all round
    ix = np.floor((pts[:, 0] - x0) / cell).astype(np.intp) + 1
    iy = np.floor((pts[:, 1] - y0) / cell).astype(np.intp) + 1
    ok = (ix >= 0) & (ix < nx + 2) & (iy >= 0) & (iy < ny + 2)
    near[iy[ok], ix[ok]] = True
    grown = near.copy()
    grown[1:, :] |= near[:-1, :]
    grown[:-1, :] |= near[1:, :]
    near = grown.copy()
    near[:, 1:] |= grown[:, :-1]
    near[:, :-1] |= grown[:, 1:]
    cx, cy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * cell, y0 + (np.arange(ny) + 0.5) * cell)
    state = _contains(area, cx.ravel(), cy.ravel()).astype(np.int8)
    state[near[1:-1, 1:-1].ravel()] = 2  # near the boundary: test each sample
    col = ((lon - x0) / cell).astype(np.intp)
    row = ((lat - y0) / cell).astype(np.intp)
    np.minimum(col, nx - 1, out=col)
    np.minimum(row, ny - 1, out=row)
    where = state[row * nx + col]
    inside: NDArray[np.bool_] = where == 1
    unsure = np.flatnonzero(where == 2)
    inside[unsure] = _contains(area, lon[unsure], lat[unsure])
    return inside


def _stretches(inside: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Return first and last sample of each stretch outside (as find_incursions finds)."""
    edges = np.diff((~inside).astype(np.int8))
    starts = (np.flatnonzero(edges == 1) + 1).tolist()
    ends = np.flatnonzero(edges == -1).tolist()
    if inside.shape[0] and not inside[0]:
        starts.insert(0, 0)
    if inside.shape[0] and not inside[-1]:
        ends.append(inside.shape[0] - 1)
    return list(zip(starts, ends, strict=True))


def _segments(track: Track, stretches: list[tuple[int, int]]) -> list[list[list[float]]]:
    """Return the coordinates (lon, lat) of each stretch's samples, simplified to ~1 m."""
    out = []
    for first, last in stretches:
        sl = slice(first, last + 1)
        seg = shapely.get_coordinates(_simplified(track.lon[sl], track.lat[sl]))
        out.append(seg.tolist())
    return out


def _lonlat(
    inv: Callable[[shapely.Geometry], shapely.Geometry], xy: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Unproject points (m) with ``inv``, rounded to 7 decimals (~1 cm)."""
    if not xy:
        return []
    ll = shapely.get_coordinates(inv(shapely.multipoints(np.array(xy))))
    return [(round(float(x), 7), round(float(y), 7)) for x, y in ll]


def _load_map_module() -> None:
    import plumetrace.io.audit_png  # noqa: F401


def _base_map(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    area: shapely.Geometry,
    stretches: list[tuple[int, int]],
) -> AuditMap:
    """Start the map: graticule, authorized area, track, stretches outside."""
    from plumetrace.io.audit_png import AuditMap

    return AuditMap(lon, lat, area, stretches)


def _write_map(base: Future[AuditMap], path: Path, incursions: list[Incursion], title: str) -> Path:
    """Finish the map started by :func:`_base_map` and write it."""
    return base.result().write(path, incursions, title=title)


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
    *,
    reading: Future[Track] | None = None,
) -> AuditResult:
    """Audit a flown track (see the module docstring).

    Parameters
    ----------
    track_path : Path
        The track (GPX, CSV, MAVLink log).
    operator : Operator
        Whose authorization the track is audited against.
    out : Path
        REPORT.json to write; REPORT.geojson and REPORT.png are written beside it.
    seas : dict of str to shapely geometry, optional
        Authoritative territorial seas (lon/lat) by country code, replacing the computed
        12 nm belts.
    reading : Future of Track, optional
        :func:`~plumetrace.io.tracks.read_track` of ``track_path`` already under way
        (the CLI reads the track while it loads the operator); read here if None.

    Returns
    -------
    AuditResult

    Raises
    ------
    PlumetraceError
        On an unreadable track or an unwritable output.
    """
    if not (out.parent if str(out.parent) else Path()).is_dir():
        raise DataSourceError(out, "its directory does not exist")
    track = read_track(track_path) if reading is None else reading.result()
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        track_line = pool.submit(_simplified, track.lon, track.lat)
        pool.submit(_load_map_module)  # Pillow loads while the zones are built
        return _audit(track, operator, out, seas, pool, track_line)


def _audit(
    track: Track,
    operator: Operator,
    out: Path,
    seas: dict[str, shapely.Geometry] | None,
    pool: ThreadPoolExecutor,
    track_line: Future[shapely.Geometry],
) -> AuditResult:
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
    inside = _inside(auth_ll, track.lon, track.lat)
    # the stretches outside are known now: their GeoJSON lines and the map are started
    # in the workers while the incursions (crossings, depths) are measured
    stretches = _stretches(inside)
    sizes = np.cumsum([b - a + 1 for a, b in stretches])
    half = int(np.searchsorted(sizes, sizes[-1] / 2)) + 1 if stretches else 0
    early = [
        pool.submit(_segments, track, stretches[:half]),
        pool.submit(_segments, track, stretches[half:]),
    ]
    base_map = pool.submit(_base_map, track.lon, track.lat, _own_copy(auth_ll), stretches)
    # only the samples measured get projected: those either side of each crossing (and
    # the ends) here in one call, the depth probes on demand
    x = np.full(track.size, np.nan)
    y = np.full(track.size, np.nan)
    turn = np.flatnonzero(inside[1:] != inside[:-1])
    ends = np.unique(np.concatenate([turn, turn + 1, [0, track.size - 1]]))
    x[ends], y[ends] = zones.to_local(track.lon[ends], track.lat[ends])

    def project(idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return zones.to_local(track.lon[idx], track.lat[idx])

    incursions = find_incursions(x, y, track.time_s, authorized, inside=inside, project=project)
    deep = np.array([inc.deepest for inc in incursions], dtype=np.intp)
    names = [str(z) for z in zones.zone_of(*project(deep))] if deep.size else []
    entry = _lonlat(zones.to_lonlat, [i.entry_xy for i in incursions])
    exit_ = _lonlat(zones.to_lonlat, [i.exit_xy for i in incursions])
    report = _report(operator, track, incursions, names, entry, exit_)
    write_json(out, report)
    png_path = out.with_suffix(".png")
    title = (
        f"{report['operator']}: {len(incursions)} incursion(s), "
        f"{report['total_unauthorized_s']:.0f} s unauthorized (green: authorized)"
    )
    png = pool.submit(_write_map, base_map, png_path, incursions, title)
    found = [(inc.first, inc.last) for inc in incursions]
    if found == stretches:
        segments = early[0].result() + early[1].result()
    else:  # not expected: the incursions are the stretches outside
        segments = _segments(track, found)
    geo_path = out.with_suffix(".geojson")
    feats: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": mapping(track_line.result()),
            "properties": {
                "kind": "track",
                "operator": operator.id,
                "simplified_to_m": _SIMPLIFY_M,
            },
        }
    ]
    for k, (inc, seg) in enumerate(zip(incursions, segments, strict=True)):
        feats.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [list(entry[k]), *seg, list(exit_[k])],
                },
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
    png.result()
    return AuditResult(report, out, geo_path, png_path)
