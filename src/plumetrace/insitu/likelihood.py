"""The measurement model: what a reading says about a predicted concentration.

A reading ``z`` (ppm above background) of a predicted mean enhancement ``c`` is modelled as

* ``ln(z + σn) ~ N(ln(c + σn), r²)``: a multiplicative model error of ``r`` (dispersion
  models are good to a factor, not to a ppb), shifted by the sensor noise ``σn`` so that
  readings near zero behave like noise. The error is symmetric in the log ratio, so
  neither under- nor over-prediction is favoured (a Gaussian with ``σ ∝ c`` would bias
  rates low by ~15 % through its normaliser);
* with probability ``intermittency`` the plume misses the sensor: the same with ``c = 0``;
* a reading below the detection ``threshold`` counts only as "below threshold": its
  likelihood is the probability mass under the threshold (censoring).

Readings whose errors are correlated (a fixed beam minute after minute) are weighted so
that each correlation time of one beam counts as one reading (:func:`correlation_weights`).

So zero readings downwind are information (they pull the plume away from that point)
while no single reading can veto a hypothesis outright.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = ["NoiseModel", "correlation_weights"]


@dataclass(frozen=True)
class NoiseModel:
    """Sensor noise, detection threshold, model error and intermittency.

    Attributes
    ----------
    sigma_ppm : float or (M,) ndarray, ppm
        Sensor noise standard deviation (per reading, or one value).
    threshold_ppm : float or (M,) ndarray, ppm
        Detection threshold: readings below it are censored.
    relative_error : float
        Model error: standard deviation of ``ln(z + σn) - ln(c + σn)``.
    intermittency : float
        Probability that a reading misses the plume entirely, in [0, 1).
    weight : float or (M,) ndarray
        Weight of each reading's log-likelihood, in (0, 1]: readings whose model errors
        are correlated (the same beam or place within a correlation time) share one
        reading's worth of evidence.
    """

    sigma_ppm: float | NDArray[np.float64] = 0.05
    threshold_ppm: float | NDArray[np.float64] = 0.0
    relative_error: float = 0.5
    intermittency: float = 0.1
    weight: float | NDArray[np.float64] = 1.0

    def __post_init__(self) -> None:
        if not np.all(np.asarray(self.sigma_ppm) > 0.0):
            raise InvalidParameterError("sensor noise sigma must be positive")
        if not np.all(np.isfinite(np.asarray(self.threshold_ppm))):
            raise InvalidParameterError("detection threshold must be finite")
        if not self.relative_error > 0.0:
            raise InvalidParameterError("model error must be > 0")
        w = np.asarray(self.weight)
        if not np.all((w > 0.0) & (w <= 1.0)):
            raise InvalidParameterError("reading weights must be in (0, 1]")
        if not 0.0 <= self.intermittency < 1.0:
            raise InvalidParameterError("intermittency must be in [0, 1)")


def correlation_weights(
    time_s: NDArray[np.float64], groups: NDArray[np.intp], correlation_time_s: float
) -> NDArray[np.float64]:
    """Weights that count each group's readings within a correlation time as one.

    Parameters
    ----------
    time_s : (M,) ndarray, s
        Reading times.
    groups : (M,) ndarray of int
        Readings of one group share model errors (one beam, or one fixed position).
    correlation_time_s : float
        Time over which a group's model errors stay correlated; 0 gives weights of 1.

    Returns
    -------
    (M,) ndarray
        ``1 / n`` with ``n`` the number of readings of the same group within
        ``± correlation_time_s / 2`` (the reading itself included).
    """
    out = np.ones(time_s.shape[0])
    if correlation_time_s <= 0.0:
        return out
    half = 0.5 * correlation_time_s
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        t = time_s[idx]
        order = np.argsort(t, kind="stable")
        ts = t[order]
        lo = np.searchsorted(ts, ts - half, side="left")
        hi = np.searchsorted(ts, ts + half, side="right")
        out[idx[order]] = 1.0 / (hi - lo)
    return out
