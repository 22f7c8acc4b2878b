"""Partner response metrics: where each lead stands, what is overdue, how fast partners act.

A released lead moves through notified -> acknowledged -> feedback -> acted -> verified.
*Substantive* feedback is an outcome that reports an investigation's result or a decision
(:data:`SUBSTANTIVE`); "no-action" is a reply but not yet a response. Times to each step
are counted from release (days); medians ignore leads that have not reached the step.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plumetrace.share.policy import Timeline

__all__ = [
    "OUTCOMES",
    "STATES",
    "SUBSTANTIVE",
    "LeadTimeline",
    "lead_state",
    "overdue_step",
    "response_metrics",
]

OUTCOMES = {
    "dismantled": "lab found and dismantled",
    "arrests": "arrests made",
    "nothing-found": "investigated, nothing found",
    "declined": "partner declined to act",
    "no-action": "no action (yet)",
}
"""Structured feedback outcomes."""

SUBSTANTIVE = frozenset({"dismantled", "arrests", "nothing-found", "declined"})
"""Outcomes that count as a response."""

STATES = ("draft", "notified", "acknowledged", "feedback", "acted", "verified")
"""A lead's states, in order."""


@dataclass(frozen=True)
class LeadTimeline:
    """The dated steps of one lead (None: not reached).

    Attributes
    ----------
    lead_id, partner_id : str
    released, acknowledged, feedback, action_date, verified : datetime or None, UTC
    outcome : str or None
        Latest feedback outcome (:data:`OUTCOMES`).
    verification : str or None
        ``"no-emission"`` or ``"still-emitting"``.
    """

    lead_id: str
    partner_id: str
    released: datetime | None
    acknowledged: datetime | None = None
    feedback: datetime | None = None
    outcome: str | None = None
    action_date: datetime | None = None
    verified: datetime | None = None
    verification: str | None = None


def lead_state(t: LeadTimeline) -> str:
    """Return the furthest state the lead has reached (:data:`STATES`)."""
    if t.released is None:
        return "draft"
    if t.verified is not None:
        return "verified"
    if t.action_date is not None:
        return "acted"
    if t.feedback is not None:
        return "feedback"
    if t.acknowledged is not None:
        return "acknowledged"
    return "notified"


def _substantive(t: LeadTimeline) -> bool:
    return t.feedback is not None and t.outcome in SUBSTANTIVE


def overdue_step(t: LeadTimeline, timeline: Timeline, now: datetime) -> str | None:
    """Return the step that is overdue at ``now``, or None.

    ``"acknowledgement"`` (none within ``acknowledge_days`` of release), ``"feedback"``
    (no substantive feedback within ``feedback_days``), ``"verification"`` (no re-survey
    within ``verify_days`` of the partner's action).
    """
    if t.released is None or t.verified is not None:
        return None
    if t.acknowledged is None and now > t.released + timedelta(days=timeline.acknowledge_days):
        return "acknowledgement"
    if not _substantive(t) and now > t.released + timedelta(days=timeline.feedback_days):
        return "feedback"
    if t.action_date is not None and now > t.action_date + timedelta(days=timeline.verify_days):
        return "verification"
    return None


def _days(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds() / 86400.0


def _median(values: Iterable[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return round(statistics.median(v), 3) if v else None


def _summary(
    ts: list[LeadTimeline], timelines: Mapping[str, Timeline], now: datetime, default: Timeline
) -> dict[str, Any]:
    released = [t for t in ts if t.released is not None]
    n = len(released)
    overdue = [t for t in released if overdue_step(t, timelines.get(t.partner_id, default), now)]
    return {
        "released": n,
        "acknowledged": sum(t.acknowledged is not None for t in released),
        "substantive_feedback": sum(_substantive(t) for t in released),
        "response_rate": round(sum(_substantive(t) for t in released) / n, 4) if n else None,
        "acted": sum(t.action_date is not None for t in released),
        "verified": sum(t.verified is not None for t in released),
        "median_days_to_acknowledgement": _median(
            _days(t.released, t.acknowledged) for t in released
        ),
        "median_days_to_action": _median(_days(t.released, t.action_date) for t in released),
        "median_days_to_verification": _median(_days(t.released, t.verified) for t in released),
        "overdue": len(overdue),
    }


def response_metrics(
    leads: Iterable[LeadTimeline],
    timelines: Mapping[str, Timeline],
    now: datetime,
) -> dict[str, Any]:
    """Return response metrics overall, per partner and per month of release, and per lead.

    Parameters
    ----------
    leads : iterable of LeadTimeline
    timelines : mapping of partner id to Timeline
        Each partner's deadlines (the default :class:`Timeline` for one not listed).
    now : datetime, UTC
        The time overdue is judged at.

    Returns
    -------
    dict
        ``overall`` and ``partners`` (partner id -> summary) and ``months`` (``YYYY-MM``
        -> summary), each summary with counts, ``response_rate`` (0-1 or None), median
        days to acknowledgement / action / verification and the number overdue; and
        ``leads``: each lead's ``id``, ``partner``, ``state`` and ``overdue`` step.
    """
    ts = list(leads)
    default = Timeline()
    by_partner: dict[str, list[LeadTimeline]] = defaultdict(list)
    by_month: dict[str, list[LeadTimeline]] = defaultdict(list)
    for t in ts:
        by_partner[t.partner_id].append(t)
        if t.released is not None:
            by_month[t.released.strftime("%Y-%m")].append(t)
    return {
        "now": now,
        "overall": _summary(ts, timelines, now, default),
        "partners": {
            p: _summary(v, timelines, now, default) for p, v in sorted(by_partner.items())
        },
        "months": {m: _summary(v, timelines, now, default) for m, v in sorted(by_month.items())},
        "leads": [
            {
                "id": t.lead_id,
                "partner": t.partner_id,
                "state": lead_state(t),
                "overdue": overdue_step(t, timelines.get(t.partner_id, default), now),
                "released": t.released,
                "outcome": t.outcome,
            }
            for t in ts
        ],
    }
