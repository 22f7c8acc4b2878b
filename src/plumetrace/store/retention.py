"""Data minimisation: purge what is kept longer than needed, as one audited change.

What goes (each rule on when its cutoff is set; a cutoff is a time, older is purged):

* **unconfirmed sites** — candidate or rejected sites last seen before the cutoff and
  tied to no lead, attribution or open collection request — with their detections,
  reports, evidence links, pass records, reviews, assignments, collection requests and
  attachments, and the merged stubs that point to them. Confirmed sites, sites in a
  lead and sites awaiting collection stay whatever their age.
* **raw tracks** — the flown track line of flights that ended (or started) before the
  cutoff: ``flights.track_geojson`` is cleared and the track feature is dropped from the
  flight's audit GeoJSON. Incursions, their times and depths stay (they are the audit).
* **attachments** — files attached to sites that are not confirmed, added before the
  cutoff (rows here; the files by the caller, see ``PurgeResult.orphaned_files``).

The purge is one transaction and one event in the hash-chained audit log
(``retention.purge``: the cutoffs, the counts and the purged site ids). The audit log
itself is never purged: it is the record of who did what (its events carry ids and
decisions, not imagery or tracks).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from plumetrace.store.audit_log import append_event
from plumetrace.store.map import overlay_sha, overlay_sha_sql
from plumetrace.store.models import (
    Assignment,
    Attachment,
    Attribution,
    CollectionRequest,
    Detection,
    EvidenceLink,
    Flight,
    FlightAudit,
    LeadSite,
    Report,
    Review,
    Site,
    SitePass,
)

__all__ = ["PurgeResult", "RetentionCutoffs", "purge"]

_UNCONFIRMED = ("candidate", "rejected")
_CHUNK = 500


@dataclass(frozen=True)
class RetentionCutoffs:
    """What is older than these times goes; None keeps that kind of data."""

    unconfirmed_sites: datetime | None = None
    raw_tracks: datetime | None = None
    attachments: datetime | None = None


@dataclass
class PurgeResult:
    """What a purge removed (or, on a dry run, would remove)."""

    sites: list[str] = field(default_factory=list)
    detections: int = 0
    reports: int = 0
    tracks: int = 0
    attachments: int = 0
    orphaned_files: list[str] = field(default_factory=list)
    """SHA-256 of evidence files no row references any more: the caller deletes them."""

    def counts(self) -> dict[str, int]:
        """Return the counts (the audit event's and the CLI's summary)."""
        return {
            "sites": len(self.sites),
            "detections": self.detections,
            "reports": self.reports,
            "tracks": self.tracks,
            "attachments": self.attachments,
            "files": len(self.orphaned_files),
        }


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for k in range(0, len(ids), _CHUNK):
        yield list(ids[k : k + _CHUNK])


def _stale_sites(session: Session, cutoff: datetime) -> list[str]:
    """Return the stale unconfirmed sites nothing holds on to, with their merged stubs.

    Stale: last seen before ``cutoff``. Held: in a lead, attributed, or awaiting an open
    collection request (a site whose stubs are held is held).
    """
    held = set(session.scalars(select(LeadSite.site_id)))
    held |= set(session.scalars(select(Attribution.site_id)))
    held |= set(
        session.scalars(select(CollectionRequest.site_id).where(CollectionRequest.status == "open"))
    )
    children: dict[str, list[str]] = {}
    for stub, into in session.execute(
        select(Site.id, Site.merged_into).where(Site.merged_into.is_not(None))
    ):
        children.setdefault(str(into), []).append(stub)
    roots = session.scalars(
        select(Site.id)
        .where(
            Site.status.in_(_UNCONFIRMED),
            func.coalesce(Site.last_seen, Site.created) < cutoff,
        )
        .order_by(Site.id)
    )
    out: list[str] = []
    for root in roots:
        family, frontier = [root], [root]
        while frontier:
            frontier = [c for f in frontier for c in children.get(f, [])]
            family += frontier
        if held.isdisjoint(family):
            out += family
    return out


def _file_refs(session: Session, shas: set[str]) -> set[str]:
    """Which of ``shas`` are still referenced by an attachment or a plume overlay.

    The overlay's digest (:func:`~plumetrace.store.map.overlay_sha_sql`) is matched by
    the database's JSON path operators: only the matching digests come back, not every
    plume's properties (a million of them in a team's store).
    """
    if not shas:
        return set()
    used = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(shas))))
    overlay = overlay_sha_sql()
    for chunk in _chunks(sorted(shas)):
        used.update(
            session.scalars(
                select(overlay).where(Detection.kind == "plume", overlay.in_(chunk)).distinct()
            )
        )
    return used


_SITE_ROWS = (
    EvidenceLink.site_id,
    SitePass.site_id,
    Review.site_id,
    Assignment.site_id,
    CollectionRequest.site_id,
    Attachment.site_id,
    Detection.site_id,
    Report.site_id,
)
"""The rows that belong to a site (deleted with it, before it)."""


def _count(session: Session, column: Any, ids: list[str]) -> int:
    return int(session.scalar(select(func.count()).where(column.in_(ids))) or 0)


def _purge_sites(session: Session, ids: list[str], result: PurgeResult, dry_run: bool) -> set[str]:
    files: set[str] = set()
    for chunk in _chunks(ids):
        for props in session.scalars(
            select(Detection.properties).where(Detection.site_id.in_(chunk))
        ):
            sha = overlay_sha(props)
            if sha is not None:
                files.add(sha)
        files.update(
            session.scalars(select(Attachment.sha256).where(Attachment.site_id.in_(chunk)))
        )
        result.detections += _count(session, Detection.site_id, chunk)
        result.reports += _count(session, Report.site_id, chunk)
        result.attachments += _count(session, Attachment.site_id, chunk)
        if not dry_run:
            for column in _SITE_ROWS:
                session.execute(delete(column.class_).where(column.in_(chunk)))
    if not dry_run:
        for chunk in _chunks(ids):  # stubs point at the sites they were merged into
            session.execute(update(Site).where(Site.id.in_(chunk)).values(merged_into=None))
        for chunk in _chunks(ids):
            session.execute(delete(Site).where(Site.id.in_(chunk)))
    result.sites = ids
    return files


def _purge_tracks(session: Session, cutoff: datetime, result: PurgeResult, dry_run: bool) -> None:
    ended = func.coalesce(Flight.end, Flight.start) < cutoff
    flights = list(
        session.scalars(select(Flight.id).where(Flight.track_geojson.is_not(None), ended))
    )
    stripped = 0
    for audit in session.scalars(
        select(FlightAudit).join(Flight, Flight.id == FlightAudit.flight_id).where(ended)
    ):
        doc = json.loads(audit.features)
        every = doc.get("features", [])
        kept = [f for f in every if f.get("properties", {}).get("kind") != "track"]
        if len(kept) != len(every):
            stripped += 1
            if not dry_run:
                audit.features = json.dumps({**doc, "features": kept})
    result.tracks = len(flights) + stripped
    if not dry_run:
        for chunk in _chunks(flights):
            session.execute(update(Flight).where(Flight.id.in_(chunk)).values(track_geojson=None))


def _purge_attachments(
    session: Session, cutoff: datetime, result: PurgeResult, dry_run: bool, gone: set[str]
) -> set[str]:
    stmt = (
        select(Attachment.id, Attachment.sha256, Attachment.site_id)
        .join(Site, Site.id == Attachment.site_id)
        .where(Attachment.time < cutoff, Site.status != "confirmed")
    )
    rows = [r for r in session.execute(stmt) if r.site_id not in gone]  # counted with them
    result.attachments += len(rows)
    if not dry_run:
        for chunk in _chunks([r.id for r in rows]):
            session.execute(delete(Attachment).where(Attachment.id.in_(chunk)))
    return {r.sha256 for r in rows}


def purge(
    session: Session, cutoffs: RetentionCutoffs, *, actor: str, dry_run: bool = False
) -> PurgeResult:
    """Purge what the cutoffs say is kept too long, in the caller's transaction.

    Parameters
    ----------
    session : Session
        A writing session (a dry run only reads).
    cutoffs : RetentionCutoffs
    actor : str
        Who runs the purge (the audit event's actor).
    dry_run : bool
        Count what would go; change nothing, log nothing.

    Returns
    -------
    PurgeResult
        With ``orphaned_files``: evidence files no longer referenced (after the purge),
        for the caller to delete once the transaction has committed.
    """
    result = PurgeResult()
    files: set[str] = set()
    if cutoffs.unconfirmed_sites is not None:
        ids = _stale_sites(session, cutoffs.unconfirmed_sites)
        files |= _purge_sites(session, ids, result, dry_run)
    if cutoffs.raw_tracks is not None:
        _purge_tracks(session, cutoffs.raw_tracks, result, dry_run)
    if cutoffs.attachments is not None:
        gone = set(result.sites)
        files |= _purge_attachments(session, cutoffs.attachments, result, dry_run, gone)
    if not dry_run:
        session.flush()
        result.orphaned_files = sorted(files - _file_refs(session, files))
        append_event(
            session,
            actor=actor,
            action="retention.purge",
            entity="store",
            entity_id="retention",
            after={
                "cutoffs": {
                    k: None if v is None else v.isoformat() for k, v in vars(cutoffs).items()
                },
                **result.counts(),
                "site_ids": result.sites,
            },
        )
    else:
        result.orphaned_files = sorted(files)
    return result
