"""User administration (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import CurrentUser, ReadSession, SessionRoute, WriteSession, allow, present
from plumetrace.store.compartments import set_user_compartments
from plumetrace.store.partners import find_partner
from plumetrace.store.users import add_user, find_user, list_users, revoke_tokens, set_active

__all__ = ["router"]

router = APIRouter(tags=["users"], route_class=SessionRoute)


class NewUser(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(description="analyst, supervisor, liaison, partner or admin")
    partner: str | None = Field(
        default=None, max_length=200, description="The partner (id or name) a partner user is of"
    )


@router.post("/api/users", status_code=201, **allow("admin"))
def create_user(body: NewUser, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    """Create a user; the response carries their one-time password (shown only once)."""
    partner_id = None if body.partner is None else find_partner(session, body.partner).id
    new, password = add_user(session, body.name, body.role, actor=user.name, partner_id=partner_id)
    return {
        "id": new.id,
        "name": new.name,
        "role": new.role,
        "partner": new.partner_id,
        "password": password,
    }


@router.get("/api/users", **allow("admin"))
def users(session: ReadSession) -> dict[str, Any]:
    """List every user (never a password hash)."""
    return present({"users": list_users(session)})


@router.post("/api/users/{user_id}/revoke-tokens", **allow("admin"))
def revoke(user_id: str, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    """Log a user out everywhere: revoke every token they hold."""
    return {"revoked": revoke_tokens(session, find_user(session, user_id), actor=user.name)}


class Activity(BaseModel):
    """Whether a user may log in."""

    model_config = ConfigDict(extra="forbid")
    active: bool


@router.put("/api/users/{user_id}/active", **allow("admin"))
def activate(
    user_id: str, body: Activity, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Activate or deactivate a user (deactivating revokes their tokens at once)."""
    target = find_user(session, user_id)
    set_active(session, target, body.active, actor=user.name)
    return {"id": target.id, "name": target.name, "active": target.active}


class Compartments(BaseModel):
    """The compartments (teams) a user belongs to: they see those restricted sites."""

    model_config = ConfigDict(extra="forbid")
    compartments: list[str] = Field(max_length=100)


@router.put("/api/users/{user_id}/compartments", **allow("admin"))
def compartments(
    user_id: str, body: Compartments, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Set the compartments a user belongs to (replacing the previous ones)."""
    target = find_user(session, user_id)
    names = set_user_compartments(session, target, body.compartments, actor=user.name)
    return {"id": target.id, "name": target.name, "compartments": names}
