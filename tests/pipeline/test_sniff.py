from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from plumetrace.cli.app import main
from plumetrace.errors import InvalidParameterError
from plumetrace.pipeline.sniff import SortieOptions, run_sortie


@pytest.mark.parametrize("strategy", ["adaptive", "lawnmower"])
def test_sortie_stays_in_the_area_within_the_step_limit(strategy: str) -> None:
    res = run_sortie(SortieOptions(seed=3, readings=12, strategy=strategy, particles=800))  # type: ignore[arg-type]
    xy = np.array([[r["x_m"], r["y_m"]] for r in res.rows])
    assert len(res.rows) == 12
    assert np.all((xy >= 0.0) & (xy <= 100.0))
    if strategy == "adaptive":
        assert np.all(np.hypot(*np.diff(xy, axis=0).T) <= 10.0 + 1e-9)
    assert all(np.isfinite(r["est_x_m"]) for r in res.rows)
    assert res.truth["model"] == "filament"


def test_adaptive_sortie_finds_the_source() -> None:
    res = run_sortie(SortieOptions(seed=2, readings=40, particles=2000))
    assert res.rows[-1]["position_error_m"] < 5.0
    # the estimate improved over the sortie
    assert res.rows[-1]["position_error_m"] < res.rows[4]["position_error_m"]


def test_sim_sniff_command_writes_locate_inputs(tmp_path: Path) -> None:
    rc = main(
        [
            "sim",
            "sniff",
            str(tmp_path),
            "--seed",
            "1",
            "--readings",
            "6",
            "--lawnmower",
            "--particles",
            "500",
        ]
    )
    assert rc == 0
    for name in ("track.csv", "readings.csv", "truth.json", "result.json", "result.png"):
        assert (tmp_path / name).exists()
    with (tmp_path / "track.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and "position_error_m" in rows[0]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["n_readings"] == 6
    rc = main(
        [
            "locate",
            str(tmp_path / "readings.csv"),
            "--out",
            str(tmp_path / "loc.json"),
            "--particles",
            "500",
        ]
    )
    assert rc == 0


def test_bad_sortie_options() -> None:
    with pytest.raises(InvalidParameterError):
        SortieOptions(readings=0)
    with pytest.raises(InvalidParameterError):
        SortieOptions(step_m=-1.0)


def test_the_drone_stays_inside_an_allowed_polygon() -> None:
    import shapely

    ring = ((0.0, 0.0), (100.0, 0.0), (100.0, 60.0), (40.0, 100.0), (0.0, 100.0))
    res = run_sortie(SortieOptions(seed=4, readings=10, particles=500, allowed=ring))
    poly = shapely.Polygon(ring).buffer(1e-6)
    assert all(poly.contains(shapely.Point(r["x_m"], r["y_m"])) for r in res.rows)
    with pytest.raises(InvalidParameterError, match="allowed polygon"):
        SortieOptions(allowed=((0.0, 0.0), (1.0, 1.0), (2.0, 2.0)))
    with pytest.raises(InvalidParameterError, match="3 vertices"):
        SortieOptions(allowed=((0.0, 0.0), (1.0, 1.0)))
