"""In-situ source estimation: dispersion models, Bayesian source-term estimation, planning.

Pure kernels: arrays and small frozen dataclasses in and out, no files, no printing.

* :mod:`~plumetrace.insitu.observations` -- :class:`Observations` (readings, local frame);
* :mod:`~plumetrace.insitu.dispersion` -- σy/σz curves and stability from turbulence;
* :mod:`~plumetrace.insitu.plume` -- :class:`ForwardModel` (Gaussian or isotropic plume,
  point and path readings, the log-likelihood) and :class:`SourceParams`;
* :mod:`~plumetrace.insitu.likelihood` -- :class:`NoiseModel`, correlation weights;
* :mod:`~plumetrace.insitu.prior` -- :class:`Prior` over the source state;
* :mod:`~plumetrace.insitu.smc` -- :class:`SourceEstimator` (particle filter, tempering,
  MCMC rejuvenation);
* :mod:`~plumetrace.insitu.summary` -- :func:`summarize` into a :class:`PosteriorSummary`;
* :mod:`~plumetrace.insitu.background` -- background and noise from the readings;
* :mod:`~plumetrace.insitu.planner` -- candidate waypoints and expected information gain.
"""

from plumetrace.insitu.background import estimate_background, estimate_noise
from plumetrace.insitu.dispersion import SCHEMES, Scheme, sigmas, stability_from_sigma_theta
from plumetrace.insitu.likelihood import NoiseModel, correlation_weights
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.planner import (
    PlannerOptions,
    candidate_waypoints,
    downwind_of,
    expected_information_gain,
    next_waypoint,
)
from plumetrace.insitu.plume import ForwardModel, SourceParams
from plumetrace.insitu.prior import STATE, Prior, to_params
from plumetrace.insitu.smc import SourceEstimator
from plumetrace.insitu.summary import PosteriorSummary, summarize, weighted_quantile

__all__ = [
    "SCHEMES",
    "STATE",
    "ForwardModel",
    "NoiseModel",
    "Observations",
    "PlannerOptions",
    "PosteriorSummary",
    "Prior",
    "Scheme",
    "SourceEstimator",
    "SourceParams",
    "candidate_waypoints",
    "correlation_weights",
    "downwind_of",
    "estimate_background",
    "estimate_noise",
    "expected_information_gain",
    "next_waypoint",
    "sigmas",
    "stability_from_sigma_theta",
    "summarize",
    "to_params",
    "weighted_quantile",
]
