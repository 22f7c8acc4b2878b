"""Engines: a PostgreSQL connection the server closed is replaced, at most one request lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from plumetrace.store import engine as engine_module
from plumetrace.store.engine import make_engine, session_scope
from tests.conftest import _pg_schema_url


@pytest.fixture
def pg() -> Iterator[sa.Engine]:
    schema = _pg_schema_url()
    eng = make_engine(next(schema), pool_size=1, max_overflow=0)
    yield eng
    eng.dispose()
    schema.close()  # drops the schema


def _kill_pooled_connection(eng: sa.Engine) -> None:
    with eng.connect() as c:
        pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = sa.create_engine(eng.url, poolclass=sa.pool.NullPool)
    with admin.begin() as c:
        c.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
    admin.dispose()


def _read(eng: sa.Engine) -> int:
    with session_scope(eng, read_only=True) as s:
        return int(s.execute(sa.text("SELECT 1")).scalar() or 0)


def test_an_idle_dead_connection_is_pinged_and_replaced(
    pg: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_S", 0.0)  # every checkout is "idle"
    _kill_pooled_connection(pg)
    assert _read(pg) == 1  # no error: the ping found it dead, the pool opened another


@pytest.mark.parametrize("dead", [True, False])
def test_a_ping_failing_in_its_clean_up_on_a_dead_connection_is_a_disconnect(
    pg: sa.Engine, monkeypatch: pytest.MonkeyPatch, dead: bool
) -> None:
    # the race CI met once: the ping's query hit the closed socket, then restoring
    # autocommit raised ProgrammingError, which is_disconnect does not recognise
    from types import SimpleNamespace

    import psycopg

    def ping(_connection: object) -> None:
        raise psycopg.ProgrammingError(
            "can't change 'autocommit' now: connection in transaction status ACTIVE"
        )

    monkeypatch.setattr(pg.dialect, "do_ping", ping)
    monkeypatch.setattr(engine_module, "IDLE_PING_S", 0.0)
    checkout = engine_module._ping_if_idle(pg)
    connection = SimpleNamespace(closed=dead, broken=dead)
    record = SimpleNamespace(info={})
    expected = sa.exc.DisconnectionError if dead else psycopg.ProgrammingError
    with pytest.raises(expected):
        checkout(connection, record, None)


def test_a_busy_dead_connection_fails_one_request_then_recovers(
    pg: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_S", 3600.0)  # never pinged
    _kill_pooled_connection(pg)
    with pytest.raises(sa.exc.OperationalError):
        _read(pg)
    assert _read(pg) == 1  # the failure invalidated the pool: the next one reconnects


def test_an_unused_engine_is_freed_with_its_session_factories(tmp_path: Path) -> None:
    import gc
    import weakref

    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    for read_only in (False, True):
        with session_scope(engine, read_only=read_only) as s:
            s.execute(sa.text("SELECT 1"))
    ref = weakref.ref(engine)
    engine.dispose()
    del engine, s
    gc.collect()
    assert ref() is None  # nothing module-level keeps it (and its factories) alive
