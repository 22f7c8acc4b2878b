"""Schemathesis against the OpenAPI schema: generated requests to every operation never
get a 5xx.

The app runs for real (uvicorn on a local port, SQLite store seeded with a user of every
role, two sites and a released lead). Each operation is called with the token of a user
whose role it allows (``x-roles``), so generated bodies and parameters reach the route's
code rather than stopping at 401/403. The default run tries a modest number of cases per
operation; the ``slow`` variant many more (``pytest -m slow tests/api/test_schemathesis.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from plumetrace.api import create_app
from plumetrace.settings import Settings
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import User
from plumetrace.store.users import issue_token
from tests.live import serve

from .conftest import USERS, add_people, seed_sites

ROLE_USER = {role: name for name, role in reversed(list(USERS.items()))}
"""One user per role (the first of each in :data:`USERS`)."""


@dataclass
class Live:
    url: str
    engine: sa.Engine
    user_ids: dict[str, str]

    def token(self, name: str) -> str:
        """A fresh token of ``name``: a generated logout or revocation ends only its own."""
        with session_scope(self.engine, write=True) as s:
            user = s.get(User, self.user_ids[name])
            assert user is not None
            return issue_token(s, user, timedelta(minutes=10))[0]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp / 'plumetrace.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine, write=True) as s:
        ids = {name: user.id for name, (user, _pw) in add_people(s).items()}
    seed_sites(engine)
    app = create_app(Settings(home=tmp / "home", database_url=url, verify_audit_on_start=False))
    try:
        with serve(app) as base:
            yield Live(base, engine, ids)
    finally:
        engine.dispose()


def _operations() -> list[Any]:
    """Every operation of the app's schema (made in-process: no server needed for it)."""
    app = create_app(Settings(database_url="sqlite://"))
    spec = schemathesis.openapi.from_dict(app.openapi())
    return [result.ok() for result in spec.get_all_operations()]


OPERATIONS = _operations()


def _user(operation: Any) -> str | None:
    """A user whose role the operation allows (None: a public operation)."""
    roles = operation.definition.raw.get("x-roles", [])
    staff = [r for r in roles if r in ROLE_USER]
    return ROLE_USER[staff[0]] if staff else None


def _run(operation: Any, live: Live, examples: int) -> None:
    user = _user(operation)

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def no_5xx(case: Any) -> None:
        headers = {} if user is None else {"Authorization": f"Bearer {live.token(user)}"}
        response = case.call(base_url=live.url, headers=headers, timeout=30)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: "
            f"{response.text[:300]}\n{case.as_curl_command()}"
        )

    no_5xx()


def test_the_schema_has_every_operation() -> None:
    assert len(OPERATIONS) >= 50


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_operation_answers_5xx(operation: Any, live: Live) -> None:
    _run(operation, live, 12)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_operation_answers_5xx_long(operation: Any, live: Live) -> None:
    _run(operation, live, 200)
