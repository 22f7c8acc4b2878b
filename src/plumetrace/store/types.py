"""Column types shared by the models: UTC timestamps on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "utcnow"]


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC).

    SQLite keeps no zone, PostgreSQL keeps ``timestamptz``; both read back as aware UTC.
    A naive value is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC before storing (naive values are an error)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: plumetrace stores UTC-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return the stored time as aware UTC."""
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - driver dependent
            value = datetime.fromisoformat(str(value))
        out: datetime = value
        return out.replace(tzinfo=UTC) if out.tzinfo is None else out.astimezone(UTC)
