from __future__ import annotations

import hashlib

import pytest

from plumetrace.io import evidence_files
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections

from .conftest import T0, Api, det


def test_list_sites_with_filters(api: Api) -> None:
    for who in ("ana", "sue", "lia"):
        r = api.get("/api/sites", who)
        assert r.status_code == 200, r.text
        assert sorted(s["id"] for s in r.json()["sites"]) == api.sites
    site = r.json()["sites"][0]
    assert {"id", "lat", "lon", "confidence", "status", "version"} <= set(site)
    assert site["last_seen"].endswith("Z")
    lat, lon = site["lat"], site["lon"]
    bbox = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    got = api.get("/api/sites", "ana", params={"bbox": bbox}).json()["sites"]
    assert [s["id"] for s in got] == [site["id"]]
    assert api.get("/api/sites", "ana", params={"min_confidence": 1.0}).json()["sites"] == []
    assert len(api.get("/api/sites", "ana", params={"limit": 1}).json()["sites"]) == 1
    assert api.get("/api/sites", "ana", params={"status": "rejected"}).json()["sites"] == []
    bad = api.get("/api/sites", "ana", params={"bbox": "1,2,3"})
    assert bad.status_code == 422 and "bbox" in bad.json()["detail"]
    assert api.get("/api/sites", "ana", params={"limit": 0}).status_code == 422
    assert api.get("/api/sites", "adm").status_code == 403


def test_site_detail(api: Api) -> None:
    sid = api.sites[0]
    r = api.get(f"/api/sites/{sid}", "lia")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == sid and len(body["detections"]) == 1 and body["reviews"] == []
    assert body["detections"][0]["has_image"] is False  # ingested without its raster
    nf = api.get("/api/sites/site-nope", "ana")
    assert nf.status_code == 404 and nf.json() == {"detail": "no site 'site-nope'"}
    assert api.get(f"/api/sites/{sid}", "adm").status_code == 403


def test_queue_and_assignment(api: Api) -> None:
    sid = api.sites[0]
    v = api.version(sid)
    queue = api.get("/api/sites/queue", "ana").json()
    assert sorted(s["id"] for s in queue["sites"]) == api.sites and queue["page"] == 1
    # an analyst takes a site for themselves
    r = api.post(f"/api/sites/{sid}/assign", "ana", json={"user": "ana", "version": v})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == v + 1 and r.json()["assignment"].startswith("asg-")
    mine = api.get("/api/sites/queue", "ana", params={"mine": True}).json()["sites"]
    assert [s["id"] for s in mine] == [sid]
    free = api.get("/api/sites/queue", "ana", params={"unassigned": True}).json()["sites"]
    assert [s["id"] for s in free] == [api.sites[1]]
    page2 = api.get("/api/sites/queue", "ana", params={"page": 2, "page_size": 1}).json()
    assert len(page2["sites"]) == 1
    # but may not hand it to somebody else; a supervisor may
    r = api.post(f"/api/sites/{sid}/assign", "ana", json={"user": "bob", "version": v + 1})
    assert r.status_code == 403 and "only to themselves" in r.json()["detail"]
    r = api.post(f"/api/sites/{sid}/assign", "sue", json={"user": "bob", "version": v + 1})
    assert r.status_code == 200
    stale = api.post(f"/api/sites/{sid}/assign", "sue", json={"user": "ana", "version": v + 1})
    assert stale.status_code == 409 and "reload" in stale.json()["detail"]
    detail = api.get(f"/api/sites/{sid}", "sue").json()
    assert detail["assignee_id"] == api.user_ids["bob"]
    assert [(a["user"], a["active"]) for a in detail["assignments"]] == [
        ("bob", True),
        ("ana", False),
    ]
    assert api.get("/api/sites/queue", "lia").status_code == 403
    r = api.post(f"/api/sites/{sid}/assign", "lia", json={"user": "lia", "version": v})
    assert r.status_code == 403
    r = api.post(f"/api/sites/{sid}/assign", "sue", json={"user": "lia", "version": v + 2})
    assert r.status_code == 422  # a liaison does not review


def test_concurrent_reviews_second_gets_409(api: Api) -> None:
    sid = api.sites[0]
    seen_by_ana = api.get(f"/api/sites/{sid}", "ana").json()["version"]
    seen_by_bob = api.get(f"/api/sites/{sid}", "bob").json()["version"]
    assert seen_by_ana == seen_by_bob
    first = api.post(
        f"/api/sites/{sid}/reviews",
        "ana",
        json={"decision": "confirm", "note": "plume every pass", "version": seen_by_ana},
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "confirmed" and first.json()["version"] == seen_by_ana + 1
    second = api.post(
        f"/api/sites/{sid}/reviews",
        "bob",
        json={"decision": "reject", "note": "a farm", "version": seen_by_bob},
    )
    assert second.status_code == 409
    detail = second.json()["detail"]
    assert f"you read version {seen_by_bob}" in detail and "reload" in detail
    site = api.get(f"/api/sites/{sid}", "ana").json()
    assert site["status"] == "confirmed" and site["version"] == seen_by_ana + 1
    assert [(r["user"], r["decision"]) for r in site["reviews"]] == [("ana", "confirm")]


def test_review_decisions(api: Api) -> None:
    sid = api.sites[1]
    note = api.post(f"/api/sites/{sid}/reviews", "sue", json={"decision": "note", "note": "hm"})
    assert note.status_code == 200 and note.json()["version"] == api.version(sid)
    r = api.post(f"/api/sites/{sid}/reviews", "ana", json={"decision": "confirm"})
    assert r.status_code == 422 and "version" in r.json()["detail"]
    r = api.post(f"/api/sites/{sid}/reviews", "ana", json={"decision": "strike", "version": 1})
    assert r.status_code == 422
    r = api.post(
        f"/api/sites/{sid}/reviews",
        "ana",
        json={"decision": "needs-collection", "version": api.version(sid), "radius_m": 400},
    )
    assert r.status_code == 200 and r.json()["status"] == "needs-collection"
    creq = r.json()["collection_request"]
    assert creq.startswith("creq-")
    r = api.post("/api/sites/site-nope/reviews", "ana", json={"decision": "reject", "version": 1})
    assert r.status_code == 404
    r = api.post(f"/api/sites/{sid}/reviews", "lia", json={"decision": "note", "note": "x"})
    assert r.status_code == 403
    assert [x["decision"] for x in api.get(f"/api/sites/{sid}", "ana").json()["reviews"]] == [
        "needs-collection",
        "note",
    ]


def test_collection_requests(api: Api) -> None:
    sid = api.sites[0]
    r = api.post(
        f"/api/sites/{sid}/reviews",
        "ana",
        json={"decision": "needs-collection", "note": "re-fly", "version": api.version(sid)},
    )
    cid = r.json()["collection_request"]
    listed = api.get("/api/collection-requests", "sue").json()["collection_requests"]
    assert [(c["id"], c["radius_m"], c["status"]) for c in listed] == [(cid, 250.0, "open")]
    assert api.get("/api/collection-requests", "ana", params={"status": "bogus"}).status_code == 422
    stale = api.post(f"/api/collection-requests/{cid}/close", "sue", json={"version": 9})
    assert stale.status_code == 409
    ok = api.post(f"/api/collection-requests/{cid}/close", "sue", json={"version": 1, "note": "ok"})
    assert ok.status_code == 200 and ok.json()["status"] == "closed"
    again = api.post(f"/api/collection-requests/{cid}/close", "sue", json={"version": 2})
    assert again.status_code == 409 and "already closed" in again.json()["detail"]
    assert api.get("/api/collection-requests", "ana").json()["collection_requests"] == []
    closed = api.get("/api/collection-requests", "ana", params={"status": "all"}).json()
    assert [c["id"] for c in closed["collection_requests"]] == [cid]
    nf = api.post("/api/collection-requests/creq-x/close", "sue", json={"version": 1})
    assert nf.status_code == 404
    assert api.get("/api/collection-requests", "lia").status_code == 403
    assert (
        api.post(f"/api/collection-requests/{cid}/close", "lia", json={"version": 2}).status_code
        == 403
    )


def test_attachments_upload_and_download(api: Api) -> None:
    sid = api.sites[0]
    data = b"<html><script>alert(1)</script></html>"
    sha = hashlib.sha256(data).hexdigest()
    r = api.post(
        f"/api/sites/{sid}/attachments",
        "ana",
        files={"file": ("../../note.html", data, "text/html")},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sha256"] == sha and body["filename"] == "note.html" and body["size"] == len(data)
    assert (api.home / "evidence" / sha[:2] / sha).read_bytes() == data
    dl = api.get(f"/api/attachments/{sha}", "lia")
    assert dl.status_code == 200 and dl.content == data
    assert dl.headers["content-disposition"].startswith("attachment")
    assert dl.headers["x-content-type-options"] == "nosniff"
    assert dl.headers["content-security-policy"] == "sandbox"
    detail = api.get(f"/api/sites/{sid}", "ana").json()
    assert [a["sha256"] for a in detail["attachments"]] == [sha]
    assert api.get(f"/api/attachments/{'0' * 64}", "ana").status_code == 404
    assert api.get("/api/attachments/..%2F..%2Fetc", "ana").status_code in (404, 422)
    assert api.get("/api/attachments/not-a-digest", "ana").status_code == 422
    r = api.post("/api/sites/site-nope/attachments", "ana", files={"file": ("a.txt", b"orphan")})
    assert r.status_code == 404
    orphan = hashlib.sha256(b"orphan").hexdigest()
    assert not evidence_files.evidence_file_path(api.home / "evidence", orphan).exists()
    r = api.post(f"/api/sites/{sid}/attachments", "lia", files={"file": ("a.txt", b"a")})
    assert r.status_code == 403
    assert api.get(f"/api/attachments/{sha}", "adm").status_code == 403


def test_attachments_over_the_limit_are_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evidence_files, "MAX_EVIDENCE_BYTES", 100)
    r = api.post(
        f"/api/sites/{api.sites[0]}/attachments", "ana", files={"file": ("big.bin", b"x" * 101)}
    )
    assert r.status_code == 422 and "limit is" in r.json()["detail"]
    assert not (api.home / "evidence").exists()


def test_queue_filters_on_the_server_and_counts(api: Api) -> None:
    full = api.get("/api/sites/queue", "ana").json()
    assert full["total"] == len(full["sites"]) == 2
    # the seeded sites have no context yet: exposure "none" selects them, "high" none
    assert api.get("/api/sites/queue", "ana", params={"exposure": "none"}).json()["total"] == 2
    high = api.get("/api/sites/queue", "ana", params={"exposure": "high"}).json()
    assert high == {"sites": [], "page": 1, "page_size": 50, "total": 0}
    top = max(s["confidence"] for s in full["sites"])
    strict = api.get("/api/sites/queue", "ana", params={"min_confidence": top}).json()
    assert strict["total"] >= 1 and all(s["confidence"] >= top for s in strict["sites"])
    one = api.get("/api/sites/queue", "ana", params={"page_size": 1, "page": 2}).json()
    assert len(one["sites"]) == 1 and one["total"] == 2
    assert api.get("/api/sites/queue", "ana", params={"exposure": "bad"}).status_code == 422


def test_queue_sorts_on_the_server(api: Api) -> None:
    def rows(**params: str) -> list[dict[str, object]]:
        out: list[dict[str, object]] = api.get("/api/sites/queue", "ana", params=params).json()[
            "sites"
        ]
        return out

    # a second pass over the first site: it now has more detections than the other
    with session_scope(api.engine, write=True) as s:
        ingest_detections(
            s,
            FlightSpec("flt-2", "border-unit", "ac-1", "aviris-ng"),
            [det("again", 0, 0)],
            time=T0,
            actor="test",
            source="t",
        )
    counts = {r["id"]: r["n_detections"] for r in rows()}
    busy = max(counts, key=lambda k: counts[k])
    assert counts[busy] == 2 and len(set(counts.values())) == 2
    assert rows(sort="n_detections")[0]["id"] == busy
    assert rows(sort="n_detections", order="asc")[-1]["id"] == busy
    for key in ("confidence", "priority", "n_detections"):
        down = [r[key] for r in rows(sort=key)]
        up = [r[key] for r in rows(sort=key, order="asc")]
        assert down == sorted(down, reverse=True) and up == sorted(up), key  # type: ignore[type-var]
    assert len(rows(sort="exposure")) == 2  # none assessed yet: all last, then by priority
    assert api.get("/api/sites/queue", "ana", params={"sort": "name"}).status_code == 422


def test_huge_integers_are_refused_not_overflowed(api: Api) -> None:
    """Found by schemathesis: a 64-bit overflow in SQLite was a 500."""
    huge = 10**20
    assert api.get("/api/sites", "ana", params={"offset": huge}).status_code == 422
    assert api.get("/api/sites/queue", "ana", params={"page": huge}).status_code == 422
    sid = api.sites[0]
    r = api.post(f"/api/sites/{sid}/reviews", "ana", json={"decision": "confirm", "version": huge})
    assert r.status_code == 422
    assert api.get("/api/sites", "ana", params={"offset": 2**31 - 1}).json()["sites"] == []
