"""The partner's own routes: its released leads, and its acknowledgements and feedback.

A partner user sees only leads released to its partner: any other lead, released or
not, is simply not found (404), so nothing tells it what else exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import CurrentUser, ReadSession, SessionRoute, WriteSession, allow, present
from plumetrace.errors import AuthError
from plumetrace.share.export import ExportFormat, render_lead
from plumetrace.share.metrics import OUTCOMES
from plumetrace.store import lead_response as response
from plumetrace.store import leads as store
from plumetrace.store.models import User

__all__ = ["router"]

router = APIRouter(tags=["partner"], route_class=SessionRoute)


class Acknowledgement(BaseModel):
    """The partner has received the lead."""

    model_config = ConfigDict(extra="forbid")
    time: datetime | None = None
    text: str = Field(default="", max_length=20_000)


class Feedback(BaseModel):
    """What the partner did and found."""

    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(description=", ".join(OUTCOMES), max_length=24)
    text: str = Field(default="", max_length=20_000)
    time: datetime | None = None
    action_date: datetime | None = Field(
        default=None, description="When the partner acted on the ground, if it did"
    )


def _partner(user: User) -> str:
    if user.partner_id is None:
        raise AuthError("this partner user belongs to no partner")
    return user.partner_id


@router.get("/api/partner/leads", **allow("partner"))
def my_leads(session: ReadSession, user: CurrentUser) -> dict[str, Any]:
    """List the leads released to your organization, as released, with your responses."""
    return present({"leads": response.partner_leads(session, _partner(user))})


@router.get("/api/partner/leads/{lead_id}", **allow("partner"))
def my_lead(lead_id: str, session: ReadSession, user: CurrentUser) -> dict[str, Any]:
    """One lead released to your organization (404 for any other)."""
    return present(response.partner_lead(session, _partner(user), lead_id))


@router.get("/api/partner/leads/{lead_id}/export", **allow("partner"))
def my_export(
    lead_id: str,
    session: ReadSession,
    user: CurrentUser,
    format: Annotated[ExportFormat, Query()] = "stix",
) -> Response:
    """One of your leads as STIX 2.1, GeoJSON, KML or Cursor-on-Target."""
    lead = store.released_lead(session, lead_id, _partner(user))
    body, media_type = render_lead(store.release_of(lead), format)
    return Response(body, media_type=media_type)


@router.post("/api/partner/leads/{lead_id}/acknowledge", **allow("partner"))
def acknowledge(
    lead_id: str, body: Acknowledgement, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Acknowledge receipt of a lead."""
    response.record_event(session, lead_id, "acknowledged", by=user, time=body.time, text=body.text)
    return present(response.partner_lead(session, _partner(user), lead_id))


@router.post("/api/partner/leads/{lead_id}/feedback", **allow("partner"))
def feedback(
    lead_id: str, body: Feedback, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Report the outcome (and, if you acted, the action date)."""
    if body.action_date is not None:
        response.record_event(session, lead_id, "action", by=user, time=body.action_date)
    response.record_event(
        session,
        lead_id,
        "feedback",
        by=user,
        time=body.time,
        outcome=body.outcome,
        text=body.text,
    )
    return present(response.partner_lead(session, _partner(user), lead_id))
