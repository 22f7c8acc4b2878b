from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from plumetrace.detect import flags
from plumetrace.errors import DataSourceError, InvalidParameterError, InvalidRadianceError
from plumetrace.io.envi import write_envi
from plumetrace.io.geotiff import read_geotiff
from plumetrace.io.netcdf import write_emit_netcdf
from plumetrace.pipeline.detect import NODATA, DetectOptions, run_detect
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.sim import SceneSpec, simulate_scene

SPEC = SceneSpec(rows=200, cols=48, sources=1, seed=3, rate_min_kg_h=800, rate_max_kg_h=900)


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("det") / "scene"
    run_sim_scene(out, SPEC)
    return out


@pytest.fixture(scope="module")
def detected(scene_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("det") / "out"
    run_detect(scene_dir / "radiance.hdr", out)
    return out


def test_products_and_report(detected: Path, scene_dir: Path) -> None:
    names = {p.name for p in detected.iterdir()}
    assert names == {
        "enhancement.tif",
        "uncertainty.tif",
        "mask.tif",
        "albedo.tif",
        "residual.tif",
        "detect.json",
        "quicklook.png",
    }
    report = json.loads((detected / "detect.json").read_text())
    assert {"method", "gas", "bands_used", "window_nm", "seconds", "rows", "cols"} <= set(report)
    assert report["method"] == "iterative" and report["gas"] == "ch4"
    assert report["window_nm"] == [2122.0, 2488.0] and report["bands_used"] == 73
    assert (report["rows"], report["cols"]) == (200, 48)
    enh = read_geotiff(detected / "enhancement.tif")
    assert enh.data.dtype == np.float32 and enh.nodata == NODATA
    assert enh.georef.crs is not None and enh.georef.transform is not None
    truth = read_geotiff(scene_dir / "truth_enhancement.tif")
    assert enh.georef.transform == truth.georef.transform
    mask = read_geotiff(detected / "mask.tif")
    assert mask.data.dtype == np.uint8
    unc = read_geotiff(detected / "uncertainty.tif").data
    assert np.all(unc[mask.data & flags.INVALID == 0] > 0)
    # the target-fit residual exists exactly on the enhanced pixels
    rho = read_geotiff(detected / "residual.tif")
    assert rho.data.dtype == np.float32 and rho.nodata == NODATA
    assert np.array_equal(rho.data != NODATA, enh.data > 0)
    assert 0.3 < float(np.median(rho.data[enh.data > 0])) < 3.0


def test_plume_is_found_at_the_source(detected: Path, scene_dir: Path) -> None:
    truth = json.loads((scene_dir / "truth.json").read_text())
    src = truth["sources"][0]
    enh = read_geotiff(detected / "enhancement.tif").data
    true_map = read_geotiff(scene_dir / "truth_enhancement.tif").data
    near = np.zeros(enh.shape, bool)
    near[max(0, src["row"] - 15) : src["row"] + 16, max(0, src["col"] - 15) : src["col"] + 16] = (
        True
    )
    strong = true_map > 1500
    assert np.mean(enh[strong & near] > 0) > 0.5
    far = (true_map == 0) & ~near
    # a 200-pixel column gives a noisy background; the classic filter is positive on ~50 %
    assert np.mean(enh[far] > 0) < 0.2


def _whole_and_in_five_blocks(
    scene_dir: Path, out: Path, method: Literal["mf", "ace"]
) -> tuple[Path, Path]:
    """Run ``detect`` on the whole scene at once and in 5 column blocks; the two out dirs."""
    runs = []
    for name, block_bytes in (("a", None), ("b", 200 * 73 * 4 * 10)):
        opts = DetectOptions(method=method, quicklook=False)
        if block_bytes is not None:
            opts = replace(opts, block_bytes=block_bytes)
        runs.append(run_detect(scene_dir / "radiance.hdr", out / name, opts).blocks)
    assert runs == [1, 5]
    return out / "a", out / "b"


def test_streaming_in_column_blocks_gives_the_same_map(scene_dir: Path, tmp_path: Path) -> None:
    a, b = _whole_and_in_five_blocks(scene_dir, tmp_path, "mf")
    ea = read_geotiff(a / "enhancement.tif").data
    np.testing.assert_array_equal(ea, read_geotiff(b / "enhancement.tif").data)


def test_the_neighbourhood_step_sees_across_block_edges(scene_dir: Path, tmp_path: Path) -> None:
    # One iteration: no stopping test over the whole block, so every column's result is
    # its own and the blocked map must equal the whole one (to float32 rounding: the
    # packed support is padded to a width that depends on the block, which changes the
    # rounding of its products, and the single-precision solve passes that on: well
    # under 1 ppm·m, against a noise of some hundreds); each block reads one column more
    # on either side for its edge pixels' neighbours.
    maps = {}
    for name, block_bytes, spatial in (
        ("whole", None, True),
        ("blocks", 200 * 73 * 4 * 10, True),
        ("pixelwise", 200 * 73 * 4 * 10, False),
    ):
        opts = DetectOptions(max_iter=1, quicklook=False, spatial=spatial)
        if block_bytes is not None:
            opts = replace(opts, block_bytes=block_bytes)
        summary = run_detect(scene_dir / "radiance.hdr", tmp_path / name, opts)
        assert summary.spatial is spatial
        assert json.loads((tmp_path / name / "detect.json").read_text())["spatial"] is spatial
        maps[name] = read_geotiff(tmp_path / name / "enhancement.tif").data
    np.testing.assert_array_equal(maps["blocks"] > 0, maps["whole"] > 0)
    np.testing.assert_allclose(maps["blocks"], maps["whole"], rtol=5e-3, atol=1.0)
    # the step changed pixels on the block edges (columns 9|10, 19|20, ...), so the
    # equality above needed the extra columns
    edges = np.array([9, 10, 19, 20, 29, 30, 39, 40])
    assert np.any(maps["pixelwise"][:, edges] != maps["blocks"][:, edges])


def test_ace_writes_its_score_block_by_block(scene_dir: Path, tmp_path: Path) -> None:
    # ACE's detection statistic (cos² of the angle to the target) is a product of its own
    one, five = _whole_and_in_five_blocks(scene_dir, tmp_path, "ace")
    assert json.loads((one / "detect.json").read_text())["outputs"]["score"] == str(
        one / "score.tif"
    )
    a = read_geotiff(one / "score.tif")
    np.testing.assert_array_equal(a.data, read_geotiff(five / "score.tif").data)
    valid = a.data != a.nodata
    assert valid.mean() > 0.95 and np.all((a.data[valid] >= 0) & (a.data[valid] <= 1))
    true_map = read_geotiff(scene_dir / "truth_enhancement.tif").data
    strong, clear = valid & (true_map > 1500), valid & (true_map == 0)
    assert np.median(a.data[strong]) > 5 * np.median(a.data[clear])
    # the other methods have no such statistic and write no score (nor leave an old one)
    # ace has the target-fit residual too, block by block
    np.testing.assert_array_equal(
        read_geotiff(one / "residual.tif").data, read_geotiff(five / "residual.tif").data
    )
    mf = run_detect(scene_dir / "radiance.hdr", one, DetectOptions(method="mf", quicklook=False))
    assert "score" not in mf.outputs and not (one / "score.tif").exists()
    # nor has mf a residual (it never inverts the covariance): an old one is removed
    assert "residual" not in mf.outputs and not (one / "residual.tif").exists()


def test_netcdf_input_matches_envi(tmp_path: Path) -> None:
    sc = simulate_scene(SceneSpec(rows=120, cols=20, sources=1, seed=5))
    write_envi(
        tmp_path / "r",
        sc.radiance,
        wavelength_nm=sc.wavelength_nm,
        fwhm_nm=sc.fwhm_nm,
        georef=sc.georef,
    )
    lon, lat = sc.georef.pixel_centers_lonlat(*np.mgrid[0:120, 0:20] + 0.5)
    write_emit_netcdf(tmp_path / "r.nc", sc.radiance, sc.wavelength_nm, sc.fwhm_nm, lat, lon)
    opts = DetectOptions(method="mf", quicklook=False)
    run_detect(tmp_path / "r", tmp_path / "e", opts)
    run_detect(tmp_path / "r.nc", tmp_path / "n", opts)
    e = read_geotiff(tmp_path / "e" / "enhancement.tif")
    n = read_geotiff(tmp_path / "n" / "enhancement.tif")
    # float32 accumulation order differs between the readers
    np.testing.assert_allclose(e.data, n.data, rtol=1e-4, atol=1.0)
    assert n.georef.lat is not None


def test_user_gas_csv(scene_dir: Path, tmp_path: Path) -> None:
    from plumetrace import data, spectra

    b = data.sensor_bands("aviris-ng")
    t = spectra.target_from_lookup_table(data.ch4_lookup_table(), b.wavelength_nm, b.fwhm_nm)
    csv = tmp_path / "mygas.csv"
    rows = ["wavelength_nm,absorption_per_ppm_m"]
    rows += [f"{w},{a}" for w, a in zip(b.wavelength_nm, t.absorption_per_ppm_m, strict=True)]
    csv.write_text("\n".join(rows) + "\n")
    s = run_detect(
        scene_dir / "radiance.hdr",
        tmp_path / "o",
        DetectOptions(gas=str(csv), method="mf", window_nm=(2122, 2488), quicklook=False),
    )
    assert s.gas == "mygas" and s.bands_used == 73


def test_bad_inputs(scene_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidRadianceError, match="no band falls in the window"):
        run_detect(
            scene_dir / "radiance.hdr", tmp_path / "o", DetectOptions(window_nm=(3000, 3100))
        )
    with pytest.raises(InvalidParameterError, match="unknown gas"):
        run_detect(scene_dir / "radiance.hdr", tmp_path / "o", DetectOptions(gas="xenon"))
    with pytest.raises(DataSourceError):
        run_detect(tmp_path / "missing.hdr", tmp_path / "o")
    # a truncated data file is named in the error and nothing is written
    bad = tmp_path / "trunc"
    bad.mkdir()
    (bad / "radiance.hdr").write_bytes((scene_dir / "radiance.hdr").read_bytes())
    (bad / "radiance").write_bytes((scene_dir / "radiance").read_bytes()[:1000])
    with pytest.raises(DataSourceError, match="truncated"):
        run_detect(bad / "radiance.hdr", tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_all_nan_columns_are_an_error(tmp_path: Path) -> None:
    sc = simulate_scene(SceneSpec(rows=120, cols=20, sources=0, seed=2))
    cube = sc.radiance.copy()
    cube[:, 4] = np.nan
    write_envi(tmp_path / "r", cube, wavelength_nm=sc.wavelength_nm, fwhm_nm=sc.fwhm_nm)
    with pytest.raises(InvalidRadianceError, match="column"):
        run_detect(tmp_path / "r", tmp_path / "o", DetectOptions(method="mf"))
