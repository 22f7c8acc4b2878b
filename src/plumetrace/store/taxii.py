"""The partner collections as TAXII 2.1 serves them: released STIX objects, paged.

One collection per partner, holding every STIX object version released to it
(:class:`~plumetrace.store.models.SharedObject`). Pages follow the order objects were
added (``seq``); ``next`` is an opaque cursor (the last ``seq`` returned).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from plumetrace.errors import InvalidParameterError, NotFoundError
from plumetrace.store.models import Partner, SharedObject

__all__ = [
    "Page",
    "collection_id",
    "collections",
    "object_exists",
    "objects_page",
    "partner_of_collection",
    "stix_time",
]

_NS = uuid.UUID("3e1f6a2b-7c4d-5e8f-9a0b-c1d2e3f4a5b6")


def stix_time(value: str) -> str:
    """Return a STIX timestamp in one canonical form (UTC, milliseconds): ``…T12:00:00.000Z``.

    Raises
    ------
    InvalidParameterError
        If ``value`` is not an RFC 3339 timestamp.
    """
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameterError(f"{value!r} is not a STIX timestamp") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def collection_id(partner_id: str) -> str:
    """Return the TAXII collection id (a UUID) of a partner's collection."""
    return str(uuid.uuid5(_NS, partner_id))


def collections(session: Session, partner_id: str | None = None) -> list[dict[str, Any]]:
    """Return the collections visible: one partner's, or all (``partner_id`` None)."""
    stmt = select(Partner).order_by(Partner.name)
    if partner_id is not None:
        stmt = stmt.where(Partner.id == partner_id)
    return [
        {
            "id": collection_id(p.id),
            "title": f"Leads released to {p.name}",
            "description": "STIX 2.1 objects of every lead released to this partner.",
            "can_read": True,
            "can_write": False,
            "media_types": ["application/stix+json;version=2.1"],
        }
        for p in session.scalars(stmt)
    ]


def partner_of_collection(session: Session, coll_id: str, partner_id: str | None) -> str:
    """Return the partner whose collection ``coll_id`` is, if the caller may read it.

    Raises
    ------
    NotFoundError
        Unknown collection, or another partner's (the caller cannot tell which).
    """
    for pid in session.scalars(select(Partner.id)):
        if collection_id(pid) == coll_id and (partner_id is None or pid == partner_id):
            return pid
    raise NotFoundError(f"no collection {coll_id!r}")


@dataclass(frozen=True)
class Page:
    """One page of a collection.

    Attributes
    ----------
    rows : list of (dict, datetime, str, str)
        Each object (parsed), its date added, version and media type.
    more : bool
        Whether more rows match.
    next : str or None
        Cursor of the next page.
    """

    rows: list[tuple[dict[str, Any], datetime, str, str]]
    more: bool
    next: str | None


def _versions(stmt: Select[Any], version: str, partner_id: str) -> Select[Any]:
    """Keep the versions ``match[version]`` asks for.

    ``version`` is a comma-separated mix of ``last``, ``first``, ``all`` and STIX
    timestamps; a row is kept if any of them selects it (``first,last`` gives both).
    """
    wanted = {v.strip() for v in version.split(",") if v.strip()} or {"last"}
    if "all" in wanted:
        return stmt
    other = aliased(SharedObject)
    picks = []
    for kind, pick in (("last", func.max), ("first", func.min)):
        if kind in wanted:
            wanted.discard(kind)
            picks.append(
                SharedObject.modified
                == select(pick(other.modified))
                .where(other.partner_id == partner_id, other.stix_id == SharedObject.stix_id)
                .scalar_subquery()
            )
    if wanted:
        picks.append(SharedObject.modified.in_([stix_time(v) for v in sorted(wanted)]))
    return stmt.where(or_(*picks))


def objects_page(
    session: Session,
    partner_id: str,
    *,
    added_after: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
    ids: list[str] | None = None,
    types: list[str] | None = None,
    version: str = "last",
) -> Page:
    """Return one page of a partner's collection, filtered as TAXII 2.1 filters.

    Parameters
    ----------
    partner_id : str
    added_after : datetime, optional, UTC
        Only objects added strictly after this time.
    limit : int
        Page size (1-1000).
    cursor : str, optional
        ``next`` of the previous page.
    ids, types : list of str, optional
        ``match[id]`` / ``match[type]``.
    version : str
        ``match[version]``: a comma-separated mix of ``last`` (default), ``first``,
        ``all`` and STIX timestamps.

    Raises
    ------
    InvalidParameterError
        A bad limit or cursor.
    """
    if not 1 <= limit <= 1000:
        raise InvalidParameterError(f"limit must be 1-1000, got {limit}")
    stmt = select(SharedObject).where(SharedObject.partner_id == partner_id)
    stmt = _versions(stmt, version, partner_id)
    if added_after is not None:
        stmt = stmt.where(SharedObject.date_added > added_after)
    if ids:
        stmt = stmt.where(SharedObject.stix_id.in_(ids))
    if types:
        stmt = stmt.where(SharedObject.stix_type.in_(types))
    if cursor:
        try:
            after = int(cursor)
        except ValueError:
            raise InvalidParameterError(f"next {cursor!r} is not a cursor of this server") from None
        stmt = stmt.where(SharedObject.seq > after)
    rows = session.scalars(stmt.order_by(SharedObject.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    objs = [json.loads(r.body) for r in rows]
    return Page(
        rows=[
            (o, r.date_added, _version(o), r.media_type) for o, r in zip(objs, rows, strict=True)
        ],
        more=more,
        next=str(rows[-1].seq) if more else None,
    )


def _version(obj: dict[str, Any]) -> str:
    """Return an object's version as it states it (``modified``, else ``created``).

    The ``modified`` column holds it in :func:`stix_time` form (milliseconds) to match
    and order versions; a client compares the manifest's and the versions endpoint's
    ``version`` with the object's own timestamp, which may carry microseconds.
    """
    return str(obj.get("modified", obj["created"]))


def object_exists(session: Session, partner_id: str, stix_id: str) -> None:
    """Raise NotFoundError unless ``stix_id`` is in the partner's collection."""
    found = session.scalar(
        select(func.count())
        .select_from(SharedObject)
        .where(SharedObject.partner_id == partner_id, SharedObject.stix_id == stix_id)
    )
    if not found:
        raise NotFoundError(f"no object {stix_id!r} in this collection")
