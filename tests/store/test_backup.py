"""Backup and restore of the embedded SQLite store (plumetrace.store.backup)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from plumetrace.errors import ConfigurationError, DataSourceError, FormatError, TamperError
from plumetrace.store.audit_log import append_event, verify
from plumetrace.store.backup import backup_store, restore_store
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import head_revision, upgrade
from plumetrace.store.models import AuditEvent


def _store(path: Path, events: int = 3) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine, write=True) as s:
        for k in range(events):
            append_event(s, actor="t", action="test", entity="site", entity_id=f"s{k}")
    engine.dispose()
    return url


def _rows(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(AuditEvent).order_by(AuditEvent.seq))]
    engine.dispose()
    return rows


def test_backup_then_restore_round_trip(tmp_path: Path) -> None:
    url = _store(tmp_path / "live" / "plumetrace.db")
    info = backup_store(url, tmp_path / "b.db")
    assert info.revision == head_revision() and info.current and info.audit_events == 3
    assert not (tmp_path / "b.db-wal").exists()  # one self-contained file
    target = f"sqlite:///{tmp_path / 'new' / 'plumetrace.db'}"
    restored = restore_store(target, tmp_path / "b.db")
    assert restored.audit_head == info.audit_head
    assert _rows(target) == _rows(url)
    engine = make_engine(target)
    with session_scope(engine) as s:
        assert verify(s).ok
    engine.dispose()
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["plumetrace.db"]  # no temp left


def test_restore_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    url = _store(tmp_path / "a.db", events=2)
    backup_store(url, tmp_path / "b.db")
    other = _store(tmp_path / "other.db", events=5)
    with pytest.raises(ConfigurationError, match="--force"):
        restore_store(other, tmp_path / "b.db")
    assert len(_rows(other)) == 5  # untouched
    restore_store(other, tmp_path / "b.db", force=True)
    assert _rows(other) == _rows(url)
    with pytest.raises(ConfigurationError, match="--force"):
        backup_store(url, tmp_path / "b.db")


def test_restore_checks_the_backup(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'live.db'}"
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(FormatError, match="not a SQLite database"):
        restore_store(target, tmp_path / "junk.db")
    plain = sqlite3.connect(tmp_path / "plain.db")
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    with pytest.raises(FormatError, match="not a plumetrace store"):
        restore_store(target, tmp_path / "plain.db")
    _store(tmp_path / "s.db")
    raw = sqlite3.connect(tmp_path / "s.db")
    raw.execute("UPDATE alembic_version SET version_num = 'ffff'")
    raw.commit()
    raw.close()
    with pytest.raises(FormatError, match="revision ffff"):
        restore_store(target, tmp_path / "s.db")
    with pytest.raises(DataSourceError, match="no such backup"):
        restore_store(target, tmp_path / "missing.db")
    assert not (tmp_path / "live.db").exists()


def test_restore_refuses_a_broken_audit_chain(tmp_path: Path) -> None:
    _store(tmp_path / "s.db")
    raw = sqlite3.connect(tmp_path / "s.db")
    raw.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        raw.execute(f'DROP TRIGGER "{name}"')
    raw.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    raw.commit()
    raw.close()
    with pytest.raises(TamperError, match="audit log"):
        restore_store(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "s.db")
    assert not (tmp_path / "live.db").exists()


def test_restore_refuses_a_store_in_use(tmp_path: Path) -> None:
    url = _store(tmp_path / "live.db")
    backup_store(url, tmp_path / "b.db")
    engine = make_engine(url)
    with engine.connect() as conn:  # a running server holds connections
        conn.execute(sa.text("SELECT 1 FROM audit_events"))
        with pytest.raises(ConfigurationError, match="in use"):
            restore_store(url, tmp_path / "b.db", force=True)
    engine.dispose()


def test_backup_while_writing_is_consistent(tmp_path: Path) -> None:
    url = _store(tmp_path / "live.db", events=1)
    engine = make_engine(url)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with session_scope(engine, write=True) as s:
                append_event(s, actor="w", action="test", entity="site", entity_id="x")

    t = threading.Thread(target=writer)
    t.start()
    try:
        for k in range(3):
            info = backup_store(url, tmp_path / f"b{k}.db")
            copy = make_engine(f"sqlite:///{tmp_path / f'b{k}.db'}")
            with session_scope(copy) as s:
                v = verify(s)
            copy.dispose()
            assert v.ok and v.events == info.audit_events
    finally:
        stop.set()
        t.join()
        engine.dispose()


def test_postgresql_is_refused_with_the_procedure(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    for call in (backup_store, restore_store):
        with pytest.raises(ConfigurationError, match=r"pg_dump.*pg_restore"):
            call(url, tmp_path / "b.db")
