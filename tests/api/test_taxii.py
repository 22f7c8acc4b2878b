"""The TAXII 2.1 server as a partner uses it: ``taxii2-client`` over real HTTP (uvicorn)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import requests.auth
from stix2validator import validate_string
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from plumetrace.api import create_app
from plumetrace.settings import Settings
from plumetrace.store.engine import session_scope
from plumetrace.store.models import SharedObject
from plumetrace.store.taxii import collection_id
from tests.live import serve

from .conftest import Api, confirm, release_lead

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TYPES = {
    "identity",
    "marking-definition",
    "location",
    "indicator",
    "sighting",
    "relationship",
    "note",
    "report",
}
SHARED_TYPES = {"identity", "marking-definition"}
"""Objects every lead to a partner carries (added to its collection once)."""
FISCALIA = collection_id("partner-fiscalia")
OTHER = collection_id("partner-other-agency")


class Bearer(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``, as a partner configures ``taxii2-client``."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@dataclass
class Taxii:
    """The API served by uvicorn on a free local port, and the clients opened on it."""

    api: Api
    url: str
    opened: list[Any] = field(default_factory=list)

    def auth(self, who: str) -> Bearer:
        return Bearer(self.api.tokens[who])

    def server(self, who: str | None) -> Server:
        auth = None if who is None else self.auth(who)
        s = Server(f"{self.url}/taxii2/", auth=auth)
        self.opened.append(s)
        return s

    def root(self, who: str) -> ApiRoot:
        r = ApiRoot(f"{self.url}/taxii2/leads/", auth=self.auth(who))
        self.opened.append(r)
        return r

    def collection(self, who: str, coll_id: str = FISCALIA) -> Collection:
        c = Collection(f"{self.url}/taxii2/leads/collections/{coll_id}/", auth=self.auth(who))
        self.opened.append(c)
        return c

    def raw(self, path: str, who: str | None, **kw: Any) -> requests.Response:
        """GET without ``taxii2-client``, to see status codes and headers."""
        headers = {"Accept": TAXII, **kw.pop("headers", {})}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.api.tokens[who]}"
        with requests.Session() as s:
            return s.get(self.url + path, headers=headers, timeout=10, **kw)


@pytest.fixture
def taxii(api: Api, db_url: str) -> Iterator[Taxii]:
    """Serve the app over HTTP on the ``api`` fixture's database; stop it afterwards."""
    app = create_app(Settings(home=api.home, database_url=db_url))
    with serve(app) as base:
        t = Taxii(api, base)
        try:
            assert t.raw("/taxii2/", None).status_code == 401  # it answers (and wants a token)
            yield t
        finally:
            for endpoint in t.opened:
                endpoint.close()


def bundle(objects: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})


def ids(envelope: dict[str, Any]) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]


def http_status(exc: pytest.ExceptionInfo[requests.HTTPError]) -> int:
    assert exc.value.response is not None
    return exc.value.response.status_code


def test_discovery_access_and_isolation(taxii: Taxii) -> None:
    api = taxii.api
    server = taxii.server("pat")
    root_url = f"{taxii.url}/taxii2/leads/"
    assert server.title == "plumetrace lead sharing"
    assert [r.url for r in server.api_roots] == [root_url]
    assert server.default is not None and server.default.url == root_url
    root = server.default
    assert TAXII in root.versions and root.max_content_length > 0
    # a partner sees its own collection only, the program's staff see every one
    mine = root.collections
    assert [c.id for c in mine] == [FISCALIA]
    assert mine[0].can_read and not mine[0].can_write and mine[0].media_types == [STIX]
    assert "Fiscalia" in mine[0].title
    assert [c.id for c in taxii.root("pax").collections] == [OTHER]
    for staff in ("lia", "sue"):
        assert sorted(c.id for c in taxii.root(staff).collections) == sorted([FISCALIA, OTHER])
    assert taxii.collection("lia", OTHER).title == "Leads released to Other Agency"
    # another partner's collection, even by its exact URL, is not found
    for method in ("refresh", "get_objects", "get_manifest"):
        with pytest.raises(requests.HTTPError) as exc:
            getattr(taxii.collection("pat", OTHER), method)()
        assert http_status(exc) == 404, method
    # no token: 401; an analyst or admin is no TAXII reader: 403
    with pytest.raises(requests.HTTPError) as exc:
        _ = taxii.server(None).title
    assert http_status(exc) == 401
    for who in ("ana", "adm"):
        assert taxii.raw("/taxii2/leads/collections/", who).status_code == 403, who

    # a lead released to pat's partner, a draft for it, and a lead released to pax's
    lead = release_lead(api)
    confirm(api, api.sites[1])
    body = {"partner": "Fiscalia", "sites": [api.sites[1]], "title": "Unapproved draft"}
    r = api.post("/api/leads", "lia", json=body)
    assert r.status_code == 201, r.text
    draft = r.json()["id"]
    theirs = release_lead(api, partner="Other Agency", sites=[api.sites[1]])

    coll = mine[0]
    envelope = coll.get_objects()
    assert envelope["more"] is False and "next" not in envelope
    objects = envelope["objects"]
    got = {o["type"] for o in objects}
    assert got <= TYPES and {"indicator", "location", "sighting", "report"} <= got
    assert len(set(ids(envelope))) == len(objects)
    result = validate_string(bundle(objects))
    assert result.is_valid and not result.errors, [str(e) for e in result.errors]
    text = json.dumps(objects)
    assert lead in text
    assert draft not in text and "Unapproved draft" not in text and theirs not in text
    # pax's collection holds its lead only; what both hold is the program's identity and
    # the TLP markings
    other = taxii.collection("pax", OTHER).get_objects()["objects"]
    assert theirs in json.dumps(other) and lead not in json.dumps(other)
    common = set(ids(envelope)) & {o["id"] for o in other}
    assert common and all(o["type"] in SHARED_TYPES for o in objects if o["id"] in common)
    assert taxii.collection("lia").get_objects() == envelope  # staff read the same
    with pytest.raises(requests.HTTPError) as exc:
        taxii.collection("pat", OTHER).get_objects()
    assert http_status(exc) == 404
    # the TAXII media type on every endpoint, and 406 for a client accepting none of it
    objects_path = f"/taxii2/leads/collections/{FISCALIA}/objects/"
    for path in ("/taxii2/", "/taxii2/leads/", "/taxii2/leads/collections/", objects_path):
        r = taxii.raw(path, "pat")
        assert r.status_code == 200 and r.headers["content-type"] == TAXII, path
        r = taxii.raw(path, "pat", headers={"Accept": "text/html"})
        assert r.status_code == 406 and r.headers["content-type"] == TAXII, path
    r = taxii.raw(objects_path, "pat")
    assert r.json() == envelope
    assert r.headers["X-TAXII-Date-Added-First"] <= r.headers["X-TAXII-Date-Added-Last"]


def test_paging_and_added_after(taxii: Taxii) -> None:
    api = taxii.api
    first = release_lead(api)
    coll = taxii.collection("pat")
    all_first = ids(coll.get_objects())
    # paging: follow ``next`` three objects at a time
    pages = list(as_pages(coll.get_objects, per_request=3))
    assert len(pages) == -(-len(all_first) // 3) > 1
    for page in pages[:-1]:
        assert page["more"] is True and page["next"] and len(page["objects"]) == 3
    assert pages[-1]["more"] is False and "next" not in pages[-1]
    paged = [i for p in pages for i in ids(p)]
    assert paged == all_first and len(set(paged)) == len(paged)
    manifest_pages = list(as_pages(coll.get_manifest, per_request=5))
    assert len(manifest_pages) > 1
    assert [i for p in manifest_pages for i in ids(p)] == all_first
    # a limit above the server's page size is served, not refused
    assert ids(coll.get_objects(limit=5000)) == all_first
    # the date the first lead's objects were added, as a client learns it
    dates = {m["date_added"] for m in coll.get_manifest()["objects"]}
    assert len(dates) == 1
    (added,) = dates
    r = taxii.raw(f"/taxii2/leads/collections/{FISCALIA}/objects/", "pat")
    assert r.headers["X-TAXII-Date-Added-Last"] == added
    assert coll.get_objects(added_after=added) == {"more": False, "objects": []}

    second = release_lead(api, sites=[api.sites[1]])
    new = coll.get_objects(added_after=added)
    new_ids = ids(new)
    assert new["more"] is False and new_ids
    text = json.dumps(new["objects"])
    assert second in text and first not in text
    # identities and markings the partner already holds are not added again
    assert not set(new_ids) & set(all_first)
    assert all(o["type"] not in SHARED_TYPES for o in new["objects"])
    assert ids(coll.get_objects()) == all_first + new_ids
    # added_after combines with paging
    pages = list(as_pages(coll.get_objects, per_request=4, added_after=added))
    assert len(pages) > 1 and [i for p in pages for i in ids(p)] == new_ids


def test_manifest_object_versions_and_filters(taxii: Taxii) -> None:
    api = taxii.api
    release_lead(api)
    coll = taxii.collection("pat")
    objects = coll.get_objects()["objects"]
    manifest = coll.get_manifest()
    assert manifest["more"] is False
    assert [m["id"] for m in manifest["objects"]] == [o["id"] for o in objects]
    for m, o in zip(manifest["objects"], objects, strict=True):
        # the version is the object's own timestamp, to the digit
        assert m["version"] == o.get("modified", o["created"])
        assert m["media_type"] == STIX
        assert m["date_added"].endswith("Z")
    # match[type], match[id], match[spec_version]
    indicators = coll.get_objects(type="indicator")["objects"]
    assert indicators and indicators == [o for o in objects if o["type"] == "indicator"]
    two = coll.get_objects(type=["indicator", "location"])["objects"]
    assert two == [o for o in objects if o["type"] in ("indicator", "location")]
    assert [m["id"] for m in coll.get_manifest(type="report")["objects"]] == [
        o["id"] for o in objects if o["type"] == "report"
    ]
    some = [objects[0]["id"], objects[-1]["id"]]
    assert ids(coll.get_objects(id=some)) == some
    assert coll.get_objects(spec_version="2.1")["objects"] == objects
    assert coll.get_objects(spec_version="2.0") == {"more": False, "objects": []}
    assert coll.get_objects(version="all")["objects"] == objects  # one version each so far
    # one object by id, and its versions
    report = next(o for o in objects if o["type"] == "report")
    assert coll.get_object(report["id"]) == {"more": False, "objects": [report]}
    assert coll.object_versions(report["id"]) == {"more": False, "versions": [report["modified"]]}
    with pytest.raises(requests.HTTPError) as exc:
        coll.get_object(f"report--{uuid.uuid4()}")
    assert http_status(exc) == 404
    # a newer version of the report reaches the collection: the latest is served by
    # default, match[version] picks others, and both are listed as versions
    newer = {**report, "modified": "2099-01-01T00:00:00.000Z", "name": "Revised"}
    with session_scope(api.engine, write=True) as s:
        row = s.query(SharedObject).filter_by(stix_id=report["id"]).one()
        s.add(
            SharedObject(
                partner_id=row.partner_id,
                lead_id=row.lead_id,
                stix_id=row.stix_id,
                stix_type=row.stix_type,
                modified=newer["modified"],
                date_added=row.date_added,
                media_type=row.media_type,
                body=json.dumps(newer, sort_keys=True),
            )
        )
    rid = report["id"]
    assert coll.get_object(rid)["objects"] == [newer]
    assert coll.get_object(rid, version="last")["objects"] == [newer]
    assert coll.get_object(rid, version="first")["objects"] == [report]
    assert coll.get_object(rid, version="all")["objects"] == [report, newer]
    assert coll.get_object(rid, version=["first", "last"])["objects"] == [report, newer]
    assert coll.get_object(rid, version=report["modified"])["objects"] == [report]
    both = [report["modified"], newer["modified"]]
    assert coll.get_object(rid, version=both)["objects"] == [report, newer]
    assert coll.object_versions(rid) == {"more": False, "versions": both}
    latest = coll.get_objects()["objects"]
    assert latest == [newer if o["id"] == rid else o for o in objects]
    every = coll.get_objects(version="all")["objects"]
    assert len(every) == len(objects) + 1 and report in every and newer in every
    assert coll.get_objects(version="first")["objects"] == objects
    reports = coll.get_manifest(type="report", version="all")["objects"]
    assert [m["version"] for m in reports] == both
