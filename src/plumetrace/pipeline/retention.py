"""The retention job: purge what is kept longer than the settings allow, then its files.

Cutoffs are ``now - days`` for each kind of data (:class:`RetentionDays`, from the
``PLUMETRACE_RETENTION_*`` settings or the command's options; None keeps that kind).
The database purge is one transaction and one audit event
(:func:`plumetrace.store.retention.purge`); evidence files no row references any more
are deleted after it commits, so a crash in between leaves stray files, never rows
pointing at missing files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from plumetrace.errors import InvalidParameterError
from plumetrace.io.evidence_purge import remove_evidence_files
from plumetrace.store.engine import session_scope
from plumetrace.store.retention import PurgeResult, RetentionCutoffs, purge

__all__ = ["RetentionDays", "run_purge"]


@dataclass(frozen=True)
class RetentionDays:
    """How many days each kind of data is kept (None: kept for ever)."""

    unconfirmed_sites: float | None = 365.0
    raw_tracks: float | None = 180.0
    attachments: float | None = 365.0

    def cutoffs(self, now: datetime) -> RetentionCutoffs:
        """Return the times before which each kind of data goes."""
        for name, days in vars(self).items():
            if days is not None and not days >= 0:
                raise InvalidParameterError(f"retention of {name} must be >= 0 days, got {days}")

        def at(days: float | None) -> datetime | None:
            return None if days is None else now - timedelta(days=days)

        return RetentionCutoffs(
            unconfirmed_sites=at(self.unconfirmed_sites),
            raw_tracks=at(self.raw_tracks),
            attachments=at(self.attachments),
        )


def run_purge(
    engine: Engine,
    evidence_dir: Path,
    days: RetentionDays,
    *,
    actor: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> tuple[PurgeResult, int]:
    """Purge the store by ``days``; return what went and how many files were deleted."""
    cutoffs = days.cutoffs(now or datetime.now(UTC))
    with session_scope(engine, write=not dry_run) as session:
        result = purge(session, cutoffs, actor=actor, dry_run=dry_run)
    files = 0 if dry_run else remove_evidence_files(evidence_dir, result.orphaned_files)
    return result, files
