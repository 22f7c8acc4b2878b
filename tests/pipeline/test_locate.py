from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from plumetrace.cli.app import main
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume import ForwardModel, SourceParams
from plumetrace.pipeline.locate import LocateInputs, default_source_box, run_locate

CONTRACT = {
    "x_m",
    "y_m",
    "z_m",
    "position_ci68_m",
    "rate_kg_h",
    "rate_kg_h_ci68",
    "rate_kg_h_ci95",
    "n_readings",
    "particles",
    "seconds",
}


def _write_point_csv(path: Path, seed: int = 0, background: bool = False) -> None:
    rng = np.random.default_rng(seed)
    m = 80
    pts = np.column_stack([rng.uniform(0, 60, m), rng.uniform(-20, 40, m), np.full(m, 2.0)])
    obs = Observations.create(pts, np.zeros(m), 3.0, 0.0)
    c = ForwardModel().predict_ppm(SourceParams.single(30, 40, 1.0, 5 / 3600), obs)[0]
    conc = 1.95 + c * (1 + 0.3 * rng.standard_normal(m)) + 0.02 * rng.standard_normal(m)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["time", "x_m", "y_m", "z_m", "conc_ppm", "wind_speed_m_s", "wind_dir_deg"]
            + (["background_ppm"] if background else [])
        )
        for j in range(m):
            w.writerow(
                [j * 2.0, *pts[j], max(conc[j], 0.0), 3.0, 0.0] + ([1.95] if background else [])
            )


@pytest.mark.parametrize("background", [True, False])
def test_locate_point_readings(tmp_path: Path, background: bool) -> None:
    readings = tmp_path / "readings.csv"
    _write_point_csv(readings, background=background)
    out = tmp_path / "result.json"
    result = run_locate(
        LocateInputs(
            readings=readings, out=out, particles=2000, origin=(51.0, -1.0), source_height=1.0
        )
    )
    doc = json.loads(out.read_text())
    assert set(doc) >= CONTRACT and {"lat", "lon"} <= set(doc)
    assert doc["n_readings"] == 80 and doc["particles"] == 2000
    assert np.hypot(doc["x_m"] - 30, doc["y_m"] - 40) < 4.0
    lo, hi = doc["rate_kg_h_ci95"]
    assert lo <= 5.0 <= hi
    assert doc["rate_kg_h_ci68"][0] <= doc["rate_kg_h"] <= doc["rate_kg_h_ci68"][1]
    assert doc["background"] == ("given" if background else "estimated")
    assert abs(doc["lat"] - 51.0) < 0.001 and abs(doc["lon"] + 1.0) < 0.001
    assert result.png_path == tmp_path / "result.png" and result.png_path.stat().st_size > 1000


def test_locate_beams_and_wind_file(tmp_path: Path) -> None:
    beams = tmp_path / "beams.csv"
    beams.write_text(
        "beam_id,sensor_x_m,sensor_y_m,sensor_z_m,reflector_x_m,reflector_y_m,reflector_z_m\n"
        "a,0,0,1.5,60,0,1.5\nb,0,0,1.5,60,-20,1.5\nc,0,0,1.5,40,-40,1.5\n"
    )
    model = ForwardModel()
    truth = SourceParams.single(30, 20, 0.5, 2 / 3600)
    ends = {"a": (60, 0), "b": (60, -20), "c": (40, -40)}
    rng = np.random.default_rng(4)
    rows = []
    wind_rows = []
    for t in range(60):
        wd = float(rng.normal(0, 15))
        wind_rows.append((t * 60.0, 2.5, wd % 360, 12.0))
        for beam, (ex, ey) in ends.items():
            obs = Observations.create(
                np.array([[0, 0, 1.5]]),
                [0.0],
                2.5,
                wd,
                end=np.array([[ex, ey, 1.5]]),
                sigma_theta_deg=12.0,
            )
            c = model.predict_ppm(truth, obs)[0, 0]
            rows.append(
                (
                    t * 60.0 + 5,
                    beam,
                    2.0 + c * (1 + 0.2 * rng.standard_normal()) + 0.01 * rng.standard_normal(),
                    2.0,
                )
            )
    (tmp_path / "readings.csv").write_text(
        "time,beam_id,conc_ppm,background_ppm\n"
        + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows)
    )
    (tmp_path / "wind.csv").write_text(
        "time,wind_speed_m_s,wind_dir_deg,turbulence\n"
        + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in wind_rows)
    )
    rc = main(
        [
            "locate",
            str(tmp_path / "readings.csv"),
            "--beams",
            str(beams),
            "--wind",
            str(tmp_path / "wind.csv"),
            "--out",
            str(tmp_path / "r.json"),
            "--particles",
            "1500",
            "--source-box",
            "0,0,60,60",
            "--source-height",
            "0.5",
        ]
    )
    assert rc == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["sensor"] == "path" and doc["stability"] == "from turbulence"
    assert np.hypot(doc["x_m"] - 30, doc["y_m"] - 20) < 6.0
    assert doc["rate_kg_h_ci95"][0] <= 2.0 <= doc["rate_kg_h_ci95"][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source-box", "1,2,3"], "--source-box must be xmin,ymin,xmax,ymax"),
        (["--source-box", "5,0,1,10"], "source box must be"),
        (["--origin", "north"], "--origin must be LAT,LON"),
        (["--particles", "10"], "--particles must be at least 100"),
        (["--gas", "xenon"], "unknown gas"),
        (["--rate-range", "5,1"], "rate prior"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    readings = tmp_path / "readings.csv"
    _write_point_csv(readings)
    rc = main(["locate", str(readings), "--out", str(tmp_path / "r.json"), *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert message in err and "\n" not in err
    assert not (tmp_path / "r.json").exists()


def test_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["locate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r.json")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "nope.csv" in err and "\n" not in err


def test_default_box_extends_upwind() -> None:
    pts = np.array([[0.0, 0.0, 1.0], [40.0, 40.0, 1.0]])
    obs = Observations.create(pts, np.zeros(2), 3.0, 0.0)  # from the north
    x0, y0, x1, y1 = default_source_box(obs)
    assert y1 - 40.0 > 0.0 - y0 > 0.0  # more room north (upwind) than south
    assert x0 < 0.0 < 40.0 < x1


def test_unwritable_output_fails_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readings = tmp_path / "readings.csv"
    _write_point_csv(readings)
    rc = main(["locate", str(readings), "--out", str(tmp_path / "missing" / "r.json")])
    assert rc == 2 and "directory does not exist" in capsys.readouterr().err
    rc = main(["locate", str(readings), "--out", str(tmp_path)])
    assert rc == 2 and "is a directory" in capsys.readouterr().err
