from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from plumetrace.constants import kg_m2_per_ppm_m
from plumetrace.errors import InvalidParameterError
from plumetrace.sim import (
    LAND_COVER_CLASSES,
    SATURATION_FACTOR,
    SceneInputs,
    SceneSpec,
    SimulatedScene,
    band_noise,
    continuum,
    noise_equivalent_radiance,
    place_sources,
    simulate_scene,
)
from plumetrace.spectra import convolve_to_bands

SMALL = SceneSpec(rows=128, cols=96, sources=2, seed=21)


@pytest.fixture(scope="module")
def noisy(avirisng_inputs: SceneInputs) -> SimulatedScene:
    spec = replace(SMALL, saturated_fraction=0.001, flares=2)
    return simulate_scene(spec, avirisng_inputs)


@pytest.fixture(scope="module")
def clean(avirisng_inputs: SceneInputs) -> SimulatedScene:
    return simulate_scene(replace(SMALL, noise=False), avirisng_inputs)


@pytest.fixture(scope="module")
def background(avirisng_inputs: SceneInputs) -> SimulatedScene:
    return simulate_scene(replace(SMALL, sources=0, noise=False), avirisng_inputs)


def test_scene_arrays(noisy: SimulatedScene, avirisng_inputs: SceneInputs) -> None:
    bands = avirisng_inputs.bands.wavelength_nm.size
    assert noisy.radiance.shape == (128, 96, bands) and noisy.radiance.dtype == np.float32
    assert noisy.truth_enhancement.shape == (128, 96)
    assert noisy.truth_enhancement.dtype == np.float32
    assert noisy.truth_enhancement.min() >= 0 and noisy.truth_enhancement.max() > 1000
    np.testing.assert_array_equal(noisy.wavelength_nm, avirisng_inputs.bands.wavelength_nm)
    assert np.all(np.isfinite(noisy.radiance))
    assert noisy.georef.crs == "EPSG:32613"  # 31.9 N, -102.2 E
    assert noisy.land_cover.max() < len(LAND_COVER_CLASSES)


def test_sources_truth(noisy: SimulatedScene) -> None:
    assert len(noisy.sources) == 2
    per_px = kg_m2_per_ppm_m("ch4") * 25.0
    total = 0.0
    for s in noisy.sources:
        assert 100.0 <= s.rate_kg_h <= 1000.0
        assert (s.wind_speed_m_s, s.wind_dir_deg) == (3.0, 270.0)
        assert abs(s.lat - 31.9) < 0.01 and abs(s.lon + 102.2) < 0.01
        lon, lat = noisy.georef.pixel_centers_lonlat(
            np.array([s.row + 0.5]), np.array([s.col + 0.5])
        )
        assert (float(lat[0]), float(lon[0])) == pytest.approx((s.lat, s.lon), abs=1e-9)
        # downwind (east) of the source there is much more gas than upwind
        t = noisy.truth_enhancement
        assert t[:, s.col + 2 :].sum() > 20 * t[:, : max(s.col - 2, 0)].sum()
        total += s.mass_in_scene_kg
    assert noisy.truth_enhancement.sum(dtype=np.float64) * per_px == pytest.approx(total, rel=1e-5)
    ids = [s.id for s in noisy.sources]
    assert ids == ["src-001", "src-002"]


def test_same_seed_same_scene(noisy: SimulatedScene, avirisng_inputs: SceneInputs) -> None:
    again = simulate_scene(noisy.spec, avirisng_inputs)
    np.testing.assert_array_equal(again.radiance, noisy.radiance)
    np.testing.assert_array_equal(again.truth_enhancement, noisy.truth_enhancement)
    assert again.sources == noisy.sources
    other = simulate_scene(replace(SMALL, seed=22), avirisng_inputs)
    assert not np.array_equal(other.radiance, noisy.radiance)


def test_plumes_are_exact_beer_lambert(
    clean: SimulatedScene, background: SimulatedScene, avirisng_inputs: SceneInputs
) -> None:
    """Same seed without sources = the same background; the ratio is the exact transmittance."""
    assert background.truth_enhancement.max() == 0
    plume = clean.truth_enhancement > 0
    np.testing.assert_array_equal(clean.radiance[~plume], background.radiance[~plume])
    lut, b = avirisng_inputs.lut, avirisng_inputs.bands
    t = clean.truth_enhancement
    for level in (5.0, 300.0, float(np.percentile(t[plume], 99)), float(t.max())):
        r, c = np.unravel_index(np.argmin(np.abs(t - level)), t.shape)
        x = float(t[r, c])
        k = int(np.clip(np.searchsorted(lut.enhancement_ppm_m, x, side="right"), 1, 6))
        x0, x1 = lut.enhancement_ppm_m[k - 1], lut.enhancement_ppm_m[k]
        w = (x - x0) / (x1 - x0)
        hr = np.exp((1 - w) * np.log(lut.radiance[k - 1]) + w * np.log(lut.radiance[k]))
        num = convolve_to_bands(lut.wavelength_nm, hr, b.wavelength_nm, b.fwhm_nm)
        den = convolve_to_bands(lut.wavelength_nm, lut.radiance[0], b.wavelength_nm, b.fwhm_nm)
        bg = background.radiance[r, c].astype(np.float64)
        lit = bg > 1e-3  # skip the opaque water-band channels (radiance 0)
        ok = np.isfinite(num) & lit
        ratio = clean.radiance[r, c][lit] / bg[lit]
        np.testing.assert_allclose(ratio[ok[lit]], (num / den)[ok], rtol=2e-5)
        np.testing.assert_allclose(ratio[~ok[lit]], 1.0, rtol=1e-6)  # outside the LUT


def test_noise_level_and_snr(
    noisy: SimulatedScene, clean: SimulatedScene, avirisng_inputs: SceneInputs
) -> None:
    b = avirisng_inputs.bands
    i = int(np.argmin(np.abs(b.wavelength_nm - 2300)))
    ok = ~noisy.saturated_mask & ~noisy.flare_mask
    diff = (noisy.radiance - clean.radiance)[ok]
    nedl = noise_equivalent_radiance(
        clean.radiance[ok], band_noise(avirisng_inputs.noise, b.wavelength_nm)
    )
    z = diff / nedl
    assert float(z.std()) == pytest.approx(1.0, rel=0.02)
    snr = clean.radiance[ok][:, i] / nedl[:, i]
    refl = clean.radiance[ok][:, i] / clean.atmosphere[i]
    # AVIRIS-NG at 2300 nm: ~190 for bright (real BeckmanWalk), ~58 for dark (darklot)
    assert 120 < np.median(snr[refl > 0.25]) < 320
    if np.any(refl < 0.08):
        assert 25 < np.median(snr[refl < 0.08]) < 110
    assert 80 < np.median(snr) < 300


def test_saturation_and_flares(noisy: SimulatedScene) -> None:
    spec = noisy.spec
    assert noisy.flare_mask.sum() == len(noisy.flares) == 2
    assert noisy.saturated_mask.sum() >= round(spec.saturated_fraction * 128 * 96)
    sat_level = (SATURATION_FACTOR * continuum(noisy.atmosphere)).astype(np.float32)
    assert np.all(noisy.radiance <= sat_level)
    r, c = np.nonzero(noisy.saturated_mask)
    assert np.all((noisy.radiance[r, c] == sat_level).any(axis=1))
    for f in noisy.flares:
        swir = noisy.radiance[f.row, f.col, noisy.wavelength_nm > 2000]
        assert 1000 <= f.temperature_k <= 1500
        assert noisy.saturated_mask[f.row, f.col]  # hot flames saturate the SWIR
        assert np.median(swir) > 3 * np.median(noisy.radiance[:, :, noisy.wavelength_nm > 2000])


def test_truth_dict_is_json(noisy: SimulatedScene) -> None:
    d = json.loads(json.dumps(noisy.truth_dict()))
    for key in (
        "pixel_size_m",
        "crs",
        "sources",
        "saturated_pixels",
        "flares",
        "seed",
        "sensor",
        "conversion",
        "spec",
        "center",
    ):
        assert key in d
    assert set(d["sources"][0]) >= {
        "id",
        "row",
        "col",
        "lat",
        "lon",
        "rate_kg_h",
        "wind_speed_m_s",
        "wind_dir_deg",
    }
    assert d["conversion"]["temperature_k"] == 288.15
    assert len(d["saturated_pixels"]) == int(noisy.saturated_mask.sum())
    assert SceneSpec.from_dict(d["spec"]) == noisy.spec


def test_emit_scene(emit_inputs: SceneInputs) -> None:
    scene = simulate_scene(
        SceneSpec(rows=32, cols=48, sensor="emit", pixel_size_m=60.0, sources=1, seed=3),
        emit_inputs,
    )
    assert scene.radiance.shape == (32, 48, 285)
    assert scene.truth_enhancement.max() > 0


def test_progress_reports_every_stage(avirisng_inputs: SceneInputs) -> None:
    seen: list[tuple[str, int, int]] = []
    simulate_scene(
        SceneSpec(rows=80, cols=40, sources=1),
        avirisng_inputs,
        progress=lambda s, d, t: seen.append((s, d, t)),
    )
    stages = {s for s, _, _ in seen}
    assert stages == {"surface", "plumes", "radiance"}
    assert ("radiance", 2, 2) in seen


def test_wind_from_north_places_room_to_the_south(avirisng_inputs: SceneInputs) -> None:
    scene = simulate_scene(
        SceneSpec(rows=160, cols=64, sources=1, wind_dir_deg=0.0, noise=False, seed=2),
        avirisng_inputs,
    )
    s = scene.sources[0]
    t = scene.truth_enhancement
    assert (160 - s.row) * 5.0 >= 0.5 * 160 * 5.0 - 5.0  # half the scene is downwind (south)
    assert t[s.row + 2 :].sum() > 20 * t[: s.row - 1].sum()


def test_place_sources_constraints() -> None:
    rng = np.random.default_rng(0)
    sites = np.array([[50, 10], [52, 12], [150, 20]])
    chosen = place_sources(3, 200, 100, 5.0, 270.0, sites, rng)
    assert len(chosen) == 3
    assert len({(50, 10), (52, 12)} & set(chosen)) == 1  # a pad, but not two 10 m apart
    rows = sorted(r for r, _ in chosen)
    assert min(np.diff(rows)) * 5.0 >= min(250.0, 1000.0 / 6)  # cross-wind separation
    assert all(c * 5.0 <= 500 - 250 for _, c in chosen)  # half the scene downwind
    with pytest.raises(InvalidParameterError, match="cannot place 40 sources"):
        place_sources(40, 32, 32, 5.0, 270.0, sites[:0], rng)


def test_placed_sources_sit_where_asked_with_their_rates(avirisng_inputs: SceneInputs) -> None:
    base = SceneSpec(rows=96, cols=64, sources=1, seed=4, noise=False, origin_lat=31.73)
    spec = replace(base, placed=((31.7304, -102.2005, 420.0),))
    scene = simulate_scene(spec, avirisng_inputs)
    first, second = scene.sources
    assert first.rate_kg_h == 420.0 and abs(first.lat - 31.7304) < 5e-5
    assert abs(first.lon + 102.2005) < 5e-5
    # the random source is the one the same seed gives without the placed one
    alone = simulate_scene(base, avirisng_inputs).sources[0]
    assert second.rate_kg_h == alone.rate_kg_h and second.id == "src-002"
    assert scene.truth_enhancement[first.row, first.col + 3] > 0  # its plume, downwind
    with pytest.raises(InvalidParameterError, match=r"placed source 1 at 32\.00000"):
        simulate_scene(replace(base, placed=((32.0, -102.2, 10.0),)), avirisng_inputs)


def test_random_sources_keep_their_distance_from_fixed_ones() -> None:
    rng = np.random.default_rng(1)
    fixed = [(100, 20)]
    new = place_sources(2, 200, 100, 5.0, 270.0, np.zeros((0, 2), dtype=np.int64), rng, fixed)
    assert len(new) == 2 and (100, 20) not in new
    assert all(abs(r - 100) * 5.0 >= min(250.0, 1000.0 / 4) for r, _ in new)
