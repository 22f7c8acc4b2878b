"""A site's record and the review queue, read the fast ways, equal the plain reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from plumetrace.errors import ConfigurationError, NotFoundError
from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord, ReportRecord
from plumetrace.store import sites as site_store
from plumetrace.store.compartments import set_site_compartment, view_as
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections, ingest_report
from plumetrace.store.models import Review, Site, User
from plumetrace.store.organizations import attribute, create_organization
from plumetrace.store.users import add_user
from plumetrace.store.workflow import add_attachment, assign, review

LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 5, 1, 17, 0, 0, 250_000, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from plumetrace import security

    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def _det(key: str, x: float) -> DetectionRecord:
    _fwd, inv = local_projection(LON0, LAT0)
    lon, lat = inv.transform(x, 0.0)
    return DetectionRecord(key, "plume", float(lat), float(lon), 20.0, 50.0, 35.0, 65.0, 0.8)


@pytest.fixture
def site(engine: sa.Engine) -> str:
    """A site with something in every list of its record; return its id."""
    with session_scope(engine, write=True) as s:
        ana, _ = add_user(s, "ana", "analyst", actor="test")
        sue, _ = add_user(s, "sue", "supervisor", actor="test")
        for k in range(3):  # three passes over the same place, 1 h apart
            ingest_detections(
                s,
                FlightSpec(f"flt-{k}", operator="op", platform="ac-1", sensor="s"),
                [_det(f"a{k}", 3.0 * k)],
                time=T0 + timedelta(hours=k),
                actor="test",
                source="t",
            )
        _fwd, inv = local_projection(LON0, LAT0)
        lon, lat = inv.transform(2.0, 0.0)
        tip = ReportRecord(
            "rpt-1", T0, float(lat), float(lon), 30.0, "B", 2, "smell at night", None, "d" * 64
        )
        ingest_report(s, tip, actor="test")
        sid = s.scalars(sa.select(Site.id)).one()
        v = s.get(Site, sid).version  # type: ignore[union-attr]
        v = assign(s, sid, "ana", by=sue, expected_version=v)["version"]
        v = assign(s, sid, "sue", by=sue, expected_version=v)["version"]
        review(s, sid, "note", "first look", by=ana)
        review(s, sid, "needs-collection", "fly again", by=ana, expected_version=v)
        org = create_organization(s, "Cartel Uno", by=sue)
        attribute(s, sid, org["id"], confidence=0.4, basis="tip", by=sue)
        add_attachment(
            s, sid, sha256="a" * 64, filename="x.png", media_type="image/png", size=3, by=ana
        )
    return sid


def _plain_record(session: Any, site_id: str, max_items: int) -> dict[str, Any]:
    """The record as ten plain statements (the SQLite way) on either backend."""
    conn = session.connection()
    params = {"site_id": site_id, "max_items": max_items}
    out = dict(conn.execute(site_store._SITE_ROW, params).mappings().one())
    for key, stmt in site_store._DETAIL.items():
        out[key] = [dict(r) for r in conn.execute(stmt, params).mappings()]
    for det in out["detections"]:
        det["has_image"] = False
        del det["properties"]
    return out


@pytest.mark.parametrize("max_items", [200, 1])
def test_site_record_equals_the_plain_reading(engine: sa.Engine, site: str, max_items: int) -> None:
    with session_scope(engine, read_only=True) as s:
        got = site_store.site_detail(s, site, max_items=max_items)
        want = _plain_record(s, site, max_items)
    assert got == want
    # every list is filled, newest first where it matters, times aware UTC
    assert all(got[k] for k in site_store._DETAIL), {k: len(got[k]) for k in site_store._DETAIL}
    times = [d["time"] for d in got["detections"]]
    assert times == sorted(times, reverse=True) and len(times) == min(3, max_items)
    assert times[0] == T0 + timedelta(hours=2) and times[0].tzinfo is UTC
    assert [p["time"] for p in got["passes"]] == sorted(p["time"] for p in got["passes"])
    decisions = [r["decision"] for r in got["reviews"]]
    assert decisions == ["needs-collection", "note"][:max_items]  # newest first
    assignees = [(a["user"], a["active"]) for a in got["assignments"]]
    assert assignees == [("sue", True), ("ana", False)][:max_items]
    assert isinstance(got["collection_requests"][0]["radius_m"], float)


def test_site_record_hides_a_restricted_site(engine: sa.Engine, site: str) -> None:
    with session_scope(engine, write=True) as s:
        sue = s.scalars(sa.select(User).where(User.name == "sue")).one()
        sue.compartments = ["red"]
        v = s.get(Site, site).version  # type: ignore[union-attr]
        set_site_compartment(s, site, "red", by=sue, version=v)
    with session_scope(engine, read_only=True) as s:
        view_as(s, lambda: ())
        with pytest.raises(NotFoundError):
            site_store.site_detail(s, site)
        assert site_store.review_queue(s) == [] and site_store.queue_size(s) == 0
    with session_scope(engine, read_only=True) as s:
        view_as(s, lambda: ("red",))
        assert site_store.site_detail(s, site)["id"] == site
        assert [r["id"] for r in site_store.review_queue(s)] == [site]
        assert site_store.queue_size(s) == 1


def test_queue_filters_and_pages(engine: sa.Engine, site: str) -> None:
    with session_scope(engine, read_only=True) as s:
        sue_id = s.scalars(sa.select(User.id).where(User.name == "sue")).one()
        assert [r["id"] for r in site_store.review_queue(s, assignee=sue_id)] == [site]
        assert site_store.queue_size(s, assignee=sue_id) == 1
        assert site_store.review_queue(s, unassigned=True) == []
        assert site_store.queue_size(s, min_confidence=1.01) == 0
        assert site_store.review_queue(s, page=2, page_size=1) == []
        assert site_store.queue_size(s, exposure="none") == 1
        assert site_store.review_queue(s, sort="rate_kg_h", descending=False)[0]["id"] == site


def test_a_read_only_unit_of_work_cannot_write(engine: sa.Engine, site: str) -> None:
    refused = pytest.raises(ConfigurationError, match="read-only")
    with refused, session_scope(engine, read_only=True) as s:
        s.add(Review(id="rev-x", site_id=site, user_id="nobody", decision="note", note=""))
    refused = pytest.raises(ConfigurationError, match="read-only")
    with refused, session_scope(engine, read_only=True) as s:
        s.execute(sa.update(Site).values(confidence=0.5))
    with session_scope(engine) as s:
        assert s.get(Site, site).confidence != 0.5  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError), session_scope(engine, read_only=True, write=True):
        pass
