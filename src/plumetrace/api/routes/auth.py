"""Log in and out: bearer tokens for the workbench."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import (
    PASSWORD_ROUTE,
    PUBLIC,
    BearerToken,
    CurrentUser,
    SessionRoute,
    WriteSession,
    allow,
    app_settings,
    present,
)
from plumetrace.security import ROLES
from plumetrace.settings import Settings
from plumetrace.store.logins import LoginPolicy, attempt_login
from plumetrace.store.users import change_password, issue_token, revoke_token

__all__ = ["router"]

router = APIRouter(tags=["auth"], route_class=SessionRoute)

_EVERYONE = ROLES  # partners too: they log in, change their password, log out


class LoginBody(BaseModel):
    """A user name and password."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=1024)


def login_policy(settings: Settings) -> LoginPolicy:
    """Return the login throttling the settings configure."""
    return LoginPolicy(
        window=timedelta(minutes=settings.login_window_min),
        per_user_client=settings.login_failures_per_user_client,
        per_client=settings.login_failures_per_client,
        per_user=settings.login_failures_per_user,
    )


@router.post(
    "/api/auth/login",
    response_model=None,
    responses={
        401: {"description": "Wrong user name or password (which one is not said)."},
        429: {"description": "Too many failed logins: wait `Retry-After` seconds."},
    },
    **allow(PUBLIC),
)
def login(
    body: LoginBody,
    request: Request,
    session: WriteSession,
    settings: Annotated[Settings, Depends(app_settings)],
) -> dict[str, Any] | JSONResponse:
    """Exchange a name and password for a bearer token (throttled after failures)."""
    client = request.client.host if request.client is not None else "unknown"
    outcome = attempt_login(session, body.name, body.password, client, login_policy(settings))
    user = outcome.user
    if user is None:  # answered, not raised: the session commits, so the failure counts
        headers = {"Retry-After": str(outcome.retry_after_s)} if outcome.status == 429 else None
        return JSONResponse({"detail": outcome.message}, outcome.status, headers=headers)
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
