"""Posterior summaries: point estimates and credible intervals from weighted particles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.constants import SECONDS_PER_HOUR
from plumetrace.insitu.prior import BG, BIAS, LN_RATE, LN_SCALE, STAB, X, Y, Z

__all__ = ["PosteriorSummary", "summarize", "weighted_quantile"]


def weighted_quantile(
    values: NDArray[np.float64], weights: NDArray[np.float64], q: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """Quantiles ``q`` (in [0, 1]) of weighted samples (inverse of the weighted CDF)."""
    order = np.argsort(values)
    v = values[order]
    cdf = np.cumsum(weights[order])
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, np.atleast_1d(q), side="left")
    return np.asarray(v[np.minimum(idx, v.size - 1)], dtype=np.float64)


@dataclass(frozen=True)
class PosteriorSummary:
    """What a posterior says about the source.

    Attributes
    ----------
    x_m, y_m, z_m : float
        Posterior mean position (m).
    position_ci68_m : float
        Radius (m) around (x, y) holding 68 % of the posterior mass.
    position_ci95_m : float
        The same for 95 %.
    rate_kg_h : float
        Posterior median emission rate (kg/h).
    rate_kg_h_ci68, rate_kg_h_ci95 : tuple of 2 floats
        Central credible intervals (kg/h).
    scale, scale_ci68 : float, tuple
        Dispersion scale factor (median, 68 % interval).
    wind_bias_deg : float
        Posterior mean wind-direction bias (degrees).
    stability_offset : float
        Posterior mean stability offset.
    background_offset_ppm : float
        Posterior mean background offset (ppm).
    ess : float
        Effective sample size of the weights.
    """

    x_m: float
    y_m: float
    z_m: float
    position_ci68_m: float
    position_ci95_m: float
    rate_kg_h: float
    rate_kg_h_ci68: tuple[float, float]
    rate_kg_h_ci95: tuple[float, float]
    scale: float
    scale_ci68: tuple[float, float]
    wind_bias_deg: float
    stability_offset: float
    background_offset_ppm: float
    ess: float


def summarize(
    theta: NDArray[np.float64],
    weights: NDArray[np.float64],
    *,
    systematic_error: float = 0.0,
    rng: np.random.Generator | None = None,
) -> PosteriorSummary:
    """Summarise weighted particles.

    Parameters
    ----------
    theta : (N, 8) ndarray
        Particles (columns as :data:`plumetrace.insitu.prior.STATE`).
    weights : (N,) ndarray
        Normalised weights.
    systematic_error : float
        Standard deviation (natural-log units) of the dispersion model's absolute
        calibration error, common to every reading. It multiplies every predicted
        concentration alike, so the data cannot constrain it: it is folded into the
        rate's intervals by multiplying each particle's rate by ``exp(N(0, s²))``.
    rng : numpy.random.Generator, optional
        For those draws (a fixed seed by default).
    """
    w = weights / weights.sum()
    x, y, z = (float(w @ theta[:, c]) for c in (X, Y, Z))
    r = np.hypot(theta[:, X] - x, theta[:, Y] - y)
    r68, r95 = weighted_quantile(r, w, np.array([0.68, 0.95]))
    rate = np.exp(theta[:, LN_RATE]) * SECONDS_PER_HOUR
    if systematic_error > 0.0:
        gen = np.random.default_rng(0) if rng is None else rng
        rate = rate * np.exp(systematic_error * gen.standard_normal(rate.shape[0]))
    q = weighted_quantile(rate, w, np.array([0.5, 0.16, 0.84, 0.025, 0.975]))
    s = weighted_quantile(np.exp(theta[:, LN_SCALE]), w, np.array([0.5, 0.16, 0.84]))
    return PosteriorSummary(
        x_m=x,
        y_m=y,
        z_m=z,
        position_ci68_m=float(r68),
        position_ci95_m=float(r95),
        rate_kg_h=float(q[0]),
        rate_kg_h_ci68=(float(q[1]), float(q[2])),
        rate_kg_h_ci95=(float(q[3]), float(q[4])),
        scale=float(s[0]),
        scale_ci68=(float(s[1]), float(s[2])),
        wind_bias_deg=float(np.rad2deg(w @ theta[:, BIAS])),
        stability_offset=float(w @ theta[:, STAB]),
        background_offset_ppm=float(w @ theta[:, BG]),
        ess=float(1.0 / np.sum(w * w)),
    )
