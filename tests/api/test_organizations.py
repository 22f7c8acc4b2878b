from __future__ import annotations

from typing import Any

from .conftest import Api


def _org(api: Api, who: str = "ana", name: str = "Cartel del Norte") -> dict[str, Any]:
    r = api.post("/api/organizations", who, json={"name": name, "aliases": ["CDN"]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_create_list_get_and_edit(api: Api) -> None:
    org = _org(api, "lia")
    assert org["id"].startswith("org-") and org["aliases"] == ["CDN"] and org["version"] == 1
    dup = api.post("/api/organizations", "sue", json={"name": "CARTEL DEL NORTE"})
    assert dup.status_code == 409
    assert api.post("/api/organizations", "ana", json={"name": ""}).status_code == 422
    listed = api.get("/api/organizations", "lia").json()["organizations"]
    assert [(o["id"], o["n_sites"]) for o in listed] == [(org["id"], 0)]
    got = api.get(f"/api/organizations/{org['id']}", "ana").json()
    assert got["name"] == "Cartel del Norte" and got["designations"] == []
    assert api.get("/api/organizations/org-nope", "ana").status_code == 404
    r = api.client.patch(
        f"/api/organizations/{org['id']}",
        headers=api.auth("sue"),
        json={"aliases": ["CDN", "Norteños"], "version": 1},
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = api.client.patch(
        f"/api/organizations/{org['id']}", headers=api.auth("ana"), json={"name": "X", "version": 1}
    )
    assert stale.status_code == 409
    for who in ("adm",):
        assert api.get("/api/organizations", who).status_code == 403
        assert api.post("/api/organizations", who, json={"name": "Y"}).status_code == 403
        r = api.client.patch(
            f"/api/organizations/{org['id']}", headers=api.auth(who), json={"version": 2}
        )
        assert r.status_code == 403


def test_designations(api: Api) -> None:
    org = _org(api)
    body = {
        "authority": "Ministry of Justice",
        "designation": "criminal organization",
        "date": "2025-03-01",
        "reference": "Gazette 12/2025",
    }
    r = api.post(f"/api/organizations/{org['id']}/designations", "lia", json=body)
    assert r.status_code == 201 and r.json()["id"].startswith("des-")
    bad = api.post(
        f"/api/organizations/{org['id']}/designations", "sue", json={**body, "date": "01/03/25"}
    )
    assert bad.status_code == 422
    assert api.post("/api/organizations/org-x/designations", "sue", json=body).status_code == 404
    assert (
        api.post(f"/api/organizations/{org['id']}/designations", "ana", json=body).status_code
        == 403
    )
    got = api.get(f"/api/organizations/{org['id']}", "ana").json()
    assert [d["date"] for d in got["designations"]] == ["2025-03-01"]


def test_attributions_sites_and_graph(api: Api) -> None:
    org = _org(api)
    oid = org["id"]
    s0, s1 = api.sites
    r = api.post(
        f"/api/organizations/{oid}/attributions",
        "ana",
        json={"site_id": s0, "confidence": 0.7, "basis": "vehicle seen"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"].startswith("attr-") and r.json()["time"].endswith("Z")
    r = api.post(
        f"/api/organizations/{oid}/attributions",
        "sue",
        json={"site_id": s1, "confidence": 0.2},
    )
    assert r.status_code == 200
    r = api.post(
        f"/api/organizations/{oid}/attributions", "ana", json={"site_id": s0, "confidence": 1.5}
    )
    assert r.status_code == 422
    r = api.post(
        f"/api/organizations/{oid}/attributions", "ana", json={"site_id": "site-x", "confidence": 1}
    )
    assert r.status_code == 404
    r = api.post(
        f"/api/organizations/{oid}/attributions", "lia", json={"site_id": s0, "confidence": 1}
    )
    assert r.status_code == 403
    sites = api.get(f"/api/organizations/{oid}/sites", "lia").json()["sites"]
    assert [(s["id"], s["attribution_confidence"]) for s in sites] == [(s0, 0.7), (s1, 0.2)]
    assert api.get("/api/organizations/org-x/sites", "lia").status_code == 404
    graph = api.get("/api/graph", "lia").json()
    assert {n["id"] for n in graph["nodes"]} == {oid, s0, s1}
    assert {(e["source"], e["target"], e["type"]) for e in graph["edges"]} == {
        (s0, oid, "attribution"),
        (s1, oid, "attribution"),
    }
    focused = api.get("/api/graph", "ana", params={"organization": oid}).json()
    assert len(focused["nodes"]) == 3
    assert api.get("/api/graph", "ana", params={"organization": "org-x"}).status_code == 404
    r = api.client.delete(f"/api/organizations/{oid}/attributions/{s1}", headers=api.auth("ana"))
    assert r.status_code == 204
    r = api.client.delete(f"/api/organizations/{oid}/attributions/{s1}", headers=api.auth("ana"))
    assert r.status_code == 404
    r = api.client.delete(f"/api/organizations/{oid}/attributions/{s0}", headers=api.auth("lia"))
    assert r.status_code == 403
    assert [s["id"] for s in api.get(f"/api/organizations/{oid}/sites", "ana").json()["sites"]] == [
        s0
    ]
    assert api.get("/api/graph", "adm").status_code == 403
    assert api.get(f"/api/organizations/{oid}/sites", "adm").status_code == 403
