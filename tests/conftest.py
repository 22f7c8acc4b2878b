"""Shared fixtures: paths to the reference data beside the repository."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (public reference data, read only by tests and benchmarks)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED_DATA


# --------------------------------------------------------------------------- databases

PG_URL = os.environ.get(
    "PLUMETRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_schema_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL; dropped afterwards."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_URL)
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("PLUMETRACE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {PG_URL} is required and unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend (SQLite file; PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'plumetrace.db'}"
    else:
        yield from _pg_schema_url()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database of each backend."""
    from plumetrace.store.engine import make_engine
    from plumetrace.store.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
