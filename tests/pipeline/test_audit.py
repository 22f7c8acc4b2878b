"""The audit job's shortcuts give the same answers as the plain way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import shapely

from plumetrace.flight.audit import find_incursions
from plumetrace.io import tracks
from plumetrace.io.operators import read_operators
from plumetrace.io.tracks import read_track
from plumetrace.pipeline import audit
from plumetrace.pipeline.audit import run_audit


def _area() -> shapely.Geometry:
    """A polygon with a hole, an island in the hole, and a second polygon."""
    ring = shapely.Point(0.0, 0.0).buffer(1.0, 64)
    hole = shapely.Point(0.2, 0.1).buffer(0.5, 32)
    island = shapely.box(0.1, 0.0, 0.3, 0.2)
    other = shapely.Polygon([(1.2, -1.0), (2.0, -0.8), (1.5, 0.9)])
    return shapely.MultiPolygon([shapely.difference(ring, hole), island, other])


def _points(area: shapely.Geometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.uniform(-1.3, 2.1, n)
    y = rng.uniform(-1.2, 1.2, n)
    # vertices and points on edges, exactly
    verts = shapely.get_coordinates(area)
    mids = 0.5 * (verts[1:] + verts[:-1])
    x = np.concatenate([x, verts[:, 0], mids[:, 0]])
    y = np.concatenate([y, verts[:, 1], mids[:, 1]])
    return x, y


def test_grid_containment_is_contains_xy() -> None:
    area = _area()
    x, y = _points(area, 200_000)
    want = shapely.contains_xy(area, x, y)
    got = audit._inside(area, x, y)
    assert got.dtype == bool and np.array_equal(got, want)
    assert 0 < want.sum() < want.size


@pytest.mark.parametrize(
    "area",
    [
        shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(2, 2), (3, 3)])]),
        shapely.Polygon(),
        shapely.box(-5, -5, 5, 5),
    ],
)
def test_grid_containment_other_areas(area: shapely.Geometry) -> None:
    x, y = _points(_area(), 60_000)
    assert np.array_equal(audit._inside(area, x, y), shapely.contains_xy(area, x, y))


def test_grid_containment_of_points_all_in_one_place() -> None:
    x, y = np.full(60_000, 0.5), np.full(60_000, 0.25)
    assert audit._inside(shapely.box(0, 0, 1, 1), x, y).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stretches_are_the_incursions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2_000
    t = np.arange(n, dtype=float)
    x = np.cumsum(rng.normal(0.0, 1.0, n))
    y = np.cumsum(rng.normal(0.0, 1.0, n))
    area = shapely.box(-5, -5, 5, 5)
    inside = shapely.contains_xy(area, x, y)
    incursions = find_incursions(x, y, t, area, inside=inside)
    assert audit._stretches(inside) == [(i.first, i.last) for i in incursions]
    assert audit._stretches(np.array([False])) == [(0, 0)]
    assert audit._stretches(np.array([True, True])) == []


def _meander(path: Path, n: int) -> None:
    t = np.arange(0, n, 1.0)
    lat = 31.80 - 0.12 * np.abs(np.sin(t / 300))
    lon = -106.45 + 0.05 * np.sin(t / 1000)
    np.savetxt(
        path,
        np.column_stack([t, lat, lon, np.full_like(t, 100)]),
        delimiter=",",
        header="time,lat,lon,alt_m",
        comments="",
        fmt=["%.1f", "%.6f", "%.6f", "%.1f"],
    )


def _outputs(out: Path) -> tuple[bytes, bytes, bytes]:
    return (
        out.read_bytes(),
        out.with_suffix(".geojson").read_bytes(),
        out.with_suffix(".png").read_bytes(),
    )


def test_audit_outputs_do_not_depend_on_the_shortcuts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = tmp_path / "track.csv"
    _meander(track, 120_000)
    op = read_operators()["border-unit"]
    fast = run_audit(track, op, tmp_path / "fast.json")
    assert len(fast.report["incursions"]) > 5
    with ThreadPoolExecutor(1) as pool:
        run_audit(track, op, tmp_path / "read.json", reading=pool.submit(read_track, track))
    with monkeypatch.context() as m:
        # no grid, one worker, numpy's parser, segments simplified after the incursions
        m.setattr(audit, "_GRID_POINTS", 10**9)
        m.setattr(audit, "_WORKERS", 1)
        m.setattr(audit, "_stretches", lambda inside: [])
        m.setattr(tracks, "_plain_csv", lambda p: None)
        run_audit(track, op, tmp_path / "slow.json")
    assert _outputs(tmp_path / "fast.json") == _outputs(tmp_path / "slow.json")
    assert _outputs(tmp_path / "fast.json") == _outputs(tmp_path / "read.json")
