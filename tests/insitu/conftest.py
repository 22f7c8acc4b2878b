from __future__ import annotations

import numpy as np
import pytest

from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume import ForwardModel, SourceParams

TRUTH = (30.0, 40.0, 1.0, 5.0)  # x, y, z (m), rate (kg/h)


def synthetic_point_readings(
    seed: int = 0, m: int = 100, wind_from: float = 0.0, noise: float = 0.02
) -> tuple[Observations, SourceParams]:
    """Point readings downwind of a known source, with noise, model error and dropouts."""
    rng = np.random.default_rng(seed)
    x, y, z, q = TRUTH
    truth = SourceParams.single(x, y, z, q / 3600.0)
    pts = np.column_stack([rng.uniform(0, 60, m), rng.uniform(-20, 40, m), np.full(m, 2.0)])
    clean = Observations.create(pts, np.zeros(m), 3.0, wind_from, sigma_theta_deg=12.0)
    c = ForwardModel().predict_ppm(truth, clean)[0]
    zobs = c * (1 + 0.3 * rng.standard_normal(m)) + noise * rng.standard_normal(m)
    zobs[rng.random(m) < 0.15] = 0.0
    return Observations.create(pts, zobs, 3.0, wind_from, sigma_theta_deg=12.0), truth


@pytest.fixture
def point_readings() -> tuple[Observations, SourceParams]:
    return synthetic_point_readings()
