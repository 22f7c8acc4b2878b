"""Bulk writes for ingest: tens of thousands of rows per unit of work.

Values go through each column type's own bind processor (UTC times, JSON …), the same
conversion SQLAlchemy applies, without its per-row statement bookkeeping, which dominates
at this size. SQLite takes the rows through the driver's ``executemany``; PostgreSQL
through ``COPY`` (inserts directly; updates into a temporary table, then one
``UPDATE … FROM``).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

__all__ = ["bulk_insert", "bulk_update"]


def _columns(
    session: Session, table: Table, cols: list[str], rows: list[dict[str, Any]]
) -> list[list[Any]]:
    dialect = session.get_bind().dialect
    out = []
    for c in cols:
        proc = table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
        values = [r[c] for r in rows]
        out.append(values if proc is None else [proc(v) for v in values])
    return out


def _copy(session: Session, table: str, cols: list[str], values: list[tuple[Any, ...]]) -> None:
    """COPY rows into a PostgreSQL table through the psycopg connection of the session."""
    raw: Any = session.connection().connection.dbapi_connection  # a psycopg Connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for row in values:
            cp.write_row(row)


def bulk_insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert many rows (all with the same keys) into ``model``'s table."""
    if not rows:
        return
    table = cast("Table", model.__table__)
    cols = list(rows[0])
    values = list(zip(*_columns(session, table, cols, rows), strict=True))
    conn = session.connection()
    head = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
    if session.get_bind().dialect.name != "postgresql":
        conn.exec_driver_sql(head + f"({', '.join('?' for _ in cols)})", values)
        return
    _copy(session, table.name, cols, values)


def bulk_update(
    session: Session, model: type[Any], rows: list[dict[str, Any]], key: str = "id"
) -> None:
    """Update many rows of ``model``'s table, matched on ``key`` (all rows the same keys)."""
    if not rows:
        return
    table = cast("Table", model.__table__)
    cols = [c for c in rows[0] if c != key]
    allcols = [*cols, key]
    values = list(zip(*_columns(session, table, allcols, rows), strict=True))
    conn = session.connection()
    if session.get_bind().dialect.name != "postgresql":
        sets = ", ".join(f"{c} = ?" for c in cols)
        conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} WHERE {key} = ?", values)
        return
    tmp = f"tmp_{table.name}_{uuid.uuid4().hex[:8]}"
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS "
        f"SELECT {', '.join(allcols)} FROM {table.name} WITH NO DATA"
    )
    _copy(session, tmp, allcols, values)
    sets = ", ".join(f"{c} = v.{c}" for c in cols)
    conn.exec_driver_sql(
        f"UPDATE {table.name} AS t SET {sets} FROM {tmp} AS v WHERE t.{key} = v.{key}"
    )
    conn.exec_driver_sql(f"DROP TABLE {tmp}")
