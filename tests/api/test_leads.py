"""Leads over the API: draft, two-person release, partner response, metrics, isolation."""

from __future__ import annotations

import json
from datetime import timedelta

from stix2validator import validate_string

from plumetrace.store.engine import session_scope
from plumetrace.store.models import AuditEvent
from plumetrace.store.types import utcnow

from .conftest import Api, confirm, release_lead


def test_draft_needs_confirmed_sites_and_a_liaison(api: Api) -> None:
    body = {"partner": "Fiscalia", "sites": [api.sites[0]], "title": "Lab"}
    r = api.post("/api/leads", "lia", json=body)
    assert r.status_code == 409 and "confirmed" in r.json()["detail"]
    confirm(api, api.sites[0])
    assert api.post("/api/leads", "ana", json=body).status_code == 403
    assert api.post("/api/leads", "lia", json={**body, "partner": "Nobody"}).status_code == 404
    assert api.post("/api/leads", "lia", json={**body, "tlp": "WHITE"}).status_code == 422
    r = api.post("/api/leads", "lia", json=body)
    assert r.status_code == 201
    lead = r.json()
    assert lead["id"].startswith("lead-") and lead["status"] == "draft"
    assert lead["tlp"] == "amber" and lead["state"] == "draft"


def test_two_person_rule(api: Api) -> None:
    confirm(api, api.sites[0])
    r = api.post(
        "/api/leads", "lia", json={"partner": "Fiscalia", "sites": [api.sites[0]], "title": "L"}
    )
    lead_id = r.json()["id"]
    # a liaison cannot approve, a supervisor can; a drafter never approves their own
    assert api.post(f"/api/leads/{lead_id}/approve", "lia").status_code == 403
    r = api.post(f"/api/leads/{lead_id}/return", "sue", json={"note": "reword the title"})
    assert r.status_code == 200 and r.json()["events"][-1]["kind"] == "returned"
    r = api.post(f"/api/leads/{lead_id}/approve", "sue")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["status"] == "released" and got["approved_by"] == "sue"
    assert got["state"] == "notified" and got["release"]["id"] == lead_id
    assert api.post(f"/api/leads/{lead_id}/approve", "sue").status_code == 409
    with session_scope(api.engine) as s:
        actions = [e.action for e in s.query(AuditEvent).filter_by(entity_id=lead_id)]
    assert actions == ["lead.draft", "lead.return", "lead.release"]


def test_preview_shows_the_redaction(api: Api) -> None:
    confirm(api, api.sites[0])
    body = {
        "partner": "Fiscalia",
        "sites": [api.sites[0]],
        "title": "Lab seen by flt-1",
        "summary": "ana and sue agree; aviris-ng saw it",
        "internal_note": "source HUMINT-7",
    }
    lead_id = api.post("/api/leads", "lia", json=body).json()["id"]
    r = api.get(f"/api/leads/{lead_id}/preview", "sue")
    assert r.status_code == 200
    out = r.json()
    text = json.dumps(out["lead"])
    for secret in ("flt-1", "aviris-ng", "ana", "sue", "HUMINT-7", "border-unit", "ac-1"):
        assert secret not in text, secret
    assert out["lead"]["title"] == "Lab seen by [withheld]"
    assert out["redaction"]["scrubbed"] == {"title": 1, "summary": 3}
    assert out["redaction"]["withheld"]["internal"] >= 1
    assert api.get(f"/api/leads/{lead_id}/preview", "ana").status_code == 403


def test_exports_and_partner_view(api: Api) -> None:
    lead_id = release_lead(api)
    for fmt, marker in (
        ("stix", b'"bundle"'),
        ("geojson", b"FeatureCollection"),
        ("kml", b"<kml"),
        ("cot", b'type="a-u-G"'),
    ):
        r = api.get(f"/api/leads/{lead_id}/export", "lia", params={"format": fmt})
        assert r.status_code == 200 and marker in r.content, fmt
        mine = api.get(f"/api/partner/leads/{lead_id}/export", "pat", params={"format": fmt})
        assert mine.content == r.content, fmt
    stix = api.get(f"/api/leads/{lead_id}/export", "lia", params={"format": "stix"}).text
    assert validate_string(stix).is_valid
    r = api.get("/api/partner/leads", "pat")
    assert [x["lead"]["id"] for x in r.json()["leads"]] == [lead_id]
    assert r.json()["leads"][0]["state"] == "notified"


def test_partner_response_lifecycle_and_metrics(api: Api) -> None:
    lead_id = release_lead(api)
    r = api.post(f"/api/partner/leads/{lead_id}/acknowledge", "pat", json={})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    bad = api.post(f"/api/partner/leads/{lead_id}/feedback", "pat", json={"outcome": "party"})
    assert bad.status_code == 422
    future = (utcnow() + timedelta(days=2)).isoformat()
    r = api.post(
        f"/api/partner/leads/{lead_id}/feedback",
        "pat",
        json={"outcome": "dismantled", "text": "lab dismantled", "action_date": future},
    )
    assert r.status_code == 422 and "future" in r.json()["detail"]
    r = api.post(
        f"/api/partner/leads/{lead_id}/feedback",
        "pat",
        json={
            "outcome": "dismantled",
            "text": "lab dismantled",
            "action_date": utcnow().isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "acted" and r.json()["outcome"] == "dismantled"
    # partners cannot verify; a liaison records a verification that came by other means
    r = api.post(
        f"/api/leads/{lead_id}/events",
        "lia",
        json={"kind": "verified", "verification": "no-emission"},
    )
    assert r.status_code == 201 and r.json()["state"] == "verified"
    m = api.get("/api/leads/metrics", "sue").json()
    assert m["overall"]["released"] == 1 and m["overall"]["response_rate"] == 1.0
    assert m["leads"] == [
        {
            "id": lead_id,
            "partner": "partner-fiscalia",
            "state": "verified",
            "overdue": None,
            "released": m["leads"][0]["released"],
            "outcome": "dismantled",
        }
    ]
    kinds = [e["kind"] for e in api.get(f"/api/leads/{lead_id}", "lia").json()["events"]]
    assert kinds == ["released", "acknowledged", "action", "feedback", "verified"]
    # the partner sees its own answers, not our re-survey nor a liaison's notes
    mine = api.get(f"/api/partner/leads/{lead_id}", "pat").json()
    assert mine["state"] == "acted" and mine["outcome_text"] == "lab dismantled"
    r = api.post(
        f"/api/leads/{lead_id}/events",
        "lia",
        json={"kind": "feedback", "outcome": "arrests", "text": "per source HOTEL-9"},
    )
    assert r.status_code == 201
    mine = api.get(f"/api/partner/leads/{lead_id}", "pat").json()
    assert mine["outcome"] == "arrests" and "HOTEL-9" not in json.dumps(mine)


def test_a_partner_sees_only_its_released_leads(api: Api) -> None:
    mine = release_lead(api)
    confirm(api, api.sites[1])
    draft = api.post(
        "/api/leads", "lia", json={"partner": "Fiscalia", "sites": [api.sites[1]], "title": "D"}
    ).json()["id"]
    theirs = release_lead(api, partner="Other Agency", sites=[api.sites[1]])
    for lead_id in (draft, theirs):
        for path in ("", "/export"):
            assert api.get(f"/api/partner/leads/{lead_id}{path}", "pat").status_code == 404
        for verb in ("acknowledge", "feedback"):
            r = api.post(
                f"/api/partner/leads/{lead_id}/{verb}",
                "pat",
                json={"outcome": "arrests"} if verb == "feedback" else {},
            )
            assert r.status_code == 404, (lead_id, verb)
    assert [x["lead"]["id"] for x in api.get("/api/partner/leads", "pat").json()["leads"]] == [mine]
    assert [x["lead"]["id"] for x in api.get("/api/partner/leads", "pax").json()["leads"]] == [
        theirs
    ]
    for path in ("/api/leads", f"/api/leads/{mine}", "/api/leads/metrics", "/api/partners"):
        assert api.get(path, "pat").status_code == 403
