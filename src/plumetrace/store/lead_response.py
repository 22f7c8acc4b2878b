"""The partner's response to released leads, its verification by re-survey, and metrics.

Partners (through their own routes) or liaisons (for what came by other channels) record
acknowledgement, feedback and the action date; a later survey pass over a lead's sites
verifies it; :func:`lead_metrics` measures response rates and times. Listings of leads
for the staff and for a partner live here too (they show the response state).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plumetrace.errors import AuthError, ConflictError, InvalidParameterError
from plumetrace.share.metrics import OUTCOMES, LeadTimeline, lead_state, response_metrics
from plumetrace.store.audit_log import append_event
from plumetrace.store.lead_evidence import follow_merges, lead_site_ids
from plumetrace.store.leads import (
    add_event,
    check_text,
    get_lead,
    released_lead,
    require_role,
)
from plumetrace.store.models import Lead, LeadEvent, Partner, SitePass, User
from plumetrace.store.partners import find_partner, partner_policy
from plumetrace.store.types import utcnow

__all__ = [
    "EVENT_KINDS",
    "VERIFICATIONS",
    "lead_detail",
    "lead_metrics",
    "list_leads",
    "partner_lead",
    "partner_leads",
    "record_event",
    "timeline",
    "verify_by_surveys",
]

EVENT_KINDS = ("acknowledged", "feedback", "action", "verified")
"""Response steps a partner (or a liaison on its behalf) records."""

VERIFICATIONS = ("no-emission", "still-emitting")
"""What a re-survey found."""

_CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for clocks: a response time may lead ours or precede the release by this."""


def record_event(
    session: Session,
    lead_id: str,
    kind: str,
    *,
    by: User,
    time: datetime | None = None,
    outcome: str | None = None,
    text: str = "",
    verification: str | None = None,
) -> Lead:
    """Record a step of the partner's response.

    A partner user records for its own released leads only (others are not found); a
    liaison records what came by other channels.

    Parameters
    ----------
    kind : {"acknowledged", "feedback", "action", "verified"}
    by : User
        A partner user or a liaison.
    time : datetime, optional, UTC
        When it happened (the action date for ``action``); now by default. Not before
        the release, not in the future.
    outcome : str, optional
        Required for ``feedback``: one of :data:`plumetrace.share.metrics.OUTCOMES`.
    text : str
        Free text.
    verification : str, optional
        Required for ``verified`` (liaison only): ``no-emission`` or ``still-emitting``.

    Raises
    ------
    NotFoundError
        Unknown lead, or (partner) not one released to them.
    ConflictError
        The lead is not released.
    InvalidParameterError
        Unknown kind or outcome, a bad time, a missing outcome or verification.
    AuthError
        Neither a partner user nor a liaison; a partner recording a verification.
    """
    require_role(by, "partner", "liaison")
    if kind not in EVENT_KINDS:
        raise InvalidParameterError(f"kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    if by.role == "partner":
        if by.partner_id is None:
            raise AuthError("this partner user belongs to no partner")
        lead = released_lead(session, lead_id, by.partner_id)
        if kind == "verified":
            raise AuthError("verification is recorded by the program, not the partner")
    else:
        lead = get_lead(session, lead_id)
        if lead.status != "released":
            raise ConflictError(f"lead {lead_id} is {lead.status}: only released leads respond")
    now = utcnow()
    t = time or now
    assert lead.released is not None
    if t > now + _CLOCK_SKEW:
        raise InvalidParameterError(f"time {t.isoformat()} is in the future")
    if t < lead.released - _CLOCK_SKEW:
        raise InvalidParameterError(
            f"time {t.isoformat()} is before the lead was released ({lead.released.isoformat()})"
        )
    text = check_text("text", text)
    before = _response(lead)
    if kind == "feedback":
        if outcome not in OUTCOMES:
            raise InvalidParameterError(
                f"feedback needs an outcome: one of {', '.join(OUTCOMES)} (got {outcome!r})"
            )
        lead.feedback, lead.outcome, lead.outcome_text = t, outcome, text
        lead.acknowledged = lead.acknowledged or t
    elif kind == "acknowledged":
        lead.acknowledged = lead.acknowledged or t
    elif kind == "action":
        lead.action_date = t
        lead.acknowledged = lead.acknowledged or t
    else:
        if verification not in VERIFICATIONS:
            raise InvalidParameterError(
                f"a verification is one of {', '.join(VERIFICATIONS)} (got {verification!r})"
            )
        lead.verified, lead.verification = t, verification
        outcome = verification
    session.flush()
    channel = "partner" if by.role == "partner" else "liaison"
    add_event(session, lead, kind, t, by, channel, outcome=outcome, text=text)
    append_event(
        session,
        actor=by.name,
        action=f"lead.{kind}",
        entity="lead",
        entity_id=lead.id,
        before=before,
        after={**_response(lead), "channel": channel},
    )
    return lead


def _response(lead: Lead) -> dict[str, Any]:
    return {
        "acknowledged": lead.acknowledged,
        "feedback": lead.feedback,
        "outcome": lead.outcome,
        "action_date": lead.action_date,
        "verified": lead.verified,
        "verification": lead.verification,
    }


def verify_by_surveys(session: Session) -> list[str]:
    """Verify leads the partner acted on from later survey passes; return those verified.

    A lead with an action date (else feedback) is verified once every one of its sites has
    been covered by a pass after that date: ``still-emitting`` if any pass detected an
    emission, else ``no-emission``, dated by the last of those first passes.
    """
    done = []
    leads = session.scalars(
        select(Lead).where(Lead.status == "released", Lead.verified.is_(None))
    ).all()
    for lead in leads:
        ref = lead.action_date or lead.feedback
        if ref is None:
            continue
        firsts = []
        for sid in lead_site_ids(session, lead.id):
            site = follow_merges(session, sid)
            first = session.scalars(
                select(SitePass)
                .where(
                    SitePass.site_id.in_({sid, site.id}),
                    SitePass.time > ref,
                    SitePass.covered | SitePass.detected,
                )
                .order_by(SitePass.time)
                .limit(1)
            ).first()
            if first is None:
                break
            firsts.append(first)
        else:
            if not firsts:
                continue
            emitting = any(p.detected for p in firsts)
            t = max(p.time for p in firsts)
            before = _response(lead)
            lead.verified = t
            lead.verification = "still-emitting" if emitting else "no-emission"
            text = "; ".join(
                f"{p.site_id} re-surveyed by {p.flight_id} at {p.time.isoformat()}: "
                f"{'emission detected' if p.detected else 'no emission'}"
                for p in firsts
            )
            add_event(
                session, lead, "verified", t, None, "survey", outcome=lead.verification, text=text
            )
            append_event(
                session,
                actor="survey",
                action="lead.verified",
                entity="lead",
                entity_id=lead.id,
                before=before,
                after=_response(lead),
            )
            done.append(lead.id)
    session.flush()
    return done


def timeline(lead: Lead) -> LeadTimeline:
    """Return a lead's dated steps."""
    return LeadTimeline(
        lead_id=lead.id,
        partner_id=lead.partner_id,
        released=lead.released,
        acknowledged=lead.acknowledged,
        feedback=lead.feedback,
        outcome=lead.outcome,
        action_date=lead.action_date,
        verified=lead.verified,
        verification=lead.verification,
    )


def _row(session: Session, lead: Lead) -> dict[str, Any]:
    drafter = session.get(User, lead.drafted_by)
    approver = session.get(User, lead.approved_by) if lead.approved_by else None
    return {
        "id": lead.id,
        "partner": lead.partner_id,
        "status": lead.status,
        "state": lead_state(timeline(lead)),
        "tlp": lead.tlp,
        "title": lead.title,
        "sites": lead_site_ids(session, lead.id),
        "drafted_by": drafter.name if drafter else None,
        "drafted": lead.drafted,
        "approved_by": approver.name if approver else None,
        "released": lead.released,
        **_response(lead),
    }


def list_leads(
    session: Session, *, partner: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Return leads (newest first) with their status and response state."""
    stmt = select(Lead).order_by(Lead.drafted.desc(), Lead.id)
    if partner is not None:
        stmt = stmt.where(Lead.partner_id == find_partner(session, partner).id)
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    return [_row(session, lead) for lead in session.scalars(stmt)]


def lead_detail(session: Session, lead_id: str) -> dict[str, Any]:
    """Return a lead for the program's staff: its row, events and the release (if any)."""
    lead = get_lead(session, lead_id)
    events = [
        {
            "kind": e.kind,
            "time": e.time,
            "recorded": e.recorded,
            "channel": e.channel,
            "user": (u.name if (u := session.get(User, e.user_id)) else None)
            if e.user_id
            else None,
            "outcome": e.outcome,
            "text": e.text,
        }
        for e in session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.recorded)
        )
    ]
    return {
        **_row(session, lead),
        "summary": lead.summary,
        "recommended_action": lead.recommended_action,
        "internal_note": lead.internal_note,
        "outcome_text": lead.outcome_text,
        "release": lead.release,
        "redaction": lead.redaction,
        "events": events,
    }


def _partner_view(session: Session, lead: Lead) -> dict[str, Any]:
    """Return a lead as its partner sees it: the release and the partner's own answers.

    Our side stays home: the state stops at ``acted`` (whether and when we re-surveyed
    is collection), and the feedback text only shows if the partner itself posted it (a
    liaison's record of another channel may hold our notes).
    """
    assert lead.release is not None
    last = session.scalars(
        select(LeadEvent)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "feedback")
        .order_by(LeadEvent.recorded.desc())
        .limit(1)
    ).first()
    own_text = last is not None and last.channel == "partner"
    return {
        "lead": lead.release,
        "state": lead_state(replace(timeline(lead), verified=None, verification=None)),
        "acknowledged": lead.acknowledged,
        "feedback": lead.feedback,
        "outcome": lead.outcome,
        "outcome_text": lead.outcome_text if own_text else "",
        "action_date": lead.action_date,
    }


def partner_leads(session: Session, partner_id: str) -> list[dict[str, Any]]:
    """Return the leads released to one partner, as it received them, with its responses."""
    stmt = (
        select(Lead)
        .where(Lead.partner_id == partner_id, Lead.status == "released")
        .order_by(Lead.released.desc(), Lead.id)
    )
    return [_partner_view(session, lead) for lead in session.scalars(stmt)]


def partner_lead(session: Session, partner_id: str, lead_id: str) -> dict[str, Any]:
    """Return one lead released to ``partner_id`` (anything else: not found)."""
    return _partner_view(session, released_lead(session, lead_id, partner_id))


def lead_metrics(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """Return response metrics of all leads (:func:`plumetrace.share.metrics.response_metrics`)."""
    timelines = {p.id: partner_policy(p).timeline for p in session.scalars(select(Partner))}
    leads = session.scalars(select(Lead).order_by(Lead.drafted, Lead.id)).all()
    return response_metrics((timeline(lead) for lead in leads), timelines, now or utcnow())
