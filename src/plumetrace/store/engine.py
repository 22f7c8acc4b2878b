"""Engines and sessions: SQLite (WAL) by default, PostgreSQL for a team.

The only place a database connection is configured. Callers pass a URL (from
:class:`~plumetrace.settings.Settings`); nothing here reads the environment.

On SQLite every transaction starts with an explicit ``BEGIN`` that SQLAlchemy emits (the
stdlib driver's own implicit transactions leave DDL outside any transaction): a schema
migration killed halfway is rolled back as a whole instead of leaving half a schema
without a revision, which no later ``db upgrade`` could repair.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

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
_RETURNED = "plumetrace_returned"


def _sqlite_begin(conn: Connection) -> None:
    """Start a SQLite transaction: ``BEGIN``, or what the connection's options ask."""
    conn.exec_driver_sql(str(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN")))


IDLE_PING_S = 10.0
"""A pooled PostgreSQL connection idle this long is pinged before it is handed out, s."""


def _stamp_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_RETURNED] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    """Return a pool listener making sure an idle connection still reaches the server.

    ``pool_pre_ping`` would ping on every checkout: a round trip per unit of work, which
    on a loaded API server is ~5 % of a request. A connection returned moments ago was
    alive then; one idle for :data:`IDLE_PING_S` may have been closed by the server (a
    restart, ``idle_session_timeout``) and is pinged, and replaced if it is dead. A
    connection that dies in between fails its request, which invalidates the pool, so
    one fault costs at most the requests then in flight.
    """
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned < IDLE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # A ping that meets the closed socket mid-query can fail on its own clean-up
            # (psycopg refuses to restore autocommit: "connection in transaction status
            # ACTIVE"), an error is_disconnect does not know: the connection's own state
            # says it is gone.
            if dialect.is_disconnect(exc, dbapi_connection, None) or _is_dead(dbapi_connection):
                raise DisconnectionError("a pooled connection was closed by the server") from exc
            raise

    return checkout


def _is_dead(dbapi_connection: Any) -> bool:
    """Whether a DB-API connection says it is closed or broken (psycopg: status BAD)."""
    return bool(getattr(dbapi_connection, "closed", False)) or bool(
        getattr(dbapi_connection, "broken", False)
    )


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
        engine = create_engine(
            parsed,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout_s,
        )
        event.listen(engine, "checkout", _ping_if_idle(engine))
        event.listen(engine, "checkin", _stamp_checkin)
        return engine
    raise ConfigurationError(
        f"database URL {url!r}: only sqlite and postgresql are supported, not {backend}"
    )


_FACTORIES = "_plumetrace_session_factories"
"""Attribute of an engine holding its session factories, by ``read_only``.

On the engine itself, not in a module-level mapping keyed by it: a factory refers to its
engine, so a weak-keyed mapping would keep every engine alive for good (each test's, each
``serve`` reload's); as an attribute, engine and factories form a cycle the collector
frees once nothing else holds the engine.
"""


def _session_factory(engine: Engine, read_only: bool = False) -> sessionmaker[Session]:
    """Return the engine's session factory (made once: a factory defines a new class)."""
    factories: dict[bool, sessionmaker[Session]] | None = getattr(engine, _FACTORIES, None)
    if factories is None:
        factories = {}
        setattr(engine, _FACTORIES, factories)
    factory = factories.get(read_only)
    if factory is None:
        if read_only and engine.dialect.name == "postgresql":
            # each statement its own transaction: no BEGIN and COMMIT round trips
            bind = engine.execution_options(isolation_level="AUTOCOMMIT")
            factory = sessionmaker(bind, expire_on_commit=False)
        else:
            factory = sessionmaker(engine, expire_on_commit=False)
        if read_only:
            event.listen(factory, "before_flush", _refuse_flush)
            event.listen(factory, "do_orm_execute", _refuse_writes)
        factories[read_only] = factory
    return factory


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ConfigurationError("a read-only unit of work tried to write (a programming error)")


def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ConfigurationError("a read-only unit of work tried to write (a programming error)")


@contextmanager
def session_scope(
    engine: Engine, *, write: bool = False, read_only: bool = False
) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error.

    Parameters
    ----------
    engine : Engine
    write : bool
        The unit of work writes: on SQLite it takes the write lock up front
        (``BEGIN IMMEDIATE``) so concurrent writers queue instead of failing on a stale
        snapshot; on PostgreSQL row locks and the audit-log lock do that job.
    read_only : bool
        The unit of work only reads (an API request's lookups): any write through the
        session raises :class:`~plumetrace.errors.ConfigurationError`. On PostgreSQL
        each statement runs in its own transaction (autocommit), which saves the
        ``BEGIN`` and ``COMMIT`` round trips and sees what READ COMMITTED would show
        anyway (every statement its own snapshot); on SQLite the reads share one
        snapshot as usual.
    """
    if write and read_only:
        raise ConfigurationError("a unit of work cannot both write and be read-only")
    with _session_factory(engine, read_only)() as session:
        try:
            if write and engine.dialect.name == "sqlite":
                # the session's first connection begins with the write lock
                session.connection(execution_options={_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
