from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from plumetrace.cli.app import main
from plumetrace.geo import utm_georef
from plumetrace.io.geotiff import write_geotiff
from plumetrace.pipeline.plumes import PLUME_PROPERTIES, PlumesInputs, run_plumes
from plumetrace.plumes import PlumeOptions

from ..plumes.conftest import make_map


@pytest.fixture(scope="module")
def enhancement_tif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    m = make_map([(60.5, 30.5, 800.0), (140.5, 30.5, 800.0)], seed=5)
    d = tmp_path_factory.mktemp("map")
    georef = utm_georef(31.9, -102.2, 200, 240, 5.0)
    tags = {"units": "ppm m", "gas": "ch4"}
    write_geotiff(d / "enhancement.tif", m.enhancement.astype(np.float32), georef, tags=tags)
    write_geotiff(d / "uncertainty.tif", m.uncertainty.astype(np.float32), georef, tags=tags)
    return d / "enhancement.tif"


def test_products_follow_the_contract(enhancement_tif: Path, tmp_path: Path) -> None:
    opts = PlumeOptions(wind_speed_m_s=3.0, wind_dir_deg=270.0, min_confidence=0.0)
    summary = run_plumes(PlumesInputs(enhancement_tif), tmp_path, opts)
    assert summary.layers["uncertainty"].endswith("uncertainty.tif")  # found beside the map
    doc = json.loads((tmp_path / "plumes.geojson").read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == summary.plumes >= 2
    for i, f in enumerate(doc["features"], start=1):
        assert tuple(f["properties"]) == PLUME_PROPERTIES
        assert f["properties"]["id"] == i
        assert f["geometry"]["type"] == "Polygon"
        lon, lat = np.array(f["geometry"]["coordinates"][0]).T
        assert abs(lat.mean() - 31.9) < 0.01 and abs(lon.mean() + 102.2) < 0.01
        lo, hi = f["properties"]["flux_kg_h_ci68"]
        assert lo <= f["properties"]["flux_kg_h"] <= hi
    rates = [f["properties"]["flux_kg_h"] for f in doc["features"]]
    assert rates == sorted(rates, reverse=True)
    cands = json.loads((tmp_path / "candidates.geojson").read_text())["features"]
    assert len(cands) == summary.candidates
    assert all("features" in c["properties"] for c in cands)
    assert (tmp_path / "plumes.png").stat().st_size > 0
    assert (tmp_path / "plume_1.png").exists()
    # the footprint covers the scene and every plume source, and ingests as coverage
    from shapely.geometry import Point, shape

    from plumetrace.io.evidence import read_coverage

    foot = read_coverage(tmp_path / "footprint.geojson")
    assert foot.equals(
        shape(json.loads((tmp_path / "footprint.geojson").read_text())["features"][0]["geometry"])
    )
    for f in doc["features"]:
        src = Point(f["properties"]["source_lon"], f["properties"]["source_lat"])
        assert foot.contains(src)
    assert 0.9 * 1.2e6 < foot.area * (111_320**2 * np.cos(np.radians(31.9))) < 1.1 * 1.2e6


def test_cli_plumes_and_bad_input(enhancement_tif: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    args = ["plumes", str(enhancement_tif), "--out", str(out), "--wind-speed", "3"]
    assert main(args) == 0
    assert (out / "plumes.geojson").exists()
    assert main(["plumes", str(tmp_path / "missing.tif"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing.tif" in err and "Traceback" not in err
    assert main(["plumes", str(enhancement_tif), "--out", str(out), "--wind-speed", "-2"]) == 2


def test_residual_layer_is_found_used_and_checked(
    enhancement_tif: Path, tmp_path: Path, capsys
) -> None:
    from plumetrace.plumes.calibration import confidence_model

    # the model for maps without the layer leaves the feature out
    assert "spectral_residual" in confidence_model().features
    assert "spectral_residual" not in confidence_model(spectral=False).features
    opts = PlumeOptions(wind_speed_m_s=3.0, wind_dir_deg=270.0, min_confidence=0.0)
    without = run_plumes(PlumesInputs(enhancement_tif), tmp_path / "a", opts)
    assert "residual" not in without.layers
    # a residual layer beside the map is found and its feature reaches candidates.geojson
    d = tmp_path / "map"
    d.mkdir()
    for name in ("enhancement", "uncertainty"):
        (d / f"{name}.tif").write_bytes(enhancement_tif.with_name(f"{name}.tif").read_bytes())
    georef = utm_georef(31.9, -102.2, 200, 240, 5.0)
    write_geotiff(d / "residual.tif", np.full((200, 240), 2.0, np.float32), georef)
    found = run_plumes(PlumesInputs(d / "enhancement.tif"), tmp_path / "b", opts)
    assert found.layers["residual"].endswith("residual.tif")
    cands = json.loads((tmp_path / "b" / "candidates.geojson").read_text())["features"]
    assert cands and all(
        c["properties"]["features"]["spectral_residual"] == pytest.approx(np.log(2.0), abs=1e-3)
        for c in cands
    )
    # a layer of another size is one clear line naming the file
    bad = tmp_path / "small.tif"
    write_geotiff(bad, np.ones((20, 24), np.float32), utm_georef(31.9, -102.2, 20, 24, 5.0))
    args = ["plumes", str(d / "enhancement.tif"), "--out", str(tmp_path / "c")]
    assert main([*args, "--residual", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "small.tif" in err and "residual" in err and "Traceback" not in err
