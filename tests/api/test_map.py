"""The map's layers and the flights list over the API."""

from __future__ import annotations

import json
from pathlib import Path

from plumetrace.io.audit_files import read_audit
from plumetrace.io.evidence import DetectionRecord
from plumetrace.store.engine import session_scope
from plumetrace.store.flights import store_audit
from plumetrace.store.ingest import FlightSpec, ingest_detections

from .conftest import LAT0, LON0, T0, Api


def _audit_files(tmp: Path) -> Path:
    """A hand-made audit: a track across the border at El Paso with one incursion."""
    report = {
        "operator": "border-unit",
        "points": 3,
        "start": "2026-05-01T17:00:00Z",
        "end": "2026-05-01T17:15:00Z",
        "total_unauthorized_s": 300.0,
        "incursions": [{"zone": "MEX", "duration_s": 300.0, "max_depth_m": 900.0}],
        "warnings": [],
        "authorized": ["USA", "international"],
    }
    track = [[LON0, LAT0 + 0.05], [LON0, LAT0 - 0.02], [LON0 + 0.01, LAT0 + 0.05]]
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": track},
            "properties": {"kind": "track", "operator": "border-unit"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": track[1:]},
            "properties": {
                "kind": "incursion",
                "zone": "MEX",
                "duration_s": 300.0,
                "max_depth_m": 900.0,
            },
        },
    ]
    (tmp / "audit.json").write_text(json.dumps(report))
    (tmp / "audit.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return tmp / "audit.json"


def test_layers_of_the_store_and_the_airspace(api: Api, tmp_path: Path) -> None:
    outline = {
        "type": "Polygon",
        "coordinates": [
            [
                [LON0 + 0.1, LAT0],
                [LON0 + 0.11, LAT0],
                [LON0 + 0.11, LAT0 + 0.01],
                [LON0 + 0.1, LAT0],
            ]
        ],
    }
    with session_scope(api.engine, write=True) as s:
        ingest_detections(
            s,
            FlightSpec("flt-9", "border-unit", "ac-1", "aviris-ng"),
            [
                DetectionRecord(
                    "o",
                    "plume",
                    LAT0,
                    LON0 + 0.1,
                    20.0,
                    10.0,
                    5.0,
                    15.0,
                    0.9,
                    properties={"outline": outline, "max_ppm_m": 900.0},
                ),
                DetectionRecord("result", "insitu", LAT0 + 0.02, LON0, 30.0, 2.0, 1.0, 3.0, None),
            ],
            time=T0,
            actor="t",
            source="t",
        )
        rec, new = store_audit(
            s,
            FlightSpec("flt-aud", None, "ac-1", "gps"),
            read_audit(_audit_files(tmp_path)),
            actor="t",
        )
        assert new and rec.n_incursions == 1
        again, new = store_audit(
            s, FlightSpec("flt-aud"), read_audit(tmp_path / "audit.json"), actor="t"
        )
        assert not new and again.id == rec.id
    r = api.get("/api/map/layers", "ana")
    assert r.status_code == 200, r.text
    body = r.json()
    layers = body["layers"]
    assert body["basemap"] is None and len(body["bbox"]) == 4
    assert {f["properties"]["id"] for f in layers["sites"]["features"]} >= set(api.sites)
    plumes = {f["properties"]["id"]: f for f in layers["plumes"]["features"]}
    assert any(f["geometry"] == outline for f in plumes.values())
    (circle,) = layers["insitu"]["features"]
    assert circle["geometry"]["type"] == "Polygon" and circle["properties"]["radius_m"] > 30
    (track,) = layers["tracks"]["features"]
    assert track["properties"]["flight"] == "flt-aud"
    (inc,) = layers["incursions"]["features"]
    assert inc["properties"]["zone"] == "MEX" and inc["properties"]["max_depth_m"] == 900.0
    kinds = {f["properties"]["kind"] for f in layers["zones"]["features"]}
    assert {"country", "authorized"} <= kinds
    zones = {f["properties"]["zone"] for f in layers["zones"]["features"]}
    assert {"USA", "MEX"} <= zones
    # a box, a bad box, a partner
    small = api.get("/api/map/layers", "ana", params={"bbox": "0,0,0.1,0.1"}).json()
    assert small["layers"]["sites"]["features"] == []
    assert api.get("/api/map/layers", "ana", params={"bbox": "1,2"}).status_code == 422
    assert api.get("/api/map/layers", "ana", params={"bbox": "-120,10,-90,40"}).status_code == 422
    assert api.get("/api/map/layers", "pat").status_code == 403
    flights = {f["id"]: f for f in api.get("/api/flights", "lia").json()["flights"]}
    assert flights["flt-aud"]["audit"]["incursions"] == 1 and flights["flt-aud"]["has_track"]
    assert flights["flt-9"]["audit"] is None


def test_plume_overlay_from_the_enhancement_raster(api: Api, tmp_path: Path) -> None:
    import numpy as np

    from plumetrace.geo import Georef
    from plumetrace.io.geojson import write_geojson
    from plumetrace.io.geotiff import write_geotiff
    from plumetrace.pipeline.ingest import ingest_detections_file

    step = 5e-5  # ~5 m
    west, north = LON0 + 0.2, LAT0 + 0.002
    data = np.zeros((40, 60))
    data[10:20, 20:40] = 800.0  # the plume
    tif = tmp_path / "enhancement.tif"
    write_geotiff(
        tif, data, Georef("EPSG:4326", (step, 0.0, west, 0.0, -step, north)), nodata=-9999.0
    )
    ring = [
        [west + 20 * step, north - 10 * step],
        [west + 40 * step, north - 10 * step],
        [west + 40 * step, north - 20 * step],
        [west + 20 * step, north - 20 * step],
    ]
    feat = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        "properties": {
            "id": 1,
            "source_lon": west + 21 * step,
            "source_lat": north - 15 * step,
            "source_uncertainty_m": 10.0,
            "flux_kg_h": 30.0,
            "confidence": 0.9,
        },
    }
    write_geojson(tmp_path / "plumes.geojson", [feat])
    ingest_detections_file(
        api.engine,
        tmp_path / "plumes.geojson",
        time=T0,
        flight=FlightSpec("flt-ov", "border-unit", "ac-1", "aviris-ng"),
        actor="t",
        enhancement=tif,
        evidence_dir=api.home / "evidence",
    )
    layers = api.get("/api/map/layers", "ana").json()["layers"]
    (plume,) = [f for f in layers["plumes"]["features"] if f["properties"]["flight"] == "flt-ov"]
    props = plume["properties"]
    (s, w), (n, e) = props["image_bounds"]
    assert w < west + 20 * step < west + 40 * step < e and s < north - 20 * step < n
    r = api.get(props["image"], "ana")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    from io import BytesIO

    from PIL import Image

    img = np.asarray(Image.open(BytesIO(r.content)))
    alpha = img[..., 3]
    assert alpha.max() > 0 and (alpha == 0).any()  # the plume drawn, the rest transparent
    assert api.get(props["image"], "pat").status_code == 403
    # the site's dossier says which of its detections has a picture (the web page's chips)
    dets = api.get(f"/api/sites/{props['site_id']}", "ana").json()["detections"]
    assert [d["has_image"] for d in dets if d["id"] == props["id"]] == [True]
    assert all("properties" not in d for d in dets)
    # a plume ingested without its raster has no overlay
    plain = [f for f in layers["plumes"]["features"] if f["properties"]["image"] is None]
    assert plain
    url = f"/api/detections/{plain[0]['properties']['id']}/image"
    assert api.get(url, "ana").status_code == 404
