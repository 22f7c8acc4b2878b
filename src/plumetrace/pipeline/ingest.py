"""Ingest jobs: files -> store (detections, coverage, reports, whole campaigns).

Each file is one unit of work: it lands completely or not at all, with its follow-ups
(the civilian context of the sites it changed, the leads its passes verify) in the same
transaction. Identifiers derive from the content, so re-running an ingest that was
interrupted (even killed) skips what landed and finishes the rest: the store ends up as
an uninterrupted run leaves it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from plumetrace.data import confidence_model
from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.io.audit_files import read_audit
from plumetrace.io.evidence import (
    ReportRecord,
    file_digest,
    parse_time,
    read_coverage,
    read_detections,
    read_report,
)
from plumetrace.io.tables import read_json
from plumetrace.pipeline.context import refresh_contexts_in
from plumetrace.pipeline.gc_pause import gc_paused
from plumetrace.pipeline.overlays import with_overlays
from plumetrace.sites.confidence import ConfidenceModel
from plumetrace.sites.fusion import FusionOptions
from plumetrace.store.engine import session_scope
from plumetrace.store.flights import store_audit
from plumetrace.store.ingest import (
    FlightSpec,
    IngestResult,
    ingest_coverage,
    ingest_detections,
    ingest_report,
)
from plumetrace.store.lead_response import verify_by_surveys

__all__ = [
    "CampaignIngest",
    "ingest_audit_file",
    "ingest_campaign",
    "ingest_coverage_file",
    "ingest_detections_file",
    "ingest_report_file",
    "ingest_report_record",
]

log = logging.getLogger(__name__)


def _follow_up(session: Session, r: IngestResult) -> IngestResult:
    """Follow up an ingest in the ingest's transaction: context of the sites it changed, leads.

    The civilian context is computed for the sites the ingest created or moved; a pass
    over a site of a lead the partner acted on verifies that lead
    (:func:`plumetrace.store.lead_response.verify_by_surveys`).
    """
    changed = [*r.sites_created, *r.sites_updated, *(new for _old, new in r.split)]
    if changed:
        refresh_contexts_in(session, sorted(set(changed)))
    if r.new:
        verified = verify_by_surveys(session)
        if verified:
            log.info("re-survey verified %d lead(s): %s", len(verified), ", ".join(verified))
    return r


def ingest_detections_file(
    engine: Engine,
    path: Path,
    *,
    time: datetime,
    flight: FlightSpec,
    actor: str,
    options: FusionOptions | None = None,
    model: ConfidenceModel | None = None,
    name: str | None = None,
    enhancement: Path | None = None,
    evidence_dir: Path | None = None,
) -> IngestResult:
    """Ingest a ``plumes.geojson`` or a ``locate`` RESULT.json as one pass's detections.

    ``name`` is how the audit log names the file (its own name by default). Given the
    ``enhancement`` GeoTIFF the plumes were found in and the ``evidence_dir``, each plume
    also gets its enhancement overlay for the map (:mod:`plumetrace.pipeline.overlays`).
    """
    with gc_paused():
        records = read_detections(path)
        if enhancement is not None:
            if evidence_dir is None:
                raise InvalidParameterError("plume overlays need the evidence directory")
            records = with_overlays(records, enhancement, evidence_dir)
        model = model or confidence_model()
        source = f"{name or path.name} sha256:{file_digest(path)}"
        with session_scope(engine, write=True) as s:
            r = ingest_detections(
                s,
                flight,
                records,
                time=time,
                actor=actor,
                source=source,
                options=options,
                model=model,
            )
            return _follow_up(s, r)


def ingest_coverage_file(
    engine: Engine,
    path: Path,
    *,
    time: datetime,
    flight: FlightSpec,
    actor: str,
    model: ConfidenceModel | None = None,
    name: str | None = None,
) -> IngestResult:
    """Ingest a coverage footprint (GeoJSON polygons) of one pass."""
    footprint = read_coverage(path)
    model = model or confidence_model()
    source = f"{name or path.name} sha256:{file_digest(path)}"
    with gc_paused(), session_scope(engine, write=True) as s:
        r = ingest_coverage(
            s, flight, footprint, time=time, actor=actor, source=source, model=model
        )
        return _follow_up(s, r)


def ingest_audit_file(
    engine: Engine, path: Path, flight: FlightSpec, *, actor: str
) -> tuple[bool, int]:
    """Keep the audit ``path`` (REPORT.json + REPORT.geojson) of ``flight``'s track.

    Returns
    -------
    (bool, int)
        Whether it was new, and its number of incursions.
    """
    record = read_audit(path)
    with session_scope(engine, write=True) as s:
        row, new = store_audit(s, flight, record, actor=actor)
        return new, row.n_incursions


def ingest_report_file(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    options: FusionOptions | None = None,
    model: ConfidenceModel | None = None,
) -> IngestResult:
    """Ingest one report JSON."""
    return ingest_report_record(
        engine, read_report(path), actor=actor, options=options, model=model
    )


def ingest_report_record(
    engine: Engine,
    report: ReportRecord,
    *,
    actor: str,
    options: FusionOptions | None = None,
    model: ConfidenceModel | None = None,
) -> IngestResult:
    """Ingest one validated report."""
    model = model or confidence_model()
    with session_scope(engine, write=True) as s:
        r = ingest_report(s, report, actor=actor, options=options, model=model)
        return _follow_up(s, r)


@dataclass
class CampaignIngest:
    """Totals of :func:`ingest_campaign`."""

    passes: int = 0
    detections: int = 0
    reports: int = 0
    skipped: int = 0
    sites_created: int = 0
    merged: int = 0
    split: int = 0
    per_file: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, name: str, r: IngestResult) -> None:
        """Count one file's result."""
        self.skipped += r.skipped
        self.sites_created += len(r.sites_created)
        self.merged += len(r.merged)
        self.split += len(r.split)
        self.per_file.append({"kind": kind, "file": name, **r.to_dict()})


def _field(manifest: Path, item: dict[str, Any], key: str) -> Any:
    if key not in item:
        raise FormatError(manifest, f"a pass has no {key!r}")
    return item[key]


def ingest_campaign(
    engine: Engine,
    directory: Path,
    *,
    actor: str,
    options: FusionOptions | None = None,
    model: ConfidenceModel | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CampaignIngest:
    """Ingest a ``sim campaign`` directory (``campaign.json``): passes then reports.

    Each pass's coverage is ingested before its detections, in time order, as a
    real program would receive them.
    """
    manifest = directory / "campaign.json"
    doc = read_json(manifest)
    if not isinstance(doc, dict) or not isinstance(doc.get("passes"), list):
        raise FormatError(manifest, "not a campaign manifest (no 'passes' list)")
    passes = doc["passes"]
    reports = doc.get("reports") or []
    total = len(passes) + len(reports)
    out = CampaignIngest()
    for k, item in enumerate(passes):
        spec = FlightSpec(
            str(_field(manifest, item, "flight")),
            operator=item.get("operator"),
            platform=item.get("platform"),
            sensor=item.get("sensor"),
        )
        try:
            time = parse_time(str(_field(manifest, item, "time")))
        except ValueError:
            raise FormatError(manifest, f"pass {spec.id}: time is not ISO 8601") from None
        if item.get("coverage"):
            cov = directory / item["coverage"]
            r = ingest_coverage_file(engine, cov, time=time, flight=spec, actor=actor, model=model)
            out.add("coverage", item["coverage"], r)
        if item.get("plumes"):
            r = ingest_detections_file(
                engine,
                directory / item["plumes"],
                time=time,
                flight=spec,
                actor=actor,
                options=options,
                model=model,
            )
            out.detections += r.new
            out.add("detections", item["plumes"], r)
        out.passes += 1
        if progress:
            progress(k + 1, total)
    for k, rel in enumerate(reports):
        r = ingest_report_file(engine, directory / rel, actor=actor, options=options, model=model)
        out.reports += r.new
        out.add("report", rel, r)
        if progress:
            progress(len(passes) + k + 1, total)
    log.info("campaign %s: %d passes, %d reports", directory, out.passes, out.reports)
    return out
