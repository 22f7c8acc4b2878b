from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from plumetrace import security
from plumetrace.store import logins
from plumetrace.store.audit_log import verify
from plumetrace.store.engine import session_scope
from plumetrace.store.logins import LoginPolicy, attempt_login
from plumetrace.store.models import AuditEvent, LoginAttempt
from plumetrace.store.types import utcnow
from plumetrace.store.users import add_user

POLICY = LoginPolicy(window=timedelta(minutes=15), per_user_client=3, per_client=5, per_user=7)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The time the login code sees: ``clock[0]``, moved by the test."""
    now = [utcnow()]
    monkeypatch.setattr(logins, "utcnow", lambda: now[0])
    return now


def _people(engine: sa.Engine) -> dict[str, str]:
    with session_scope(engine, write=True) as s:
        return {n: add_user(s, n, "analyst", actor="t")[1] for n in ("ana", "bob")}


def _try(engine: sa.Engine, name: str, password: str, client: str) -> logins.LoginOutcome:
    with session_scope(engine, write=True) as s:  # committed whatever the outcome
        out = attempt_login(s, name, password, client, POLICY)
        return logins.LoginOutcome(None, out.status, out.message, out.retry_after_s)


def _actions(engine: sa.Engine) -> list[str]:
    with session_scope(engine) as s:
        q = sa.select(AuditEvent.action).where(AuditEvent.action.like("auth.%"))
        return list(s.scalars(q.order_by(AuditEvent.seq)))


def test_failures_from_one_client_throttle_that_user_there(
    engine: sa.Engine, clock: list[datetime]
) -> None:
    pw = _people(engine)
    assert [_try(engine, "ana", "wrong", "10.0.0.1").status for _ in range(3)] == [401] * 3
    # the right password no longer helps from there: refused unchecked, with a wait
    refused = _try(engine, "ana", pw["ana"], "10.0.0.1")
    assert refused.status == 429 and 14 * 60 < refused.retry_after_s <= 15 * 60 + 1
    assert refused.message == "too many failed logins: try again in 15 min"
    # the same user from elsewhere, another user from there: still fine
    assert _try(engine, "ana", pw["ana"], "10.0.0.2").status == 200
    assert _try(engine, "bob", pw["bob"], "10.0.0.1").status == 200
    assert _actions(engine) == [
        "auth.login_failed",
        "auth.login_failed",
        "auth.login_failed",
        "auth.login_throttled",
        "auth.login",
        "auth.login",
    ]  # the refused attempt left no trace in the log
    # the window passes: the user may try again from there
    clock[0] += timedelta(minutes=15, seconds=1)
    assert _try(engine, "ana", pw["ana"], "10.0.0.1").status == 200
    with session_scope(engine) as s:
        assert verify(s).ok


def test_one_client_trying_many_names_is_throttled(
    engine: sa.Engine, clock: list[datetime]
) -> None:
    pw = _people(engine)
    statuses = [_try(engine, f"user{i}", "x", "10.0.0.9").status for i in range(5)]
    assert statuses == [401] * 5
    assert _try(engine, "ana", pw["ana"], "10.0.0.9").status == 429
    assert _try(engine, "ana", pw["ana"], "10.0.0.8").status == 200


def test_guessing_spread_over_clients_is_capped_per_user(
    engine: sa.Engine, clock: list[datetime]
) -> None:
    pw = _people(engine)
    for i in range(7):
        assert _try(engine, "ana", "guess", f"10.1.0.{i}").status == 401
    assert _try(engine, "ana", pw["ana"], "10.1.0.200").status == 429
    assert _try(engine, "bob", pw["bob"], "10.1.0.200").status == 200
    with session_scope(engine) as s:
        throttled = s.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "auth.login_throttled")
        ).one()
        assert throttled.after is not None and throttled.after["scope"] == "user"
        failed = s.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
        ).first()
        assert failed is not None and failed.after == {
            "name": "ana",
            "client": "10.1.0.0",
            "known_user": True,
        }


def test_attempts_are_kept_one_day(engine: sa.Engine, clock: list[datetime]) -> None:
    _people(engine)
    _try(engine, "ana", "wrong", "10.0.0.1")
    clock[0] += timedelta(days=1, minutes=1)
    _try(engine, "nobody", "wrong", "10.0.0.1")
    with session_scope(engine) as s:
        names = list(s.scalars(sa.select(LoginAttempt.name)))
    assert names == ["nobody"]
