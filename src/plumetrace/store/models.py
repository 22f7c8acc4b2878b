"""SQLAlchemy 2 models: every table plumetrace keeps.

Geometry is kept as GeoJSON text (lon, lat order) plus indexed WGS84 bounding-box or
point columns for spatial pre-selection, so the same schema runs on SQLite and on a
PostgreSQL without PostGIS. Times are UTC (:class:`~plumetrace.store.types.UTCDateTime`).
Identifiers are prefixed strings (``site-…``, ``det-…``). Tables an analyst edits carry a
``version`` column used for optimistic locking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plumetrace.store.types import UTCDateTime, utcnow

__all__ = [
    "SITE_QUEUE_STATUSES",
    "Assignment",
    "Attachment",
    "Attribution",
    "AuditEvent",
    "Base",
    "CollectionRequest",
    "ContextFeature",
    "ContextLayer",
    "Coverage",
    "Designation",
    "Detection",
    "EvidenceLink",
    "Flight",
    "FlightAudit",
    "Lead",
    "LeadEvent",
    "LeadSite",
    "Operator",
    "Organization",
    "Partner",
    "Platform",
    "Report",
    "Review",
    "Scene",
    "Sensor",
    "SharedObject",
    "Site",
    "SitePass",
    "Token",
    "User",
]

ID = String(64)


class Base(DeclarativeBase):
    """Declarative base of every plumetrace table."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# --- collection -----------------------------------------------------------------------


class Operator(Base):
    """An organisation that flies, with its authorization (see ``operators.toml``)."""

    __tablename__ = "operators"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Platform(Base):
    """An aircraft or drone."""

    __tablename__ = "platforms"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"))
    kind: Mapped[str] = mapped_column(String(32), default="unknown")


class Sensor(Base):
    """An imaging spectrometer or an in-situ sniffer."""

    __tablename__ = "sensors"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="unknown")


class Flight(Base):
    """One pass: a flight of a platform carrying a sensor; the unit of repeated looks."""

    __tablename__ = "flights"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"))
    platform_id: Mapped[str | None] = mapped_column(ForeignKey("platforms.id"))
    sensor_id: Mapped[str | None] = mapped_column(ForeignKey("sensors.id"))
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    track_geojson: Mapped[str | None] = mapped_column(Text)
    footprint_geojson: Mapped[str | None] = mapped_column(Text)


class FlightAudit(Base):
    """A flown track audited against its operator's authorization (``plumetrace audit``).

    ``features`` keeps the audit's GeoJSON (the simplified track, each incursion's
    segment, the deepest points) for the map; the bounding box selects it by area.
    """

    __tablename__ = "flight_audits"
    id: Mapped[str] = mapped_column(ID, primary_key=True)  # aud- + report digest
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id"), index=True)
    operator_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    total_unauthorized_s: Mapped[float] = mapped_column(Float)
    n_incursions: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[str] = mapped_column(Text)  # GeoJSON FeatureCollection
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)


class Scene(Base):
    """An imaging-spectrometer scene of a flight."""

    __tablename__ = "scenes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id"), index=True)
    time: Mapped[datetime]
    footprint_geojson: Mapped[str | None] = mapped_column(Text)


class Detection(Base):
    """A plume (imaging) or a located source (in-situ), as ingested."""

    __tablename__ = "detections"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id"), index=True)
    scene_id: Mapped[str | None] = mapped_column(ForeignKey("scenes.id"))
    time: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))  # plume | insitu
    gas: Mapped[str] = mapped_column(String(16), default="ch4")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    uncertainty_m: Mapped[float] = mapped_column(Float)
    rate_kg_h: Mapped[float | None] = mapped_column(Float)
    rate_lo_kg_h: Mapped[float | None] = mapped_column(Float)
    rate_hi_kg_h: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)  # detection strength (e.g. SNR)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # a site's detections, newest first; the map's bounding boxes (a B-tree on latitude
    # then longitude: the box's latitude band is one index range, longitude is checked
    # in the index); few indexes keep ingest fast
    __table_args__ = (
        Index("ix_detections_site_time", "site_id", "time"),
        Index("ix_detections_lat_lon", "lat", "lon"),
    )


class Coverage(Base):
    """An area a pass observed (negative evidence where nothing was detected)."""

    __tablename__ = "coverage"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id"), index=True)
    time: Mapped[datetime]
    footprint_geojson: Mapped[str] = mapped_column(Text)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)


class Report(Base):
    """A report from another source (a tip), graded on the Admiralty scale."""

    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    time: Mapped[datetime] = mapped_column(index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    uncertainty_m: Mapped[float] = mapped_column(Float)
    source_reliability: Mapped[str] = mapped_column(String(1))  # A-F
    credibility: Mapped[int] = mapped_column(Integer)  # 1-6
    text: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))  # content hash, for idempotent ingest


# --- sites and evidence ---------------------------------------------------------------


SITE_QUEUE_STATUSES = ("candidate", "needs-collection")
"""Statuses of the sites that wait for an analyst's decision (the review queue)."""
_IN_QUEUE_SQL = "status IN ('candidate', 'needs-collection')"
"""The review-queue index's predicate; a query uses the index only if it says the same,
with the statuses as literals (see :mod:`plumetrace.store.sites`)."""
_ASSIGNED_SQL = "assignee_id IS NOT NULL"
_RESTRICTED_SQL = "compartment IS NOT NULL"
"""The predicates of the partial indexes on sites' assignee and compartment."""


class Site(Base):
    """A candidate emission site fused from detections and reports."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    uncertainty_m: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float, index=True)
    status: Mapped[str] = mapped_column(String(24), default="candidate")
    n_detections: Mapped[int] = mapped_column(Integer, default=0)
    n_reports: Mapped[int] = mapped_column(Integer, default=0)
    n_passes: Mapped[int] = mapped_column(Integer, default=0)  # passes that saw the site
    n_passes_detected: Mapped[int] = mapped_column(Integer, default=0)
    report_llr: Mapped[float] = mapped_column(Float, default=0.0)
    score_logit_sum: Mapped[float] = mapped_column(Float, default=0.0)
    n_scored: Mapped[int] = mapped_column(Integer, default=0)
    log_rate_sum: Mapped[float] = mapped_column(Float, default=0.0)
    log_rate_sq_sum: Mapped[float] = mapped_column(Float, default=0.0)
    n_rated: Mapped[int] = mapped_column(Integer, default=0)
    pos_weight: Mapped[float] = mapped_column(Float)  # Σ 1/σ² of its evidence, m⁻²
    confidence_terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    rate_kg_h: Mapped[float | None] = mapped_column(Float)
    rate_lo_kg_h: Mapped[float | None] = mapped_column(Float)
    rate_hi_kg_h: Mapped[float | None] = mapped_column(Float)
    exposure: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # restricted to one compartment (team): only its members see the site (None: all staff)
    compartment: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_sites_lat_lon", "lat", "lon"),
        # the review queue walks this index backwards (priority, then recency, then id);
        # it holds only the sites waiting for review, so a page reads only those and the
        # queue's size is counted in the index, not the table
        Index(
            "ix_sites_queue",
            "priority",
            "last_seen",
            "id",
            postgresql_where=text(_IN_QUEUE_SQL),
            sqlite_where=text(_IN_QUEUE_SQL),
        ),
        # partial: most sites have neither an assignee nor a compartment, and a fusion
        # batch that moves thousands of sites then writes no entry into these two
        # (``col = x`` and ``col IS NOT NULL`` both imply the predicate, so the lookups
        # still use them)
        Index(
            "ix_sites_assignee_id",
            "assignee_id",
            postgresql_where=text(_ASSIGNED_SQL),
            sqlite_where=text(_ASSIGNED_SQL),
        ),
        Index(
            "ix_sites_compartment",
            "compartment",
            postgresql_where=text(_RESTRICTED_SQL),
            sqlite_where=text(_RESTRICTED_SQL),
        ),
    )


class SitePass(Base):
    """Whether one pass (flight) over a site detected it: the repeated-look record."""

    __tablename__ = "site_passes"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id"), primary_key=True)
    time: Mapped[datetime]
    detected: Mapped[bool] = mapped_column(Boolean, default=False)
    covered: Mapped[bool] = mapped_column(Boolean, default=False)


class EvidenceLink(Base):
    """Why a piece of evidence is part of a site: distance, its weight, a sentence."""

    __tablename__ = "evidence_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))  # unique index below
    kind: Mapped[str] = mapped_column(String(16))  # detection | report | coverage
    evidence_id: Mapped[str] = mapped_column(ID)
    distance_m: Mapped[float | None] = mapped_column(Float)
    mahalanobis: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)  # log-likelihood ratio contributed
    reason: Mapped[str] = mapped_column(Text)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("site_id", "kind", "evidence_id"),)


# --- analyst workflow -------------------------------------------------------------------


class User(Base):
    """A person with one role: analyst, supervisor, liaison, partner or admin."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the password printed at creation is one-time: it only lets the user set their own
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # a partner user belongs to one partner and sees only what was released to it
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    # the restricted compartments (teams) whose sites this staff user may see
    compartments: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Token(Base):
    """A bearer token (only its SHA-256 is stored)."""

    __tablename__ = "tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime]


class LoginAttempt(Base):
    """One password login attempt: what login throttling counts (kept one day)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_time", "name", "time"),
        Index("ix_login_attempts_client_time", "client", "time"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(120))
    client: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)


class Review(Base):
    """An analyst's decision on a site: confirm, reject or needs-collection."""

    __tablename__ = "reviews"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """A site handed to an analyst (the latest active one counts)."""

    __tablename__ = "assignments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CollectionRequest(Base):
    """A request to re-survey a site (from a needs-collection decision)."""

    __tablename__ = "collection_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="open")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}


class Attachment(Base):
    """An evidence file on a site; the bytes live content-addressed on disk."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    time: Mapped[datetime] = mapped_column(default=utcnow)


# --- organizations ----------------------------------------------------------------------


class Organization(Base):
    """A criminal or other organization sites may be attributed to."""

    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}


class Designation(Base):
    """A formal designation of an organization (authority, designation, date)."""

    __tablename__ = "designations"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    authority: Mapped[str] = mapped_column(String(200))
    designation: Mapped[str] = mapped_column(String(200))
    date: Mapped[str] = mapped_column(String(10))  # ISO date
    reference: Mapped[str] = mapped_column(Text, default="")


class Attribution(Base):
    """A link site <-> organization with a confidence and its basis."""

    __tablename__ = "attributions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("site_id", "organization_id"),)


# --- partner sharing --------------------------------------------------------------------


class Partner(Base):
    """A partner country's authority that receives leads, with its release policy."""

    __tablename__ = "partners"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(3), default="")  # ISO 3166 alpha-2/3
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)  # ReleasePolicy.to_dict()
    created: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}


class Lead(Base):
    """A lead for one partner, drafted from sites; released after a second person's review.

    ``status``: draft -> released (or withdrawn). The partner's response is kept in the
    ``acknowledged`` ... ``verified`` columns (latest of each) and in full as
    :class:`LeadEvent` rows.
    """

    __tablename__ = "leads"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    tlp: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    recommended_action: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")
    drafted_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    drafted: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    released: Mapped[datetime | None]
    release: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the frozen ReleasableLead
    redaction: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what was withheld
    acknowledged: Mapped[datetime | None]
    feedback: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_text: Mapped[str] = mapped_column(Text, default="")
    action_date: Mapped[datetime | None]
    verified: Mapped[datetime | None]
    verification: Mapped[str | None] = mapped_column(String(24))  # no-emission | still-emitting
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}


class LeadSite(Base):
    """A site a lead is about."""

    __tablename__ = "lead_sites"
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True, index=True)


class LeadEvent(Base):
    """One step of a lead's life: drafted, released, acknowledged, feedback, action, verified."""

    __tablename__ = "lead_events"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    time: Mapped[datetime]  # when it happened
    recorded: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # partner | liaison | survey | system
    outcome: Mapped[str | None] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text, default="")


class SharedObject(Base):
    """A STIX object released to a partner: one row per object version (its TAXII collection).

    ``seq`` orders the collection for pagination; ``date_added`` is when the object
    reached the collection (TAXII ``added_after``).
    """

    __tablename__ = "shared_objects"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    stix_id: Mapped[str] = mapped_column(String(120))
    stix_type: Mapped[str] = mapped_column(String(40))
    modified: Mapped[str] = mapped_column(String(32))  # the object's STIX timestamp
    date_added: Mapped[datetime]
    media_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the object, JSON
    __table_args__ = (
        UniqueConstraint("partner_id", "stix_id", "modified"),
        Index("ix_shared_objects_collection", "partner_id", "date_added", "seq"),
    )


# --- civilian context -------------------------------------------------------------------


class ContextLayer(Base):
    """A loaded context layer (population raster file, building set), by content hash."""

    __tablename__ = "context_layers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # population | buildings | facilities
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(Text)  # population raster under PLUMETRACE_HOME
    name: Mapped[str] = mapped_column(String(255))
    loaded: Mapped[datetime] = mapped_column(default=utcnow)


class ContextFeature(Base):
    """A building footprint or a sensitive facility (school, hospital)."""

    __tablename__ = "context_features"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    layer_id: Mapped[str] = mapped_column(ForeignKey("context_layers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # building | school | hospital
    residential: Mapped[bool | None] = mapped_column(Boolean)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    geojson: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_context_features_bbox", "min_lat", "min_lon"),)


# --- audit ------------------------------------------------------------------------------


class AuditEvent(Base):
    """One change, in an append-only hash chain (see :mod:`plumetrace.store.audit_log`)."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(ID, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
