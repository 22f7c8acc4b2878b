"""User administration (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import CurrentUser, ReadSession, WriteSession, allow, present
from plumetrace.store.users import add_user, list_users

__all__ = ["router"]

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(description="analyst, supervisor, liaison, partner or admin")


@router.post("/api/users", status_code=201, **allow("admin"))
def create_user(body: NewUser, session: WriteSession, user: CurrentUser) -> dict[str, Any]:
    """Create a user; the response carries their one-time password (shown only once)."""
    new, password = add_user(session, body.name, body.role, actor=user.name)
    return {"id": new.id, "name": new.name, "role": new.role, "password": password}


@router.get("/api/users", **allow("admin"))
def users(session: ReadSession) -> dict[str, Any]:
    """List every user (never a password hash)."""
    return present({"users": list_users(session)})
