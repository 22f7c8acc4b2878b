"""Schema migrations with Alembic: ``plumetrace db upgrade`` and the up-to-date check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from plumetrace.errors import ConfigurationError

__all__ = ["alembic_config", "current_revision", "ensure_current", "head_revision", "upgrade"]

_SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Return the Alembic configuration of the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    return cfg


def head_revision() -> str:
    """Return the newest migration's revision identifier."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None if it was never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to ``revision`` (the newest by default); return where it is."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    rev = current_revision(engine)
    assert rev is not None
    return rev


def ensure_current(engine: Engine) -> None:
    """Raise unless the database is at the newest revision.

    Raises
    ------
    ConfigurationError
        If the database is empty or behind: run ``plumetrace db upgrade``.
    """
    rev = current_revision(engine)
    if rev != head_revision():
        state = "has no plumetrace schema" if rev is None else f"is at revision {rev}"
        raise ConfigurationError(
            f"the database {engine.url.render_as_string(hide_password=True)} {state}: "
            "run `plumetrace db upgrade`"
        )
