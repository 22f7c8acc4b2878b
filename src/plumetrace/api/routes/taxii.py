"""TAXII 2.1 (OASIS) for partners: discovery, API root, collections, objects, manifest.

One read-only collection per partner holds the STIX objects of every lead released to
it. A partner user sees its own collection only (any other is not found); the program's
liaisons and supervisors see all of them. Authentication is the API's bearer token
(``Authorization: Bearer …``; with ``taxii2-client`` pass a ``requests`` auth object).
Responses are ``application/taxii+json;version=2.1``; lists are paged with ``limit``
and ``next``, filtered by ``added_after`` and ``match[id|type|version|spec_version]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

import plumetrace
from plumetrace.api.deps import CurrentUser, ReadSession, SessionRoute, allow
from plumetrace.errors import NotFoundError
from plumetrace.io.evidence import parse_time_option
from plumetrace.store import taxii
from plumetrace.store.models import User

__all__ = ["API_ROOT", "TAXII_MEDIA_TYPE", "router"]

router = APIRouter(tags=["taxii"], route_class=SessionRoute)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "/taxii2/leads/"
READERS = ("partner", "liaison", "supervisor")
_ACCEPTABLE = ("application/taxii+json", "application/json", "*/*", "application/*")


def _taxii(
    body: dict[str, Any], request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    accept = request.headers.get("accept", "").replace(" ", "")
    wrong_version = "application/taxii+json;version=" in accept and (
        "application/taxii+json;version=2.1" not in accept
    )
    if accept and (wrong_version or not any(a in accept for a in _ACCEPTABLE)):
        return JSONResponse(
            {
                "title": "not acceptable",
                "http_status": "406",
                "description": f"this server speaks {TAXII_MEDIA_TYPE}",
            },
            status_code=406,
            media_type=TAXII_MEDIA_TYPE,
        )
    return JSONResponse(body, media_type=TAXII_MEDIA_TYPE, headers=headers)


def _scope(user: User) -> str | None:
    """Return the partner a user is confined to (None: the program's staff see all)."""
    if user.role == "partner":
        if user.partner_id is None:
            raise NotFoundError("this partner user belongs to no partner")
        return user.partner_id
    return None


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@router.get("/taxii2/", **allow(*READERS))
def discovery(request: Request) -> JSONResponse:
    """TAXII discovery: the one API root."""
    root = str(request.base_url).rstrip("/") + API_ROOT
    return _taxii(
        {
            "title": "plumetrace lead sharing",
            "description": "Leads released to partner authorities, as STIX 2.1.",
            "default": root,
            "api_roots": [root],
        },
        request,
    )


@router.get(API_ROOT, **allow(*READERS))
def api_root(request: Request) -> JSONResponse:
    """Describe the API root: versions and the largest request accepted."""
    return _taxii(
        {
            "title": "plumetrace leads",
            "description": f"plumetrace {plumetrace.__version__}: read-only partner collections",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": 1_048_576,
        },
        request,
    )


@router.get(API_ROOT + "collections/", **allow(*READERS))
def collections(request: Request, session: ReadSession, user: CurrentUser) -> JSONResponse:
    """List the collections you may read (a partner: its own)."""
    return _taxii({"collections": taxii.collections(session, _scope(user))}, request)


@router.get(API_ROOT + "collections/{collection_id}/", **allow(*READERS))
def collection(
    collection_id: str, request: Request, session: ReadSession, user: CurrentUser
) -> JSONResponse:
    """One collection."""
    pid = taxii.partner_of_collection(session, collection_id, _scope(user))
    return _taxii(taxii.collections(session, pid)[0], request)


MAX_PAGE = 1000
"""The largest page served; a larger ``limit`` gets this many (and ``more``/``next``)."""
Limit = Annotated[int, Query(ge=1)]
Text = Annotated[str | None, Query(max_length=4000)]


@dataclass(frozen=True)
class Filters:
    """The TAXII 2.1 query parameters of a list: paging and ``match[…]`` filters."""

    added_after: str | None
    limit: int
    next: str | None
    ids: list[str] | None
    types: list[str] | None
    version: str | None
    spec_version: str | None


def filters(
    added_after: Text = None,
    limit: Limit = 100,
    next: Text = None,
    match_id: Annotated[str | None, Query(alias="match[id]", max_length=40_000)] = None,
    match_type: Annotated[str | None, Query(alias="match[type]", max_length=4000)] = None,
    match_version: Annotated[str | None, Query(alias="match[version]", max_length=4000)] = None,
    match_spec_version: Annotated[
        str | None, Query(alias="match[spec_version]", max_length=100)
    ] = None,
) -> Filters:
    """Return the list parameters of a request (comma-separated values split)."""
    return Filters(
        added_after,
        limit,
        next,
        _csv(match_id),
        _csv(match_type),
        match_version,
        match_spec_version,
    )


FiltersDep = Annotated[Filters, Depends(filters)]


def _page(
    session: ReadSession,
    user: User,
    collection_id: str,
    f: Filters,
    *,
    object_id: str | None = None,
    version: str | None = None,
) -> taxii.Page:
    """Return the page ``f`` asks for (of one object's versions, given ``object_id``)."""
    pid = taxii.partner_of_collection(session, collection_id, _scope(user))
    if object_id is not None:
        taxii.object_exists(session, pid, object_id)
    if f.spec_version and "2.1" not in (_csv(f.spec_version) or []):
        return taxii.Page([], False, None)
    after = parse_time_option(f.added_after, "added_after") if f.added_after else None
    return taxii.objects_page(
        session,
        pid,
        added_after=after,
        limit=min(f.limit, MAX_PAGE),
        cursor=f.next,
        ids=[object_id] if object_id is not None else f.ids,
        types=None if object_id is not None else f.types,
        version=version or f.version or "last",
    )


def _headers(page: taxii.Page) -> dict[str, str]:
    if not page.rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": _stamp(page.rows[0][1]),
        "X-TAXII-Date-Added-Last": _stamp(page.rows[-1][1]),
    }


def _list(page: taxii.Page, request: Request, key: str, items: list[Any]) -> JSONResponse:
    """Return a TAXII list response: ``more``, ``next`` if any, and ``key``: items."""
    body: dict[str, Any] = {"more": page.more, key: items}
    if page.next:
        body["next"] = page.next
    return _taxii(body, request, _headers(page))


@router.get(API_ROOT + "collections/{collection_id}/objects/", **allow(*READERS))
def objects(
    collection_id: str, request: Request, session: ReadSession, user: CurrentUser, f: FiltersDep
) -> JSONResponse:
    """Objects of a collection, oldest added first, paged (``more``/``next``)."""
    page = _page(session, user, collection_id, f)
    return _list(page, request, "objects", [r[0] for r in page.rows])


@router.get(API_ROOT + "collections/{collection_id}/objects/{object_id}/", **allow(*READERS))
def get_object(
    collection_id: str,
    object_id: str,
    request: Request,
    session: ReadSession,
    user: CurrentUser,
    f: FiltersDep,
) -> JSONResponse:
    """One object (its latest version unless ``match[version]`` says otherwise)."""
    page = _page(session, user, collection_id, f, object_id=object_id)
    return _list(page, request, "objects", [r[0] for r in page.rows])


@router.get(
    API_ROOT + "collections/{collection_id}/objects/{object_id}/versions/",
    **allow(*READERS),
)
def versions(
    collection_id: str,
    object_id: str,
    request: Request,
    session: ReadSession,
    user: CurrentUser,
    f: FiltersDep,
) -> JSONResponse:
    """Every version of one object."""
    page = _page(session, user, collection_id, f, object_id=object_id, version="all")
    return _list(page, request, "versions", [r[2] for r in page.rows])


@router.get(API_ROOT + "collections/{collection_id}/manifest/", **allow(*READERS))
def manifest(
    collection_id: str, request: Request, session: ReadSession, user: CurrentUser, f: FiltersDep
) -> JSONResponse:
    """List what a collection holds: id, date added, version and media type of each."""
    page = _page(session, user, collection_id, f)
    items = [
        {"id": o["id"], "date_added": _stamp(added), "version": ver, "media_type": mt}
        for o, added, ver, mt in page.rows
    ]
    return _list(page, request, "objects", items)
