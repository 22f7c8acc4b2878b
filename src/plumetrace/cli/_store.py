"""Settings and the database for the commands that use the store.

Imports of SQLAlchemy, Alembic and pydantic-settings happen inside the functions, so
commands that never touch the store do not pay for them at start-up.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from plumetrace.settings import Settings

__all__ = ["actor", "dispose_all", "engine_for", "open_store", "print_json", "settings"]

_ENGINES: list[Engine] = []


def settings() -> Settings:
    """Return the settings from ``PLUMETRACE_*`` environment variables."""
    from pydantic import ValidationError

    from plumetrace.errors import ConfigurationError
    from plumetrace.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "PLUMETRACE_" + str(err["loc"][0]).upper() if err["loc"] else "PLUMETRACE_*"
        raise ConfigurationError(f"{name}: {err['msg']}") from None


def engine_for(url: str) -> Engine:
    """Return an engine for ``url``, disposed of when the command ends."""
    from plumetrace.store.engine import make_engine

    engine = make_engine(url)
    _ENGINES.append(engine)
    return engine


def dispose_all() -> None:
    """Close every engine a command opened (their pooled connections included)."""
    while _ENGINES:
        _ENGINES.pop().dispose()


def open_store(cfg: Settings | None = None) -> Engine:
    """Return an engine on the configured database, which must be up to date.

    The embedded default (a SQLite file under ``PLUMETRACE_HOME``) is created and
    migrated on first use; any other database must be upgraded explicitly with
    ``plumetrace db upgrade``.
    """
    from plumetrace.store.migrate import current_revision, ensure_current, upgrade

    cfg = cfg or settings()
    engine = engine_for(cfg.url)
    if cfg.database_url is None and current_revision(engine) is None:
        upgrade(engine)
    ensure_current(engine)
    return engine


def actor() -> str:
    """Return who runs the command, for the audit log (``cli:<os user>``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # pragma: no cover - no passwd entry in some containers
        return "cli:unknown"


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout (times ISO 8601 with Z)."""
    from plumetrace.io.tables import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")
