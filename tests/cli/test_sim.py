from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plumetrace.cli.app import main
from plumetrace.cli.sim import parse_origin
from plumetrace.errors import InvalidParameterError
from plumetrace.io.tables import read_json

SMALL = ["--rows", "64", "--cols", "48", "--sources", "1"]


def test_sim_scene_writes_files_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scene"
    code = main(
        [
            "sim",
            "scene",
            str(out),
            *SMALL,
            "--seed",
            "3",
            "--wind-dir",
            "0",
            "--wind-speed",
            "5",
            "--rate-min",
            "200",
            "--rate-max",
            "200",
            "--origin",
            "40.0,-105.0",
            "--flares",
            "1",
            "--saturated-fraction",
            "0.001",
        ]
    )
    assert code == 0
    stdout = capsys.readouterr().out
    assert "Sources" in stdout and "src-001" in stdout and "radiance.hdr" in stdout
    truth = read_json(out / "truth.json")
    src = truth["sources"][0]
    assert (src["rate_kg_h"], src["wind_speed_m_s"], src["wind_dir_deg"]) == (200.0, 5.0, 0.0)
    assert truth["crs"] == "EPSG:32613" and truth["center"] == {"lat": 40.0, "lon": -105.0}
    assert len(truth["flares"]) == 1 and len(truth["saturated_pixels"]) >= 3
    assert truth["spec"]["seed"] == 3 and truth["spec"]["noise"] is True


def test_no_noise_and_netcdf(tmp_path: Path) -> None:
    assert (
        main(
            [
                "sim",
                "scene",
                str(tmp_path),
                *SMALL,
                "--no-noise",
                "--format",
                "netcdf",
                "--sensor",
                "emit",
            ]
        )
        == 0
    )
    assert (tmp_path / "radiance.nc").is_file()
    truth = read_json(tmp_path / "truth.json")
    assert truth["noise"] is False and truth["sensor"] == "emit" and truth["bands"] == 285


def test_no_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["sim", "scene", str(tmp_path), "--rows", "32", "--cols", "32", "--sources", "0"]) == 0
    )
    assert "no sources" in capsys.readouterr().out
    assert read_json(tmp_path / "truth.json")["sources"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate-min", "-5"], "minimum emission rate must be positive"),
        (["--rate-min", "500", "--rate-max", "100"], "must be at least the minimum"),
        (["--sensor", "hyperion"], "unknown sensor 'hyperion'"),
        (["--format", "tif"], "unknown format 'tif'"),
        (["--origin", "31.9"], "--origin must be LAT,LON"),
        (["--origin", "north,west"], "--origin must be LAT,LON"),
        (["--origin", "89,0"], "origin latitude"),
        (["--wind-speed", "0"], "wind speed must be between"),
        (["--wind-dir", "-10"], "wind direction must be between 0 and 360"),
        (["--rows", "8"], "rows must be between 16 and 20000"),
        (["--pixel-size", "0"], "pixel size"),
        (["--sources", "60"], "cannot place 60 sources"),
    ],
)
def test_bad_options_give_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["sim", "scene", str(tmp_path / "x"), "--rows", "32", "--cols", "32", *args])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "x" / "truth.json").exists()


def test_parse_origin() -> None:
    assert parse_origin("31.9,-102.2") == (31.9, -102.2)
    assert parse_origin(" -33.5 , 151.2 ") == (-33.5, 151.2)
    with pytest.raises(InvalidParameterError):
        parse_origin("1,2,3")


def test_same_seed_same_radiance(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["sim", "scene", str(tmp_path / name), *SMALL, "--seed", "9"]) == 0
    a = np.fromfile(tmp_path / "a" / "radiance", dtype="<f4")
    b = np.fromfile(tmp_path / "b" / "radiance", dtype="<f4")
    np.testing.assert_array_equal(a, b)
