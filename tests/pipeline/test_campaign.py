from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from plumetrace.io.geojson import read_geojson
from plumetrace.io.tables import read_json
from plumetrace.pipeline.campaign import CampaignSummary, run_campaign
from plumetrace.pipeline.plumes import PLUME_PROPERTIES
from plumetrace.sim.campaign import CampaignSpec

SPEC = CampaignSpec(seed=4, sources=30, passes=6, reports=12, false_rate=0.03)
REPORT_KEYS = {
    "id",
    "time",
    "lat",
    "lon",
    "uncertainty_m",
    "source_reliability",
    "credibility",
    "text",
    "organization",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CampaignSummary]:
    out = tmp_path_factory.mktemp("campaign") / "out"  # created by the job
    return out, run_campaign(out, SPEC)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_summary_counts(written: tuple[Path, CampaignSummary]) -> None:
    out, summary = written
    assert summary.passes == 6 and summary.sources == 30 and summary.reports == 12
    assert set(summary.detections) == {"real", "false", "clutter"}
    assert summary.files == 2 * 6 + 12 + 2 == len(_digest(out))
    assert summary.manifest == out / "campaign.json"
    assert 0 < summary.sources_detected <= 30 and 0 <= summary.true_reports <= 12


def test_manifest(written: tuple[Path, CampaignSummary]) -> None:
    out, _ = written
    manifest = read_json(out / "campaign.json")
    assert set(manifest) == {"seed", "origin", "passes", "reports"}
    assert manifest["seed"] == 4 and manifest["origin"] == {"lat": 31.75, "lon": -106.45}
    times = [p["time"] for p in manifest["passes"]]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)
    for p in manifest["passes"]:
        assert set(p) == {"flight", "time", "platform", "sensor", "operator", "plumes", "coverage"}
        assert p["flight"].startswith("flt-4-")
        assert p["plumes"] == f"passes/{p['flight']}/plumes.geojson"
        assert (out / p["plumes"]).is_file() and (out / p["coverage"]).is_file()
    assert len(manifest["reports"]) == 12
    assert all((out / r).is_file() and r.startswith("reports/") for r in manifest["reports"])


def test_plumes_and_coverage(written: tuple[Path, CampaignSummary]) -> None:
    out, _ = written
    manifest = read_json(out / "campaign.json")
    truth = read_json(out / "truth.json")
    n = 0
    for p in manifest["passes"]:
        cov = read_geojson(out / p["coverage"])["features"]
        assert len(cov) == 1 and cov[0]["geometry"]["type"] == "Polygon"
        footprint = shape(cov[0]["geometry"])
        assert footprint.is_valid and cov[0]["properties"]["flight"] == p["flight"]
        plumes = read_geojson(out / p["plumes"])
        assert plumes["plumetrace"]["flight"] == p["flight"]
        for f in plumes["features"]:
            props = f["properties"]
            assert tuple(props) == PLUME_PROPERTIES
            assert f["geometry"]["type"] == "Point" and f["id"] == props["id"]
            lon, lat = f["geometry"]["coordinates"]
            assert (lon, lat) == (props["source_lon"], props["source_lat"])
            assert footprint.contains(Point(lon, lat))
            assert props["method"] == "sim-campaign" and props["id"].startswith("plume-")
            n += 1
    assert n == len(truth["detections"]) > 0


def test_truth_and_reports(written: tuple[Path, CampaignSummary]) -> None:
    out, _ = written
    truth = read_json(out / "truth.json")
    assert set(truth) == {"sources", "clutter", "detections", "reports"}
    assert len(truth["sources"]) == 30
    assert all(
        set(s) == {"id", "lat", "lon", "rate_kg_h", "duty_cycle", "intermittent"}
        for s in truth["sources"]
    )
    assert all(set(c) == {"id", "lat", "lon", "recurrence"} for c in truth["clutter"])
    ids = {s["id"] for s in truth["sources"]}
    for d in truth["detections"]:
        assert set(d) == {"flight", "plume_id", "source", "kind"}
        assert d["kind"] in ("real", "false", "clutter")
        assert (d["source"] in ids) if d["kind"] == "real" else d["source"] is None
    for r in truth["reports"]:
        assert set(r) == {"id", "source"} and (r["source"] is None or r["source"] in ids)
        report = read_json(out / "reports" / f"{r['id']}.json")
        assert set(report) == REPORT_KEYS and report["id"] == r["id"]
        assert report["time"].endswith("Z") and report["source_reliability"] in "ABCDEF"
        assert report["credibility"] in range(1, 7)


def test_same_seed_same_files(tmp_path: Path, written: tuple[Path, CampaignSummary]) -> None:
    out, _ = written
    run_campaign(tmp_path / "again", SPEC)
    assert _digest(tmp_path / "again") == _digest(out)
