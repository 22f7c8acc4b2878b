"""The append-only, hash-chained audit log: who changed what, when, before and after.

Each event's hash is the SHA-256 of its canonical JSON (sequence number, time, actor,
action, entity, entity id, before, after) and of the previous event's hash, so editing or
deleting any event breaks every later link. The database also refuses UPDATE and DELETE on
the table (triggers, see the initial migration); :func:`verify` catches what gets past
that (a dropped trigger, an edited file). Deleting events from the end leaves a valid but
shorter chain: publish the head (``plumetrace audit-log verify`` prints it) and check
against it with ``expect_head``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from plumetrace.store.models import AuditEvent
from plumetrace.store.types import utcnow

__all__ = [
    "GENESIS",
    "AuditVerification",
    "append_event",
    "event_hash",
    "events_for",
    "jsonable",
    "serialize",
    "verify",
]

GENESIS = "0" * 64
"""``prev_hash`` of the first event."""

_LOCK_KEY = 7_240_001  # PostgreSQL advisory lock serialising appends
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_EVENTS = AuditEvent.__table__
_HEAD = select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1)
_INSERT = insert(AuditEvent)  # executed on the connection: Core


def jsonable(value: Any) -> Any:
    """Return ``value`` with datetimes as ISO strings and tuples as lists (JSON-ready)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def event_hash(
    seq: int,
    time: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """Return the SHA-256 (hex) that chains one event to the previous one."""
    doc = [seq, time.isoformat(), actor, action, entity, entity_id, before, after, prev_hash]
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def serialize(session: Session) -> None:
    """Hold the audit chain's lock until the transaction ends.

    On PostgreSQL an advisory transaction lock; SQLite's writer lock already serialises
    write transactions. Writers that must commit in the order they read the clock
    (releases, whose time orders a partner's TAXII collection) take it before reading it.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"k": _LOCK_KEY})


_PENDING = "plumetrace.audit_pending"
"""``session.info`` key of the events a transaction will append when it commits."""


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one event to the chain, in the caller's transaction.

    The event (its time taken now, ``before`` and ``after`` copied now) is appended when
    the transaction commits, as its last statements (:func:`_append_pending`): the
    session's pending changes are flushed, then the chain's lock is taken, its head read
    and the transaction's events inserted. Appends are serialised (a PostgreSQL advisory
    transaction lock; SQLite's single writer), so the chain never forks; and since the
    lock is the last one any transaction takes, it is held only for the commit and can
    never close a deadlock (a transaction holding it waits for no row; one appending
    mid-way, then updating a row another writer holds while that writer waits for the
    chain, could). A transaction that rolls back appends nothing.
    """
    pending: list[tuple[Any, ...]] = session.info.setdefault(_PENDING, [])
    pending.append(
        (
            utcnow(),
            actor,
            action,
            entity,
            entity_id,
            None if before is None else jsonable(before),
            None if after is None else jsonable(after),
        )
    )


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    """Append the transaction's pending events to the chain: its last statements.

    The lock and the head's read go to PostgreSQL in one pipeline, and the inserts run in
    Core on the session's connection, all the events in one statement.
    """
    if not session.info.get(_PENDING):
        return
    session.flush()  # the transaction's own writes first: no row lock after the chain's
    pending = session.info.pop(_PENDING)  # with any event the flush itself added
    head = _lock_and_read_head(session)
    seq = 0 if head is None else head[0]
    prev = GENESIS if head is None else head[1]
    rows = []
    for now, actor, action, entity, entity_id, b, a in pending:
        seq += 1
        digest = event_hash(seq, now, actor, action, entity, entity_id, b, a, prev)
        rows.append(
            {
                "seq": seq,
                "time": now,
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "before": b,
                "after": a,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    session.connection().execute(_INSERT, rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """Forget the events of a transaction that ended without committing them."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


_PG = PGDialect_psycopg()  # type: ignore[no-untyped-call]
# _LOCK and _HEAD as psycopg's own SQL, for the driver's pipeline (``%(k)s``; limit literal)
_PG_LOCK = str(_LOCK.compile(dialect=_PG))
_PG_HEAD = str(_HEAD.compile(dialect=_PG, compile_kwargs={"literal_binds": True}))


def _lock_and_read_head(session: Session) -> tuple[int, str] | None:
    """Take the chain's lock, then read its head: ``(seq, hash)``, None when empty.

    On PostgreSQL both statements go in one pipeline: one round trip instead of two while
    the lock is held (each round trip under the lock also waits for the interpreter lock
    when its thread shares a busy process, so every one saved shortens the lock). The
    server runs them in order, the read after the lock is granted, with a snapshot taken
    then (READ COMMITTED): it sees the previous holder's committed event. The two
    statements go through the driver's connection, so SQLAlchemy's cursor events do not
    see them.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":  # SQLite's writer lock already serialises
        row = conn.execute(_HEAD).first()
        return None if row is None else (int(row.seq), str(row.hash))
    raw = conn.connection.dbapi_connection
    assert raw is not None
    try:
        with raw.pipeline():
            raw.execute(_PG_LOCK, {"k": _LOCK_KEY})
            head = raw.execute(_PG_HEAD)
        found = head.fetchone()
    except raw.Error as exc:  # as SQLAlchemy reports the driver's errors
        raise DBAPIError.instance(_PG_HEAD, None, exc, raw.Error) from exc
    return None if found is None else (int(found[0]), str(found[1]))


@dataclass
class AuditVerification:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    ok : bool
    events : int
    head_seq : int
        Sequence number of the last event (0 when empty).
    head_hash : str
    problems : list of str
        One sentence per broken link (first 100).
    """

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    problems: list[str] = field(default_factory=list)


def _iter_events(session: Session, chunk: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session, expect_head: str | None = None) -> AuditVerification:
    """Recompute the chain and report every edit, deletion or reordering.

    Parameters
    ----------
    session : Session
    expect_head : str, optional
        A previously published ``SEQ:HASH``; the chain must still contain it.
    """
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    n = 0
    head_seq = 0
    seen_expected = expect_head is None
    for ev in _iter_events(session):
        n += 1
        if ev.seq != expected_seq:
            problems.append(f"events {expected_seq}-{ev.seq - 1} are missing")
        if ev.prev_hash != prev:
            problems.append(f"event {ev.seq}: does not link to the previous event")
        h = event_hash(
            ev.seq,
            ev.time,
            ev.actor,
            ev.action,
            ev.entity,
            ev.entity_id,
            ev.before,
            ev.after,
            ev.prev_hash,
        )
        if h != ev.hash:
            problems.append(f"event {ev.seq}: content does not match its hash (edited)")
        if expect_head is not None and f"{ev.seq}:{ev.hash}" == expect_head:
            seen_expected = True
        prev = ev.hash
        head_seq = ev.seq
        expected_seq = ev.seq + 1
    if not seen_expected:
        problems.append(f"the published head {expect_head} is no longer in the chain")
    return AuditVerification(not problems, n, head_seq, prev if n else GENESIS, problems[:100])


def events_for(
    session: Session, entity: str, entity_id: str, limit: int = 500
) -> list[dict[str, Any]]:
    """Return the audit events of one entity (``site``, ``lead``...), newest first.

    Each: ``seq``, ``time``, ``actor``, ``action``, ``before``, ``after``, ``hash`` (its
    place in the chain, checked by :func:`verify`).
    """
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    return [
        {
            "seq": e.seq,
            "time": e.time,
            "actor": e.actor,
            "action": e.action,
            "before": e.before,
            "after": e.after,
            "hash": e.hash,
        }
        for e in rows
    ]
