"""Sites: the list, the review queue, one site, assignment, reviews and evidence files."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import (
    MAX_DB_INT,
    CurrentUser,
    ReadSession,
    SessionRoute,
    WriteSession,
    allow,
    app_settings,
    parse_bbox,
    present,
)
from plumetrace.errors import InvalidParameterError
from plumetrace.io import evidence_files
from plumetrace.settings import Settings
from plumetrace.store import sites as site_store
from plumetrace.store import workflow
from plumetrace.store.compartments import set_site_compartment

__all__ = ["router"]

router = APIRouter(tags=["sites"], route_class=SessionRoute)

READERS = ("analyst", "supervisor", "liaison")
"""Who may read sites."""
REVIEWERS = ("analyst", "supervisor")
"""Who works the queue: assigns, reviews, attaches evidence, handles collection requests."""

_NOTE = 20_000


class AssignBody(BaseModel):
    """Whom to assign a site to, and the site version the caller read."""

    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=120, description="User name or id")
    version: int = Field(ge=0, le=MAX_DB_INT, description="The site's version as you read it")


class ReviewBody(BaseModel):
    """A decision on a site."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "reject", "needs-collection", "note"]
    note: str = Field(default="", max_length=_NOTE)
    version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DB_INT,
        description="The site's version as you read it (not for notes)",
    )
    radius_m: float | None = Field(
        default=None, gt=0, le=100_000, description="Collection radius, m (needs-collection)"
    )


class CloseBody(BaseModel):
    """Closing a collection request."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0, le=MAX_DB_INT, description="The request's version as you read it")
    note: str = Field(default="", max_length=_NOTE)


class RecentCounts:
    """Counts that are recounted at most every ``max_age_s`` once they are large.

    Counting a queue of tens of thousands of sites costs the database ~10 ms; 140
    analysts paging through it would spend a core on it. A count of at least
    ``exact_below`` is reused for ``max_age_s`` (per server process); a smaller one is
    always recounted, so a small queue's total is always exact.

    Parameters
    ----------
    max_age_s : float, s
    exact_below : int
    """

    def __init__(self, max_age_s: float = 1.0, exact_below: int = 1000) -> None:
        self.max_age_s = max_age_s
        self.exact_below = exact_below
        self._counts: dict[tuple[Any, ...], tuple[float, int]] = {}

    def get(self, key: tuple[Any, ...], count: Callable[[], int]) -> int:
        """Return the count under ``key``: the kept one if recent, else ``count()``."""
        now = time.monotonic()
        kept = self._counts.get(key)
        if kept is not None and now - kept[0] < self.max_age_s:
            return kept[1]
        n = count()
        if n >= self.exact_below:
            if len(self._counts) > 10_000:  # filters are many: keep the memory bounded
                self._counts.clear()
            self._counts[key] = (now, n)
        else:
            self._counts.pop(key, None)
        return n


_QUEUE_TOTALS = RecentCounts()


def _point(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidParameterError(f"near must be lon,lat in degrees, got {text!r}") from None
    return lon, lat


@router.get("/api/sites", **allow(*READERS))
def list_sites(
    session: ReadSession,
    status: Annotated[str | None, Query(max_length=24)] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north (deg)")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
    near: Annotated[
        str | None, Query(description="lon,lat (deg): sites within radius_m, nearest first")
    ] = None,
    radius_m: Annotated[float, Query(gt=0, le=100_000, description="With near, m")] = 1000.0,
) -> dict[str, Any]:
    """List sites, most confident first (merged sites only when asked by status).

    With ``near``, the sites within ``radius_m`` of that point, nearest first, each with
    its ``distance_m``.
    """
    if near is not None:
        if bbox is not None or min_confidence is not None or offset:
            raise InvalidParameterError("near does not combine with bbox, min_confidence, offset")
        lon, lat = _point(near)
        rows = site_store.sites_near(session, lon, lat, radius_m, status=status, limit=limit)
        return present({"sites": rows, "limit": limit, "offset": 0})
    rows = site_store.list_sites(
        session,
        status=status,
        min_confidence=min_confidence,
        bbox=parse_bbox(bbox),
        limit=limit,
        offset=offset,
    )
    return present({"sites": rows, "limit": limit, "offset": offset})


@router.get("/api/sites/queue", **allow(*REVIEWERS))
def queue(
    session: ReadSession,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=MAX_DB_INT // 500)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    mine: bool = False,
    unassigned: bool = False,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    exposure: Annotated[
        Literal["low", "medium", "high", "unknown", "none"] | None,
        Query(description="An exposure class, or none: not assessed yet"),
    ] = None,
    sort: Annotated[
        Literal["priority", "confidence", "rate_kg_h", "last_seen", "n_detections", "exposure"],
        Query(description="Column to order by (then priority)"),
    ] = "priority",
    order: Annotated[Literal["desc", "asc"], Query()] = "desc",
) -> dict[str, Any]:
    """Return one page of the review queue, highest priority first, and its size.

    ``total`` is exact for a queue under 1,000 sites; a larger one is counted at most
    once a second per server process (it may lag the page by that second).
    """
    filters: dict[str, Any] = {
        "assignee": user.id if mine else None,
        "unassigned": unassigned,
        "min_confidence": min_confidence,
        "exposure": exposure,
    }
    rows = site_store.review_queue(
        session, page=page, page_size=page_size, sort=sort, descending=order == "desc", **filters
    )
    key = (user.role, tuple(user.compartments or ()), *filters.values())
    total = _QUEUE_TOTALS.get(key, lambda: site_store.queue_size(session, **filters))
    return present({"sites": rows, "page": page, "page_size": page_size, "total": total})


@router.get("/api/sites/{site_id}", **allow(*READERS))
def site(site_id: str, session: ReadSession) -> dict[str, Any]:
    """Return a site with its evidence, passes, reviews, assignments and attachments."""
    return present(site_store.site_detail(session, site_id))


class CompartmentBody(BaseModel):
    """Restrict a site to a compartment (team), or open it to all staff (null)."""

    model_config = ConfigDict(extra="forbid")
    compartment: str | None = Field(max_length=64)
    version: int = Field(ge=0, le=MAX_DB_INT, description="The site's version as you read it")


@router.put("/api/sites/{site_id}/compartment", **allow("supervisor"))
def restrict(
    site_id: str, body: CompartmentBody, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Restrict a site to a compartment you belong to (only its members see it), or open it."""
    return set_site_compartment(session, site_id, body.compartment, by=user, version=body.version)


@router.post("/api/sites/{site_id}/assign", **allow(*REVIEWERS))
def assign(
    site_id: str, body: AssignBody, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Assign a site (analysts: to themselves; supervisors: to anyone)."""
    return present(
        workflow.assign(session, site_id, body.user, by=user, expected_version=body.version)
    )


@router.post("/api/sites/{site_id}/reviews", **allow(*REVIEWERS))
def review(
    site_id: str, body: ReviewBody, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Record a decision; a stale ``version`` is refused with 409 and nothing is written."""
    return present(
        workflow.review(
            session,
            site_id,
            body.decision,
            body.note,
            by=user,
            expected_version=body.version,
            radius_m=body.radius_m,
        )
    )


@router.post("/api/sites/{site_id}/attachments", status_code=201, **allow(*REVIEWERS))
def attach(
    site_id: str,
    file: Annotated[UploadFile, File(description="The evidence file (at most 50 MB)")],
    session: WriteSession,
    user: CurrentUser,
    settings: Annotated[Settings, Depends(app_settings)],
) -> dict[str, Any]:
    """Upload an evidence file to a site (stored once per content, by SHA-256)."""
    workflow.live_site(session, site_id)  # before any byte reaches the disk
    data = file.file.read(evidence_files.MAX_EVIDENCE_BYTES + 1)
    evidence_files.check_evidence_size(len(data))
    sha = evidence_files.store_evidence_file(settings.evidence_dir, data)
    row = workflow.add_attachment(
        session,
        site_id,
        sha256=sha,
        filename=file.filename or sha,
        media_type=file.content_type or "application/octet-stream",
        size=len(data),
        by=user,
    )
    return present(row)


@router.get("/api/attachments/{sha256}", response_class=FileResponse, **allow(*READERS))
def download(
    sha256: str,
    session: ReadSession,
    settings: Annotated[Settings, Depends(app_settings)],
) -> FileResponse:
    """Download an evidence file (always as an attachment, never rendered inline)."""
    evidence_files.evidence_file_path(settings.evidence_dir, sha256)  # validates the digest
    meta = workflow.attachment_by_sha(session, sha256)
    path = evidence_files.evidence_file_path(settings.evidence_dir, sha256, must_exist=True)
    return FileResponse(
        path,
        media_type=meta["media_type"],
        filename=meta["filename"],
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
    )


@router.get("/api/collection-requests", **allow(*REVIEWERS))
def collection_requests(
    session: ReadSession,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """List collection requests (re-survey wishes), newest first."""
    rows = workflow.list_collection_requests(
        session, None if status == "all" else status, limit=limit
    )
    return present({"collection_requests": rows})


@router.post("/api/collection-requests/{request_id}/close", **allow(*REVIEWERS))
def close_collection_request(
    request_id: str, body: CloseBody, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Close a collection request; a stale ``version`` is refused with 409."""
    row = workflow.close_collection_request(
        session, request_id, by=user, expected_version=body.version, note=body.note
    )
    return present(row)
