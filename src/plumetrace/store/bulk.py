"""Bulk reads and writes for ingest: tens of thousands of rows per unit of work.

Values go through each column type's own bind processor (UTC times, JSON …), the same
conversion SQLAlchemy applies, without its per-row statement bookkeeping, which dominates
at this size. SQLite takes the rows through the driver's ``executemany``; PostgreSQL
through ``COPY`` (inserts directly; updates into a temporary table, then one
``UPDATE … FROM``). Rows can be given as dicts (all with the same keys) or column-wise
(one list per column), which spares building a dict per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Float, Table
from sqlalchemy.orm import Session

from plumetrace.store.types import UTCDateTime

__all__ = [
    "bulk_insert",
    "bulk_update",
    "dbapi_cursor",
    "insert_columns",
    "placeholder",
    "select_by_key",
    "update_columns",
]

_UNSET = object()


def _process(proc: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """Apply a bind processor; a value repeated from the previous row is converted once."""
    out = []
    last: Any = _UNSET
    done: Any = None
    for v in values:
        if v is not last:
            last, done = v, proc(v)
        out.append(done)
    return out


def _process_times(proc: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """Apply a timestamp's bind processor, converting each distinct time once."""
    seen: dict[Any, Any] = {}
    out = []
    for v in values:
        done = seen.get(v, _UNSET)
        if done is _UNSET:
            done = seen[v] = proc(v)
        out.append(done)
    return out


def _converted(
    session: Session, table: Table, columns: Mapping[str, Sequence[Any]]
) -> list[list[Any] | Sequence[Any]]:
    dialect = session.get_bind().dialect
    out: list[list[Any] | Sequence[Any]] = []
    for c, values in columns.items():
        kind = table.c[c].type
        proc = kind.dialect_impl(dialect).bind_processor(dialect)
        if proc is None:
            out.append(values)
        elif isinstance(kind, Float) and not kind.asdecimal:
            # the processor makes floats of numbers: a float (or None) is already one
            out.append([v if v is None or type(v) is float else proc(v) for v in values])
        elif isinstance(kind, UTCDateTime):
            out.append(_process_times(proc, values))
        else:
            out.append(_process(proc, values))
    return out


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def placeholder(session: Session) -> str:
    """Return the driver's parameter placeholder (``?`` for SQLite, ``%s`` for psycopg)."""
    return "%s" if _is_postgresql(session) else "?"


def dbapi_cursor(session: Session) -> Any:
    """Return a cursor of the driver connection under the session's transaction.

    For large reads whose rows need no type conversion: they skip SQLAlchemy's per-row
    result objects. The caller closes it.
    """
    return session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def select_by_key(
    session: Session,
    model: type[Any],
    cols: Sequence[str],
    key: str,
    keys: Sequence[Any],
    *,
    for_update: bool = False,
    chunk: int = 900,
) -> list[list[Any]]:
    """Return the rows whose ``key`` is in ``keys``, column-wise (one list per column).

    Each column's values go through its type's result processor (as SQLAlchemy's own
    results do), each distinct value once. ``for_update`` locks the rows (PostgreSQL).
    """
    table = cast("Table", model.__table__)
    dialect = session.get_bind().dialect
    ph = placeholder(session)
    lock = " FOR UPDATE" if for_update and _is_postgresql(session) else ""
    rows: list[Any] = []
    coltypes: list[Any] = [None] * len(cols)
    cur = dbapi_cursor(session)
    try:
        for k in range(0, len(keys), chunk):
            part = list(keys[k : k + chunk])
            cur.execute(
                f"SELECT {_names(session, cols)} FROM {_name(session, table.name)} "
                f"WHERE {_name(session, key)} IN ({', '.join(ph for _ in part)}){lock}",
                part,
            )
            rows.extend(cur.fetchall())
            coltypes = [d[1] for d in cur.description]
    finally:
        cur.close()
    out: list[list[Any]] = [[] for _ in cols]
    if not rows:
        return out
    for n, (c, values) in enumerate(zip(cols, zip(*rows, strict=True), strict=True)):
        proc = table.c[c].type.dialect_impl(dialect).result_processor(dialect, coltypes[n])
        if proc is None:
            out[n] = list(values)
            continue
        seen: dict[Any, Any] = {}
        col = out[n]
        for v in values:
            done = seen.get(v, _UNSET)
            if done is _UNSET:
                done = seen[v] = proc(v)
            col.append(done)
    return out


def _name(session: Session, name: str) -> str:
    """Return a table or column name quoted for SQL where it needs it (reserved, case)."""
    return str(session.get_bind().dialect.identifier_preparer.quote(name))


def _names(session: Session, names: Sequence[str]) -> str:
    return ", ".join(_name(session, n) for n in names)


def _copy(session: Session, table: str, cols: list[str], values: list[tuple[Any, ...]]) -> None:
    """COPY rows into a PostgreSQL table through the psycopg connection of the session.

    Binary format, with the columns' types read from the catalogue: no text formatting
    of numbers and times on either side (several times faster than text ``COPY``).
    ``table`` is its name as SQL reads it (quoted where it needs to be).
    """
    types: dict[str, int] = dict(
        session.connection()
        .exec_driver_sql(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = %(t)s::regclass AND attnum > 0 AND NOT attisdropped",
            {"t": table},
        )
        .all()
    )
    with (
        dbapi_cursor(session) as cur,
        cur.copy(f"COPY {table} ({_names(session, cols)}) FROM STDIN (FORMAT BINARY)") as cp,
    ):
        cp.set_types([types[c] for c in cols])
        for row in values:
            cp.write_row(row)


def insert_columns(
    session: Session, model: type[Any], columns: Mapping[str, Sequence[Any]]
) -> None:
    """Insert rows given column-wise (``{column: values}``, all the same length)."""
    if not columns:
        return
    table = cast("Table", model.__table__)
    cols = list(columns)
    values = list(zip(*_converted(session, table, columns), strict=True))
    if not values:
        return
    if not _is_postgresql(session):
        head = f"INSERT INTO {_name(session, table.name)} ({_names(session, cols)}) VALUES "
        conn = session.connection()
        conn.exec_driver_sql(head + f"({', '.join('?' for _ in cols)})", values)
        return
    _copy(session, _name(session, table.name), cols, values)


def bulk_insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert many rows (all with the same keys) into ``model``'s table."""
    if not rows:
        return
    insert_columns(session, model, {c: [r[c] for r in rows] for c in rows[0]})


def update_columns(
    session: Session, model: type[Any], columns: Mapping[str, Sequence[Any]], key: str = "id"
) -> None:
    """Update rows given column-wise, matched on ``key`` (one of the columns)."""
    table = cast("Table", model.__table__)
    cols = [c for c in columns if c != key]
    ordered = {**{c: columns[c] for c in cols}, key: columns[key]}
    values = list(zip(*_converted(session, table, ordered), strict=True))
    if not values:
        return
    conn = session.connection()
    name, k = _name(session, table.name), _name(session, key)
    quoted = [_name(session, c) for c in cols]
    if not _is_postgresql(session):
        sets = ", ".join(f"{c} = ?" for c in quoted)
        conn.exec_driver_sql(f"UPDATE {name} SET {sets} WHERE {k} = ?", values)
        return
    allcols = list(ordered)
    tmp = _name(session, f"tmp_{table.name}_{uuid.uuid4().hex[:8]}")
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS "
        f"SELECT {_names(session, allcols)} FROM {name} WITH NO DATA"
    )
    _copy(session, tmp, allcols, values)
    sets = ", ".join(f"{c} = v.{c}" for c in quoted)
    conn.exec_driver_sql(f"UPDATE {name} AS t SET {sets} FROM {tmp} AS v WHERE t.{k} = v.{k}")
    conn.exec_driver_sql(f"DROP TABLE {tmp}")


def bulk_update(
    session: Session, model: type[Any], rows: list[dict[str, Any]], key: str = "id"
) -> None:
    """Update many rows of ``model``'s table, matched on ``key`` (all rows the same keys)."""
    if not rows:
        return
    update_columns(session, model, {c: [r[c] for r in rows] for c in rows[0]}, key)
