"""Compartments: a site restricted to a team is invisible to staff outside it, on every
route that reaches sites or what belongs to them, and looks exactly like a missing one."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plumetrace.store.engine import session_scope
from plumetrace.store.models import Detection, Site

from .conftest import Api, release_lead
from .test_rules import _flatten


def _restrict(api: Api, site_id: str, team: str = "team-b") -> None:
    for who in ("bob", "sue"):
        r = api.client.put(
            f"/api/users/{api.user_ids[who]}/compartments",
            headers=api.auth("adm"),
            json={"compartments": [team]},
        )
        assert r.status_code == 200, r.text
    r = api.client.put(
        f"/api/sites/{site_id}/compartment",
        headers=api.auth("sue"),
        json={"compartment": team, "version": api.version(site_id)},
    )
    assert r.status_code == 200, r.text


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}


def test_outsiders_do_not_see_a_restricted_site(api: Api) -> None:
    hidden, open_ = api.sites
    _restrict(api, hidden)
    for who, sees in (("ana", False), ("lia", False), ("bob", True), ("sue", True)):
        listed = _ids(api.get("/api/sites", who).json()["sites"])
        assert (hidden in listed) is sees and open_ in listed, who
        detail = api.get(f"/api/sites/{hidden}", who)
        assert detail.status_code == (200 if sees else 404), who
        layers = api.get("/api/map/layers", who).json()["layers"]
        on_map = {f["properties"]["id"] for f in layers["sites"]["features"]}
        assert (hidden in on_map) is sees, who
        plumes = {f["properties"]["site_id"] for f in layers["plumes"]["features"]}
        assert (hidden in plumes) is sees, who
        trail = api.get("/api/audit/events", who, params={"entity": "site", "entity_id": hidden})
        assert trail.status_code == (200 if sees else 404), who
    queue = _ids(api.get("/api/sites/queue", "ana").json()["sites"])
    assert hidden not in queue and open_ in queue
    missing = api.get("/api/sites/site-0000000000", "ana")
    assert (
        api.get(f"/api/sites/{hidden}", "ana").json() == {"detail": f"no site {hidden!r}"}
        and missing.status_code == 404
    )  # the same answer as a site that does not exist


def test_every_site_route_answers_404_to_an_outsider(api: Api) -> None:
    hidden = api.sites[0]
    _restrict(api, hidden)
    # sue leaves the team: a supervisor outside it now
    r = api.client.put(
        f"/api/users/{api.user_ids['sue']}/compartments",
        headers=api.auth("adm"),
        json={"compartments": []},
    )
    assert r.status_code == 200
    with session_scope(api.engine) as s:
        det = s.query(Detection).filter(Detection.site_id == hidden).first()
        assert det is not None
        det_id = det.id
    version = api.version(hidden)
    calls: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
        ("GET", "/api/sites/{site_id}"): ("ana", None),
        ("PUT", "/api/sites/{site_id}/compartment"): (
            "sue",
            {"compartment": None, "version": version},
        ),
        ("POST", "/api/sites/{site_id}/assign"): ("ana", {"user": "ana", "version": version}),
        ("POST", "/api/sites/{site_id}/reviews"): ("ana", {"decision": "note", "note": "x"}),
        ("POST", "/api/sites/{site_id}/attachments"): ("ana", None),  # multipart, below
        ("DELETE", "/api/organizations/{org_id}/attributions/{site_id}"): ("ana", None),
    }
    site_routes = {
        (m, r.path)
        for r in _flatten(api.client.app.routes)  # type: ignore[attr-defined]
        if "{site_id}" in r.path
        for m in r.methods or ()
    }
    assert site_routes == set(calls), "a site route changed: update this test"
    for (method, path), (user, body) in calls.items():
        url = path.replace("{site_id}", hidden).replace("{org_id}", "org-x")
        if path.endswith("/attachments"):
            files = {"file": ("a.txt", b"hi", "text/plain")}
            r = api.client.post(url, headers=api.auth(user), files=files)
        else:
            r = api.client.request(method, url, headers=api.auth(user), json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert api.get(f"/api/detections/{det_id}/image", "ana").status_code == 404
    assert api.get(f"/api/sites/{hidden}", "bob").status_code == 200  # still a member


def test_only_members_restrict_and_open_sites(api: Api) -> None:
    site = api.sites[0]
    r = api.client.put(
        f"/api/sites/{site}/compartment",
        headers=api.auth("sue"),
        json={"compartment": "team-b", "version": api.version(site)},
    )
    assert r.status_code == 403 and "do not belong to compartment 'team-b'" in r.json()["detail"]
    _restrict(api, site)
    bad = api.client.put(
        f"/api/sites/{site}/compartment",
        headers=api.auth("sue"),
        json={"compartment": "Team B!", "version": api.version(site)},
    )
    assert bad.status_code == 422
    assert api.get(f"/api/sites/{site}", "ana").status_code == 404
    opened = api.client.put(
        f"/api/sites/{site}/compartment",
        headers=api.auth("sue"),
        json={"compartment": None, "version": api.version(site)},
    )
    assert opened.status_code == 200 and opened.json()["compartment"] is None
    assert api.get(f"/api/sites/{site}", "ana").status_code == 200
    trail = api.get("/api/audit/events", "ana", params={"entity": "site", "entity_id": site})
    actions = [e["action"] for e in trail.json()["events"]]
    assert actions.count("site.compartment") == 2
    for who in ("ana", "lia", "adm"):  # analysts, liaisons and admins do not restrict sites
        r = api.client.put(
            f"/api/sites/{site}/compartment",
            headers=api.auth(who),
            json={"compartment": None, "version": api.version(site)},
        )
        assert r.status_code == 403


def test_a_lead_with_a_restricted_site_is_hidden_too(api: Api) -> None:
    site = api.sites[0]
    lead_id = release_lead(api, sites=[site])
    _restrict(api, site)
    assert lead_id not in _ids(api.get("/api/leads", "ana").json()["leads"])
    assert api.get(f"/api/leads/{lead_id}", "ana").status_code == 404
    assert lead_id in _ids(api.get("/api/leads", "bob").json()["leads"])
    # the partner keeps what was released to it
    partner = api.get("/api/partner/leads", "pat").json()["leads"]
    assert lead_id in {item["lead"]["id"] for item in partner}


@pytest.mark.parametrize("name", ["", "A", "team b", "x" * 65, "-lead"])
def test_compartment_names_are_checked(api: Api, name: str) -> None:
    r = api.client.put(
        f"/api/users/{api.user_ids['bob']}/compartments",
        headers=api.auth("adm"),
        json={"compartments": [name]},
    )
    assert r.status_code == 422 and re.search("compartment name", r.json()["detail"])


def test_merged_stubs_of_a_restricted_site_are_hidden_too(api: Api) -> None:
    hidden = api.sites[0]
    with session_scope(api.engine, write=True) as s:
        s.add(
            Site(
                id="site-stub000001",
                lat=31.75,
                lon=-106.45,
                uncertainty_m=20.0,
                confidence=0.1,
                status="merged",
                merged_into=hidden,
                pos_weight=1.0,
            )
        )
    _restrict(api, hidden)
    for who, sees in (("ana", False), ("bob", True)):
        merged = _ids(api.get("/api/sites", who, params={"status": "merged"}).json()["sites"])
        assert ("site-stub000001" in merged) is sees, who
