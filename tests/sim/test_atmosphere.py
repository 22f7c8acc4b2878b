from __future__ import annotations

import numpy as np
import pytest

from plumetrace import data
from plumetrace.errors import InvalidParameterError
from plumetrace.sim import (
    BandTransmittance,
    SceneInputs,
    atmosphere_radiance,
    band_transmittance,
    resample_spectra,
)
from plumetrace.sim.atmosphere import JOIN_WINDOW_NM
from plumetrace.spectra import convolve_to_bands, response_matrix

Setup = tuple[SceneInputs, BandTransmittance, np.ndarray]


def _direct(inputs: SceneInputs, x: float) -> np.ndarray:
    """Band radiance of a unit-reflectance surface at ``x`` ppm·m, computed directly."""
    lut = inputs.lut
    levels = lut.enhancement_ppm_m
    i = int(np.clip(np.searchsorted(levels, x, side="right"), 1, levels.size - 1))
    w = (x - levels[i - 1]) / (levels[i] - levels[i - 1])
    log_l = np.log(lut.radiance[i - 1]) + w * (
        np.log(lut.radiance[i]) - np.log(lut.radiance[i - 1])
    )
    b = inputs.bands
    return convolve_to_bands(lut.wavelength_nm, np.exp(log_l), b.wavelength_nm, b.fwhm_nm)


@pytest.fixture(scope="module", params=["aviris-ng", "emit"])
def setup(request: pytest.FixtureRequest) -> Setup:
    inputs = SceneInputs.packaged(request.param)
    lut, b = inputs.lut, inputs.bands
    table = band_transmittance(
        lut.wavelength_nm, lut.enhancement_ppm_m, lut.radiance, b.wavelength_nm, b.fwhm_nm
    )
    atm = atmosphere_radiance(
        lut.wavelength_nm,
        lut.radiance[0],
        inputs.real_wavelength_nm,
        inputs.real_fwhm_nm,
        inputs.real_radiance,
        b.wavelength_nm,
        b.fwhm_nm,
    )
    return inputs, table, atm


@pytest.mark.parametrize("level", [500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0])
def test_beer_lambert_exact_at_table_levels(setup: Setup, level: float) -> None:
    """Unit reflectance at exactly a table level = that table spectrum convolved."""
    inputs, table, atm = setup
    lut, b = inputs.lut, inputs.bands
    k = int(np.flatnonzero(lut.enhancement_ppm_m == level)[0])
    expected = convolve_to_bands(lut.wavelength_nm, lut.radiance[k], b.wavelength_nm, b.fwhm_nm)
    swir = b.wavelength_nm >= JOIN_WINDOW_NM[1]  # where the atmosphere is the LUT itself
    got = atm[swir] * table([level])[0, swir]
    np.testing.assert_allclose(got, expected[swir], rtol=1e-10)


@pytest.mark.parametrize(
    "x", [3.0, 137.0, 740.0, 2999.0, 4321.0, 11111.0, 19000.0, 25000.0, 61234.0, 99000.0]
)
def test_dense_table_matches_direct_computation(setup: Setup, x: float) -> None:
    inputs, table, _ = setup
    direct = _direct(inputs, x)
    zero = _direct(inputs, 0.0)
    ok = np.isfinite(direct)
    got = table([x])[0]
    np.testing.assert_allclose(got[ok], direct[ok] / zero[ok], rtol=1e-3)
    assert np.max(np.abs(got[ok] / (direct[ok] / zero[ok]) - 1)) < 1e-5


def test_transmittance_is_physical(setup: Setup) -> None:
    inputs, table, _ = setup
    x = np.linspace(0, 30000, 61)
    t = table(x)
    # (the table itself brightens by < 1e-5 at a few wavelengths: radiative-transfer noise)
    assert np.all(t > 0) and np.all(t <= 1 + 1e-5)
    assert np.all(np.diff(t, axis=0) <= 1e-5)  # more gas, less light
    np.testing.assert_array_equal(table([0.0])[0], 1.0)
    below = inputs.bands.wavelength_nm < 1400
    np.testing.assert_array_equal(t[:, below], 1.0)  # no table there: no absorption
    ch4 = np.argmin(np.abs(inputs.bands.wavelength_nm - 2300))
    assert table([1000.0])[0, ch4] < 0.99  # the 2300 nm CH4 band absorbs noticeably
    assert table([16000.0])[0, ch4] < table([1000.0])[0, ch4] ** 8  # but saturates
    assert table([16000.0])[0, ch4] > table([1000.0])[0, ch4] ** 16


def test_transmittance_rejects_negative(setup: Setup) -> None:
    _, table, _ = setup
    with pytest.raises(InvalidParameterError):
        table([-1.0])


def test_atmosphere_joins_lut_and_real_spectra(setup: Setup) -> None:
    inputs, _, atm = setup
    lut, b = inputs.lut, inputs.bands
    w = b.wavelength_nm
    lut_bands = convolve_to_bands(lut.wavelength_nm, lut.radiance[0], w, b.fwhm_nm)
    swir = w >= JOIN_WINDOW_NM[1]
    np.testing.assert_allclose(atm[swir], lut_bands[swir], rtol=1e-12)
    assert np.all(atm >= 0)
    # VNIR: solar-like magnitude for a bright surface (tens of µW cm⁻² sr⁻¹ nm⁻¹)
    vis = (w > 500) & (w < 700)
    assert 15 < np.median(atm[vis]) < 60
    # the scaled real spectra join the LUT smoothly: within 20 % (water band) to 1500 nm
    join = (w >= 1420) & (w <= JOIN_WINDOW_NM[1])
    ratio = atm[join] / lut_bands[join]
    assert np.all((ratio > 0.8) & (ratio < 1.2))
    # water bands dark
    assert atm[np.argmin(np.abs(w - 1380))] < 0.05 * atm[np.argmin(np.abs(w - 1250))]


def test_resample_identity_and_smoothing() -> None:
    b = data.sensor_bands("aviris-ng")
    w = b.wavelength_nm
    spec = np.sin(w / 40.0) + 2
    same = resample_spectra(w, b.fwhm_nm, spec, w, b.fwhm_nm)
    np.testing.assert_allclose(same, spec)
    wide = resample_spectra(w, b.fwhm_nm, spec, w[10:-10], np.full(w.size - 20, 20.0))
    assert np.std(np.diff(wide)) < np.std(np.diff(spec[10:-10]))  # smoother


def test_band_transmittance_validates() -> None:
    lut = data.ch4_lookup_table()
    with pytest.raises(InvalidParameterError):
        band_transmittance(
            lut.wavelength_nm, lut.enhancement_ppm_m[::-1], lut.radiance, [2300], [6]
        )
    with pytest.raises(InvalidParameterError):
        band_transmittance(lut.wavelength_nm, lut.enhancement_ppm_m, lut.radiance[:3], [2300], [6])
    assert response_matrix(lut.wavelength_nm, [2300.0], [6.0]).shape == (1, lut.wavelength_nm.size)
