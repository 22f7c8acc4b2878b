from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from plumetrace import data, spectra


@dataclass(frozen=True)
class Scene:
    cube: NDArray[np.float32]
    truth: NDArray[np.float64]
    s: NDArray[np.float64]
    wavelength: NDArray[np.float64]


def make_scene(
    rows: int = 300, cols: int = 24, seed: int = 0, peak: float = 1500.0, linear: bool = True
) -> Scene:
    """A small correlated background with a Gaussian CH4 plume injected."""
    b = data.sensor_bands("aviris-ng")
    w = (b.wavelength_nm >= 2122) & (b.wavelength_nm <= 2488)
    wl = b.wavelength_nm[w]
    lut = data.ch4_lookup_table()
    s = spectra.target_from_lookup_table(lut, wl, b.fwhm_nm[w]).absorption_per_ppm_m
    base = spectra.band_lookup_table(lut, wl, b.fwhm_nm[w])[0]
    rng = np.random.default_rng(seed)
    nb = wl.size
    albedo = 0.2 + 0.1 * rng.random((rows, cols, 1))
    modes = rng.standard_normal((4, nb)) * 0.03 * base
    cube = albedo * base + (rng.standard_normal((rows, cols, 4)) * 0.2) @ modes
    yy, xx = np.mgrid[:rows, :cols]
    truth = peak * np.exp(-((yy - rows / 2) ** 2 + (xx - cols / 2) ** 2) / (2 * 4.0**2))
    cube = cube * (1 + s * truth[..., None]) if linear else cube * np.exp(s * truth[..., None])
    cube = cube + rng.standard_normal(cube.shape) * 0.004 * base
    return Scene(cube.astype(np.float32), truth, s, wl)


@pytest.fixture(scope="module")
def scene() -> Scene:
    return make_scene()
