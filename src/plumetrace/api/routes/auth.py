"""Log in and out: bearer tokens for the workbench."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import (
    PASSWORD_ROUTE,
    PUBLIC,
    BearerToken,
    CurrentUser,
    WriteSession,
    allow,
    app_settings,
    present,
)
from plumetrace.security import ROLES
from plumetrace.settings import Settings
from plumetrace.store.users import authenticate, change_password, issue_token, revoke_token

__all__ = ["router"]

router = APIRouter(tags=["auth"])

_EVERYONE = ROLES  # partners too: they log in, change their password, log out


class LoginBody(BaseModel):
    """A user name and password."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/api/auth/login", **allow(PUBLIC))
def login(
    body: LoginBody,
    session: WriteSession,
    settings: Annotated[Settings, Depends(app_settings)],
) -> dict[str, Any]:
    """Exchange a name and password for a bearer token."""
    user = authenticate(session, body.name, body.password)
    token, expires = issue_token(session, user, timedelta(hours=settings.token_ttl_h))
    return present(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires": expires,
            "role": user.role,
            "must_change_password": user.must_change_password,
        }
    )


class PasswordBody(BaseModel):
    """The current password and the new one."""

    model_config = ConfigDict(extra="forbid")
    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


@router.post(PASSWORD_ROUTE, status_code=204, **allow(*_EVERYONE))
def password(body: PasswordBody, user: CurrentUser, session: WriteSession) -> None:
    """Set your own password (required after the one-time one); then log in again."""
    change_password(session, user, body.old_password, body.new_password)


@router.post("/api/auth/logout", status_code=204, **allow(*_EVERYONE))
def logout(token: BearerToken, session: WriteSession) -> None:
    """Revoke the token the request carries."""
    revoke_token(session, token)


@router.get("/api/auth/me", **allow(*_EVERYONE))
def me(user: CurrentUser) -> dict[str, Any]:
    """Return who the token belongs to."""
    return {"id": user.id, "name": user.name, "role": user.role}
