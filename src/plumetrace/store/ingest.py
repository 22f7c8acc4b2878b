"""Ingest: detections, coverage and reports into the store, fused into sites.

Each function is one unit of work in the caller's session and writes one audit event.
Identifiers are derived from the content (flight + detection key, flight + footprint
hash, report id), so ingesting the same file twice changes nothing, not even the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np
import shapely
from sqlalchemy import Table, bindparam, func, select, text
from sqlalchemy.orm import Session

from plumetrace.errors import ConfigurationError, InvalidParameterError
from plumetrace.io.evidence import DetectionRecord, ReportRecord
from plumetrace.sites.confidence import ConfidenceModel, report_llr
from plumetrace.sites.fusion import FusionOptions
from plumetrace.store.audit_log import append_event
from plumetrace.store.bulk import bulk_insert, insert_columns
from plumetrace.store.fusion import (
    Evidence,
    fuse,
    mark_passes,
    rescore_passes,
)
from plumetrace.store.models import (
    Coverage,
    Detection,
    EvidenceLink,
    Flight,
    Operator,
    Organization,
    Platform,
    Report,
    Sensor,
    Site,
)
from plumetrace.store.split import recompute_site, split_site
from plumetrace.store.types import utcnow

__all__ = [
    "FlightSpec",
    "IngestResult",
    "detection_id",
    "ensure_flight",
    "ingest_coverage",
    "ingest_detections",
    "ingest_report",
]


@dataclass(frozen=True)
class FlightSpec:
    """A pass, and what to record about it if it is new."""

    id: str
    operator: str | None = None
    platform: str | None = None
    sensor: str | None = None


@dataclass
class IngestResult:
    """What an ingest changed."""

    new: int = 0
    skipped: int = 0
    sites_created: list[str] = field(default_factory=list)
    sites_updated: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)
    split: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {
            "new": self.new,
            "skipped": self.skipped,
            "sites_created": len(self.sites_created),
            "sites_updated": len(self.sites_updated),
            "merged": [list(m) for m in self.merged],
            "split": [list(m) for m in self.split],
        }


def _check_id(kind: str, value: str) -> None:
    if not value or len(value) > 64 or any(c.isspace() for c in value):
        raise InvalidParameterError(
            f"{kind} id must be 1-64 characters without spaces, got {value!r}"
        )


def ensure_flight(session: Session, spec: FlightSpec, time: datetime) -> Flight:
    """Return the flight, creating it (and its operator, platform, sensor) if new.

    Raises
    ------
    ConfigurationError
        If the flight is new and its operator, platform or sensor is not given.
    """
    _check_id("flight", spec.id)
    flight = session.get(Flight, spec.id)
    if flight is not None:
        for kind, given, stored in (
            ("operator", spec.operator, flight.operator_id),
            ("platform", spec.platform, flight.platform_id),
            ("sensor", spec.sensor, flight.sensor_id),
        ):
            if given is not None and stored is not None and given != stored:
                raise ConfigurationError(
                    f"flight {spec.id} is recorded with {kind} {stored!r}, not {given!r}"
                )
        if flight.start is None or time < flight.start:
            flight.start = time
        if flight.end is None or time > flight.end:
            flight.end = time
        return flight
    missing = [k for k in ("operator", "platform", "sensor") if getattr(spec, k) is None]
    if missing:
        raise ConfigurationError(
            f"flight {spec.id} is new: give {', '.join('--' + k for k in missing)}"
        )
    assert spec.operator and spec.platform and spec.sensor
    for kind, value in (("operator", spec.operator), ("platform", spec.platform)):
        _check_id(kind, value)
    _check_id("sensor", spec.sensor)
    if session.get(Operator, spec.operator) is None:
        session.add(Operator(id=spec.operator, name=spec.operator))
    if session.get(Platform, spec.platform) is None:
        session.add(Platform(id=spec.platform, operator_id=spec.operator))
    if session.get(Sensor, spec.sensor) is None:
        session.add(Sensor(id=spec.sensor))
    session.flush()
    flight = Flight(
        id=spec.id,
        operator_id=spec.operator,
        platform_id=spec.platform,
        sensor_id=spec.sensor,
        start=time,
        end=time,
    )
    session.add(flight)
    session.flush()
    return flight


_ANALYZE_AFTER = 1000
"""New sites in one ingest after which PostgreSQL's statistics on sites are refreshed."""


def detection_id(flight_id: str, key: str) -> str:
    """Return the identifier of detection ``key`` of a flight (``det-`` + 20 hex digits)."""
    return "det-" + hashlib.sha256(f"{flight_id}\x00{key}".encode()).hexdigest()[:20]


_SITES = cast("Table", Site.__table__)
_SITE_EXISTS = select(_SITES.c.id).where(_SITES.c.id == bindparam("id"))


def _fuse(
    session: Session,
    evidence: list[Evidence],
    flight_id: str | None,
    options: FusionOptions,
    model: ConfidenceModel,
    now: datetime,
    insert: Callable[[], None] | None = None,
    *,
    new_flight: bool = False,
) -> IngestResult:
    """Fuse evidence, then re-check merged sites for evidence to split off.

    ``insert``, if given, stores the evidence rows once their sites are known (before the
    split check, which reads them); otherwise they are already stored and get updated.
    ``new_flight``: the flight was created in this transaction (see :func:`fuse`).
    """
    out = fuse(
        session,
        evidence,
        flight_id=flight_id,
        options=options,
        model=model,
        now=now,
        set_sites=insert is None,
        new_flight=new_flight,
    )
    if insert is not None:
        insert()
    result = IngestResult(sites_created=out.created, sites_updated=out.updated, merged=out.merged)
    kept = {k for _d, k in result.merged}
    conn = session.connection()
    for site_id in sorted(kept):
        if conn.execute(_SITE_EXISTS, {"id": site_id}).first() is None:
            continue
        for new in split_site(session, site_id, options, model, now):
            result.split.append((site_id, new))
        recompute_site(session, site_id, model, now)
    return result


def ingest_detections(
    session: Session,
    flight: FlightSpec,
    records: Sequence[DetectionRecord],
    *,
    time: datetime,
    actor: str,
    source: str,
    options: FusionOptions | None = None,
    model: ConfidenceModel | None = None,
) -> IngestResult:
    """Store detections of one pass and fuse them into sites.

    Parameters
    ----------
    session : Session
    flight : FlightSpec
        The pass; created when new (operator, platform and sensor then required).
    records : sequence of DetectionRecord
    time : datetime
        When the pass observed (UTC).
    actor : str
        Who ingests (recorded in the audit log).
    source : str
        The file's name and digest, for the audit log.
    """
    options = options or FusionOptions()
    model = model or ConfidenceModel()
    now = utcnow()
    result = IngestResult()
    ids = [detection_id(flight.id, r.key) for r in records]
    if len(set(ids)) != len(ids):
        raise InvalidParameterError("two detections in the file share an id")
    # ids derive from (flight, key): only this flight's detections can collide
    known = (
        set(session.scalars(select(Detection.id).where(Detection.flight_id == flight.id)))
        if ids
        else set()
    )
    fresh = [(i, r) for i, r in zip(ids, records, strict=True) if i not in known]
    result.skipped = len(records) - len(fresh)
    if not fresh:
        return result
    new_flight = session.get(Flight, flight.id) is None
    ensure_flight(session, flight, time)
    evidence = [
        Evidence(
            "detection",
            i,
            r.lat,
            r.lon,
            r.uncertainty_m,
            time,
            r.rate_kg_h,
            r.rate_lo_kg_h,
            r.rate_hi_kg_h,
            r.score,
        )
        for i, r in fresh
    ]

    def insert_rows() -> None:
        recs = [r for _i, r in fresh]
        n = len(recs)
        insert_columns(
            session,
            Detection,
            {
                "id": [i for i, _r in fresh],
                "flight_id": [flight.id] * n,
                "time": [time] * n,
                "kind": [r.kind for r in recs],
                "gas": [r.gas for r in recs],
                "lat": [r.lat for r in recs],
                "lon": [r.lon for r in recs],
                "uncertainty_m": [r.uncertainty_m for r in recs],
                "rate_kg_h": [r.rate_kg_h for r in recs],
                "rate_lo_kg_h": [r.rate_lo_kg_h for r in recs],
                "rate_hi_kg_h": [r.rate_hi_kg_h for r in recs],
                "score": [r.score for r in recs],
                "site_id": [ev.site_id for ev in evidence],
                "properties": [r.properties for r in recs],
            },
        )

    result = _fuse(
        session, evidence, flight.id, options, model, now, insert_rows, new_flight=new_flight
    )
    result.new = len(fresh)
    result.skipped = len(records) - len(fresh)
    if len(result.sites_created) >= _ANALYZE_AFTER and session.get_bind().dialect.name == (
        "postgresql"
    ):
        # the planner's idea of the table's size lags bulk growth (autovacuum runs later);
        # stale statistics turned the review queue's index walk into a sort of every site
        session.execute(text("ANALYZE sites"))
    append_event(
        session,
        actor=actor,
        action="ingest.detections",
        entity="flight",
        entity_id=flight.id,
        after={"source": source, "time": time, **result.to_dict()},
    )
    return result


def ingest_coverage(
    session: Session,
    flight: FlightSpec,
    footprint: Any,
    *,
    time: datetime,
    actor: str,
    source: str,
    model: ConfidenceModel | None = None,
) -> IngestResult:
    """Record what a pass observed; sites inside it gain a pass (negative evidence).

    Parameters
    ----------
    footprint : shapely Polygon or MultiPolygon
        Lon/lat (WGS84).
    """
    model = model or ConfidenceModel()
    now = utcnow()
    text = shapely.to_geojson(footprint)
    cid = "cov-" + hashlib.sha256(f"{flight.id}\x00{text}".encode()).hexdigest()[:20]
    result = IngestResult()
    if session.get(Coverage, cid) is not None:
        result.skipped = 1
        return result
    ensure_flight(session, flight, time)
    w, s, e, n = shapely.bounds(footprint).tolist()
    session.add(
        Coverage(
            id=cid,
            flight_id=flight.id,
            time=time,
            footprint_geojson=text,
            min_lat=s,
            max_lat=n,
            min_lon=w,
            max_lon=e,
        )
    )
    rows = session.execute(
        select(Site.id, Site.lat, Site.lon).where(
            Site.lat.between(s, n), Site.lon.between(w, e), Site.status != "merged"
        )
    ).all()
    inside: list[str] = []
    if rows:
        pts = shapely.points(np.asarray([r[2] for r in rows]), np.asarray([r[1] for r in rows]))
        shapely.prepare(footprint)
        inside = [rows[int(k)][0] for k in np.flatnonzero(shapely.contains(footprint, pts))]
    added = mark_passes(session, {(sid, flight.id): (time, False) for sid in inside})
    moved = rescore_passes(session, added, model, now)
    result.sites_updated = list(moved)
    links = [
        {
            "site_id": sid,
            "kind": "coverage",
            "evidence_id": cid,
            "distance_m": None,
            "mahalanobis": None,
            "weight": moved[sid],
            "reason": f"pass {flight.id} covered the site",
            "time": now,
        }
        for sid in result.sites_updated
    ]
    if links:
        bulk_insert(session, EvidenceLink, links)
    result.new = 1
    append_event(
        session,
        actor=actor,
        action="ingest.coverage",
        entity="flight",
        entity_id=flight.id,
        after={"source": source, "coverage": cid, "time": time, **result.to_dict()},
    )
    return result


def _organization(session: Session, name: str) -> str:
    """Return the id of the organization a report names, creating it if unknown.

    Names match without regard to case; an organization renamed since it was first
    named keeps its id (derived from the first name), so the old name still finds it.
    """
    org = session.scalars(
        select(Organization).where(func.lower(Organization.name) == name.lower())
    ).first()
    if org is not None:
        return org.id
    oid = "org-" + hashlib.sha256(name.casefold().encode()).hexdigest()[:10]
    if session.get(Organization, oid) is None:
        session.add(Organization(id=oid, name=name, aliases=[]))
        session.flush()
    return oid


def ingest_report(
    session: Session,
    report: ReportRecord,
    *,
    actor: str,
    options: FusionOptions | None = None,
    model: ConfidenceModel | None = None,
) -> IngestResult:
    """Store a report from another source and fuse it into a site.

    Raises
    ------
    ConfigurationError
        If a different report with the same id is already stored.
    """
    options = options or FusionOptions()
    model = model or ConfidenceModel()
    now = utcnow()
    result = IngestResult()
    old = session.get(Report, report.id)
    if old is not None:
        if old.digest == report.digest:
            result.skipped = 1
            return result
        raise ConfigurationError(f"a different report with id {report.id} is already stored")
    org = _organization(session, report.organization) if report.organization else None
    session.add(
        Report(
            id=report.id,
            time=report.time,
            lat=report.lat,
            lon=report.lon,
            uncertainty_m=report.uncertainty_m,
            source_reliability=report.source_reliability,
            credibility=report.credibility,
            text=report.text,
            organization_id=org,
            digest=report.digest,
        )
    )
    session.flush()
    ev = Evidence(
        "report",
        report.id,
        report.lat,
        report.lon,
        report.uncertainty_m,
        report.time,
        llr=report_llr(report.source_reliability, report.credibility),
    )
    result = _fuse(session, [ev], None, options, model, now)
    result.new = 1
    append_event(
        session,
        actor=actor,
        action="ingest.report",
        entity="report",
        entity_id=report.id,
        after={"site": ev.site_id, "organization": org, **result.to_dict()},
    )
    return result
