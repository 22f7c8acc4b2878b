"""One entity's audit trail over the API."""

from __future__ import annotations

from .conftest import Api, confirm


def test_a_site_audit_trail_lists_its_events_newest_first(api: Api) -> None:
    site = api.sites[0]
    confirm(api, site)
    r = api.get("/api/audit/events", "ana", params={"entity": "site", "entity_id": site})
    assert r.status_code == 200
    events = r.json()["events"]
    assert events and events[0]["action"] == "site.review"
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True)
    assert all(len(e["hash"]) == 64 for e in events)
    none = api.get("/api/audit/events", "sue", params={"entity": "site", "entity_id": "x"})
    assert none.json() == {"events": []}
    assert (
        api.get(
            "/api/audit/events", "pat", params={"entity": "site", "entity_id": site}
        ).status_code
        == 403
    )
    assert api.get("/api/audit/events", "ana", params={"entity": "site"}).status_code == 422
