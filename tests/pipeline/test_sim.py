from __future__ import annotations

import hashlib
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import rasterio

from plumetrace.io.envi import read_envi_header
from plumetrace.io.tables import read_json
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.sim import LAND_COVER_CLASSES, SceneSpec, simulate_scene

SPEC = SceneSpec(rows=96, cols=64, sources=2, seed=8, flares=1)


@pytest.fixture(scope="module")
def envi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("envi") / "scene"  # created by the job
    run_sim_scene(out, SPEC)
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_envi_outputs_are_well_formed(envi_dir: Path) -> None:
    names = {p.name for p in envi_dir.iterdir()}
    assert names == {
        "radiance",
        "radiance.hdr",
        "truth.json",
        "truth_enhancement.tif",
        "truth_land_cover.tif",
    }
    hdr = read_envi_header(envi_dir / "radiance.hdr")
    assert (hdr.lines, hdr.samples, hdr.bands) == (96, 64, 425)
    assert hdr.interleave == "bil"
    text = (envi_dir / "radiance.hdr").read_text()
    assert "map info = {UTM" in text and "wavelength units = Nanometers" in text
    assert "fwhm = {" in text and "data type = 4" in text
    # the data file holds exactly the simulated cube, BIL little-endian float32
    scene = simulate_scene(SPEC)
    raw = np.fromfile(envi_dir / "radiance", dtype="<f4").reshape(96, 425, 64)
    np.testing.assert_array_equal(raw.transpose(0, 2, 1), scene.radiance)


def test_truth_files(envi_dir: Path) -> None:
    truth = read_json(envi_dir / "truth.json")
    assert truth["pixel_size_m"] == 5.0 and truth["crs"] == "EPSG:32613"
    assert len(truth["sources"]) == 2 and len(truth["flares"]) == 1
    src = truth["sources"][0]
    assert set(src) >= {
        "id",
        "row",
        "col",
        "lat",
        "lon",
        "rate_kg_h",
        "wind_speed_m_s",
        "wind_dir_deg",
    }
    assert truth["files"]["radiance"] == "radiance.hdr"
    with rasterio.open(envi_dir / "truth_enhancement.tif") as ds:
        assert ds.dtypes[0] == "float32" and (ds.height, ds.width) == (96, 64)
        assert ds.crs.to_epsg() == 32613
        assert ds.transform.a == 5.0 and ds.transform.e == -5.0
        assert tuple(ds.transform)[:6] == pytest.approx(truth["transform"])
        enh = ds.read(1)
    assert enh.max() > 100 and enh.min() >= 0
    assert enh[src["row"], src["col"]] > np.percentile(enh, 99)  # peak at the source
    with rasterio.open(envi_dir / "truth_land_cover.tif") as ds:
        lc = ds.read(1)
    assert lc.dtype == np.uint8 and lc.max() < len(LAND_COVER_CLASSES)


def test_same_seed_identical_files(envi_dir: Path, tmp_path: Path) -> None:
    run_sim_scene(tmp_path / "again", SPEC)
    assert _digest(tmp_path / "again") == _digest(envi_dir)


def test_netcdf_layout(tmp_path: Path) -> None:
    spec = SceneSpec(
        rows=40, cols=32, sources=1, sensor="emit", pixel_size_m=30.0, file_format="netcdf", seed=2
    )
    seen: set[str] = set()
    summary = run_sim_scene(tmp_path, spec, progress=lambda s, d, t: seen.add(s))
    assert seen == {"surface", "plumes", "radiance", "writing"}
    assert summary.radiance_path == tmp_path / "radiance.nc"
    assert summary.shape == (40, 32, 285) and len(summary.sources) == 1
    with netCDF4.Dataset(tmp_path / "radiance.nc") as ds:
        assert ds["radiance"].dimensions == ("downtrack", "crosstrack", "bands")
        assert ds["radiance"].shape == (40, 32, 285)
        wl = ds["sensor_band_parameters"]["wavelengths"][:]
        assert wl.shape == (285,) and 380 < wl[0] < 382
        assert ds["sensor_band_parameters"]["fwhm"].shape == (285,)
        lat, lon = ds["location"]["lat"][:], ds["location"]["lon"][:]
    assert lat.shape == (40, 32)
    assert lat[0, 0] > lat[-1, 0]  # north-up: rows run south
    assert lon[0, -1] > lon[0, 0]
    truth = read_json(tmp_path / "truth.json")
    s = truth["sources"][0]
    assert lat[s["row"], s["col"]] == pytest.approx(s["lat"], abs=1e-7)
    assert lon[s["row"], s["col"]] == pytest.approx(s["lon"], abs=1e-7)
