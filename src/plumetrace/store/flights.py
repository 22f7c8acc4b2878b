"""Flights in the store: audited tracks (:class:`~plumetrace.store.models.FlightAudit`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plumetrace.errors import ConfigurationError
from plumetrace.io.audit_files import AuditRecord
from plumetrace.store.audit_log import append_event
from plumetrace.store.ingest import FlightSpec, ensure_flight
from plumetrace.store.models import Flight, FlightAudit

__all__ = ["list_flights", "store_audit"]


def store_audit(
    session: Session, flight: FlightSpec, audit: AuditRecord, *, actor: str
) -> tuple[FlightAudit, bool]:
    """Keep an audit of ``flight``'s track; return it and whether it is new.

    The same report file stored again changes nothing (its digest is its identity).

    Raises
    ------
    ConfigurationError
        The flight is recorded with another operator than the audit's, or is new and
        lacks its platform or sensor.
    """
    aid = f"aud-{audit.digest[:16]}"
    existing = session.get(FlightAudit, aid)
    if existing is not None:
        return existing, False
    operator = str(audit.report["operator"])
    if flight.operator is not None and flight.operator != operator:
        raise ConfigurationError(f"the audit is of operator {operator!r}, not {flight.operator!r}")
    start = audit.report.get("start")
    when = (
        datetime.fromisoformat(start.replace("Z", "+00:00"))
        if isinstance(start, str)
        else datetime.now(UTC)
    )
    spec = FlightSpec(flight.id, operator, flight.platform, flight.sensor)
    row = ensure_flight(session, spec, when if when.tzinfo else when.replace(tzinfo=UTC))
    track = next(f for f in audit.features if f["properties"].get("kind") == "track")
    if row.track_geojson is None:
        row.track_geojson = json.dumps(track["geometry"])
    w, s, e, n = audit.bbox
    incursions = audit.report["incursions"]
    rec = FlightAudit(
        id=aid,
        flight_id=row.id,
        operator_id=operator,
        total_unauthorized_s=float(audit.report["total_unauthorized_s"]),
        n_incursions=len(incursions),
        report=audit.report,
        features=json.dumps({"type": "FeatureCollection", "features": audit.features}),
        min_lat=s,
        max_lat=n,
        min_lon=w,
        max_lon=e,
    )
    session.add(rec)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="ingest.audit",
        entity="flight",
        entity_id=row.id,
        after={
            "audit": aid,
            "operator": operator,
            "incursions": len(incursions),
            "total_unauthorized_s": rec.total_unauthorized_s,
        },
    )
    return rec, True


def list_flights(session: Session) -> list[dict[str, Any]]:
    """Return every flight with its latest audit's summary (incursions, seconds outside)."""
    audits: dict[str, FlightAudit] = {}
    for a in session.scalars(select(FlightAudit).order_by(FlightAudit.time)):
        audits[a.flight_id] = a
    out = []
    for f in session.scalars(select(Flight).order_by(Flight.start, Flight.id)):
        audit = audits.get(f.id)
        out.append(
            {
                "id": f.id,
                "operator": f.operator_id,
                "platform": f.platform_id,
                "sensor": f.sensor_id,
                "start": f.start,
                "end": f.end,
                "has_track": f.track_geojson is not None,
                "audit": None
                if audit is None
                else {
                    "id": audit.id,
                    "incursions": audit.n_incursions,
                    "total_unauthorized_s": audit.total_unauthorized_s,
                    "report": audit.report,
                },
            }
        )
    return out
