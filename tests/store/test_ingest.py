from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from plumetrace.errors import ConfigurationError
from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord, ReportRecord
from plumetrace.store.audit_log import verify
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import (
    FlightSpec,
    ingest_coverage,
    ingest_detections,
    ingest_report,
)
from plumetrace.store.models import AuditEvent, Detection, EvidenceLink, Site, SitePass

LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)
_FWD, _INV = local_projection(LON0, LAT0)


def _ll(x: float, y: float) -> tuple[float, float]:
    lon, lat = _INV.transform(x, y)
    return float(lat), float(lon)


def det(key: str, x: float, y: float, sigma: float = 20.0, rate: float = 50.0) -> DetectionRecord:
    lat, lon = _ll(x, y)
    return DetectionRecord(key, "plume", lat, lon, sigma, rate, rate * 0.7, rate * 1.3, 0.8)


def flight(fid: str) -> FlightSpec:
    return FlightSpec(fid, operator="border-unit", platform="ac-1", sensor="aviris-ng")


def _ingest(engine: sa.Engine, fid: str, recs: list[DetectionRecord], day: int = 0):  # type: ignore[no-untyped-def]
    with session_scope(engine, write=True) as s:
        return ingest_detections(
            s, flight(fid), recs, time=T0 + timedelta(days=day), actor="test", source="t"
        )


def _sites(engine: sa.Engine) -> list[Site]:
    with session_scope(engine) as s:
        return list(s.scalars(sa.select(Site).where(Site.status != "merged").order_by(Site.lat)))


def test_detections_fuse_into_sites_and_reingest_changes_nothing(engine: sa.Engine) -> None:
    recs = [det("p1", 0, 0), det("p2", 15, -10), det("p3", 5000, 0)]
    r = _ingest(engine, "flt-1", recs)
    assert (r.new, r.skipped, len(r.sites_created)) == (3, 0, 2)
    sites = _sites(engine)
    near = min(sites, key=lambda s: abs(s.lon - LON0))
    assert near.n_detections == 2 and near.n_passes == 1 and near.n_passes_detected == 1
    assert near.uncertainty_m == pytest.approx(20 / 2**0.5, rel=1e-6)
    with session_scope(engine) as s:
        n_events = s.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        links = s.scalars(sa.select(EvidenceLink).where(EvidenceLink.site_id == near.id)).all()
    assert len(links) == 2 and any("founded" in link.reason for link in links)
    assert any("sigma" in link.reason for link in links)
    again = _ingest(engine, "flt-1", recs)
    assert (again.new, again.skipped) == (0, 3)
    with session_scope(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == n_events
        assert s.scalar(sa.select(sa.func.count()).select_from(Detection)) == 3
        assert verify(s).ok


def test_repeated_passes_raise_and_empty_passes_lower_confidence(engine: sa.Engine) -> None:
    _ingest(engine, "flt-1", [det("a", 0, 0)])
    c1 = _sites(engine)[0].confidence
    _ingest(engine, "flt-2", [det("a", 10, 5)], day=1)
    (site,) = _sites(engine)
    assert site.n_passes_detected == 2 and site.confidence > c1
    c2 = site.confidence
    cover = box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.01, LAT0 + 0.01)
    with session_scope(engine, write=True) as s:
        r = ingest_coverage(
            s, flight("flt-3"), cover, time=T0 + timedelta(days=2), actor="t", source="c"
        )
    assert r.sites_updated == [site.id]
    (site,) = _sites(engine)
    assert site.n_passes == 3 and site.n_passes_detected == 2
    assert site.confidence < c2
    # an intermittent source survives one empty pass: still above its single-pass level
    assert site.confidence > c1
    with session_scope(engine) as s:
        link = s.scalars(sa.select(EvidenceLink).where(EvidenceLink.kind == "coverage")).one()
    assert link.site_id == site.id and link.weight < 0 and "flt-3" in link.reason
    with session_scope(engine, write=True) as s:  # same coverage again: nothing changes
        assert (
            ingest_coverage(s, flight("flt-3"), cover, time=T0, actor="t", source="c").skipped == 1
        )
    # the detecting flight's own coverage does not count as an empty pass
    with session_scope(engine, write=True) as s:
        ingest_coverage(
            s, flight("flt-2"), cover, time=T0 + timedelta(days=1), actor="t", source="c"
        )
    (site,) = _sites(engine)
    assert (site.n_passes, site.n_passes_detected) == (3, 2)


def test_coverage_before_detection_counts_for_the_new_site(engine: sa.Engine) -> None:
    cover = box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.01, LAT0 + 0.01)
    with session_scope(engine, write=True) as s:
        ingest_coverage(s, flight("flt-0"), cover, time=T0, actor="t", source="c")
    _ingest(engine, "flt-1", [det("a", 0, 0)], day=1)
    (site,) = _sites(engine)
    assert (site.n_passes, site.n_passes_detected) == (2, 1)
    with session_scope(engine) as s:
        passes = {p.flight_id: (p.detected, p.time) for p in s.scalars(sa.select(SitePass))}
    # each pass at its own time: the earlier coverage's, not the detection's
    when = {f: t.replace(tzinfo=UTC) for f, (_d, t) in passes.items()}
    assert {f: d for f, (d, _t) in passes.items()} == {"flt-0": False, "flt-1": True}
    assert when == {"flt-0": T0, "flt-1": T0 + timedelta(days=1)}


def test_sites_merge_when_evidence_brings_them_together(engine: sa.Engine) -> None:
    r = _ingest(engine, "flt-1", [det("a", 0, 0, sigma=10), det("b", 80, 0, sigma=10)])
    assert len(r.sites_created) == 2
    r2 = _ingest(engine, "flt-2", [det("c", 40, 0, sigma=3)], day=1)
    assert len(r2.merged) == 1
    (site,) = _sites(engine)
    assert site.n_detections == 3
    with session_scope(engine) as s:
        dropped = s.get(Site, r2.merged[0][0])
        assert dropped is not None and dropped.status == "merged"
        assert dropped.merged_into == site.id
        assert {d.site_id for d in s.scalars(sa.select(Detection))} == {site.id}
        assert s.scalar(sa.select(sa.func.count()).select_from(SitePass)) == 2


def test_new_flight_needs_its_platform_sensor_operator(engine: sa.Engine) -> None:
    with (
        pytest.raises(ConfigurationError, match="--platform, --sensor"),
        session_scope(engine, write=True) as s,
    ):
        ingest_detections(
            s,
            FlightSpec("flt-x", operator="border-unit"),
            [det("a", 0, 0)],
            time=T0,
            actor="t",
            source="t",
        )
    assert _sites(engine) == []  # nothing stored


def test_reports_weigh_by_grading_and_can_found_sites(engine: sa.Engine) -> None:
    _ingest(engine, "flt-1", [det("a", 0, 0)])
    c0 = _sites(engine)[0].confidence
    lat, lon = _ll(30, 30)

    def rep(rid: str, rel: str, cred: int, la: float = lat, lo: float = lon) -> ReportRecord:
        digest = f"{rid}{rel}{cred}{la}{lo}"
        return ReportRecord(rid, T0, la, lo, 200.0, rel, cred, "tip", "Cartel del Norte", digest)

    with session_scope(engine, write=True) as s:
        ingest_report(s, rep("r1", "A", 1), actor="t")
    (site,) = _sites(engine)
    assert site.n_reports == 1 and site.confidence > c0
    with session_scope(engine, write=True) as s:  # same report twice: skipped
        assert ingest_report(s, rep("r1", "A", 1), actor="t").skipped == 1
    with (
        pytest.raises(ConfigurationError, match="different report"),
        session_scope(engine, write=True) as s,
    ):
        ingest_report(s, rep("r1", "B", 2, la=lat + 1), actor="t")
    far_lat, far_lon = _ll(20_000, 0)
    with session_scope(engine, write=True) as s:
        r = ingest_report(s, rep("r2", "E", 5, far_lat, far_lon), actor="t")
    assert len(r.sites_created) == 1
    weak = next(x for x in _sites(engine) if x.id == r.sites_created[0])
    assert weak.confidence < c0


def test_report_organizations_match_without_case(engine: sa.Engine) -> None:
    from plumetrace.store.models import Organization

    lat, lon = _ll(0, 0)
    for rid, org in (("r1", "Los Hermanos"), ("r2", "LOS HERMANOS"), ("r3", "los hermanos")):
        rec = ReportRecord(rid, T0, lat, lon, 100.0, "B", 2, "", org, rid)
        with session_scope(engine, write=True) as s:
            ingest_report(s, rec, actor="t")
    with session_scope(engine) as s:
        orgs = s.scalars(sa.select(Organization)).all()
    assert [o.name for o in orgs] == ["Los Hermanos"]


def test_merge_carries_the_analysts_work(engine: sa.Engine) -> None:
    from plumetrace.store.models import Review
    from plumetrace.store.users import add_user
    from plumetrace.store.workflow import review

    r = _ingest(engine, "flt-1", [det("a", 0, 0, sigma=10), det("b", 80, 0, sigma=10)])
    with session_scope(engine, write=True) as s:
        user, _ = add_user(s, "ana", "analyst", actor="t")
        for sid in r.sites_created:
            review(s, sid, "note", f"looked at {sid}", by=user, expected_version=None)
    r2 = _ingest(engine, "flt-2", [det("c", 40, 0, sigma=3)], day=1)
    assert len(r2.merged) == 1
    (site,) = _sites(engine)
    with session_scope(engine) as s:
        assert {rv.site_id for rv in s.scalars(sa.select(Review))} == {site.id}
