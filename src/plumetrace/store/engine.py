"""Engines and sessions: SQLite (WAL) by default, PostgreSQL for a team.

The only place a database connection is configured. Callers pass a URL (from
:class:`~plumetrace.settings.Settings`); nothing here reads the environment.

On SQLite every transaction starts with an explicit ``BEGIN`` that SQLAlchemy emits (the
stdlib driver's own implicit transactions leave DDL outside any transaction): a schema
migration killed halfway is rolled back as a whole instead of leaving half a schema
without a revision, which no later ``db upgrade`` could repair.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from plumetrace.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_OVERFLOW", "DEFAULT_POOL_SIZE", "make_engine", "session_scope"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # the driver never opens a transaction on its own: _sqlite_begin does, for DDL too
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # a team-sized store is ~1 GB: a 256 MB page cache and memory-mapped reads keep the
    # random-key index updates of a large ingest off the disk (SQLite's default is 2 MB)
    cur.execute("PRAGMA cache_size=-262144")
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


_BEGIN_OPTION = "plumetrace_sqlite_begin"


def _sqlite_begin(conn: Connection) -> None:
    """Start a SQLite transaction: ``BEGIN``, or what the connection's options ask."""
    conn.exec_driver_sql(str(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN")))


DEFAULT_POOL_SIZE = 10
"""Connections a PostgreSQL engine keeps open (per process: per API worker)."""
DEFAULT_MAX_OVERFLOW = 10
"""Connections a PostgreSQL engine may open beyond the pool under a burst."""


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    pool_timeout_s: float = 30.0,
) -> Engine:
    """Create an engine for ``url``; a SQLite file's directory is created if missing.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///home/plumetrace.db`` or
        ``postgresql+psycopg://user@127.0.0.1:5432/db``.
    echo : bool
        Log every statement (debugging).
    pool_size, max_overflow : int
        PostgreSQL: connections kept open, and opened beyond them under a burst (closed
        again when returned). One engine per process, so a server with ``W`` workers
        holds up to ``W × (pool_size + max_overflow)`` connections: keep that under the
        server's ``max_connections`` (``docs/deployment.md``). Ignored on SQLite.
    pool_timeout_s : float, s
        PostgreSQL: how long a unit of work waits for a free connection before failing.

    Raises
    ------
    ConfigurationError
        If the URL cannot be parsed or names an unsupported backend.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL {url!r} cannot be parsed: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if pool_size < 1 or max_overflow < 0 or pool_timeout_s <= 0:
            raise ConfigurationError(
                f"pool_size must be >= 1, max_overflow >= 0 and pool_timeout_s > 0, got "
                f"{pool_size}, {max_overflow}, {pool_timeout_s}"
            )
        return create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout_s,
        )
    raise ConfigurationError(
        f"database URL {url!r}: only sqlite and postgresql are supported, not {backend}"
    )


_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = weakref.WeakKeyDictionary()


def _session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the engine's session factory (made once: a factory defines a new class)."""
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = _FACTORIES[engine] = sessionmaker(engine, expire_on_commit=False)
    return factory


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error.

    Parameters
    ----------
    engine : Engine
    write : bool
        The unit of work writes: on SQLite it takes the write lock up front
        (``BEGIN IMMEDIATE``) so concurrent writers queue instead of failing on a stale
        snapshot; on PostgreSQL row locks and the audit-log lock do that job.
    """
    with _session_factory(engine)() as session:
        try:
            if write and engine.dialect.name == "sqlite":
                # the session's first connection begins with the write lock
                session.connection(execution_options={_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
