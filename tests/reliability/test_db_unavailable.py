"""The API while its database is unavailable: a clean 503, no partial write, recovery.

Faults are injected into the app's own engine (both backends):

- *unreachable*: the pool is emptied and every new connection fails as the driver fails
  when the server is down or the SQLite file cannot be opened (``OperationalError``);
- *lost mid-request*: a write request's connection fails at the statement after its first
  INSERT, before the commit (the request did part of its work);

then the fault is lifted and the same app (no restart) must answer normally.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from plumetrace.api.errors import DB_UNAVAILABLE
from plumetrace.store.engine import session_scope
from plumetrace.store.models import AuditEvent, Review, Site
from tests.api.conftest import Api, _fast_argon2, api  # noqa: F401  (fixtures)


class Fault:
    """Switchable faults on an engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.refuse_connect = False
        self.fail_after_insert = False
        self._inserted = False
        event.listen(engine, "do_connect", self._connect)
        event.listen(engine, "before_cursor_execute", self._execute)

    def remove(self) -> None:
        event.remove(self.engine, "do_connect", self._connect)
        event.remove(self.engine, "before_cursor_execute", self._execute)

    def _error(self, what: str) -> Exception:
        dbapi = self.engine.dialect.loaded_dbapi
        return dbapi.OperationalError(f"injected fault: {what}")  # type: ignore[no-any-return]

    def _connect(self, *_a: Any, **_k: Any) -> None:
        if self.refuse_connect:
            raise self._error("connection refused (server down)")

    def _execute(self, conn: Any, _cursor: Any, statement: str, params: Any, *_a: Any) -> None:
        if not self.fail_after_insert:
            return
        if self._inserted:  # whatever the next statement is
            raise sa.exc.OperationalError(statement, params, self._error("connection lost"))
        if statement.lstrip().upper().startswith("INSERT"):
            self._inserted = True


@pytest.fixture
def fault(api: Api) -> Iterator[Fault]:  # noqa: F811
    engine = api.client.app.state.engine  # type: ignore[attr-defined]
    f = Fault(engine)
    yield f
    f.remove()


def _state(api: Api) -> tuple[int, int, int]:  # noqa: F811
    with session_scope(api.engine) as s:
        return (
            int(s.scalar(sa.select(sa.func.count()).select_from(Review)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0),
            int(s.scalar(sa.select(sa.func.max(Site.version))) or 0),
        )


def _review(api: Api, site: str) -> Any:  # noqa: F811
    body = {"decision": "confirm", "version": api.version(site)}
    return api.post(f"/api/sites/{site}/reviews", "ana", json=body)


def _is_503(r: Any) -> None:
    assert r.status_code == 503, r.text
    assert r.json() == {"detail": DB_UNAVAILABLE}
    assert r.headers["retry-after"] == "5"
    assert "Traceback" not in r.text and "injected" not in r.text


def test_unreachable_database_503_then_recovers(api: Api, fault: Fault) -> None:  # noqa: F811
    before = _state(api)
    fault.refuse_connect = True
    api.client.app.state.engine.dispose()  # type: ignore[attr-defined]  # pooled ones die too
    _is_503(api.get("/api/sites", "ana"))
    _is_503(api.get(f"/api/sites/{api.sites[0]}", "ana"))
    _is_503(
        api.post(
            f"/api/sites/{api.sites[0]}/reviews", "ana", json={"decision": "confirm", "version": 1}
        )
    )
    fault.refuse_connect = False
    assert _state(api) == before  # nothing was written while it was down
    r = api.get("/api/sites", "ana")
    assert r.status_code == 200, r.text
    assert r.json()
    r = _review(api, api.sites[0])
    assert r.status_code == 200, r.text
    assert _state(api)[0] == before[0] + 1


def test_connection_lost_mid_write_leaves_nothing(api: Api, fault: Fault) -> None:  # noqa: F811
    before = _state(api)
    fault.fail_after_insert = True
    _is_503(_review(api, api.sites[0]))
    fault.fail_after_insert = False
    assert _state(api) == before  # the review's INSERT was rolled back with the rest
    r = _review(api, api.sites[0])
    assert r.status_code == 200, r.text
    after = _state(api)
    assert after[0] == before[0] + 1 and after[1] > before[1]
