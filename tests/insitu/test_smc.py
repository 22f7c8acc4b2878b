from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.insitu.background import estimate_background, estimate_noise
from plumetrace.insitu.likelihood import NoiseModel
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume import ForwardModel
from plumetrace.insitu.prior import Prior
from plumetrace.insitu.smc import SourceEstimator, effective_sample_size, systematic_resample
from plumetrace.insitu.summary import summarize, weighted_quantile

from .conftest import TRUTH, synthetic_point_readings


def _estimator(n: int = 3000, seed: int = 1, **prior: object) -> SourceEstimator:
    return SourceEstimator(
        ForwardModel(),
        Prior(box=(0, 0, 60, 60), stability_sigma=0.75, **prior),  # type: ignore[arg-type]
        NoiseModel(sigma_ppm=0.02),
        n,
        np.random.default_rng(seed),
    )


@pytest.mark.parametrize("sequential", [False, True])
def test_recovers_a_known_source(sequential: bool) -> None:
    obs, _ = synthetic_point_readings()
    est = _estimator()
    if sequential:
        for j in range(obs.size):
            est.update(obs.take(slice(j, j + 1)))
    else:
        est.update(obs)
    s = summarize(est.theta, est.weights)
    x, y, _, q = TRUTH
    assert np.hypot(s.x_m - x, s.y_m - y) < 3.0
    assert s.rate_kg_h_ci95[0] <= q <= s.rate_kg_h_ci95[1]
    assert 1 / 1.5 < s.rate_kg_h / q < 1.5
    assert est.n_readings == obs.size
    assert est.stats.rejuvenations > 0
    assert 0.05 < np.mean(est.stats.acceptance) < 0.6


def test_zero_readings_downwind_rule_out_sources_upwind_of_them() -> None:
    # a crosswind line of readings south of the box, wind from the north, all zero:
    # no source strong enough to matter can sit upwind of the line
    xs = np.linspace(0.0, 60.0, 31)
    pts = np.column_stack([xs, np.full_like(xs, -5.0), np.full_like(xs, 1.0)])
    obs = Observations.create(pts, np.zeros_like(xs), 3.0, 0.0, sigma_theta_deg=12.0)
    est = _estimator(rate_kg_h=(1.0, 10.0), z_range=(1.0, 1.0))
    before = float(est.weights @ ((est.theta[:, 0] > 5) & (est.theta[:, 0] < 55)))
    est.update(obs)
    after = float(est.weights @ ((est.theta[:, 0] > 5) & (est.theta[:, 0] < 55)))
    assert before > 0.75
    assert after < 0.3


def test_resampling_and_effective_sample_size() -> None:
    rng = np.random.default_rng(0)
    assert effective_sample_size(np.zeros(100)) == pytest.approx(100.0)
    log_w = np.full(100, -np.inf)
    log_w[7] = 0.0
    assert effective_sample_size(log_w) == pytest.approx(1.0)
    assert np.all(systematic_resample(log_w, rng) == 7)
    counts = np.bincount(systematic_resample(np.log(np.array([0.25, 0.75])), rng), minlength=2)
    assert counts.tolist() == [0, 2] or counts.tolist() == [1, 1]


def test_weighted_quantile() -> None:
    v = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([0.1, 0.1, 0.1, 0.7])
    assert weighted_quantile(v, w, 0.5)[0] == 4.0
    assert weighted_quantile(v, w, 0.15)[0] == 2.0


def test_invalid_settings_are_clear_errors() -> None:
    with pytest.raises(InvalidParameterError, match="particles"):
        _estimator(n=5)
    with pytest.raises(InvalidParameterError, match="source box"):
        Prior(box=(10, 0, 0, 10))
    with pytest.raises(InvalidParameterError, match="rate prior"):
        Prior(box=(0, 0, 1, 1), rate_kg_h=(5.0, 1.0))
    with pytest.raises(InvalidParameterError, match="intermittency"):
        NoiseModel(intermittency=1.0)


def test_background_and_noise_from_the_readings() -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat([0, 1], 400)
    truth_bg = np.where(groups == 0, 1.9, 2.1)
    conc = truth_bg + 0.03 * rng.standard_normal(800)
    hit = rng.random(800) < 0.5
    conc[hit] += rng.exponential(1.0, hit.sum())
    bg, sigma = estimate_background(conc, groups)
    np.testing.assert_allclose(bg, truth_bg, atol=0.03)
    np.testing.assert_allclose(sigma, 0.03, rtol=0.5)
    sig2 = estimate_noise(conc - truth_bg, groups)
    np.testing.assert_allclose(sig2, 0.03, rtol=0.3)


def test_correlated_readings_share_one_weight() -> None:
    from plumetrace.insitu.likelihood import correlation_weights

    t = np.array([0.0, 60.0, 120.0, 1000.0, 0.0, 60.0])
    g = np.array([0, 0, 0, 0, 1, 1])
    w = correlation_weights(t, g, 300.0)
    np.testing.assert_allclose(w, [1 / 3, 1 / 3, 1 / 3, 1.0, 0.5, 0.5])
    np.testing.assert_allclose(correlation_weights(t, g, 0.0), 1.0)


def test_rate_interval_widens_when_the_dispersion_is_unknown() -> None:
    # readings on the plume axis only say nothing about its width, so rate and dispersion
    # trade off: freeing the scale factor and stability must widen the rate interval
    from plumetrace.insitu.plume import ForwardModel, SourceParams

    y = np.linspace(30.0, -20.0, 40)
    pts = np.column_stack([np.full_like(y, 30.0), y, np.full_like(y, 1.0)])
    clean = Observations.create(pts, np.zeros_like(y), 3.0, 0.0, sigma_theta_deg=12.0)
    c = ForwardModel().predict_ppm(SourceParams.single(30, 40, 1, 5 / 3600), clean)[0]
    rng = np.random.default_rng(0)
    obs = Observations.create(
        pts, c * np.exp(0.2 * rng.standard_normal(y.size)), 3.0, 0.0, sigma_theta_deg=12.0
    )
    widths = []
    for sigma in (0.0, 0.5):
        est = SourceEstimator(
            ForwardModel(),
            Prior(
                box=(0, 0, 60, 60),
                z_range=(1.0, 1.0),
                ln_scale_sigma=sigma,
                stability_sigma=1.5 * sigma,
                bias_sigma_deg=0.0,
            ),
            NoiseModel(sigma_ppm=0.02),
            3000,
            np.random.default_rng(2),
        )
        est.update(obs)
        s = summarize(est.theta, est.weights)
        widths.append(np.log(s.rate_kg_h_ci95[1] / s.rate_kg_h_ci95[0]))
    assert widths[1] > 1.5 * widths[0]
