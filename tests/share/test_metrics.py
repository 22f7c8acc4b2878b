from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plumetrace.share.metrics import LeadTimeline, lead_state, overdue_step, response_metrics
from plumetrace.share.policy import Timeline

T0 = datetime(2026, 5, 1, tzinfo=UTC)
D = timedelta(days=1)


def test_states_and_overdue() -> None:
    tl = Timeline(acknowledge_days=3, feedback_days=30, verify_days=60)
    t = LeadTimeline("lead-1", "p", None)
    assert lead_state(t) == "draft" and overdue_step(t, tl, T0) is None
    t = LeadTimeline("lead-1", "p", T0)
    assert lead_state(t) == "notified"
    assert overdue_step(t, tl, T0 + 2 * D) is None
    assert overdue_step(t, tl, T0 + 4 * D) == "acknowledgement"
    t = LeadTimeline("lead-1", "p", T0, acknowledged=T0 + D)
    assert lead_state(t) == "acknowledged" and overdue_step(t, tl, T0 + 31 * D) == "feedback"
    # "no-action" is a reply, not a response
    t = LeadTimeline("lead-1", "p", T0, T0 + D, T0 + 2 * D, "no-action")
    assert lead_state(t) == "feedback" and overdue_step(t, tl, T0 + 31 * D) == "feedback"
    t = LeadTimeline("lead-1", "p", T0, T0 + D, T0 + 2 * D, "dismantled", T0 + 2 * D)
    assert lead_state(t) == "acted" and overdue_step(t, tl, T0 + 61 * D) is None
    assert overdue_step(t, tl, T0 + 63 * D) == "verification"
    t = LeadTimeline(
        "lead-1", "p", T0, T0 + D, T0 + 2 * D, "dismantled", T0 + 2 * D, T0 + 9 * D, "no-emission"
    )
    assert lead_state(t) == "verified" and overdue_step(t, tl, T0 + 99 * D) is None


def test_response_metrics() -> None:
    leads = [
        LeadTimeline(
            "a", "p1", T0, T0 + 1 * D, T0 + 4 * D, "arrests", T0 + 3 * D, T0 + 10 * D, "no-emission"
        ),
        LeadTimeline("b", "p1", T0 + 40 * D, T0 + 43 * D, T0 + 50 * D, "declined"),
        LeadTimeline("c", "p1", T0 + 40 * D),
        LeadTimeline("d", "p2", T0 + 41 * D, T0 + 42 * D, T0 + 45 * D, "no-action"),
        LeadTimeline("e", "p2", None),
    ]
    m = response_metrics(leads, {"p2": Timeline(acknowledge_days=1)}, T0 + 75 * D)
    p1 = m["partners"]["p1"]
    assert p1["released"] == 3 and p1["acknowledged"] == 2
    assert p1["substantive_feedback"] == 2 and p1["response_rate"] == round(2 / 3, 4)
    assert p1["median_days_to_acknowledgement"] == 2.0  # 1 and 3 days
    assert p1["median_days_to_action"] == 3.0 and p1["median_days_to_verification"] == 10.0
    assert p1["overdue"] == 1  # c: never acknowledged
    p2 = m["partners"]["p2"]
    assert p2["released"] == 1 and p2["response_rate"] == 0.0 and p2["overdue"] == 1
    assert m["overall"]["released"] == 4
    assert set(m["months"]) == {"2026-05", "2026-06"}
    states = {x["id"]: (x["state"], x["overdue"]) for x in m["leads"]}
    assert states == {
        "a": ("verified", None),
        "b": ("feedback", None),
        "c": ("notified", "acknowledgement"),
        "d": ("feedback", "feedback"),
        "e": ("draft", None),
    }
