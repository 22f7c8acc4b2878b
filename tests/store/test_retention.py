from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from plumetrace import security
from plumetrace.io.evidence import DetectionRecord, ReportRecord
from plumetrace.store import organizations as orgs
from plumetrace.store import workflow
from plumetrace.store.audit_log import verify
from plumetrace.store.engine import session_scope
from plumetrace.store.flights import store_audit
from plumetrace.store.ingest import FlightSpec, ingest_detections, ingest_report
from plumetrace.store.models import (
    Attachment,
    AuditEvent,
    Detection,
    EvidenceLink,
    Flight,
    FlightAudit,
    Report,
    Site,
    SitePass,
)
from plumetrace.store.retention import RetentionCutoffs, purge
from plumetrace.store.users import add_user, find_user
from tests.api.conftest import det
from tests.web.conftest import border_audit

OLD = datetime(2026, 1, 10, 17, 0, tzinfo=UTC)
NEW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
CUTOFF = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def _ingest(engine: sa.Engine, fid: str, recs: list[DetectionRecord], when: datetime) -> list[str]:
    with session_scope(engine, write=True) as s:
        r = ingest_detections(
            s,
            FlightSpec(fid, "border-unit", "ac-1", "aviris-ng"),
            recs,
            time=when,
            actor="t",
            source=fid,
        )
    return sorted(r.sites_created)


@pytest.fixture
def world(engine: sa.Engine) -> dict[str, str]:
    """Old sites in every state that matters, one recent candidate, an old audited track."""
    _ingest(
        engine,
        "flt-old",
        [
            det("stale", 0, 0),
            det("conf", 20_000, 0),
            det("org", 40_000, 0),
            det("rej", 60_000, 0),
            det("wait", 80_000, 0),
        ],
        OLD,
    )
    _ingest(engine, "flt-new", [det("fresh", 100_000, 0)], NEW)
    with session_scope(engine) as s:  # west to east, as placed
        by_lon = list(s.scalars(sa.select(Site.id).order_by(Site.lon)))
    sites = dict(zip(("stale", "conf", "org", "rej", "wait", "fresh"), by_lon, strict=True))
    with session_scope(engine, write=True) as s:
        ana, _ = add_user(s, "ana", "analyst", actor="t")
        for key, decision in (("conf", "confirm"), ("rej", "reject"), ("wait", "needs-collection")):
            site = s.get(Site, sites[key])
            assert site is not None
            workflow.review(s, site.id, decision, "checked", by=ana, expected_version=site.version)
        org = orgs.create_organization(s, "Los Cocineros", by=ana)
        orgs.attribute(s, sites["org"], org["id"], confidence=0.6, basis="tip", by=ana)
        ingest_report(s, _report_near(s, sites["stale"]), actor="t")
        store_audit(s, FlightSpec("flt-old"), border_audit(), actor="t")
    return sites


def _report_near(s: Session, site_id: str) -> ReportRecord:
    site = s.get(Site, site_id)
    assert site is not None
    return ReportRecord("tip-1", OLD, site.lat, site.lon, 50.0, "B", 2, "vapour smell", None, "d1")


def test_purge_takes_only_stale_unheld_sites_and_old_tracks(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    cutoffs = RetentionCutoffs(unconfirmed_sites=CUTOFF, raw_tracks=CUTOFF, attachments=CUTOFF)
    with session_scope(engine, write=True) as s:
        dry = purge(s, cutoffs, actor="ops", dry_run=True)
    assert sorted(dry.sites) == sorted([world["stale"], world["rej"]])
    with session_scope(engine) as s:  # a dry run changes nothing
        assert s.scalar(sa.select(sa.func.count()).select_from(Site)) == 6
    with session_scope(engine, write=True) as s:
        done = purge(s, cutoffs, actor="ops")
    assert done.counts() == dry.counts()
    assert done.counts()["sites"] == 2 and done.detections == 2 and done.reports == 1
    assert done.tracks == 2  # the flight's track line and the track in its audit's GeoJSON
    with session_scope(engine) as s:
        left = set(s.scalars(sa.select(Site.id)))
        assert left == {world[k] for k in ("conf", "org", "wait", "fresh")}
        for model in (Detection, EvidenceLink, SitePass, Report):
            gone = s.scalar(
                sa.select(sa.func.count())
                .select_from(model)
                .where(model.site_id.in_([world["stale"], world["rej"]]))  # type: ignore[attr-defined]
            )
            assert gone == 0, model
        assert s.scalar(sa.select(Flight.track_geojson).where(Flight.id == "flt-old")) is None
        audit = s.scalars(sa.select(FlightAudit)).one()
        kinds = [f["properties"]["kind"] for f in json.loads(audit.features)["features"]]
        assert kinds == ["incursion"] and audit.n_incursions == 1  # the incursion stays
        event = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.purge")).one()
        assert event.actor == "ops" and event.after is not None
        assert sorted(event.after["site_ids"]) == sorted([world["stale"], world["rej"]])
        assert event.after["cutoffs"]["unconfirmed_sites"].startswith("2026-06-01")
        assert verify(s).ok


def test_nothing_goes_without_a_cutoff(engine: sa.Engine, world: dict[str, str]) -> None:
    with session_scope(engine, write=True) as s:
        result = purge(s, RetentionCutoffs(), actor="ops")
    assert result.counts() == dict.fromkeys(result.counts(), 0)
    with session_scope(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Site)) == 6
        assert s.scalar(sa.select(Flight.track_geojson).where(Flight.id == "flt-old"))


def test_purge_is_idempotent(engine: sa.Engine, world: dict[str, str]) -> None:
    cutoffs = RetentionCutoffs(unconfirmed_sites=CUTOFF, raw_tracks=CUTOFF)
    with session_scope(engine, write=True) as s:
        purge(s, cutoffs, actor="ops")
    with session_scope(engine, write=True) as s:
        again = purge(s, cutoffs, actor="ops")
    assert again.counts() == dict.fromkeys(again.counts(), 0)


def test_old_attachments_of_unconfirmed_sites_go_and_unshared_files_are_named(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    shared, alone = "a" * 64, "b" * 64
    with session_scope(engine, write=True) as s:
        ana = find_user(s, "ana")
        for site, sha in (("conf", shared), ("wait", shared), ("wait", alone)):
            workflow.add_attachment(
                s, world[site], sha256=sha, filename=f"{sha[:4]}.png",
                media_type="image/png", size=10, by=ana,
            )  # fmt: skip
    later = datetime.now(UTC) + timedelta(days=1)  # every attachment is older than this
    with session_scope(engine, write=True) as s:
        result = purge(s, RetentionCutoffs(attachments=later), actor="ops")
    assert result.attachments == 2 and result.sites == []
    assert result.orphaned_files == [alone]  # the shared file is still the confirmed site's
    with session_scope(engine) as s:
        kept = s.execute(sa.select(Attachment.site_id, Attachment.sha256)).all()
    assert [tuple(r) for r in kept] == [(world["conf"], shared)]


def test_a_plume_overlay_still_shown_by_a_kept_detection_is_not_orphaned(
    engine: sa.Engine, world: dict[str, str]
) -> None:
    shared, alone = "c" * 64, "d" * 64
    with session_scope(engine, write=True) as s:
        for site, sha in (("stale", shared), ("conf", shared), ("rej", alone)):
            d = s.scalars(sa.select(Detection).where(Detection.site_id == world[site])).one()
            d.properties = {**d.properties, "image": {"sha256": sha, "bounds": [0, 0, 1, 1]}}
    with session_scope(engine, write=True) as s:
        result = purge(s, RetentionCutoffs(unconfirmed_sites=CUTOFF), actor="ops")
    assert sorted(result.sites) == sorted([world["stale"], world["rej"]])
    assert result.orphaned_files == [alone]  # the confirmed site's plume still shows shared
