from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from plumetrace.geo import local_projection
from plumetrace.io.context import write_buildings, write_population
from plumetrace.io.evidence import DetectionRecord
from plumetrace.pipeline.context import load_context
from plumetrace.sim.context import synthetic_town
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.models import Site

LON0, LAT0 = -106.45, 31.75


def _det(key: str, x: float, y: float) -> DetectionRecord:
    _f, inv = local_projection(LON0, LAT0)
    lon, lat = inv.transform(x, y)
    return DetectionRecord(key, "plume", float(lat), float(lon), 20.0, 50.0, 35.0, 65.0, 0.8)


def test_sites_beyond_the_layers_are_unknown_not_low(engine: sa.Engine, tmp_path: Path) -> None:
    with session_scope(engine, write=True) as s:
        ingest_detections(
            s,
            FlightSpec("flt-1", "border-unit", "ac-1", "aviris-ng"),
            [_det("in", 0, 0), _det("far", 9000, 0)],
            time=datetime(2026, 5, 1, tzinfo=UTC),
            actor="t",
            source="t",
        )
    grid, feats = synthetic_town(LAT0, LON0, seed=0, size_m=2000)
    write_population(tmp_path / "pop.tif", grid)
    write_buildings(tmp_path / "b.geojson", feats)
    r = load_context(
        engine,
        tmp_path / "ctx",
        population=tmp_path / "pop.tif",
        buildings=tmp_path / "b.geojson",
        actor="t",
    )
    assert r.sites == 2
    with session_scope(engine) as s:
        rows = s.execute(sa.select(Site.lon, Site.exposure, Site.context)).all()
    far = max(rows, key=lambda r: r[0])
    near = min(rows, key=lambda r: r[0])
    assert far[1] == "unknown" and far[2]["in_building"] is None
    assert near[1] in ("low", "medium", "high") and near[2]["advisory"]
