from __future__ import annotations

import numpy as np
import pytest

from plumetrace.sites.confidence import (
    ConfidenceModel,
    EvidenceSummary,
    site_confidence,
    site_confidences,
)
from plumetrace.sites.fusion import FusionOptions, SiteTracker


def _tracker(rng: np.random.Generator, n: int) -> SiteTracker:
    x = rng.uniform(-5000, 5000, n)
    y = rng.uniform(-5000, 5000, n)
    w = 1.0 / rng.uniform(5, 80, n) ** 2
    return SiteTracker(x, y, w, FusionOptions())


@pytest.mark.parametrize("n_sites", [0, 1, 300])
def test_batch_arrays_are_the_batch_associations(n_sites: int) -> None:
    rng = np.random.default_rng(n_sites)
    a, b = _tracker(np.random.default_rng(7), n_sites), _tracker(np.random.default_rng(7), n_sites)
    x = rng.uniform(-6000, 6000, 500)
    y = rng.uniform(-6000, 6000, 500)
    sigma = rng.uniform(10, 200, 500)
    listed = a.add_batch(x, y, sigma)
    arrays = b.add_batch_arrays(x, y, sigma)
    assert arrays.to_list() == listed
    assert len(arrays) == 500 and arrays.created.sum() == a.n - n_sites
    assert np.all(arrays.distance_m[arrays.created] == 0)
    idx = np.arange(a.n, dtype=np.intp)
    px, py, pw = b.positions(idx)
    assert np.array_equal(px, [a.position(int(i))[0] for i in idx])
    assert np.array_equal(py, [a.position(int(i))[1] for i in idx])
    assert np.array_equal(pw, [a.weight(int(i)) for i in idx])


def test_batch_refuses_a_non_positive_uncertainty() -> None:
    t = _tracker(np.random.default_rng(1), 3)
    with pytest.raises(ValueError, match="uncertainty"):
        t.add_batch_arrays(np.zeros(2), np.zeros(2), np.array([10.0, 0.0]))


def test_many_confidences_are_the_single_ones_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    n = 400
    passes = rng.integers(0, 30, n)
    detected = np.minimum(rng.integers(0, 30, n), passes)
    llr = np.where(rng.random(n) < 0.3, rng.normal(0, 2, n), 0.0)
    scored = rng.integers(0, 20, n)
    score_sum = rng.normal(0, 3, n) * (scored > 0)
    model = ConfidenceModel(coef={**ConfidenceModel().coef, "reports": -0.5})
    conf, terms = site_confidences(
        passes.tolist(),
        detected.tolist(),
        llr.tolist(),
        score_sum.tolist(),
        scored.tolist(),
        model,
    )
    for k in range(n):
        summary = EvidenceSummary(
            passes=int(passes[k]),
            passes_detected=int(detected[k]),
            report_llr=float(llr[k]),
            score_logit_sum=float(score_sum[k]),
            scored=int(scored[k]),
        )
        one, one_terms = site_confidence(summary, model)
        assert conf[k] == one and terms[k] == one_terms
        # the same floats, signs of zero included (they reach the stored JSON)
        assert [np.copysign(1, v) for v in terms[k].values()] == [
            np.copysign(1, v) for v in one_terms.values()
        ]
