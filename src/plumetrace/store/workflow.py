"""The analyst workflow: assignments, reviews, collection requests and attachments.

Every change is one audit event (before and after) in the caller's transaction. A change
to a site is an optimistic-locking update: the caller passes the ``version`` it read, the
row is updated only ``WHERE id = :id AND version = :expected`` and the version bumped; if
someone changed the site in between, :class:`~plumetrace.errors.ConflictError` is raised
and nothing is written (reload and decide again). Nothing is ever overwritten silently.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from plumetrace.errors import AuthError, ConflictError, InvalidParameterError, NotFoundError
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import (
    Assignment,
    Attachment,
    CollectionRequest,
    Review,
    Site,
    User,
)
from plumetrace.store.types import utcnow
from plumetrace.store.users import find_user

__all__ = [
    "ASSIGNABLE_ROLES",
    "COLLECTION_STATUSES",
    "DECISIONS",
    "MAX_NOTE_CHARS",
    "add_attachment",
    "assign",
    "attachment_by_sha",
    "bump_site",
    "close_collection_request",
    "list_collection_requests",
    "live_site",
    "review",
]

DECISIONS = ("confirm", "reject", "needs-collection", "note")
"""What an analyst may decide about a site (``note`` only comments)."""

_STATUS_OF = {"confirm": "confirmed", "reject": "rejected", "needs-collection": "needs-collection"}

COLLECTION_STATUSES = ("open", "closed")
"""States of a collection request."""

ASSIGNABLE_ROLES = ("analyst", "supervisor")
"""Roles of users a site may be assigned to."""

_ASSIGN_OTHERS = ("supervisor", "admin")
"""Roles that may assign a site to somebody else (analysts assign only to themselves)."""

MAX_NOTE_CHARS = 20_000
_MIN_COLLECTION_RADIUS_M = 250.0
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def live_site(session: Session, site_id: str) -> Site:
    """Return a site that can be worked on.

    Raises
    ------
    NotFoundError
        No such site.
    ConflictError
        The site was merged into another (the message names it).
    """
    site = session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"no site {site_id!r}")
    if site.status == "merged":
        raise ConflictError(f"site {site_id} was merged into {site.merged_into}: work on that one")
    return site


def bump_site(session: Session, site: Site, expected_version: int, **values: Any) -> int:
    """Update ``site`` only if it is still at ``expected_version``; return the new version."""
    new_version = expected_version + 1
    res = session.execute(
        update(Site)
        .where(Site.id == site.id, Site.version == expected_version)
        .values(version=new_version, updated=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(res) != 1:
        current = session.scalar(select(Site.version).where(Site.id == site.id))
        raise ConflictError(
            f"site {site.id} was changed by someone else (you read version {expected_version}, "
            f"it is now at version {current}): reload it and decide again"
        )
    session.expire(site)
    return new_version


def assign(
    session: Session,
    site_id: str,
    user_name_or_id: str,
    *,
    by: User,
    expected_version: int,
) -> dict[str, Any]:
    """Hand a site to an analyst: earlier assignments end, the new one becomes active.

    Parameters
    ----------
    session : Session
    site_id : str
    user_name_or_id : str
        The assignee, an active analyst or supervisor.
    by : User
        Who assigns. Analysts may assign only to themselves; supervisors and admins to
        anyone.
    expected_version : int
        The site's ``version`` as the caller read it.

    Returns
    -------
    dict
        ``{"assignment", "site", "user", "version"}``: the new assignment's id and the
        site's new version.

    Raises
    ------
    NotFoundError
        Unknown site or user.
    AuthError
        (403) An analyst assigning to somebody else.
    InvalidParameterError
        The assignee is inactive or holds a role that does not review.
    ConflictError
        The site changed since ``expected_version`` (or was merged).
    """
    site = live_site(session, site_id)
    target = find_user(session, user_name_or_id)
    if target.id != by.id and by.role not in _ASSIGN_OTHERS:
        raise AuthError(f"a {by.role} may assign sites only to themselves", status=403)
    if not target.active or target.role not in ASSIGNABLE_ROLES:
        raise InvalidParameterError(
            f"user {target.name!r} cannot be assigned sites "
            f"(must be an active {' or '.join(ASSIGNABLE_ROLES)})"
        )
    before = {"assignee_id": site.assignee_id, "version": site.version}
    version = bump_site(session, site, expected_version, assignee_id=target.id)
    session.execute(
        update(Assignment)
        .where(Assignment.site_id == site_id, Assignment.active.is_(True))
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    asg = Assignment(
        id=_new_id("asg"), site_id=site_id, user_id=target.id, assigned_by=by.id, active=True
    )
    session.add(asg)
    session.flush()
    append_event(
        session,
        actor=by.name,
        action="site.assign",
        entity="site",
        entity_id=site_id,
        before=before,
        after={"assignee_id": target.id, "assignment": asg.id, "version": version},
    )
    return {"assignment": asg.id, "site": site_id, "user": target.name, "version": version}


def review(
    session: Session,
    site_id: str,
    decision: str,
    note: str = "",
    *,
    by: User,
    expected_version: int | None = None,
    radius_m: float | None = None,
) -> dict[str, Any]:
    """Record an analyst's decision on a site.

    ``confirm`` sets the status ``confirmed``, ``reject`` ``rejected``,
    ``needs-collection`` sets ``needs-collection`` and opens a
    :class:`~plumetrace.store.models.CollectionRequest` around the site; ``note`` only
    adds a comment and leaves the site (and its version) unchanged.

    Parameters
    ----------
    session : Session
    site_id : str
    decision : {"confirm", "reject", "needs-collection", "note"}
    note : str
        Free text (at most 20 000 characters).
    by : User
        The reviewer.
    expected_version : int, optional
        The site's ``version`` as the reviewer read it; required for every decision but
        ``note``.
    radius_m : float, optional, m
        Radius of the collection request; ``max(3 × uncertainty_m, 250 m)`` by default.

    Returns
    -------
    dict
        ``{"review", "site", "decision", "status", "version", "collection_request"}``
        (the last is None unless one was opened).

    Raises
    ------
    NotFoundError
        Unknown site.
    InvalidParameterError
        Unknown decision, a missing version, a note too long or a bad radius.
    ConflictError
        The site changed since ``expected_version`` (or was merged).
    """
    if decision not in DECISIONS:
        raise InvalidParameterError(
            f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}"
        )
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidParameterError(f"note is longer than {MAX_NOTE_CHARS} characters")
    if radius_m is not None and not (0 < radius_m <= 100_000):
        raise InvalidParameterError(f"radius_m must be in (0, 100000] m, got {radius_m}")
    site = live_site(session, site_id)
    rev = Review(id=_new_id("rev"), site_id=site_id, user_id=by.id, decision=decision, note=note)
    if decision == "note":
        session.add(rev)
        session.flush()
        append_event(
            session,
            actor=by.name,
            action="site.note",
            entity="site",
            entity_id=site_id,
            after={"review": rev.id, "note": note},
        )
        return {
            "review": rev.id,
            "site": site_id,
            "decision": decision,
            "status": site.status,
            "version": site.version,
            "collection_request": None,
        }
    if expected_version is None:
        raise InvalidParameterError(f"a {decision!r} decision needs the site version you read")
    status = _STATUS_OF[decision]
    lat, lon, unc = site.lat, site.lon, site.uncertainty_m
    before = {"status": site.status, "version": site.version}
    version = bump_site(session, site, expected_version, status=status)
    session.add(rev)
    creq: CollectionRequest | None = None
    if decision == "needs-collection":
        radius = radius_m if radius_m is not None else max(3.0 * unc, _MIN_COLLECTION_RADIUS_M)
        creq = CollectionRequest(
            id=_new_id("creq"),
            site_id=site_id,
            requested_by=by.id,
            status="open",
            lat=lat,
            lon=lon,
            radius_m=radius,
            note=note,
        )
        session.add(creq)
    session.flush()
    after: dict[str, Any] = {
        "status": status,
        "version": version,
        "review": rev.id,
        "decision": decision,
        "note": note,
    }
    if creq is not None:
        after["collection_request"] = creq.id
    append_event(
        session,
        actor=by.name,
        action="site.review",
        entity="site",
        entity_id=site_id,
        before=before,
        after=after,
    )
    if creq is not None:
        append_event(
            session,
            actor=by.name,
            action="collection_request.open",
            entity="collection_request",
            entity_id=creq.id,
            after=_creq_row(creq),
        )
    return {
        "review": rev.id,
        "site": site_id,
        "decision": decision,
        "status": status,
        "version": version,
        "collection_request": None if creq is None else creq.id,
    }


def _creq_row(c: CollectionRequest) -> dict[str, Any]:
    return {
        "id": c.id,
        "site_id": c.site_id,
        "requested_by": c.requested_by,
        "time": c.time,
        "status": c.status,
        "lat": c.lat,
        "lon": c.lon,
        "radius_m": c.radius_m,
        "note": c.note,
        "version": c.version,
    }


def list_collection_requests(
    session: Session, status: str | None = "open", *, limit: int = 1000
) -> list[dict[str, Any]]:
    """Return collection requests, newest first.

    Parameters
    ----------
    status : {"open", "closed"} or None
        None lists every request.

    Raises
    ------
    InvalidParameterError
        Unknown status.
    """
    if status is not None and status not in COLLECTION_STATUSES:
        raise InvalidParameterError(
            f"status must be one of {', '.join(COLLECTION_STATUSES)}, got {status!r}"
        )
    stmt = select(CollectionRequest)
    if status is not None:
        stmt = stmt.where(CollectionRequest.status == status)
    stmt = stmt.order_by(CollectionRequest.time.desc(), CollectionRequest.id).limit(limit)
    return [_creq_row(c) for c in session.scalars(stmt)]


def close_collection_request(
    session: Session,
    request_id: str,
    *,
    by: User,
    expected_version: int,
    note: str = "",
) -> dict[str, Any]:
    """Close a collection request (the re-survey was flown or is no longer wanted).

    Parameters
    ----------
    request_id : str
    by : User
    expected_version : int
        The request's ``version`` as the caller read it.
    note : str
        Appended to the request's note.

    Returns
    -------
    dict
        The request as stored now.

    Raises
    ------
    NotFoundError
        Unknown request.
    ConflictError
        Already closed, or changed since ``expected_version``.
    """
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidParameterError(f"note is longer than {MAX_NOTE_CHARS} characters")
    creq = session.get(CollectionRequest, request_id)
    if creq is None:
        raise NotFoundError(f"no collection request {request_id!r}")
    if creq.status == "closed":
        raise ConflictError(f"collection request {request_id} is already closed")
    before = _creq_row(creq)
    new_note = creq.note if not note else (f"{creq.note}\n{note}" if creq.note else note)
    res = session.execute(
        update(CollectionRequest)
        .where(CollectionRequest.id == request_id, CollectionRequest.version == expected_version)
        .values(status="closed", note=new_note, version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(res) != 1:
        current = session.scalar(
            select(CollectionRequest.version).where(CollectionRequest.id == request_id)
        )
        raise ConflictError(
            f"collection request {request_id} was changed by someone else (you read version "
            f"{expected_version}, it is now at version {current}): reload it and decide again"
        )
    session.refresh(creq)
    after = _creq_row(creq)
    append_event(
        session,
        actor=by.name,
        action="collection_request.close",
        entity="collection_request",
        entity_id=request_id,
        before=before,
        after=after,
    )
    return after


def _attachment_row(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "site_id": a.site_id,
        "sha256": a.sha256,
        "filename": a.filename,
        "media_type": a.media_type,
        "size": a.size,
        "user_id": a.user_id,
        "time": a.time,
    }


def add_attachment(
    session: Session,
    site_id: str,
    *,
    sha256: str,
    filename: str,
    media_type: str,
    size: int,
    by: User,
) -> dict[str, Any]:
    """Record an evidence file on a site (metadata only).

    The bytes are stored beforehand with
    :func:`plumetrace.io.evidence_files.store_evidence_file`. Attaching the same content
    to the same site again returns the existing record and writes nothing.

    Parameters
    ----------
    site_id : str
    sha256 : str
        64 lowercase hex digits.
    filename : str
        Shown to users; only its last path component is kept (at most 255 characters).
    media_type : str
        E.g. ``image/png``.
    size : int, bytes
    by : User

    Returns
    -------
    dict
        The attachment (id ``att-…``, sha256, filename, media_type, size …).

    Raises
    ------
    NotFoundError
        Unknown site.
    InvalidParameterError
        A malformed digest, name, media type or size.
    """
    if not _SHA256.fullmatch(sha256):
        raise InvalidParameterError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    name = re.split(r"[\\/]", filename)[-1].strip()
    name = "".join(c for c in name if c.isprintable())[:255]
    if not name or name in (".", ".."):
        raise InvalidParameterError(f"unusable file name: {filename[:80]!r}")
    media_type = media_type.strip() or "application/octet-stream"
    if len(media_type) > 127 or "/" not in media_type:
        raise InvalidParameterError(f"not a media type: {media_type[:80]!r}")
    if size < 0:
        raise InvalidParameterError(f"size must be >= 0 bytes, got {size}")
    if session.get(Site, site_id) is None:
        raise NotFoundError(f"no site {site_id!r}")
    existing = session.scalars(
        select(Attachment).where(Attachment.site_id == site_id, Attachment.sha256 == sha256)
    ).first()
    if existing is not None:
        return _attachment_row(existing)
    att = Attachment(
        id=_new_id("att"),
        site_id=site_id,
        sha256=sha256,
        filename=name,
        media_type=media_type,
        size=size,
        user_id=by.id,
    )
    session.add(att)
    session.flush()
    row = _attachment_row(att)
    append_event(
        session,
        actor=by.name,
        action="site.attach",
        entity="site",
        entity_id=site_id,
        after=row,
    )
    return row


def attachment_by_sha(session: Session, sha256: str) -> dict[str, Any]:
    """Return the first attachment record of this content (for download).

    Raises
    ------
    NotFoundError
        If no site has an attachment with this digest.
    """
    att = session.scalars(
        select(Attachment).where(Attachment.sha256 == sha256).order_by(Attachment.time)
    ).first()
    if att is None:
        raise NotFoundError(f"no attachment {sha256[:80]!r}")
    return _attachment_row(att)
