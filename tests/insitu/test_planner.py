from __future__ import annotations

import numpy as np
import pytest
import shapely

from plumetrace.errors import InvalidParameterError
from plumetrace.insitu.likelihood import NoiseModel
from plumetrace.insitu.planner import (
    PlannerOptions,
    candidate_waypoints,
    downwind_of,
    expected_information_gain,
    next_waypoint,
)
from plumetrace.insitu.plume import ForwardModel
from plumetrace.insitu.prior import Prior


def test_candidates_respect_the_step_and_the_allowed_polygon() -> None:
    opts = PlannerOptions(step_m=10.0)
    cands = candidate_waypoints((50.0, 50.0), opts)
    assert cands.shape == (24, 2)
    dist = np.hypot(cands[:, 0] - 50, cands[:, 1] - 50)
    assert dist.max() <= 10.0 + 1e-9 and dist.min() > 0.0
    corner = candidate_waypoints((1.0, 1.0), opts, shapely.box(0, 0, 100, 100))
    assert 0 < len(corner) < 24
    assert np.all(corner >= 0.0)


def _gains(theta: np.ndarray, cands: np.ndarray) -> np.ndarray:
    return expected_information_gain(
        ForwardModel(),
        theta,
        np.full(len(theta), 1 / len(theta)),
        cands,
        height_m=1.0,
        wind_speed_m_s=3.0,
        wind_from_deg=0.0,
        sigma_theta_deg=12.0,
        noise=NoiseModel(sigma_ppm=0.02, relative_error=0.5, intermittency=0.1),
        options=PlannerOptions(),
        rng=np.random.default_rng(0),
    )


def test_information_is_where_hypotheses_disagree() -> None:
    # two hypotheses: source at x=20 or x=40, both at y=50, wind from the north (plume
    # goes south). A point downwind of one source discriminates; a point upwind of both
    # (north) cannot: every hypothesis predicts zero there.
    rng = np.random.default_rng(1)
    theta = Prior(box=(0, 0, 60, 60), stability_sigma=0.5).sample(400, rng)
    theta[:200, 0], theta[200:, 0] = 20.0, 40.0
    theta[:, 1] = 50.0
    theta[:, 2] = 1.0
    theta[:, 3] = np.log(2.0 / 3600)
    cands = np.array([[20.0, 35.0], [30.0, 35.0], [30.0, 58.0]])
    g = _gains(theta, cands)
    assert g[0] > 0.3  # downwind of one of them: nearly one bit (0.69 nats)
    assert g[2] < 1e-3  # upwind: nothing to learn
    assert g[0] > g[1]
    assert next_waypoint((30.0, 40.0), g, cands) == (20.0, 35.0)


def test_no_candidates_means_stay() -> None:
    assert next_waypoint((3.0, 4.0), np.zeros(0), np.zeros((0, 2))) == (3.0, 4.0)


def test_bad_options() -> None:
    with pytest.raises(InvalidParameterError):
        PlannerOptions(step_m=0.0)


def test_with_nothing_to_learn_head_for_the_fallback_point() -> None:
    cands = np.array([[10.0, 10.0], [12.0, 10.0], [10.0, 12.0], [8.0, 10.0]])
    gains = np.zeros(4)
    # stays on ties without a fallback; moves towards the fallback with one
    assert next_waypoint((10.0, 10.0), gains, cands) == (10.0, 10.0)
    assert next_waypoint((10.0, 10.0), gains, cands, fallback_xy=(30.0, 10.0)) == (12.0, 10.0)
    x, y = downwind_of(0.0, 0.0, 0.0, 10.0)  # wind from the north blows south
    assert abs(x) < 1e-9 and y == -10.0
