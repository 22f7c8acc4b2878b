"""Site queries: the list, the review queue and one site's full record."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, Select, bindparam, case, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from plumetrace.errors import InvalidParameterError, NotFoundError
from plumetrace.geo import local_projection, lonlat_box
from plumetrace.store.compartments import hidden_sites, is_hidden
from plumetrace.store.map import overlay_sha
from plumetrace.store.models import (
    SITE_QUEUE_STATUSES,
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
from plumetrace.store.types import UTCDateTime

__all__ = [
    "QUEUE_SORTS",
    "QUEUE_STATUSES",
    "SITE_FIELDS",
    "count_sites",
    "list_sites",
    "queue_size",
    "review_queue",
    "site_detail",
    "sites_near",
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

QUEUE_STATUSES = SITE_QUEUE_STATUSES
"""Statuses that wait for an analyst's decision."""

# the statuses as literals in the SQL, not parameters: the planner then knows the query
# selects exactly the rows of the partial index ix_sites_queue (SQLite requires the
# same expression; PostgreSQL cannot prove it from parameters in a generic plan)
_IN_QUEUE = Site.status.in_(
    bindparam("queue_statuses", list(QUEUE_STATUSES), expanding=True, literal_execute=True)
)


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


MAX_NEAR_RADIUS_M = 100_000.0
"""Largest radius :func:`sites_near` accepts, m."""


def sites_near(
    session: Session,
    lon: float,
    lat: float,
    radius_m: float,
    *,
    status: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Return the sites within ``radius_m`` of a point, nearest first.

    The database pre-selects the bounding box of the circle on the indexed
    latitude/longitude columns (no table scan); exact geodesic distances are computed
    on a local azimuthal-equidistant projection around the point.

    Parameters
    ----------
    lon, lat : float, deg
    radius_m : float, m
        In (0, 100 km].
    status : str, optional
        Only sites of this status (merged ones are excluded unless asked).
    limit : int
        At most this many (the nearest).

    Returns
    -------
    list of dict
        The site fields of :func:`list_sites` plus ``distance_m``.

    Raises
    ------
    InvalidParameterError
        A radius outside (0, 100 km] or a point outside the globe.
    """
    if not (0 < radius_m <= MAX_NEAR_RADIUS_M):
        raise InvalidParameterError(f"radius_m must be in (0, 100000] m, got {radius_m}")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidParameterError(f"({lon}, {lat}) is not a longitude, latitude in range")
    w, s, e, n = lonlat_box([lat], [lon], radius_m)
    box = (max(w, -180.0), max(s, -90.0), min(e, 180.0), min(n, 90.0))
    stmt = _filtered(select(*_columns()), status, None, box, None)
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    if not rows:
        return []
    fwd, _inv = local_projection(lon, lat)
    xs, ys = fwd.transform([r["lon"] for r in rows], [r["lat"] for r in rows])
    near = []
    for row, x, y in zip(rows, xs, ys, strict=True):
        dist = float((x * x + y * y) ** 0.5)
        if dist <= radius_m:
            near.append({**row, "distance_m": round(dist, 1)})
    near.sort(key=lambda r: (r["distance_m"], r["id"]))
    return near[:limit]


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


@functools.lru_cache(maxsize=256)
def _queue_statement(
    counting: bool,
    hiding: bool,
    assignee: bool,
    unassigned: bool,
    min_confidence: bool,
    exposure: str | None,
    sort: str = "priority",
    descending: bool = True,
) -> Select[Any]:
    """Return the queue's statement of this shape, its values as bound parameters.

    Built once per shape (building one costs ~0.5 ms of CPU, as much as running it).
    It runs on the connection (Core: the queue is the workbench's busiest query), so
    the compartment rule is applied here (``hidden``).
    """
    stmt = select(func.count()).select_from(Site) if counting else select(*_columns())
    stmt = stmt.where(_IN_QUEUE)
    if hiding:
        stmt = stmt.where(Site.id.not_in(bindparam("hidden", expanding=True)))
    if assignee:
        stmt = stmt.where(Site.assignee_id == bindparam("assignee"))
    elif unassigned:
        stmt = stmt.where(Site.assignee_id.is_(None))
    if min_confidence:
        stmt = stmt.where(Site.confidence >= bindparam("min_confidence"))
    if exposure == "none":
        stmt = stmt.where(Site.exposure.is_(None))
    elif exposure is not None:
        stmt = stmt.where(Site.exposure == bindparam("exposure"))
    if counting:
        return stmt
    key = QUEUE_SORTS[sort]
    if key is not None:
        stmt = stmt.order_by(key.is_(None), key.desc() if descending else key.asc())
    elif not descending:
        stmt = stmt.order_by(Site.priority.asc())
    return (
        stmt.order_by(Site.priority.desc(), Site.last_seen.desc(), Site.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _queue_execute(
    session: Session,
    counting: bool,
    assignee: str | None,
    unassigned: bool,
    min_confidence: float | None,
    exposure: str | None,
    sort: str = "priority",
    descending: bool = True,
    limit: int | None = None,
    offset: int | None = None,
) -> Any:
    hidden = hidden_sites(session)
    stmt = _queue_statement(
        counting,
        bool(hidden),
        assignee is not None,
        unassigned,
        min_confidence is not None,
        None if exposure is None else "none" if exposure == "none" else "value",
        sort,
        descending,
    )
    params = {
        "hidden": hidden,
        "assignee": assignee,
        "min_confidence": min_confidence,
        "exposure": exposure,
        "limit": limit,
        "offset": offset,
    }
    return session.connection().execute(stmt, params)


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
    result = _queue_execute(
        session,
        False,
        assignee,
        unassigned,
        min_confidence,
        exposure,
        sort=sort,
        descending=descending,
        limit=page_size,
        offset=(max(page, 1) - 1) * page_size,
    )
    return [dict(r) for r in result.mappings().all()]


def queue_size(
    session: Session,
    *,
    assignee: str | None = None,
    unassigned: bool = False,
    min_confidence: float | None = None,
    exposure: str | None = None,
) -> int:
    """Return how many sites the review queue holds under the same filters."""
    result = _queue_execute(session, True, assignee, unassigned, min_confidence, exposure)
    return int(result.scalar() or 0)


# a site's record: statements built once (their SQL is compiled and cached once too)
_SITE: BindParameter[str] = bindparam("site_id")
_MAX: BindParameter[int] = bindparam("max_items")
_d, _r, _e = Detection, Report, EvidenceLink
_LISTS: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "detections": (
        select(
            _d.id, _d.flight_id, _d.time, _d.kind, _d.gas, _d.lat, _d.lon, _d.uncertainty_m,
            _d.rate_kg_h, _d.rate_lo_kg_h, _d.rate_hi_kg_h, _d.score, _d.properties,
        )
        .where(_d.site_id == _SITE),
        (_d.time.desc(),),
    ),
    "reports": (
        select(
            _r.id, _r.time, _r.lat, _r.lon, _r.uncertainty_m, _r.source_reliability,
            _r.credibility, _r.text, _r.organization_id,
        ).where(_r.site_id == _SITE),
        (_r.time.desc(),),
    ),
    "evidence": (
        select(
            _e.kind, _e.evidence_id, _e.distance_m, _e.mahalanobis, _e.weight, _e.reason,
            _e.time,
        ).where(_e.site_id == _SITE),
        (_e.id.desc(),),
    ),
    "passes": (
        select(SitePass.flight_id, SitePass.time, SitePass.detected)
        .where(SitePass.site_id == _SITE),
        (SitePass.time,),
    ),
    "reviews": (
        select(Review.id, Review.decision, Review.note, Review.time, User.name.label("user"))
        .join(User, User.id == Review.user_id)
        .where(Review.site_id == _SITE),
        (Review.time.desc(),),
    ),
    "assignments": (
        select(Assignment.id, Assignment.time, Assignment.active, User.name.label("user"))
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.site_id == _SITE),
        (Assignment.time.desc(),),
    ),
    "attributions": (
        select(
            Attribution.id, Attribution.organization_id,
            Organization.name.label("organization"), Attribution.confidence,
            Attribution.basis, Attribution.time,
        )
        .join(Organization, Organization.id == Attribution.organization_id)
        .where(Attribution.site_id == _SITE),
        (Attribution.time, Attribution.id),
    ),
    "attachments": (
        select(
            Attachment.id, Attachment.sha256, Attachment.filename, Attachment.media_type,
            Attachment.size, Attachment.time,
        ).where(Attachment.site_id == _SITE),
        (Attachment.time, Attachment.id),
    ),
    "collection_requests": (
        select(
            CollectionRequest.id, CollectionRequest.status, CollectionRequest.time,
            CollectionRequest.radius_m, CollectionRequest.note,
        ).where(CollectionRequest.site_id == _SITE),
        (CollectionRequest.time, CollectionRequest.id),
    ),
}  # fmt: skip
"""A site's lists: each statement and its order (newest first where it matters)."""
_CAPPED = ("detections", "reports", "evidence", "reviews", "assignments")
"""The lists cut to the newest ``max_items``."""

_DETAIL: dict[str, Select[Any]] = {
    key: (stmt.order_by(*order).limit(_MAX) if key in _CAPPED else stmt.order_by(*order))
    for key, (stmt, order) in _LISTS.items()
}
_SITE_ROW = select(
    *_columns(),
    Site.merged_into,
    Site.context,
    Site.confidence_terms,
    Site.created,
    Site.updated,
).where(Site.id == _SITE)


def _json_list(key: str) -> Any:
    """PostgreSQL: one list of a site's record as a JSON array, numbered in its order."""
    stmt, order = _LISTS[key]
    numbered = stmt.add_columns(func.row_number().over(order_by=order).label("_n"))
    if key in _CAPPED:
        numbered = numbered.order_by(*order).limit(_MAX)
    rows = numbered.subquery()
    agg = func.json_agg(aggregate_order_by(rows.table_valued(), rows.c._n))
    return select(func.coalesce(agg, text("'[]'::json"))).scalar_subquery().label(key)


_SITE_RECORD_PG = _SITE_ROW.add_columns(*(_json_list(key) for key in _LISTS))
"""PostgreSQL: a site and all its lists in one statement (one round trip, not ten)."""


def _from_json(stmt: Select[Any]) -> dict[str, Any]:
    """Return, per column of ``stmt``, how to turn its JSON value back into Python."""

    def convert(kind: Any) -> Any:
        if isinstance(kind, UTCDateTime):
            return lambda v: None if v is None else datetime.fromisoformat(v).astimezone(UTC)
        if isinstance(kind, Float):
            return lambda v: None if v is None else float(v)  # also "NaN", "Infinity"
        return None

    out = {}
    for column in stmt.selected_columns:
        f = convert(column.type)
        if f is not None:
            out[str(column.key)] = f
    return out


_CONVERT = {key: _from_json(stmt) for key, (stmt, _order) in _LISTS.items()}


def _rows_from_json(key: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    convert = _CONVERT[key]
    for row in rows:
        del row["_n"]
        for column, f in convert.items():
            row[column] = f(row[column])
    return rows


def site_detail(session: Session, site_id: str, *, max_items: int = 200) -> dict[str, Any]:
    """Return a site with its evidence, passes, reviews, assignments and attributions.

    Detections, reports, evidence links, reviews and assignments: the newest
    ``max_items`` of each (a busy site's notes would otherwise grow its record without
    bound).

    The workbench opens sites all day, so the statements run on the session's connection
    (Core: ~0.5 ms of CPU less each than through the ORM). The compartment rule is
    applied here, once: a site the session's viewer may not see is not found; every
    other row read belongs to the site.

    Raises
    ------
    NotFoundError
        If there is no such site (or the viewer may not see it).
    """
    if is_hidden(session, "site", site_id):
        raise NotFoundError(f"no site {site_id!r}")
    conn = session.connection()
    params = {"site_id": site_id, "max_items": max_items}
    one = conn.dialect.name == "postgresql"
    site = conn.execute(_SITE_RECORD_PG if one else _SITE_ROW, params).mappings().first()
    if site is None:
        raise NotFoundError(f"no site {site_id!r}")
    out = dict(site)
    if one:  # the lists came with the site, as JSON
        for key in _LISTS:
            out[key] = _rows_from_json(key, out[key])
    else:
        for key, stmt in _DETAIL.items():
            out[key] = [dict(r) for r in conn.execute(stmt, params).mappings()]
    for det in out["detections"]:  # whether GET /api/detections/{id}/image has a picture
        det["has_image"] = overlay_sha(det.pop("properties")) is not None
    return out
