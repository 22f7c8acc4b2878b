from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plumetrace.cli.app import main

AOI = (
    '{"type":"Polygon","coordinates":[[[-106.60,31.70],[-106.40,31.70],[-106.40,31.85],'
    "[-106.60,31.85],[-106.60,31.70]]]}"
)


def test_plan_survey_files(tmp_path: Path) -> None:
    (tmp_path / "aoi.geojson").write_text(AOI)
    out = tmp_path / "plan"
    rc = main(
        [
            "plan",
            "survey",
            str(tmp_path / "aoi.geojson"),
            "--operator",
            "border-unit",
            "--out",
            str(out),
            "--swath-m",
            "1000",
            "--side-overlap",
            "0.1",
        ]
    )
    assert rc == 0
    summary = json.loads((out / "plan.json").read_text())
    assert set(summary) >= {
        "operator",
        "lines",
        "length_km",
        "duration_min",
        "area_km2",
        "authorized_area_km2",
        "excluded_area_km2",
        "coverage_fraction",
    }
    assert summary["coverage_fraction"] >= 0.99
    assert 0 < summary["excluded_area_km2"] < summary["area_km2"]  # Juarez is excluded
    qgc = json.loads((out / "mission.plan").read_text())
    items = qgc["mission"]["items"]
    assert items[0]["command"] == 22 and items[-1]["command"] == 20
    assert any(p["inclusion"] for p in qgc["geoFence"]["polygons"])
    from pymavlink import mavwp

    loader = mavwp.MAVWPLoader()
    assert loader.load(str(out / "mission.waypoints")) == len(items) + 1
    # every waypoint is in the USA, where the border unit may fly
    from plumetrace.io.operators import read_operators
    from plumetrace.pipeline.airspace import AirspaceChecker

    lat = np.array([it["params"][4] for it in items[1:-1]])
    lon = np.array([it["params"][5] for it in items[1:-1]])
    zone, allowed, _ = AirspaceChecker(read_operators()["border-unit"]).check_arrays(lat, lon)
    assert set(zone.tolist()) == {"USA"} and allowed.all()
    kinds = {
        f["properties"]["kind"] for f in json.loads((out / "plan.geojson").read_text())["features"]
    }
    assert {"survey_line", "authorized_aoi", "excluded_aoi"} <= kinds


@pytest.mark.parametrize(
    ("aoi", "args", "message"),
    [
        (
            '{"type":"LineString","coordinates":[[0,0],[1,1]]}',
            ["--swath-m", "100"],
            "not a polygon",
        ),
        (
            '{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}',
            ["--swath-m", "100"],
            "not a valid polygon",
        ),
        (
            '{"type":"Polygon","coordinates":[[[-100,20],[-99.9,20],[-99.9,20.1],[-100,20.1],[-100,20]]]}',
            ["--swath-m", "100"],
            "no part of the AOI is in the operator's authorized airspace",
        ),
        (AOI, [], "give --swath-m or --fov-deg"),
    ],
)
def test_bad_aoi_or_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], aoi: str, args: list[str], message: str
) -> None:
    (tmp_path / "aoi.geojson").write_text(aoi)
    rc = main(
        [
            "plan",
            "survey",
            str(tmp_path / "aoi.geojson"),
            "--operator",
            "border-unit",
            "--out",
            str(tmp_path / "p"),
            *args,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and "\n" not in err
