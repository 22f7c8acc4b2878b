"""Review priority of a site: what an analyst should look at first.

``priority = confidence × (1 + log10(1 + rate / 10 kg/h)) × exposure weight``

Confidence dominates; a larger estimated rate raises it slowly (a 100 kg/h site ranks
about 1.5 times a 10 kg/h one at equal confidence); a site in a populated place ranks
higher because the partner needs time to plan a careful ground action. Recency breaks ties
in the queue (most recently seen first).
"""

from __future__ import annotations

import math

__all__ = ["EXPOSURE_WEIGHT", "site_priority"]

EXPOSURE_WEIGHT = {"high": 1.5, "medium": 1.2, "low": 1.0, "unknown": 1.0}
"""Multiplier of each exposure class."""


def site_priority(confidence: float, rate_kg_h: float | None, exposure: str | None) -> float:
    """Return the review priority (dimensionless, >= 0).

    Parameters
    ----------
    confidence : float
        Probability the site is real, in [0, 1].
    rate_kg_h : float or None, kg/h
        Estimated emission rate (None: unknown, counts as 0).
    exposure : str or None
        ``low``, ``medium``, ``high`` or ``unknown``/None.
    """
    rate = max(rate_kg_h or 0.0, 0.0)
    return (
        confidence
        * (1.0 + math.log10(1.0 + rate / 10.0))
        * EXPOSURE_WEIGHT.get(exposure or "unknown", 1.0)
    )
