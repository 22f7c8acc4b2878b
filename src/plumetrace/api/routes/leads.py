"""Leads for the program's staff: draft, review and release, response, metrics, exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import (
    CurrentUser,
    ReadSession,
    SessionRoute,
    WriteSession,
    allow,
    app_settings,
    present,
)
from plumetrace.settings import Settings
from plumetrace.share.export import ExportFormat, render_lead
from plumetrace.store import lead_response as response
from plumetrace.store import leads as store
from plumetrace.store import partners

__all__ = ["router"]

router = APIRouter(tags=["leads"], route_class=SessionRoute)

STAFF = ("analyst", "supervisor", "liaison")
"""Who may read leads and their metrics."""

SettingsDep = Annotated[Settings, Depends(app_settings)]


class NewLead(BaseModel):
    """A lead to draft from confirmed sites."""

    model_config = ConfigDict(extra="forbid")
    partner: str = Field(min_length=1, max_length=200)
    sites: list[str] = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=20_000)
    recommended_action: str | None = Field(default=None, max_length=20_000)
    internal_note: str = Field(default="", max_length=20_000)
    tlp: str | None = Field(default=None, max_length=20)


class ReturnNote(BaseModel):
    """Why a supervisor sends a draft back."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=20_000)


class ResponseEvent(BaseModel):
    """A step of the partner's response, recorded by a liaison (other channels)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["acknowledged", "feedback", "action", "verified"]
    time: datetime | None = None
    outcome: str | None = Field(default=None, max_length=24)
    text: str = Field(default="", max_length=20_000)
    verification: Literal["no-emission", "still-emitting"] | None = None


@router.get("/api/leads", **allow(*STAFF))
def list_leads(
    session: ReadSession,
    partner: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[Literal["draft", "released"] | None, Query()] = None,
) -> dict[str, Any]:
    """List leads, newest first, with status and response state."""
    return present({"leads": response.list_leads(session, partner=partner, status=status)})


@router.post("/api/leads", status_code=201, **allow("liaison", "supervisor"))
def draft_lead(body: NewLead, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    """Draft a lead for a partner from confirmed sites (liaisons, supervisors)."""
    kw: dict[str, Any] = {}
    if body.recommended_action is not None:
        kw["recommended_action"] = body.recommended_action
    lead = store.draft_lead(
        session,
        partner=body.partner,
        site_ids=body.sites,
        by=user,
        title=body.title,
        summary=body.summary,
        internal_note=body.internal_note,
        tlp=body.tlp,
        **kw,
    )
    return present(response.lead_detail(session, lead.id))


@router.get("/api/leads/metrics", **allow(*STAFF))
def metrics(session: ReadSession) -> dict[str, Any]:
    """Response metrics overall, per partner, per month of release, and each lead's state."""
    return present(response.lead_metrics(session))


@router.get("/api/leads/{lead_id}", **allow(*STAFF))
def lead(lead_id: str, session: ReadSession) -> dict[str, Any]:
    """One lead with its events and, once released, exactly what the partner received."""
    return present(response.lead_detail(session, lead_id))


@router.get("/api/leads/{lead_id}/preview", **allow("liaison", "supervisor"))
def preview(
    lead_id: str, session: ReadSession, user: CurrentUser, settings: SettingsDep
) -> dict[str, Any]:
    """Show what release would send now (the release review) and what redaction removed."""
    releasable, redaction = store.preview_lead(
        session, lead_id, producer=settings.producer, approver=user.name
    )
    return present(
        {
            "lead": releasable.to_dict(),
            "redaction": {"withheld": redaction.withheld, "scrubbed": redaction.scrubbed},
        }
    )


@router.post("/api/leads/{lead_id}/approve", **allow("supervisor"))
def approve(
    lead_id: str, session: WriteSession, user: CurrentUser, settings: SettingsDep
) -> dict[str, Any]:
    """Release a draft (a supervisor other than its drafter: two-person rule)."""
    store.approve_lead(session, lead_id, by=user, producer=settings.producer)
    return present(response.lead_detail(session, lead_id))


@router.post("/api/leads/{lead_id}/return", **allow("supervisor"))
def send_back(
    lead_id: str, body: ReturnNote, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Send a draft back to its drafter with the reasons."""
    store.reject_lead(session, lead_id, by=user, note=body.note)
    return present(response.lead_detail(session, lead_id))


@router.post("/api/leads/{lead_id}/events", status_code=201, **allow("liaison"))
def record(
    lead_id: str, body: ResponseEvent, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Record a partner response that came by another channel (liaisons)."""
    response.record_event(
        session,
        lead_id,
        body.kind,
        by=user,
        time=body.time,
        outcome=body.outcome,
        text=body.text,
        verification=body.verification,
    )
    return present(response.lead_detail(session, lead_id))


@router.get("/api/leads/{lead_id}/export", **allow(*STAFF))
def export(
    lead_id: str,
    session: ReadSession,
    format: Annotated[ExportFormat, Query()] = "stix",
) -> Response:
    """Export a released lead in a partner format, exactly as released."""
    body, media_type = render_lead(store.release_of(store.get_lead(session, lead_id)), format)
    return Response(body, media_type=media_type)


@router.get("/api/partners", **allow(*STAFF, "admin"))
def list_partners(session: ReadSession) -> dict[str, Any]:
    """List partners and their release policies."""
    return present({"partners": partners.list_partners(session)})
