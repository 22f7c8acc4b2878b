"""Sensor effects on simulated radiance: noise, saturation and hot (flare) pixels.

Noise follows ISOFIT's parametric instrument model (Thompson et al. 2018, RSE 216,
355-373): per band, the one-sigma noise-equivalent radiance of a signal ``L`` is
``NEdL = |a·sqrt(b + L) + c|`` (``b + L <= 0`` replaced by 1e-5), bands independent,
coefficients linearly interpolated to the band centres (held constant beyond the
tabulated range).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from plumetrace.data import NoiseModel
from plumetrace.errors import InvalidParameterError

__all__ = [
    "BandNoise",
    "add_noise",
    "band_noise",
    "continuum",
    "noise_equivalent_radiance",
    "planck_radiance",
]

_H = 6.62607015e-34  # J s
_C = 2.99792458e8  # m/s
_K = 1.380649e-23  # J/K


class BandNoise:
    """Noise coefficients at a sensor's bands.

    Parameters
    ----------
    a, b, c : (bands,) array_like
        ``NEdL = |a·sqrt(b + L) + c|``; ``b`` and ``c`` in µW cm⁻² sr⁻¹ nm⁻¹.
    """

    def __init__(self, a: ArrayLike, b: ArrayLike, c: ArrayLike) -> None:
        self.a = np.asarray(a, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.c = np.asarray(c, dtype=np.float64)
        if not (self.a.shape == self.b.shape == self.c.shape) or self.a.ndim != 1:
            raise InvalidParameterError("noise coefficients need one value per band")


def band_noise(model: NoiseModel, centers_nm: ArrayLike) -> BandNoise:
    """Interpolate a parametric noise model to band centres.

    Parameters
    ----------
    model : NoiseModel
        Coefficients on their own wavelength grid.
    centers_nm : (bands,) array_like, nm
    """
    c = np.asarray(centers_nm, dtype=np.float64)
    w = model.wavelength_nm
    return BandNoise(np.interp(c, w, model.a), np.interp(c, w, model.b), np.interp(c, w, model.c))


def noise_equivalent_radiance(radiance: ArrayLike, noise: BandNoise) -> NDArray[np.float64]:
    """One-sigma noise of a radiance signal.

    Parameters
    ----------
    radiance : (..., bands) array_like, µW cm⁻² sr⁻¹ nm⁻¹
    noise : BandNoise

    Returns
    -------
    (..., bands) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
    """
    lv = np.asarray(radiance, dtype=np.float64)
    arg = noise.b + lv
    arg = np.where(arg > 0, arg, 1e-5)
    return np.asarray(np.abs(noise.a * np.sqrt(arg) + noise.c))


def add_noise(
    radiance: NDArray[np.float32], noise: BandNoise, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Add signal-dependent Gaussian noise to a radiance block, in place (float32).

    Parameters
    ----------
    radiance : (..., bands) ndarray of float32, µW cm⁻² sr⁻¹ nm⁻¹
        Noise-free radiance; overwritten.
    noise : BandNoise
    rng : numpy.random.Generator

    Returns
    -------
    (..., bands) ndarray of float32
        ``radiance`` itself.
    """
    a = noise.a.astype(np.float32)
    b = noise.b.astype(np.float32)
    c = noise.c.astype(np.float32)
    sigma = radiance + b
    np.maximum(sigma, np.float32(1e-5), out=sigma)
    np.sqrt(sigma, out=sigma)
    sigma *= a
    sigma += c
    np.abs(sigma, out=sigma)
    sigma *= rng.standard_normal(radiance.shape, dtype=np.float32)
    radiance += sigma
    return radiance


def planck_radiance(wavelength_nm: ArrayLike, temperature_k: float) -> NDArray[np.float64]:
    """Blackbody spectral radiance (Planck's law).

    Parameters
    ----------
    wavelength_nm : (bands,) array_like, nm
    temperature_k : float, K

    Returns
    -------
    (bands,) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
    """
    if not temperature_k > 0:
        raise InvalidParameterError("temperature must be positive")
    lam = np.asarray(wavelength_nm, dtype=np.float64) * 1e-9
    x = _H * _C / (lam * _K * temperature_k)
    b_si = 2.0 * _H * _C**2 / lam**5 / np.expm1(np.minimum(x, 700.0))  # W m⁻² sr⁻¹ m⁻¹
    return np.asarray(b_si * 1e-7)  # -> µW cm⁻² sr⁻¹ nm⁻¹


def continuum(radiance: ArrayLike, width_bands: int = 25) -> NDArray[np.float64]:
    """Smooth upper envelope of a band spectrum (absorption bands bridged over).

    A running maximum over ``width_bands`` bands followed by a Gaussian smoothing of a
    third of that width, and never below the spectrum itself.

    Parameters
    ----------
    radiance : (bands,) array_like
    width_bands : int
    """
    r = np.asarray(radiance, dtype=np.float64)
    env = maximum_filter1d(r, size=width_bands, mode="nearest")
    env = gaussian_filter1d(env, width_bands / 3.0, mode="nearest")
    return np.asarray(np.maximum(env, r))
