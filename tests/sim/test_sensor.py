from __future__ import annotations

import numpy as np
import pytest

from plumetrace import data
from plumetrace.errors import InvalidParameterError
from plumetrace.sim import (
    add_noise,
    band_noise,
    continuum,
    noise_equivalent_radiance,
    planck_radiance,
)


def _snr(sensor: str, wavelength: float, radiance: float) -> float:
    b = data.sensor_bands("aviris-ng")  # the reference radiances are AVIRIS-NG pixels
    noise = band_noise(data.sensor_noise_model(sensor), b.wavelength_nm)
    i = int(np.argmin(np.abs(b.wavelength_nm - wavelength)))
    sig = np.full(b.wavelength_nm.size, radiance)
    return radiance / float(noise_equivalent_radiance(sig, noise)[i])


@pytest.mark.parametrize(
    ("sensor", "wavelength", "radiance", "snr"),
    [
        # ISOFIT noise models at real AVIRIS-NG radiances (shared/data README)
        ("aviris-ng", 2300.0, 0.358, 190.0),  # bright: BeckmanWalk
        ("aviris-ng", 2300.0, 0.066, 58.0),  # dark: darklot
        ("aviris-ng", 550.0, 9.52, 301.0),
        ("emit", 2300.0, 0.358, 260.0),
        ("emit", 2300.0, 0.066, 65.0),
    ],
)
def test_noise_model_reproduces_published_snr(
    sensor: str, wavelength: float, radiance: float, snr: float
) -> None:
    assert _snr(sensor, wavelength, radiance) == pytest.approx(snr, rel=0.05)


def test_added_noise_has_the_model_sigma() -> None:
    b = data.sensor_bands("aviris-ng")
    noise = band_noise(data.sensor_noise_model("aviris-ng"), b.wavelength_nm)
    clean = np.full((200, 100, b.wavelength_nm.size), 0.4, dtype=np.float32)
    noisy = add_noise(clean.copy(), noise, np.random.default_rng(0))
    assert noisy.dtype == np.float32
    expected = noise_equivalent_radiance(np.full(b.wavelength_nm.size, 0.4), noise)
    got = (noisy - clean).reshape(-1, b.wavelength_nm.size).std(axis=0)
    np.testing.assert_allclose(got, expected, rtol=0.03)
    assert abs(float((noisy - clean).mean())) < 1e-4


def test_noise_is_signal_dependent() -> None:
    b = data.sensor_bands("emit")
    noise = band_noise(data.sensor_noise_model("emit"), b.wavelength_nm)
    low = noise_equivalent_radiance(np.full(b.wavelength_nm.size, 0.1), noise)
    high = noise_equivalent_radiance(np.full(b.wavelength_nm.size, 5.0), noise)
    assert np.all(high > low)
    assert np.all(noise_equivalent_radiance(np.full(b.wavelength_nm.size, -50.0), noise) >= 0)


def test_planck() -> None:
    wl = np.linspace(500.0, 5000.0, 4501)
    b = planck_radiance(wl, 1300.0)
    # Wien: peak at 2.898e6 nm K / T
    assert wl[np.argmax(b)] == pytest.approx(2.8978e6 / 1300.0, abs=2.0)
    # 5800 K sun-like blackbody at 550 nm: ~2.6e13 W m⁻³ sr⁻¹ = 2.6e6 µW cm⁻² sr⁻¹ nm⁻¹
    assert float(planck_radiance([550.0], 5800.0)[0]) == pytest.approx(2.6e6, rel=0.05)
    with pytest.raises(InvalidParameterError):
        planck_radiance(wl, 0.0)


def test_continuum_is_an_upper_envelope() -> None:
    x = np.linspace(0, 1, 200)
    spec = 1.0 - 0.8 * np.exp(-(((x - 0.5) / 0.02) ** 2))  # a deep absorption band
    env = continuum(spec)
    assert np.all(env >= spec)
    assert env[100] > 0.9  # the band is bridged
