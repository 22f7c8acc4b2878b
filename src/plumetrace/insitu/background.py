"""Background concentration and sensor noise from the readings themselves.

Used when READINGS.csv has no ``background_ppm``. Within each group (one beam, or all
point readings) the lowest quarter of the readings is assumed to be background plus
Gaussian noise: with p5 and p25 the 5th and 25th percentiles,
``σ = (p25 - p5) / 0.971`` and ``background = p25 + 0.674 σ`` (the quantiles of a
normal distribution). Plumes only add gas, so they bias neither estimate as long as a
quarter of each group's readings miss the plume.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["estimate_background", "estimate_noise"]

_Z25 = 0.6745
_Z05 = 1.6449


def estimate_background(
    conc_ppm: NDArray[np.float64], groups: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-reading background and noise, estimated group by group.

    Parameters
    ----------
    conc_ppm : (M,) ndarray, ppm
        Total concentrations.
    groups : (M,) ndarray of int
        Group of each reading (e.g. beam index).

    Returns
    -------
    background_ppm, sigma_ppm : (M,) ndarray, ppm
        The group's background and noise standard deviation at every reading.
    """
    background = np.empty_like(conc_ppm)
    sigma = np.empty_like(conc_ppm)
    for g in np.unique(groups):
        sel = groups == g
        v = conc_ppm[sel]
        p5, p25 = np.percentile(v, [5.0, 25.0])
        s = (p25 - p5) / (_Z05 - _Z25)
        s = max(s, 1e-3 * max(abs(float(np.median(v))), 1e-3))
        background[sel] = p25 + _Z25 * s
        sigma[sel] = s
    return background, sigma


def estimate_noise(
    enhancement_ppm: NDArray[np.float64], groups: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Noise standard deviation per reading from the negative enhancements of its group.

    With a known background, readings below it are noise: σ is their root mean square
    (a half-normal's). Groups with no negative reading get the median of the others, or
    1 % of the largest enhancement.

    Parameters
    ----------
    enhancement_ppm : (M,) ndarray, ppm
        Concentration minus background.
    groups : (M,) ndarray of int
        Group of each reading.

    Returns
    -------
    (M,) ndarray, ppm
    """
    sigma = np.full_like(enhancement_ppm, np.nan)
    for g in np.unique(groups):
        sel = groups == g
        neg = enhancement_ppm[sel][enhancement_ppm[sel] < 0.0]
        if neg.size >= 3:
            sigma[sel] = float(np.sqrt(np.mean(neg**2)))
    if np.all(np.isnan(sigma)):
        fallback = 0.01 * max(float(np.max(np.abs(enhancement_ppm))), 1e-3)
    else:
        fallback = float(np.nanmedian(sigma))
    sigma = np.where(np.isnan(sigma) | (sigma <= 0.0), fallback, sigma)
    return np.asarray(sigma, dtype=np.float64)
