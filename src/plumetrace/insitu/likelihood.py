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

So zero readings downwind are information (they pull the plume away from that point)
while no single reading can veto a hypothesis outright.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = ["NoiseModel"]


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
    """

    sigma_ppm: float | NDArray[np.float64] = 0.05
    threshold_ppm: float | NDArray[np.float64] = 0.0
    relative_error: float = 0.5
    intermittency: float = 0.1

    def __post_init__(self) -> None:
        if not np.all(np.asarray(self.sigma_ppm) > 0.0):
            raise InvalidParameterError("sensor noise sigma must be positive")
        if not np.all(np.isfinite(np.asarray(self.threshold_ppm))):
            raise InvalidParameterError("detection threshold must be finite")
        if not self.relative_error > 0.0:
            raise InvalidParameterError("model error must be > 0")
        if not 0.0 <= self.intermittency < 1.0:
            raise InvalidParameterError("intermittency must be in [0, 1)")
