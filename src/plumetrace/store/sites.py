"""Site queries: the list, the review queue and one site's full record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from plumetrace.errors import InvalidParameterError, NotFoundError
from plumetrace.store.map import overlay_sha
from plumetrace.store.models import (
    Assignment,
    Attachment,
    Attribution,
    CollectionRequest,
    Detection,
    EvidenceLink,
    Organization,
    Report,
    Review,
    Site,
    SitePass,
    User,
)

__all__ = [
    "QUEUE_SORTS",
    "QUEUE_STATUSES",
    "SITE_FIELDS",
    "count_sites",
    "list_sites",
    "queue_size",
    "review_queue",
    "site_detail",
]

SITE_FIELDS = (
    "id",
    "lat",
    "lon",
    "uncertainty_m",
    "confidence",
    "status",
    "n_detections",
    "n_reports",
    "first_seen",
    "last_seen",
    "rate_kg_h",
    "exposure",
)
"""The fields of ``plumetrace sites list --json`` (the contract), in order."""

_EXTRA = (
    "rate_lo_kg_h",
    "rate_hi_kg_h",
    "n_passes",
    "n_passes_detected",
    "priority",
    "assignee_id",
    "version",
)

QUEUE_STATUSES = ("candidate", "needs-collection")
"""Statuses that wait for an analyst's decision."""


def _row(site: Any, fields: Sequence[str]) -> dict[str, Any]:
    return {f: getattr(site, f) for f in fields}


def _columns() -> list[Any]:
    return [getattr(Site, f) for f in (*SITE_FIELDS, *_EXTRA)]


def _filtered(
    stmt: Select[Any],
    status: str | None,
    min_confidence: float | None,
    bbox: tuple[float, float, float, float] | None,
    assignee: str | None,
) -> Select[Any]:
    if status is not None:
        stmt = stmt.where(Site.status == status)
    else:
        stmt = stmt.where(Site.status != "merged")
    if min_confidence is not None:
        stmt = stmt.where(Site.confidence >= min_confidence)
    if bbox is not None:
        w, s, e, n = bbox
        stmt = stmt.where(Site.lat.between(s, n), Site.lon.between(w, e))
    if assignee is not None:
        stmt = stmt.where(Site.assignee_id == assignee)
    return stmt


def list_sites(
    session: Session,
    *,
    status: str | None = None,
    min_confidence: float | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    assignee: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Return sites (merged ones excluded unless asked), most confident first.

    Parameters
    ----------
    bbox : (west, south, east, north), deg, optional
    """
    stmt = _filtered(select(*_columns()), status, min_confidence, bbox, assignee)
    stmt = stmt.order_by(Site.confidence.desc(), Site.id).limit(limit).offset(offset)
    return [dict(r._mapping) for r in session.execute(stmt)]


def count_sites(session: Session, *, status: str | None = None) -> int:
    """Return how many sites there are (merged ones excluded unless asked)."""
    stmt = _filtered(select(func.count()).select_from(Site), status, None, None, None)
    return int(session.scalar(stmt) or 0)


_EXPOSURE_RANK = case(
    {"high": 3, "medium": 2, "low": 1, "unknown": 0}, value=Site.exposure, else_=None
)

QUEUE_SORTS: dict[str, Any] = {
    "priority": None,
    "confidence": Site.confidence,
    "rate_kg_h": Site.rate_kg_h,
    "last_seen": Site.last_seen,
    "n_detections": Site.n_detections,
    "exposure": _EXPOSURE_RANK,
}
"""Columns the review queue may be sorted by (``priority``: the default order)."""


def _queue_filter(
    stmt: Select[Any],
    assignee: str | None,
    unassigned: bool,
    min_confidence: float | None,
    exposure: str | None,
) -> Select[Any]:
    stmt = stmt.where(Site.status.in_(QUEUE_STATUSES))
    if assignee is not None:
        stmt = stmt.where(Site.assignee_id == assignee)
    elif unassigned:
        stmt = stmt.where(Site.assignee_id.is_(None))
    if min_confidence is not None:
        stmt = stmt.where(Site.confidence >= min_confidence)
    if exposure == "none":
        stmt = stmt.where(Site.exposure.is_(None))
    elif exposure is not None:
        stmt = stmt.where(Site.exposure == exposure)
    return stmt


def review_queue(
    session: Session,
    *,
    assignee: str | None = None,
    unassigned: bool = False,
    page: int = 1,
    page_size: int = 50,
    min_confidence: float | None = None,
    exposure: str | None = None,
    sort: str = "priority",
    descending: bool = True,
) -> list[dict[str, Any]]:
    """Return one page of the review queue: highest priority first, then most recent.

    Priority (:func:`plumetrace.sites.priority.site_priority`) folds confidence,
    estimated rate and exposure; recency breaks ties. ``exposure`` ``"none"`` selects
    sites not assessed yet. ``sort`` orders by another column of :data:`QUEUE_SORTS`
    instead (sites without a value last), then as the default.

    Raises
    ------
    InvalidParameterError
        An unknown ``sort``.
    """
    if sort not in QUEUE_SORTS:
        raise InvalidParameterError(f"sort must be one of {', '.join(QUEUE_SORTS)}, got {sort!r}")
    stmt = _queue_filter(select(*_columns()), assignee, unassigned, min_confidence, exposure)
    key = QUEUE_SORTS[sort]
    if key is not None:
        stmt = stmt.order_by(key.is_(None), key.desc() if descending else key.asc())
    elif not descending:
        stmt = stmt.order_by(Site.priority.asc())
    stmt = (
        stmt.order_by(Site.priority.desc(), Site.last_seen.desc(), Site.id.desc())
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    return [dict(r._mapping) for r in session.execute(stmt)]


def queue_size(
    session: Session,
    *,
    assignee: str | None = None,
    unassigned: bool = False,
    min_confidence: float | None = None,
    exposure: str | None = None,
) -> int:
    """Return how many sites the review queue holds under the same filters."""
    stmt = _queue_filter(
        select(func.count()).select_from(Site), assignee, unassigned, min_confidence, exposure
    )
    return int(session.scalar(stmt) or 0)


def _all(session: Session, stmt: Executable) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.execute(stmt)]


def site_detail(session: Session, site_id: str, *, max_items: int = 200) -> dict[str, Any]:
    """Return a site with its evidence, passes, reviews, assignments and attributions.

    Raises
    ------
    NotFoundError
        If there is no such site.
    """
    site = session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"no site {site_id!r}")
    out = _row(site, (*SITE_FIELDS, *_EXTRA))
    out.update(
        {
            "merged_into": site.merged_into,
            "context": site.context,
            "confidence_terms": site.confidence_terms,
            "created": site.created,
            "updated": site.updated,
        }
    )
    d = Detection
    out["detections"] = _all(
        session,
        select(
            d.id, d.flight_id, d.time, d.kind, d.gas, d.lat, d.lon, d.uncertainty_m,
            d.rate_kg_h, d.rate_lo_kg_h, d.rate_hi_kg_h, d.score, d.properties,
        )
        .where(d.site_id == site_id)
        .order_by(d.time.desc())
        .limit(max_items),
    )  # fmt: skip
    for det in out["detections"]:  # whether GET /api/detections/{id}/image has a picture
        det["has_image"] = overlay_sha(det.pop("properties")) is not None
    r = Report
    out["reports"] = _all(
        session,
        select(
            r.id, r.time, r.lat, r.lon, r.uncertainty_m, r.source_reliability, r.credibility,
            r.text, r.organization_id,
        )
        .where(r.site_id == site_id)
        .order_by(r.time.desc())
        .limit(max_items),
    )  # fmt: skip
    e = EvidenceLink
    out["evidence"] = _all(
        session,
        select(e.kind, e.evidence_id, e.distance_m, e.mahalanobis, e.weight, e.reason, e.time)
        .where(e.site_id == site_id)
        .order_by(e.id.desc())
        .limit(max_items),
    )
    out["passes"] = _all(
        session,
        select(SitePass.flight_id, SitePass.time, SitePass.detected)
        .where(SitePass.site_id == site_id)
        .order_by(SitePass.time),
    )
    out["reviews"] = _all(
        session,
        select(Review.id, Review.decision, Review.note, Review.time, User.name.label("user"))
        .join(User, User.id == Review.user_id)
        .where(Review.site_id == site_id)
        .order_by(Review.time.desc()),
    )
    out["assignments"] = _all(
        session,
        select(Assignment.id, Assignment.time, Assignment.active, User.name.label("user"))
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.site_id == site_id)
        .order_by(Assignment.time.desc()),
    )
    out["attributions"] = _all(
        session,
        select(
            Attribution.id,
            Attribution.organization_id,
            Organization.name.label("organization"),
            Attribution.confidence,
            Attribution.basis,
            Attribution.time,
        )
        .join(Organization, Organization.id == Attribution.organization_id)
        .where(Attribution.site_id == site_id),
    )
    out["attachments"] = _all(
        session,
        select(
            Attachment.id,
            Attachment.sha256,
            Attachment.filename,
            Attachment.media_type,
            Attachment.size,
            Attachment.time,
        ).where(Attachment.site_id == site_id),
    )
    out["collection_requests"] = _all(
        session,
        select(
            CollectionRequest.id,
            CollectionRequest.status,
            CollectionRequest.time,
            CollectionRequest.radius_m,
            CollectionRequest.note,
        ).where(CollectionRequest.site_id == site_id),
    )
    return out
