from __future__ import annotations

import json

from .conftest import Api


def _plumes(lat: float, lon: float) -> bytes:
    props = {
        "id": "plume-1",
        "source_lat": lat,
        "source_lon": lon,
        "source_uncertainty_m": 25.0,
        "flux_kg_h": 80.0,
        "flux_kg_h_sigma": 20.0,
        "confidence": 0.9,
    }
    feat = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}}
    return json.dumps(
        {"type": "FeatureCollection", "features": [feat | {"properties": props}]}
    ).encode()


def test_ingest_detections_coverage_and_report(api: Api) -> None:
    form = {
        "time": "2026-05-03T17:00Z",
        "flight": "flt-9",
        "platform": "uav-1",
        "sensor": "emit",
        "operator": "border-unit",
    }
    files = {"file": ("plumes.geojson", _plumes(32.5, -106.0), "application/geo+json")}
    r = api.post("/api/ingest/detections", "ana", data=form, files=files)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["new"] == 1 and len(body["sites_created_ids"]) == 1
    again = api.post("/api/ingest/detections", "ana", data=form, files=files).json()
    assert again["new"] == 0 and again["skipped"] == 1
    poly = {
        "type": "Polygon",
        "coordinates": [
            [[-106.1, 32.4], [-105.9, 32.4], [-105.9, 32.6], [-106.1, 32.6], [-106.1, 32.4]]
        ],
    }
    cov = api.post(
        "/api/ingest/coverage",
        "sue",
        data={
            "time": "2026-05-04T17:00Z",
            "flight": "flt-10",
            "platform": "uav-1",
            "sensor": "emit",
            "operator": "border-unit",
        },
        files={"file": ("cov.geojson", json.dumps(poly).encode(), "application/geo+json")},
    )
    assert cov.status_code == 200, cov.text
    assert cov.json()["sites_updated_ids"] == body["sites_created_ids"]
    report = {
        "id": "rpt-x",
        "time": "2026-05-05T10:00Z",
        "lat": 32.5,
        "lon": -106.0,
        "uncertainty_m": 300,
        "source_reliability": "B",
        "credibility": 2,
        "text": "smell of solvents at night",
        "organization": "Los Hermanos",
    }
    rep = api.post("/api/ingest/reports", "ana", json=report)
    assert rep.status_code == 200, rep.text
    assert rep.json()["sites_updated_ids"] == body["sites_created_ids"]
    site = api.get(f"/api/sites/{body['sites_created_ids'][0]}", "ana").json()
    assert site["n_reports"] == 1 and site["n_passes"] == 2


def test_ingest_errors_are_one_line(api: Api) -> None:
    form = {"time": "yesterday", "flight": "flt-9"}
    files = {"file": ("p.geojson", _plumes(32.5, -106.0), "application/geo+json")}
    r = api.post("/api/ingest/detections", "ana", data=form, files=files)
    assert r.status_code == 422 and "ISO 8601" in r.json()["detail"]
    form["time"] = "2026-05-03T17:00Z"
    r = api.post("/api/ingest/detections", "ana", data=form, files=files)
    assert r.status_code == 400 and "is new" in r.json()["detail"]
    bad = api.post("/api/ingest/reports", "ana", json={"id": "r", "lat": 1})
    assert bad.status_code == 422 and "report has no" in bad.json()["detail"]
    junk = {"file": ("x.json", b"{not json", "application/json")}
    r = api.post(
        "/api/ingest/detections",
        "ana",
        data={**form, "platform": "a", "sensor": "b", "operator": "c"},
        files=junk,
    )
    assert r.status_code == 422 and "invalid JSON" in r.json()["detail"]
    assert "/tmp" not in r.json()["detail"]


def test_ingest_roles(api: Api) -> None:
    for who in ("lia", "pat", "adm"):
        r = api.post("/api/ingest/reports", who, json={})
        assert r.status_code == 403
