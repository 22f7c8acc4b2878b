"""Site confidence: the probability that a site is a real, persistent emitter.

Two hypotheses explain a site's evidence: R, a real source that emits on a fraction
``q`` of days (its duty cycle, unknown: a mixture over ``duty``), seen on an emitting
pass with probability ``pod``; and F, no source: a false alarm that recurs on a pass with
probability ``f`` (a mixture: most false alarms are one-offs, some are persistent clutter
such as bright roofs). For ``k`` detections in ``n`` passes that covered the site,
conditioned on the first detection that created it,

    L_R = Σ_q π_q (pod q)^k (1 - pod q)^(n-k) / Σ_q π_q pod q
    L_F = Σ_f π_f f^k (1 - f)^(n-k) / Σ_f π_f f

so an empty pass lowers the odds of an intermittent source only as much as its duty
cycle explains: one empty pass never wipes it out. A site founded by reports alone
(``k = 0``) is scored by ``L_R = Σ_q π_q (1 - pod q)^n`` against ``L_F = 1``.

Reports weigh by their Admiralty grading: the source reliability (A-F) and the information
credibility (1-6) are read as probabilities that the source is right and that the
information is true, combined into a log-likelihood ratio (F and 6, "cannot be judged",
are neutral). Detection strength enters as the mean logit of the detections' own
confidences.

The terms are combined by a logistic model whose coefficients are fitted on simulated
campaigns (``benchmarks/fit_confidence.py``, stored in ``data/confidence.json``; the
validation on held-out seeds is ``benchmarks/bench_fusion.py``), which is what makes the
output a calibrated probability rather than a score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from plumetrace.errors import InvalidParameterError

__all__ = [
    "CREDIBILITY",
    "RELIABILITY",
    "ConfidenceModel",
    "EvidenceSummary",
    "pass_llr",
    "report_llr",
    "site_confidence",
    "site_confidences",
]

RELIABILITY = {"A": 0.9, "B": 0.75, "C": 0.6, "D": 0.45, "E": 0.3, "F": 0.5}
"""Probability that a source of each Admiralty reliability grade is right (F: unknown)."""

CREDIBILITY = {1: 0.9, 2: 0.75, 3: 0.6, 4: 0.45, 5: 0.3, 6: 0.5}
"""Probability that information of each credibility grade is true (6: cannot be judged)."""


def report_llr(reliability: str, credibility: int) -> float:
    """Return a report's log-likelihood ratio for a real site at its position.

    Parameters
    ----------
    reliability : str
        Admiralty source reliability, ``A`` (completely reliable) to ``F`` (cannot be judged).
    credibility : int
        Admiralty information credibility, 1 (confirmed) to 6 (cannot be judged).
    """
    if reliability not in RELIABILITY:
        raise InvalidParameterError(f"source reliability must be A-F, got {reliability!r}")
    if credibility not in CREDIBILITY:
        raise InvalidParameterError(f"credibility must be 1-6, got {credibility!r}")
    r = RELIABILITY[reliability]
    c = CREDIBILITY[credibility]
    p = r * c / (r * c + (1 - r) * (1 - c))
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class EvidenceSummary:
    """What is known about one site, in counts and sums (kept by the store).

    Attributes
    ----------
    passes : int
        Passes whose coverage or detections include the site.
    passes_detected : int
        Of those, the passes that detected it.
    report_llr : float
        Sum of :func:`report_llr` over the site's reports.
    reports : int
    score_logit_sum : float
        Sum over detections of ``logit(detection confidence)``.
    scored : int
        Number of detections with a confidence.
    """

    passes: int = 0
    passes_detected: int = 0
    report_llr: float = 0.0
    reports: int = 0
    score_logit_sum: float = 0.0
    scored: int = 0


@dataclass(frozen=True)
class ConfidenceModel:
    """Parameters of the likelihoods and of the calibrated logistic combination.

    Attributes
    ----------
    pod : float
        Probability that a pass over an emitting source detects it.
    duty, duty_prior : tuple of float
        Duty cycles ``q`` of real sources and their prior weights.
    recur, recur_prior : tuple of float
        Recurrence probabilities ``f`` of false alarms and their prior weights.
    coef : dict of str to float
        Logistic coefficients: ``bias``, ``passes``, ``reports``, ``score``,
        ``reports_only``.
    provenance : str
        Where the coefficients came from.
    """

    pod: float = 0.8
    duty: tuple[float, ...] = (0.25, 0.5, 1.0)
    duty_prior: tuple[float, ...] = (0.2, 0.3, 0.5)
    recur: tuple[float, ...] = (0.02, 0.4)
    recur_prior: tuple[float, ...] = (0.9, 0.1)
    coef: dict[str, float] = field(
        default_factory=lambda: {
            "bias": 0.0,
            "passes": 1.0,
            "reports": 0.5,
            "score": 0.5,
            "reports_only": -1.0,
        }
    )
    provenance: str = "defaults (not fitted)"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConfidenceModel:
        """Build from :meth:`to_dict` output."""
        d = dict(d)
        for key in ("duty", "duty_prior", "recur", "recur_prior"):
            if key in d:
                d[key] = tuple(float(v) for v in d[key])
        return cls(**d)


def _mix(k: int, n: int, probs: tuple[float, ...], prior: tuple[float, ...]) -> float:
    return sum(w * p**k * (1 - p) ** (n - k) for p, w in zip(probs, prior, strict=True))


def pass_llr(passes: int, detected: int, model: ConfidenceModel) -> float:
    """Return the log-likelihood ratio R vs F of the pass record (see module docstring).

    Parameters
    ----------
    passes : int
        Passes that covered the site (>= detected).
    detected : int
        Passes that detected it.
    """
    return _pass_llr(
        passes,
        detected,
        model.pod,
        model.duty,
        model.duty_prior,
        model.recur,
        model.recur_prior,
    )


@lru_cache(maxsize=65536)
def _pass_llr(
    passes: int,
    detected: int,
    pod: float,
    duty: tuple[float, ...],
    duty_prior: tuple[float, ...],
    recur: tuple[float, ...],
    recur_prior: tuple[float, ...],
) -> float:
    """Compute :func:`pass_llr` (cached: few distinct pass records occur)."""
    n, k = max(passes, detected), detected
    rates = tuple(pod * q for q in duty)
    if k == 0:
        return math.log(_mix(0, n, rates, duty_prior))
    lr = _mix(k, n, rates, duty_prior) / _mix(1, 1, rates, duty_prior)
    lf = _mix(k, n, recur, recur_prior) / _mix(1, 1, recur, recur_prior)
    return math.log(lr) - math.log(lf)


def site_confidence(
    summary: EvidenceSummary, model: ConfidenceModel | None = None
) -> tuple[float, dict[str, float]]:
    """Return the calibrated probability that a site is real, and each term's weight.

    Returns
    -------
    confidence : float
        In (0, 1).
    terms : dict of str to float
        The logit contributions (``bias``, ``passes``, ``reports``, ``score``,
        ``reports_only``); they sum to ``logit(confidence)``.
    """
    m = model or ConfidenceModel()
    return _confidence(
        summary.passes,
        summary.passes_detected,
        summary.report_llr,
        summary.score_logit_sum,
        summary.scored,
        m,
    )


def _confidence(
    passes: int,
    detected: int,
    report_llr_sum: float,
    score_logit_sum: float,
    scored: int,
    m: ConfidenceModel,
) -> tuple[float, dict[str, float]]:
    c = m.coef
    score = score_logit_sum / scored if scored else 0.0
    terms = {
        "bias": c["bias"],
        "passes": c["passes"] * pass_llr(passes, detected, m),
        "reports": c["reports"] * report_llr_sum,
        "score": c["score"] * score,
        "reports_only": c["reports_only"] if detected == 0 else 0.0,
    }
    z = sum(terms.values())
    conf = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
    return min(max(conf, 1e-6), 1 - 1e-6), terms


def site_confidences(
    passes: Sequence[int],
    passes_detected: Sequence[int],
    report_llr_sum: Sequence[float],
    score_logit_sum: Sequence[float],
    scored: Sequence[int],
    model: ConfidenceModel | None = None,
) -> tuple[list[float], list[dict[str, float]]]:
    """:func:`site_confidence` of many sites at once (the same numbers, site by site).

    Parameters
    ----------
    passes, passes_detected, report_llr_sum, score_logit_sum, scored : (n,) sequences
        The :class:`EvidenceSummary` fields of each site (``report_llr``,
        ``score_logit_sum``, ``scored``).

    Returns
    -------
    confidence : list of float
    terms : list of dict of str to float
    """
    m = model or ConfidenceModel()
    conf: list[float] = []
    terms: list[dict[str, float]] = []
    for out in map(
        _confidence,
        passes,
        passes_detected,
        report_llr_sum,
        score_logit_sum,
        scored,
        [m] * len(passes),
    ):
        conf.append(out[0])
        terms.append(out[1])
    return conf, terms
