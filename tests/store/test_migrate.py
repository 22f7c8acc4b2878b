from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from plumetrace.errors import ConfigurationError
from plumetrace.store.engine import make_engine
from plumetrace.store.migrate import (
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from plumetrace.store.models import Base


def test_upgrade_creates_every_table_and_is_idempotent(db_url: str) -> None:
    eng = make_engine(db_url)
    with pytest.raises(ConfigurationError, match="plumetrace db upgrade"):
        ensure_current(eng)
    assert upgrade(eng) == head_revision()
    assert upgrade(eng) == head_revision()  # second run changes nothing
    ensure_current(eng)
    tables = set(sa.inspect(eng).get_table_names())
    assert set(Base.metadata.tables) <= tables
    eng.dispose()


def test_migrations_match_the_models(engine: sa.Engine) -> None:
    """Autogenerate finds nothing to add: the migration and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_base_removes_everything(engine: sa.Engine) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_is_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()


@pytest.mark.parametrize("url", ["nonsense://", "mysql://u@h/db"])
def test_bad_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(ConfigurationError, match="database URL"):
        make_engine(url)
