"""Where to fly next: candidate waypoints scored by expected information gain.

For a candidate position the next reading ``z`` is uncertain; under the current posterior
it is a mixture over particles of the measurement model of
:mod:`plumetrace.insitu.likelihood`. The expected information gain about the source is
the mutual information between ``z`` and the particle index,
``I = H[p(z)] - Σᵢ wᵢ H[p(z | θᵢ)]``, computed exactly on a discretisation of ``z``
(the censored bin below the threshold, then 16 log-spaced bins up to four times the
largest prediction), in a compiled loop parallel over candidates. Candidates lie on rings
around the current position (8 directions × 3 step lengths by default, so 24), within the
step limit and inside the allowed polygon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError
from plumetrace.insitu import _kernels
from plumetrace.insitu.likelihood import NoiseModel
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume import ForwardModel
from plumetrace.insitu.prior import to_params
from plumetrace.insitu.smc import systematic_resample

_information_gain = cast(Callable[..., NDArray[np.float64]], _kernels.information_gain)

__all__ = [
    "PlannerOptions",
    "candidate_waypoints",
    "downwind_of",
    "expected_information_gain",
    "next_waypoint",
]


@dataclass(frozen=True)
class PlannerOptions:
    """How candidates are generated and scored.

    Attributes
    ----------
    step_m : float
        Longest move between readings (m).
    directions : int
        Directions per ring.
    rings : int
        Step lengths ``step_m · k / rings`` for k = 1..rings.
    max_particles : int
        The posterior is resampled to at most this many particles for scoring.
    bins : int
        Log-spaced outcome bins above the threshold.
    """

    step_m: float = 10.0
    directions: int = 8
    rings: int = 3
    max_particles: int = 20_000
    bins: int = 16

    def __post_init__(self) -> None:
        if not self.step_m > 0.0 or self.directions < 1 or self.rings < 1:
            raise InvalidParameterError("step, directions and rings must be positive")
        if self.max_particles < 10 or self.bins < 2:
            raise InvalidParameterError("max_particles >= 10 and bins >= 2 are required")


def candidate_waypoints(
    current_xy: tuple[float, float],
    options: PlannerOptions,
    allowed: shapely.Polygon | None = None,
) -> NDArray[np.float64]:
    """Candidate next positions around ``current_xy`` inside ``allowed``.

    Returns
    -------
    (K, 2) ndarray, m
        Rings of ``options.directions`` points at ``step_m·k/rings``; those outside the
        allowed polygon are dropped (the current position is never a candidate).
    """
    ang = np.arange(options.directions) * 2.0 * np.pi / options.directions
    radii = options.step_m * np.arange(1, options.rings + 1) / options.rings
    rr, aa = np.meshgrid(radii, ang, indexing="ij")
    pts = np.column_stack(
        [current_xy[0] + (rr * np.sin(aa)).ravel(), current_xy[1] + (rr * np.cos(aa)).ravel()]
    )
    if allowed is not None:
        inside = shapely.contains_xy(allowed, pts[:, 0], pts[:, 1])
        pts = pts[inside]
    return np.asarray(pts, dtype=np.float64)


def expected_information_gain(
    model: ForwardModel,
    theta: NDArray[np.float64],
    weights: NDArray[np.float64],
    candidates: NDArray[np.float64],
    *,
    height_m: float,
    wind_speed_m_s: float,
    wind_from_deg: float,
    sigma_theta_deg: float,
    noise: NoiseModel,
    options: PlannerOptions,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Mutual information (nats) between the next reading and the source, per candidate.

    Parameters
    ----------
    model : ForwardModel
        Dispersion model.
    theta, weights : (N, 8), (N,) ndarray
        Posterior particles and normalised weights.
    candidates : (K, 2) ndarray, m
        Candidate positions.
    height_m : float
        Flight height of the sensor (m).
    wind_speed_m_s, wind_from_deg, sigma_theta_deg : float
        The current wind (speed, from-direction, turbulence; NaN if unknown).
    noise : NoiseModel
        Measurement model (scalar sigma and threshold).
    options : PlannerOptions
        Particle cap and bins.
    rng : numpy.random.Generator
        For resampling to the particle cap.

    Returns
    -------
    (K,) ndarray
    """
    k = candidates.shape[0]
    if k == 0:
        return np.zeros(0)
    if theta.shape[0] > options.max_particles:
        idx = systematic_resample(np.log(np.maximum(weights, 1e-300)), rng)
        pick = idx[np.linspace(0, idx.size - 1, options.max_particles).astype(np.intp)]
        theta = theta[pick]
        weights = np.full(theta.shape[0], 1.0 / theta.shape[0])
    pts = np.column_stack([candidates, np.full(k, height_m)])
    obs = Observations.create(
        pts, np.zeros(k), wind_speed_m_s, wind_from_deg, sigma_theta_deg=sigma_theta_deg
    )
    c = model.predict_ppm(to_params(theta), obs)  # (N, K)
    sigma = float(np.median(np.asarray(noise.sigma_ppm)))
    tau = max(float(np.median(np.asarray(noise.threshold_ppm))), -0.5 * sigma)
    top = max(float(np.max(c)) * 4.0, tau + 10.0 * sigma)
    inner = np.geomspace(max(tau, 0.0) + sigma, top + sigma, options.bins) - sigma
    edges = np.concatenate([[tau], inner[inner > tau]])
    log_edges = np.concatenate([[-np.inf], np.log(edges + sigma), [np.inf]])
    gain = _information_gain(
        np.ascontiguousarray(c),
        np.ascontiguousarray(weights / weights.sum()),
        log_edges,
        sigma,
        noise.relative_error,
        noise.intermittency,
    )
    return np.asarray(gain, dtype=np.float64)


def next_waypoint(
    current_xy: tuple[float, float],
    gains: NDArray[np.float64],
    candidates: NDArray[np.float64],
    *,
    fallback_xy: tuple[float, float] | None = None,
    min_gain: float = 1e-3,
) -> tuple[float, float]:
    """Pick the candidate with the largest gain (the nearest on ties); stay if none.

    When no candidate is expected to teach anything (every gain below ``min_gain`` nats,
    typically before the plume has been met), the candidate nearest ``fallback_xy``
    (e.g. a point downwind of the posterior mean) is taken instead, so the sensor heads
    to where the plume should be rather than waiting.
    """
    if candidates.shape[0] == 0:
        return current_xy
    best = float(np.max(gains))
    if best < min_gain and fallback_xy is not None:
        moving = np.hypot(candidates[:, 0] - current_xy[0], candidates[:, 1] - current_xy[1]) > 0
        pool = np.flatnonzero(moving) if np.any(moving) else np.arange(candidates.shape[0])
        d = np.hypot(candidates[pool, 0] - fallback_xy[0], candidates[pool, 1] - fallback_xy[1])
        j = int(pool[int(np.argmin(d))])
        return float(candidates[j, 0]), float(candidates[j, 1])
    tied = np.flatnonzero(gains >= best - 1e-12)
    dist = np.hypot(candidates[tied, 0] - current_xy[0], candidates[tied, 1] - current_xy[1])
    j = int(tied[int(np.argmin(dist))])
    return float(candidates[j, 0]), float(candidates[j, 1])


def downwind_of(x: float, y: float, wind_from_deg: float, distance_m: float) -> tuple[float, float]:
    """Return the point ``distance_m`` downwind of (x, y) for a wind from ``wind_from_deg``."""
    to = np.deg2rad(wind_from_deg + 180.0)
    return float(x + distance_m * np.sin(to)), float(y + distance_m * np.cos(to))
