from __future__ import annotations

import numpy as np
import pytest

from plumetrace import data
from plumetrace.errors import InvalidParameterError


def test_lookup_table_is_consistent() -> None:
    lut = data.ch4_lookup_table()
    assert lut.radiance.shape == (lut.enhancement_ppm_m.size, lut.wavelength_nm.size)
    assert lut.enhancement_ppm_m[0] == 0 and np.all(np.diff(lut.enhancement_ppm_m) > 0)
    assert np.all(np.diff(lut.wavelength_nm) > 0)
    # more methane absorbs: in the CH4 window the 16000 ppm·m spectrum lies well below
    # the 0 ppm·m one (the radiative-transfer model has ~1 % numerical noise per line)
    w = (lut.wavelength_nm > 2122) & (lut.wavelength_nm < 2488)
    ratio = lut.radiance[-1, w] / lut.radiance[0, w]
    assert np.mean(ratio) < 0.95
    assert np.max(ratio) < 1.02


@pytest.mark.parametrize(
    ("sensor", "bands", "lo", "hi"), [("aviris-ng", 425, 370, 2510), ("emit", 285, 375, 2500)]
)
def test_sensor_bands(sensor: str, bands: int, lo: float, hi: float) -> None:
    b = data.sensor_bands(sensor)
    assert b.wavelength_nm.size == bands == b.fwhm_nm.size
    assert lo < b.wavelength_nm[0] and b.wavelength_nm[-1] < hi
    assert np.all(b.fwhm_nm > 4) and np.all(b.fwhm_nm < 12)
    nm = data.sensor_noise_model(sensor)
    assert nm.a.shape == nm.b.shape == nm.c.shape == nm.wavelength_nm.shape


def test_surfaces_and_real_spectra() -> None:
    lib = data.surface_library()
    assert lib.reflectance.shape == (lib.names.size, lib.wavelength_nm.size)
    assert lib.reflectance.min() > 0 and lib.reflectance.max() < 1
    assert {"soil", "vegetation", "roofing", "asphalt_road"} <= set(lib.category)
    wl, rad, names = data.real_avirisng_radiance()
    assert rad.shape == (names.size, wl.size) == (10, 425)


def test_unknown_sensor_is_a_clear_error() -> None:
    with pytest.raises(InvalidParameterError, match="unknown sensor"):
        data.sensor_bands("hyperion")


def test_packaged_palette() -> None:
    rgb = data.palette_rgb("plasma")
    assert rgb is not None and rgb.shape == (128, 3) and rgb.dtype == np.uint8
    assert data.palette_rgb("no-such-map") is None
