from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plumetrace.cli.app import main
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.sim import SceneSpec


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "scene"
    run_sim_scene(out, SceneSpec(rows=100, cols=24, sources=1, seed=4))
    return out / "radiance.hdr"


@pytest.mark.parametrize("method", ["mf", "iterative", "ace"])
def test_detect_command(
    scene: Path, tmp_path: Path, method: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["detect", str(scene), "--out", str(tmp_path), "--method", method, "--threads", "1"])
    assert rc == 0
    report = json.loads((tmp_path / "detect.json").read_text())
    assert report["method"] == method and report["threads"] == 1
    assert "ppm·m" in capsys.readouterr().out


def _detect(scene: Path, out: Path, *extra: str) -> tuple[dict[str, object], np.ndarray]:
    """Run ``detect`` without a quicklook; its ``detect.json`` and enhancement map."""
    from plumetrace.io.geotiff import read_geotiff

    assert main(["detect", str(scene), "--out", str(out), *extra, "--no-quicklook"]) == 0
    report = json.loads((out / "detect.json").read_text())
    return report, read_geotiff(out / "enhancement.tif").data


def test_spatial_is_the_default_and_no_spatial_is_the_per_pixel_filter(
    scene: Path, tmp_path: Path
) -> None:
    from plumetrace.detect import retrieve
    from plumetrace.io.radiance import open_radiance
    from plumetrace.pipeline.detect import plan_scene

    maps = {}
    for flag in ("--spatial", "--no-spatial", None):
        report, maps[str(flag)] = _detect(
            scene, tmp_path / str(flag), *([] if flag is None else [flag])
        )
        assert report["spatial"] is (flag != "--no-spatial")
    np.testing.assert_array_equal(maps["None"], maps["--spatial"])
    with open_radiance(scene) as cube:
        plan = plan_scene(scene, scene=cube)
        radiance = cube.read(bands=plan.idx)
    expected = retrieve(
        radiance, plan.unit_absorption, wavelength_nm=plan.wavelength_nm, spatial=False
    )
    np.testing.assert_allclose(maps["--no-spatial"], expected.enhancement, rtol=1e-4, atol=0.05)
    assert np.any(maps["--spatial"] != maps["--no-spatial"])


def test_target_weighting_absorption_is_the_jpl_aviris_ng_convention(
    scene: Path, tmp_path: Path
) -> None:
    from plumetrace.data import ch4_lookup_table
    from plumetrace.io.radiance import open_radiance
    from plumetrace.pipeline.detect import DetectOptions, plan_scene
    from plumetrace.spectra import target_from_lookup_table

    maps = {}
    for weighting in ("radiance", "absorption", None):
        extra = [] if weighting is None else ["--target-weighting", weighting]
        report, maps[str(weighting)] = _detect(scene, tmp_path / str(weighting), *extra)
        assert report["target_weighting"] == (weighting or "radiance")
    np.testing.assert_array_equal(maps["None"], maps["radiance"])
    assert np.any(maps["absorption"] != maps["radiance"])
    with open_radiance(scene) as cube:
        plan = plan_scene(scene, DetectOptions(target_weighting="absorption"), scene=cube)
        expected = target_from_lookup_table(
            ch4_lookup_table(), cube.wavelength_nm, cube.fwhm_nm, weighting="absorption"
        )
    np.testing.assert_array_equal(plan.unit_absorption, expected.absorption_per_ppm_m[plan.idx])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "abc"], "MIN:MAX"),
        (["--window", "2400:2200"], "smaller"),
        (["--shrinkage", "2"], "[0, 1]"),
        (["--group-cols", "0"], "group-cols"),
        (["--gas", "nope.csv"], "nope.csv"),
        (["--method", "mf", "--spatial"], "--spatial applies to --method iterative"),
        (["--gas", "x.csv", "--target-weighting", "radiance"], "can only be band-averaged"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    scene: Path, tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["detect", str(scene), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect"]) == 2
    assert main(["sim", "scene", "/tmp/x", "--rows", "abc"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from plumetrace.errors import DataSourceError

    with pytest.raises(DataSourceError):
        main(["--debug", "detect", str(tmp_path / "missing.hdr"), "--out", str(tmp_path)])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "plumetrace" in capsys.readouterr().out


def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "demo",
            "--out",
            str(tmp_path),
            "--rows",
            "200",
            "--cols",
            "64",
            "--seed",
            "2",
            "--no-serve",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    # the staged spectrometer passes, each named, retrieved and quantified
    scenes = ["town", "rural", "industrial", "intermittent-1", "intermittent-2"]
    for name in scenes:
        assert name in out
        where = tmp_path / "scenes" / name
        assert (where / "detect" / "quicklook.png").stat().st_size > 5_000
        assert (where / "scene" / "truth.json").exists()
        assert (where / "plumes" / "plumes.geojson").exists()
    assert "town/src-002" in out and "industrial leak" in out and "intermittent lab" in out
    # the later stages: the sniffer sortie and locate, flight operations
    assert "Sniffer" in out and "Flight ops" in out
    assert (tmp_path / "sniff" / "locate.json").exists()
    audit = json.loads((tmp_path / "flight" / "audit.json").read_text())
    assert len(audit["incursions"]) == 1 and audit["incursions"][0]["zone"] == "MEX"
    plan = json.loads((tmp_path / "flight" / "plan" / "plan.json").read_text())
    assert plan["coverage_fraction"] >= 0.99 and plan["excluded_area_km2"] > 0
    joint = json.loads((tmp_path / "flight" / "plan-joint" / "plan.json").read_text())
    assert joint["authorized_area_km2"] > plan["authorized_area_km2"]  # Mexico too
    gulf = json.loads((tmp_path / "flight" / "plan-gulf" / "plan.json").read_text())
    assert gulf["excluded_area_km2"] > 1000 and gulf["authorized_area_km2"] > 1000
    assert "Sites" in out and "Review queue" in out
    db = tmp_path / "home" / "plumetrace.db"
    assert db.is_file()
    import sqlite3

    with sqlite3.connect(db) as con:
        n_sites = con.execute("SELECT count(*) FROM sites WHERE status != 'merged'").fetchone()[0]
        n_ctx = con.execute("SELECT count(*) FROM sites WHERE exposure IS NOT NULL").fetchone()[0]
    assert n_sites > 10 and n_ctx == n_sites
    # sharing: a lead released, answered and verified; every partner format written
    assert "Lead lead-" in out and "verified (no-emission)" in out
    assert "Workbench logins" in out and "plumetrace serve" in out
    exports = sorted(p.name.split(".", 1)[1] for p in (tmp_path / "share").iterdir())
    assert exports == ["cot.xml", "geojson", "kml", "stix.json"]
    with sqlite3.connect(db) as con:
        audits = con.execute("SELECT n_incursions FROM flight_audits").fetchall()
    assert audits == [(1,)]  # the border track, kept for the map
    with sqlite3.connect(db) as con:
        insitu = con.execute("SELECT count(*) FROM detections WHERE kind = 'insitu'").fetchone()
        decisions = {r[0] for r in con.execute("SELECT decision FROM reviews")}
        orgs = con.execute("SELECT count(*) FROM designations").fetchone()
    assert insitu == (2,) and (tmp_path / "sniff2" / "locate.json").exists()
    assert {"confirm", "needs-collection"} <= decisions and orgs == (1,)
    with sqlite3.connect(db) as con:
        flights = {
            r[0]: r[1]
            for r in con.execute(
                "SELECT f.id, count(c.id) FROM flights f JOIN coverage c ON c.flight_id = f.id"
                " WHERE f.id LIKE 'flt-scene-%' GROUP BY f.id"
            )
        }
    assert sorted(flights) == sorted(f"flt-scene-{name}" for name in scenes)


def test_cli_method_choices_match_the_kernel() -> None:
    from typing import get_args

    from plumetrace.cli import detect as cli_detect
    from plumetrace.detect import Method

    assert set(get_args(cli_detect.Method)) == set(get_args(Method))


def test_cli_weighting_choices_match_the_spectra() -> None:
    from typing import get_args

    from plumetrace.cli import detect as cli_detect
    from plumetrace.spectra import Weighting

    assert set(get_args(cli_detect.Weighting)) == set(get_args(Weighting))
