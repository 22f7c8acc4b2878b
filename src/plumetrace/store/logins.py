"""Password logins with throttling, every attempt counted and the notable ones audited.

A login is refused without even checking the password (HTTP 429) once, within the last
``window``, there were too many failures for

* this user name from this client address (default 5): stops guessing from one place;
* this client address, any names (default 20): stops one place trying many names;
* this user name, any addresses (default 50): caps guessing spread over many places,
  high enough that one address cannot lock a user out.

Every attempt is kept for a day in ``login_attempts`` (what the limits count). The
hash-chained audit log gets each success (``auth.login``), each failure
(``auth.login_failed``) and the failure that reaches a limit (``auth.login_throttled``);
refused attempts are not written anywhere (they cost nothing and cannot flood the log).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from plumetrace.errors import AuthError
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import LoginAttempt, User
from plumetrace.store.types import utcnow
from plumetrace.store.users import authenticate

__all__ = ["LoginOutcome", "LoginPolicy", "attempt_login"]

_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed logins, within ``window``, before a key must wait."""

    window: timedelta = timedelta(minutes=15)
    per_user_client: int = 5
    per_client: int = 20
    per_user: int = 50


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt came to.

    Attributes
    ----------
    user : User or None
        The authenticated user; None when refused.
    status : int
        200, 401 (wrong name or password) or 429 (too many failures: wait).
    message : str
        For the client: never says whether the name exists.
    retry_after_s : int
        With 429: seconds until the oldest counted failure leaves the window.
    """

    user: User | None
    status: int
    message: str = ""
    retry_after_s: int = 0


def _failures(session: Session, since: datetime, **where: str) -> tuple[int, datetime | None]:
    """Return the failures since ``since`` matching ``where`` and the oldest one's time."""
    stmt = select(func.count(), func.min(LoginAttempt.time)).where(
        LoginAttempt.time > since, LoginAttempt.ok.is_(False)
    )
    for column, value in where.items():
        stmt = stmt.where(getattr(LoginAttempt, column) == value)
    count, oldest = session.execute(stmt).one()
    return int(count), oldest


def _limits(policy: LoginPolicy, name: str, client: str) -> list[tuple[str, int, dict[str, str]]]:
    return [
        ("user+client", policy.per_user_client, {"name": name, "client": client}),
        ("client", policy.per_client, {"client": client}),
        ("user", policy.per_user, {"name": name}),
    ]


def attempt_login(
    session: Session, name: str, password: str, client: str, policy: LoginPolicy
) -> LoginOutcome:
    """Check a name and password under the throttling policy, and record the attempt.

    The caller commits the session whatever the outcome (a failure must be counted).

    Parameters
    ----------
    session : Session
        A writing session.
    name, password : str
        As typed.
    client : str
        The client's address (as the server sees it: behind a reverse proxy, configure
        the proxy headers so this is the real client).
    policy : LoginPolicy
    """
    now = utcnow()
    since = now - policy.window
    client = client[:64]
    session.execute(delete(LoginAttempt).where(LoginAttempt.time < now - _KEEP))
    for _scope, limit, where in _limits(policy, name, client):
        count, oldest = _failures(session, since, **where)
        if count >= limit:
            wait = 1 if oldest is None else (oldest + policy.window - now).total_seconds()
            seconds = max(1, int(wait) + 1)
            return LoginOutcome(
                None,
                429,
                f"too many failed logins: try again in {max(1, math.ceil(wait / 60))} min",
                seconds,
            )
    try:
        user = authenticate(session, name, password)
    except AuthError as exc:
        session.add(LoginAttempt(time=now, name=name[:120], client=client, ok=False))
        session.flush()
        # a known user's events go on their trail (entity id = user id); else the name
        known = session.scalar(select(User.id).where(User.name == name))
        entity_id = known if known is not None else name[:64]
        append_event(
            session,
            actor="anonymous",
            action="auth.login_failed",
            entity="user",
            entity_id=entity_id,
            after={"name": name[:120], "client": client, "known_user": known is not None},
        )
        for scope, limit, where in _limits(policy, name, client):
            if _failures(session, since, **where)[0] == limit:
                append_event(
                    session,
                    actor="system",
                    action="auth.login_throttled",
                    entity="user",
                    entity_id=entity_id,
                    after={"scope": scope, **where, "failures": limit},
                )
        return LoginOutcome(None, exc.status, str(exc))
    session.add(LoginAttempt(time=now, name=name[:120], client=client, ok=True))
    append_event(
        session,
        actor=user.name,
        action="auth.login",
        entity="user",
        entity_id=user.id,
        after={"client": client},
    )
    return LoginOutcome(user, 200)
