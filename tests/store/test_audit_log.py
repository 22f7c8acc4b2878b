from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from plumetrace.store.audit_log import _LOCK, _LOCK_KEY, append_event, verify
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import upgrade
from tests.conftest import _pg_schema_url


def _fill(engine: sa.Engine, n: int = 5) -> None:
    for k in range(n):
        with session_scope(engine, write=True) as s:
            append_event(
                s,
                actor="ana",
                action="site.review",
                entity="site",
                entity_id=f"site-{k}",
                before={"status": "candidate", "n": k},
                after={"status": "confirmed", "note": "ünïcode ✓", "x": 0.1 + k},
            )


def test_chain_verifies(engine: sa.Engine) -> None:
    _fill(engine)
    with session_scope(engine) as s:
        v = verify(s)
    assert v.ok and v.events == 5 and v.head_seq == 5 and v.problems == []
    with session_scope(engine) as s:
        assert verify(s, expect_head=f"{v.head_seq}:{v.head_hash}").ok


def test_database_refuses_update_and_delete(engine: sa.Engine) -> None:
    _fill(engine, 2)
    for stmt in ("UPDATE audit_events SET actor='x'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(stmt)


def _drop_triggers(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_append_only ON audit_events")


@pytest.mark.parametrize(
    ("stmt", "problem"),
    [
        ("UPDATE audit_events SET actor='mallory' WHERE seq=3", "event 3: content"),
        ("DELETE FROM audit_events WHERE seq=2", "events 2-2 are missing"),
        ("UPDATE audit_events SET hash='00' WHERE seq=4", "event 5: does not link"),
    ],
)
def test_verify_detects_edits_and_deletions(engine: sa.Engine, stmt: str, problem: str) -> None:
    _fill(engine)
    _drop_triggers(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(stmt)
    with session_scope(engine) as s:
        v = verify(s)
    assert not v.ok
    assert any(problem in p for p in v.problems), v.problems


def test_truncation_is_caught_against_a_published_head(engine: sa.Engine) -> None:
    _fill(engine)
    with session_scope(engine) as s:
        head = verify(s)
    _drop_triggers(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events WHERE seq=5")
    with session_scope(engine) as s:
        assert verify(s).ok  # a shorter chain is still a chain …
        v = verify(s, expect_head=f"{head.head_seq}:{head.head_hash}")
    assert not v.ok and "no longer in the chain" in v.problems[0]  # … but not the published one


def test_concurrent_appends_never_fork_the_chain(engine: sa.Engine) -> None:
    """Threads appending at once: every event lands, numbered 1..n, and the chain verifies.

    On PostgreSQL the lock and the head's read go in one pipeline: the read must still
    see the event the previous holder committed.
    """
    from concurrent.futures import ThreadPoolExecutor

    def writer(k: int) -> None:
        for i in range(15):
            with session_scope(engine, write=True) as s:
                append_event(s, actor=f"a{k}", action="site.note", entity="site", entity_id=f"s{i}")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(writer, range(6)))
    with session_scope(engine) as s:
        v = verify(s)
        seqs = s.execute(sa.text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
    assert v.ok and v.events == 90 and v.problems == []
    assert seqs == list(range(1, 91))


@pytest.fixture
def pg() -> Iterator[sa.Engine]:
    """A migrated PostgreSQL store (the chain's lock is PostgreSQL's advisory lock)."""
    schema = _pg_schema_url()
    engine = make_engine(next(schema))
    upgrade(engine)
    yield engine
    engine.dispose()
    schema.close()  # drops the schema


def test_a_lock_timeout_is_a_database_error_and_nothing_lands(pg: sa.Engine) -> None:
    """The pipelined lock fails like any statement: SQLAlchemy's error, a clean rollback."""
    engine = pg
    _fill(engine, 1)
    with engine.connect() as holder:
        holder.execute(_LOCK, {"k": _LOCK_KEY})  # the chain's lock, held: transaction open
        with (
            pytest.raises(sa.exc.OperationalError, match="lock timeout"),
            session_scope(engine, write=True) as s,
        ):
            s.execute(sa.text("SET LOCAL lock_timeout = '50ms'"))
            append_event(s, actor="bob", action="site.note", entity="site", entity_id="x")
        holder.rollback()
    _fill(engine, 1)  # the pool's connections still work
    with session_scope(engine) as s:
        v = verify(s)
    assert v.ok and v.events == 2


def test_the_chain_lock_never_closes_a_deadlock(pg: sa.Engine) -> None:
    """A writer that logs first and then waits for a row, against one holding that row
    and then logging: both commit (the chain is appended at commit, its lock taken last).

    Taken when the event was added, the chain's lock would be held by the first while it
    waits for the row, and wanted by the second while it holds the row: PostgreSQL would
    abort one as deadlocked (an ingest's follow-up verifying a lead the partner's
    response is updating).
    """
    import threading

    engine = pg
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE scratch (id int PRIMARY KEY, v int)"))
        c.execute(sa.text("INSERT INTO scratch VALUES (1, 0)"))
    bump = sa.text("UPDATE scratch SET v = v + 1 WHERE id = 1")
    row_held, logged = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:  # holds the row, then logs
        try:
            with session_scope(engine, write=True) as s:
                s.execute(bump)
                row_held.set()
                assert logged.wait(10)
                s.execute(sa.text("SELECT pg_sleep(0.3)"))  # the other now waits for the row
                append_event(s, actor="lia", action="lead.response", entity="lead", entity_id="l")
        except BaseException as exc:  # reported below
            errors.append(exc)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert row_held.wait(10)
        with session_scope(engine, write=True) as s:  # logs, then wants the row
            s.execute(sa.text("SET LOCAL deadlock_timeout = '100ms'"))
            append_event(
                s, actor="ingest", action="ingest.detections", entity="flight", entity_id="f"
            )
            logged.set()
            s.execute(bump)
    finally:
        logged.set()
        t.join(20)
    assert not errors, errors
    with session_scope(engine) as s:
        v = verify(s)
        assert s.execute(sa.text("SELECT v FROM scratch")).scalar_one() == 2
    assert v.ok and v.events == 2
