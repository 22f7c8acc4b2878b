"""The demo's comparison of retrieved plumes with the simulated sources."""

from __future__ import annotations

from typing import Any

from plumetrace.pipeline.demo_scenes import MATCH_RADIUS_M, false_plumes


def _plume(row: float, col: float, flux: float) -> dict[str, Any]:
    return {"properties": {"source_row": row, "source_col": col, "flux_kg_h": flux}}


def test_a_plume_is_false_only_when_no_true_source_is_near_it() -> None:
    pixel = 5.0
    edge = MATCH_RADIUS_M / pixel  # pixels
    sources = [{"row": 100, "col": 100}, {"row": 400, "col": 50}]
    plumes = [
        _plume(100, 100, 180.0),  # on the first source
        _plume(400 + edge - 0.5, 50, 260.0),  # just inside the radius of the second
        _plume(100 + edge + 0.5, 100, 90.0),  # just outside the first's radius
        _plume(900, 500, 400.0),  # far from both
    ]
    got = false_plumes(plumes, sources, pixel)
    assert [p["flux_kg_h"] for p in got] == [90.0, 400.0]
    assert false_plumes(plumes, [], pixel) == [p["properties"] for p in plumes]
    assert false_plumes([], sources, pixel) == []
