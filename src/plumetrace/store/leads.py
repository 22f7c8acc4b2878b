"""Leads: drafting, two-person release, the partner's response, and response metrics.

A ``liaison`` (or a supervisor) drafts a lead for one partner from confirmed sites; a
``supervisor`` other than the drafter approves it (two-person rule), which releases it:
the releasable lead is built under the partner's policy at that moment and frozen
(``Lead.release``), and its STIX objects are added to the partner's TAXII collection
(:class:`~plumetrace.store.models.SharedObject`). What the partner received is therefore
exactly what is recorded. Every step is one audit event and, from release on, a
:class:`~plumetrace.store.models.LeadEvent`. The partner's response, verification,
listings and metrics are in :mod:`plumetrace.store.lead_response`.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plumetrace.errors import AuthError, ConflictError, InvalidParameterError, NotFoundError
from plumetrace.share.lead import ReleasableLead
from plumetrace.share.markings import parse_tlp
from plumetrace.share.redact import Redaction, redact
from plumetrace.share.stix import lead_objects
from plumetrace.store.audit_log import append_event, serialize
from plumetrace.store.lead_evidence import follow_merges, internal_lead, lead_site_ids
from plumetrace.store.models import Lead, LeadEvent, LeadSite, Partner, SharedObject, User
from plumetrace.store.partners import find_partner, partner_policy
from plumetrace.store.taxii import stix_time
from plumetrace.store.types import utcnow

__all__ = [
    "MAX_TEXT_CHARS",
    "STIX_MEDIA_TYPE",
    "add_event",
    "approve_lead",
    "check_text",
    "draft_lead",
    "get_lead",
    "preview_lead",
    "reject_lead",
    "release_of",
    "released_lead",
    "require_role",
]

MAX_TEXT_CHARS = 20_000
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


def check_text(name: str, value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Return ``value`` stripped; raise InvalidParameterError if longer than ``limit``."""
    value = value.strip()
    if len(value) > limit:
        raise InvalidParameterError(f"{name} is longer than {limit} characters")
    return value


def require_role(user: User, *roles: str) -> None:
    """Raise AuthError (403) unless ``user`` holds one of ``roles``."""
    if user.role not in roles:
        raise AuthError(f"the {user.role} role may not do this ({' or '.join(roles)} only)")


def get_lead(session: Session, lead_id: str) -> Lead:
    """Return a lead.

    Raises
    ------
    NotFoundError
        If there is none.
    """
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead {lead_id!r}")
    return lead


def draft_lead(
    session: Session,
    *,
    partner: str,
    site_ids: list[str],
    by: User,
    title: str,
    summary: str = "",
    recommended_action: str = (
        "Ground investigation by the partner's authorities, with care for residents."
    ),
    internal_note: str = "",
    tlp: str | None = None,
) -> Lead:
    """Draft a lead for ``partner`` from confirmed sites.

    Parameters
    ----------
    partner : str
        Partner id or name.
    site_ids : list of str
        Confirmed sites (at least one).
    by : User
        The drafter: a liaison, or a supervisor (whose lead another supervisor approves).
    title, summary, recommended_action : str
        Releasable text (scrubbed of withheld identifiers on release).
    internal_note : str
        Kept internal unless the policy releases the ``internal`` category.
    tlp : str, optional
        TLP 2.0 level; the partner policy's default (AMBER unless set) if omitted.

    Raises
    ------
    AuthError
        The user is neither a liaison nor a supervisor.
    NotFoundError
        Unknown partner or site.
    ConflictError
        A site is not confirmed, or was merged (the message names the live one).
    InvalidParameterError
        No site, an empty or long title, a bad TLP level.
    """
    require_role(by, "liaison", "supervisor")
    p = find_partner(session, partner)
    ids = list(dict.fromkeys(s.strip() for s in site_ids if s.strip()))
    if not ids:
        raise InvalidParameterError("a lead needs at least one site")
    for sid in ids:
        site = follow_merges(session, sid)
        if site.id != sid:
            raise ConflictError(f"site {sid} was merged into {site.id}: draft on that one")
        if site.status != "confirmed":
            raise ConflictError(f"site {sid} is {site.status}: only confirmed sites become leads")
    title = check_text("title", title, 200)
    if not title:
        raise InvalidParameterError("a lead needs a title")
    lead = Lead(
        id=f"lead-{secrets.token_hex(8)}",
        partner_id=p.id,
        status="draft",
        tlp=parse_tlp(tlp) if tlp else partner_policy(p).tlp,
        title=title,
        summary=check_text("summary", summary),
        recommended_action=check_text("recommended_action", recommended_action),
        internal_note=check_text("internal_note", internal_note),
        drafted_by=by.id,
        drafted=utcnow(),
    )
    session.add(lead)
    session.flush()
    session.add_all(LeadSite(lead_id=lead.id, site_id=sid) for sid in ids)
    session.flush()
    append_event(
        session,
        actor=by.name,
        action="lead.draft",
        entity="lead",
        entity_id=lead.id,
        after={"partner": p.id, "sites": ids, "tlp": lead.tlp, "title": title},
    )
    return lead


def preview_lead(
    session: Session, lead_id: str, *, producer: str, approver: str | None = None
) -> tuple[ReleasableLead, Redaction]:
    """Return what releasing the lead now would send, and what redaction removed."""
    lead = get_lead(session, lead_id)
    if lead.release is not None:
        return release_of(lead), Redaction(**(lead.redaction or {}))
    partner = session.get(Partner, lead.partner_id)
    assert partner is not None
    internal = internal_lead(session, lead, approved_by=approver)
    return redact(internal, partner_policy(partner), producer)


def approve_lead(
    session: Session, lead_id: str, *, by: User, producer: str, now: datetime | None = None
) -> Lead:
    """Release a drafted lead: a supervisor other than the drafter approves it.

    The releasable lead is built under the partner's current policy, frozen on the lead,
    and its STIX objects are added to the partner's TAXII collection.

    Raises
    ------
    AuthError
        The user is not a supervisor, or drafted the lead (two-person rule).
    ConflictError
        The lead is not a draft, or one of its sites is no longer confirmed.
    """
    require_role(by, "supervisor")
    # releases commit in the order of their times, so a partner polling its collection
    # with added_after never misses one committed late
    serialize(session)
    lead = get_lead(session, lead_id)
    if lead.status != "draft":
        raise ConflictError(f"lead {lead_id} is {lead.status}, not a draft")
    if lead.drafted_by == by.id:
        raise AuthError("two-person rule: the drafter of a lead cannot approve it")
    for sid in lead_site_ids(session, lead.id):
        site = follow_merges(session, sid)
        if site.status != "confirmed":
            raise ConflictError(f"site {site.id} of this lead is now {site.status}, not confirmed")
    t = now or utcnow()
    partner = session.get(Partner, lead.partner_id)
    assert partner is not None
    releasable, redaction = redact(
        internal_lead(session, lead, approved_by=by.name, released=t),
        partner_policy(partner),
        producer,
    )
    lead.status = "released"
    lead.approved_by = by.id
    lead.released = t
    lead.release = releasable.to_dict()
    lead.redaction = {"withheld": redaction.withheld, "scrubbed": redaction.scrubbed}
    session.flush()
    _share(session, lead, releasable, t)
    add_event(session, lead, "released", t, by, "system")
    append_event(
        session,
        actor=by.name,
        action="lead.release",
        entity="lead",
        entity_id=lead.id,
        before={"status": "draft"},
        after={"status": "released", "released": t, "redaction": lead.redaction},
    )
    return lead


def _share(session: Session, lead: Lead, releasable: ReleasableLead, t: datetime) -> None:
    """Add the lead's STIX objects to its partner's collection (versions it lacks only)."""
    objects = lead_objects(releasable, t)
    have = {
        (sid, mod)
        for sid, mod in session.execute(
            select(SharedObject.stix_id, SharedObject.modified).where(
                SharedObject.partner_id == lead.partner_id,
                SharedObject.stix_id.in_([o["id"] for o in objects]),
            )
        )
    }
    for obj in objects:
        key = (obj["id"], stix_time(str(obj.get("modified", obj["created"]))))
        if key in have:
            continue  # the same version of a shared object (identities, markings)
        session.add(
            SharedObject(
                partner_id=lead.partner_id,
                lead_id=lead.id,
                stix_id=obj["id"],
                stix_type=obj["type"],
                modified=key[1],
                date_added=t,
                media_type=STIX_MEDIA_TYPE,
                body=json.dumps(obj, sort_keys=True),
            )
        )
    session.flush()


def reject_lead(session: Session, lead_id: str, *, by: User, note: str) -> Lead:
    """Send a draft back to its drafter with the supervisor's reasons (it stays a draft)."""
    require_role(by, "supervisor")
    lead = get_lead(session, lead_id)
    if lead.status != "draft":
        raise ConflictError(f"lead {lead_id} is {lead.status}, not a draft")
    note = check_text("note", note)
    if not note:
        raise InvalidParameterError("say why the lead is sent back (note)")
    add_event(session, lead, "returned", utcnow(), by, "system", text=note)
    append_event(
        session,
        actor=by.name,
        action="lead.return",
        entity="lead",
        entity_id=lead.id,
        after={"note": note},
    )
    return lead


def add_event(
    session: Session,
    lead: Lead,
    kind: str,
    time: datetime,
    user: User | None,
    channel: str,
    *,
    outcome: str | None = None,
    text: str = "",
) -> LeadEvent:
    """Add one step to a lead's history (``channel``: partner, liaison, survey, system)."""
    ev = LeadEvent(
        id=f"lev-{secrets.token_hex(6)}",
        lead_id=lead.id,
        kind=kind,
        time=time,
        user_id=None if user is None else user.id,
        channel=channel,
        outcome=outcome,
        text=text,
    )
    session.add(ev)
    session.flush()
    return ev


def release_of(lead: Lead) -> ReleasableLead:
    """Return exactly what was released for ``lead`` (the frozen release).

    Raises
    ------
    ConflictError
        The lead is a draft: only released leads leave.
    """
    if lead.release is None:
        raise ConflictError(
            f"lead {lead.id} is a {lead.status}, not released: only released leads leave "
            f"(see `plumetrace leads preview {lead.id}`)"
        )
    return ReleasableLead.from_dict(lead.release)


def released_lead(session: Session, lead_id: str, partner_id: str) -> Lead:
    """Return a lead released to ``partner_id``; anything else is not found (404)."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.partner_id != partner_id or lead.status != "released":
        raise NotFoundError(f"no lead {lead_id!r}")
    return lead
