"""Backup and restore of the embedded SQLite store (``plumetrace backup`` / ``restore``).

A backup is a consistent snapshot taken with SQLite's online backup API
(:meth:`sqlite3.Connection.backup`): it reads one snapshot of the database (WAL readers
never block the writer), so it is safe while ``plumetrace serve`` or an ingest runs. The
copy is a self-contained SQLite file (rollback journal, no ``-wal`` beside it), written
to a temporary file beside the destination and renamed into place once complete and
checked (``PRAGMA quick_check``).

A restore checks that the file is a plumetrace store at a schema revision this version
knows and that its audit log's hash chain is intact, copies it beside the live database,
and renames it over the live file in one atomic step. It refuses to replace an existing
store unless forced, and refuses while another process has the store open (stop
``plumetrace serve`` first).

PostgreSQL stores are backed up with ``pg_dump`` and restored with ``pg_restore`` (see
``docs/reliability.md``); :func:`backup_store` and :func:`restore_store` refuse them with
a message that says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from plumetrace.errors import ConfigurationError, DataSourceError, FormatError, TamperError
from plumetrace.io._atomic import discard, make_temp_beside, publish
from plumetrace.store.engine import session_scope
from plumetrace.store.migrate import alembic_config, head_revision

__all__ = ["PG_PROCEDURE", "BackupInfo", "backup_store", "restore_store", "sqlite_path"]

log = logging.getLogger(__name__)

PG_PROCEDURE = (
    "pg_dump --format=custom --file=FILE DBNAME / "
    "pg_restore --clean --if-exists --no-owner --single-transaction --dbname=DBNAME FILE"
)
"""The PostgreSQL procedure, in one line (detailed in docs/reliability.md)."""

_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BackupInfo:
    """What a backup or restore copied.

    Attributes
    ----------
    path : Path
        The file written (the backup, or the restored database).
    revision : str
        Its schema revision.
    current : bool
        Whether that revision is the newest (else run ``plumetrace db upgrade``).
    size_bytes : int
    audit_events : int
        Events in its audit log.
    audit_head : str
        ``SEQ:HASH`` of the last event (``0:`` when the log is empty).
    """

    path: Path
    revision: str
    current: bool
    size_bytes: int
    audit_events: int
    audit_head: str


def sqlite_path(url: str) -> Path:
    """Return the file of a SQLite database URL.

    Raises
    ------
    ConfigurationError
        If the URL is not a file-backed SQLite database; for PostgreSQL the message names
        the pg_dump/pg_restore procedure.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL {url!r} cannot be parsed: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        raise ConfigurationError(
            "backup/restore covers the embedded SQLite store only; back up PostgreSQL "
            f"with pg_dump and restore with pg_restore ({PG_PROCEDURE}; see "
            "docs/reliability.md)"
        )
    if backend != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise ConfigurationError(f"database URL {url!r} is not a SQLite file")
    return Path(parsed.database).expanduser()


@contextlib.contextmanager
def _connect(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """Open ``path`` with the stdlib driver (never creating it when ``readonly``)."""
    target = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    try:
        conn = sqlite3.connect(target, uri=True, timeout=_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise DataSourceError(path, f"cannot open: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


def _revision(path: Path, conn: sqlite3.Connection) -> str:
    """Return the schema revision of a plumetrace store; raise if it is not one."""
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise FormatError(path, f"not a SQLite database ({exc})") from exc
    if ok is None or ok[0] != "ok":
        raise FormatError(path, f"the database is damaged (quick_check: {ok and ok[0]})")
    if "alembic_version" not in tables or "audit_events" not in tables:
        raise FormatError(path, "not a plumetrace store (no schema revision or audit log)")
    rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    if len(rows) != 1:
        raise FormatError(path, "not a plumetrace store (no single schema revision)")
    revision = str(rows[0][0])
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise FormatError(
            path,
            f"schema revision {revision} is not one this plumetrace knows "
            "(a newer version made it?)",
        )
    return revision


def _info(path: Path, conn: sqlite3.Connection, revision: str) -> BackupInfo:
    n, head_seq, head_hash = conn.execute(
        "SELECT count(*), max(seq), (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) "
        "FROM audit_events"
    ).fetchone()
    return BackupInfo(
        path=path,
        revision=revision,
        current=revision == head_revision(),
        size_bytes=path.stat().st_size,
        audit_events=int(n),
        audit_head=f"{head_seq or 0}:{head_hash or ''}",
    )


def _copy(src: sqlite3.Connection, tmp: Path) -> None:
    """Copy ``src`` into the (empty) file ``tmp``: one snapshot, self-contained, synced."""
    with _connect(tmp) as dst:
        src.backup(dst)  # all pages in one step: one consistent snapshot of the source
        dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        ok = dst.execute("PRAGMA quick_check").fetchone()
        if ok is None or ok[0] != "ok":
            raise DataSourceError(tmp, f"the copy fails its check ({ok and ok[0]})")
    with tmp.open("rb") as f:
        os.fsync(f.fileno())


def _sync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def backup_store(url: str, dest: Path, *, force: bool = False) -> BackupInfo:
    """Write a consistent copy of the SQLite store at ``url`` to ``dest``.

    Parameters
    ----------
    url : str
        The store's database URL (SQLite).
    dest : Path
        The backup file; its directory must exist.
    force : bool
        Replace an existing ``dest``.

    Raises
    ------
    ConfigurationError
        A PostgreSQL store (use pg_dump), or ``dest`` exists and ``force`` is not given.
    DataSourceError
        The store does not exist or cannot be read, or ``dest`` cannot be written.
    FormatError
        The database is not a plumetrace store at a known revision.
    """
    src_path = sqlite_path(url)
    if not src_path.is_file():
        raise DataSourceError(src_path, "no store here to back up")
    if dest.exists() and not force:
        raise ConfigurationError(f"{dest} exists: give --force to replace it")
    if dest.resolve() == src_path.resolve():
        raise ConfigurationError("the backup must not be the live database itself")
    tmp = make_temp_beside(dest, ".db")
    try:
        with _connect(src_path) as src:
            _revision(src_path, src)
            _copy(src, tmp)
        with _connect(tmp, readonly=True) as conn:
            revision = _revision(tmp, conn)
            info = _info(tmp, conn, revision)
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, dest)
    _sync_dir(dest.parent)
    log.info("backed up %s to %s (%d bytes)", src_path, dest, info.size_bytes)
    return BackupInfo(
        dest, info.revision, info.current, info.size_bytes, info.audit_events, info.audit_head
    )


def _verify_audit(path: Path) -> None:
    """Recompute the audit log's hash chain of the database file ``path``."""
    from plumetrace.store.audit_log import verify

    engine = create_engine(f"sqlite:///{path}")
    try:
        with session_scope(engine) as s:
            v = verify(s)
    finally:
        engine.dispose()
    if not v.ok:
        raise TamperError(f"{path}: the audit log is broken: {'; '.join(v.problems[:3])}")


def _is_store(path: Path) -> bool:
    """Whether ``path`` holds a SQLite database with at least one table."""
    if not path.exists():
        return False
    try:
        with _connect(path, readonly=True) as conn:
            return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]) > 0
    except (sqlite3.DatabaseError, DataSourceError):
        return True  # something unreadable is there: do not overwrite it silently


def _take_over(target: Path) -> sqlite3.Connection | None:
    """Check no one uses the live database and hold it exclusively until the rename.

    Leaving WAL mode needs the only connection: it checkpoints the WAL into the file and
    removes ``-wal`` and ``-shm`` (an old WAL beside the restored file would be replayed
    into it). The exclusive lock keeps new connections out until the file is replaced.
    """
    if not target.exists():
        return None
    conn = sqlite3.connect(f"file:{target}", uri=True, timeout=1.0, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode is None or str(mode[0]).lower() != "delete":
            raise sqlite3.OperationalError("database is locked")
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise ConfigurationError(
                f"{target} is in use by another process (is `plumetrace serve` running?): "
                "stop it before restoring"
            ) from None
        raise DataSourceError(target, f"cannot take over the live database: {exc}") from exc
    except sqlite3.DatabaseError:
        conn.close()  # not a database (forced restore over garbage): just replace it
        return None
    return conn


def restore_store(url: str, source: Path, *, force: bool = False) -> BackupInfo:
    """Replace the SQLite store at ``url`` with the backup ``source``, atomically.

    Parameters
    ----------
    url : str
        The store's database URL (SQLite).
    source : Path
        A file written by :func:`backup_store` (or any plumetrace SQLite store).
    force : bool
        Replace an existing store.

    Raises
    ------
    ConfigurationError
        A PostgreSQL store (use pg_restore); a store exists and ``force`` is not given;
        the live database is in use by another process.
    DataSourceError
        ``source`` is missing or unreadable, or the target cannot be written.
    FormatError
        ``source`` is not a plumetrace store at a known schema revision.
    TamperError
        ``source``'s audit log fails its hash-chain check.
    """
    target = sqlite_path(url)
    if not source.is_file():
        raise DataSourceError(source, "no such backup file")
    if source.resolve() == target.resolve():
        raise ConfigurationError("the backup is the live database itself")
    with _connect(source, readonly=True) as conn:
        _revision(source, conn)
    if _is_store(target) and not force:
        raise ConfigurationError(f"a store exists at {target}: give --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_beside(target, ".db")
    try:
        with _connect(source, readonly=True) as src:
            _copy(src, tmp)
        with _connect(tmp, readonly=True) as conn:
            revision = _revision(tmp, conn)
            info = _info(tmp, conn, revision)
        _verify_audit(tmp)
        holder = _take_over(target)
    except BaseException:
        discard(tmp)
        raise
    try:
        for side in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                target.with_name(target.name + side).unlink()
        publish(tmp, target)
        _sync_dir(target.parent)
    finally:
        if holder is not None:
            holder.close()
    log.info("restored %s from %s", target, source)
    return BackupInfo(
        target, info.revision, info.current, info.size_bytes, info.audit_events, info.audit_head
    )
