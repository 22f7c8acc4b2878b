from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from plumetrace.errors import ConflictError, InvalidParameterError, NotFoundError
from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord, ReportRecord
from plumetrace.store.audit_log import verify
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections, ingest_report
from plumetrace.store.models import Attribution, AuditEvent, Report, Site, User
from plumetrace.store.organizations import (
    add_designation,
    attribute,
    create_organization,
    link_graph,
    list_organization_sites,
    list_organizations,
    organization_detail,
    organization_id,
    remove_attribution,
    update_organization,
)

LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)
_FWD, _INV = local_projection(LON0, LAT0)


def _ll(x: float) -> tuple[float, float]:
    lon, lat = _INV.transform(x, 0.0)
    return float(lat), float(lon)


def _det(key: str, x: float) -> DetectionRecord:
    lat, lon = _ll(x)
    return DetectionRecord(key, "plume", lat, lon, 20.0, 50.0, 35.0, 65.0, 0.8)


@pytest.fixture
def analyst(engine: sa.Engine) -> User:
    with session_scope(engine, write=True) as s:
        user = User(id="user-ana", name="ana", role="analyst", password_hash="x")
        s.add(user)
    return user


@pytest.fixture
def sites(engine: sa.Engine) -> list[str]:
    with session_scope(engine, write=True) as s:
        r = ingest_detections(
            s,
            FlightSpec("flt-1", operator="op", platform="ac-1", sensor="s"),
            [_det("a", 0), _det("b", 8000), _det("c", 16000)],
            time=T0,
            actor="test",
            source="t",
        )
    with session_scope(engine) as s:
        ids = s.scalars(sa.select(Site.id).order_by(Site.lon)).all()
    assert sorted(ids) == sorted(r.sites_created)
    return list(ids)


def _events(engine: sa.Engine, action: str) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_create_and_edit_organizations(engine: sa.Engine, analyst: User) -> None:
    with session_scope(engine, write=True) as s:
        org = create_organization(
            s, "  Cartel  del Norte ", ["CDN", "cdn", "Cartel del Norte"], by=analyst
        )
    assert org == {
        "id": organization_id("Cartel del Norte"),
        "name": "Cartel del Norte",
        "aliases": ["CDN"],
        "version": 1,
    }
    assert _events(engine, "organization.create")[0].after == org
    with pytest.raises(ConflictError, match="already exists"), session_scope(engine) as s:
        create_organization(s, "cartel del norte", by=analyst)
    with pytest.raises(InvalidParameterError), session_scope(engine) as s:
        create_organization(s, "  ", by=analyst)
    with session_scope(engine, write=True) as s:
        edited = update_organization(
            s, org["id"], aliases=["CDN", "Los Norteños"], expected_version=1, by=analyst
        )
    assert edited["aliases"] == ["CDN", "Los Norteños"] and edited["version"] == 2
    with pytest.raises(ConflictError, match="reload"), session_scope(engine) as s:
        update_organization(s, org["id"], name="Other", expected_version=1, by=analyst)
    with session_scope(engine, write=True) as s:
        other = create_organization(s, "Other Group", by=analyst)
    with pytest.raises(ConflictError, match="already exists"), session_scope(engine) as s:
        update_organization(s, other["id"], name="CARTEL DEL NORTE", expected_version=1, by=analyst)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        update_organization(s, "org-nope", name="x", expected_version=1, by=analyst)
    ev = _events(engine, "organization.update")[-1]
    assert ev.before is not None and ev.before["aliases"] == ["CDN"]


def test_designations(engine: sa.Engine, analyst: User) -> None:
    with session_scope(engine, write=True) as s:
        org = create_organization(s, "Cartel del Norte", by=analyst)
        d = add_designation(
            s,
            org["id"],
            authority="Ministry of Justice",
            designation="criminal organization",
            date="2025-03-01",
            reference="Gazette 12/2025",
            by=analyst,
        )
    assert d["id"].startswith("des-") and d["date"] == "2025-03-01"
    with pytest.raises(InvalidParameterError, match="YYYY-MM-DD"), session_scope(engine) as s:
        add_designation(s, org["id"], authority="a", designation="b", date="March 2025", by=analyst)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        add_designation(s, "org-x", authority="a", designation="b", date="2025-01-01", by=analyst)
    with session_scope(engine) as s:
        detail = organization_detail(s, org["id"])
        (listed,) = list_organizations(s)
    assert [x["authority"] for x in detail["designations"]] == ["Ministry of Justice"]
    assert listed["n_designations"] == 1 and listed["n_sites"] == 0
    assert _events(engine, "organization.designate")[0].after == d


def test_attribution_upserts_per_site_and_organization(
    engine: sa.Engine, analyst: User, sites: list[str]
) -> None:
    with session_scope(engine, write=True) as s:
        org = create_organization(s, "Cartel del Norte", by=analyst)
        a1 = attribute(s, sites[0], org["id"], confidence=0.4, basis="tip", by=analyst)
        a2 = attribute(s, sites[0], org["id"], confidence=0.8, basis="two tips", by=analyst)
    assert a1["id"] == a2["id"] and a2["confidence"] == 0.8
    with session_scope(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Attribution)) == 1
    ev = _events(engine, "site.attribute")
    assert ev[0].before is None and ev[1].before is not None
    assert ev[1].before["confidence"] == 0.4 and ev[1].after["confidence"] == 0.8  # type: ignore[index]
    for conf in (-0.1, 1.1):
        with pytest.raises(InvalidParameterError), session_scope(engine) as s:
            attribute(s, sites[0], org["id"], confidence=conf, basis="", by=analyst)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        attribute(s, "site-nope", org["id"], confidence=0.5, basis="", by=analyst)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        attribute(s, sites[0], "org-nope", confidence=0.5, basis="", by=analyst)
    with session_scope(engine, write=True) as s:
        remove_attribution(s, sites[0], org["id"], by=analyst)
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        remove_attribution(s, sites[0], org["id"], by=analyst)
    with session_scope(engine) as s:
        assert list_organization_sites(s, org["id"]) == []
        assert verify(s).ok


def test_organization_sites_and_link_graph(
    engine: sa.Engine, analyst: User, sites: list[str]
) -> None:
    lat, lon = _ll(16000)
    report = ReportRecord(
        "rep-1", T0, lat, lon, 100.0, "B", 2, "tip", "Cartel del Norte", "digest-1"
    )
    with session_scope(engine, write=True) as s:
        ingest_report(s, report, actor="test")  # creates the organization by name
    with session_scope(engine, write=True) as s:
        cdn = organization_id("Cartel del Norte")
        other = create_organization(s, "Other Group", by=analyst)["id"]
        attribute(s, sites[0], cdn, confidence=0.9, basis="tips", by=analyst)
        attribute(s, sites[1], cdn, confidence=0.5, basis="vehicle", by=analyst)
        attribute(s, sites[1], other, confidence=0.3, basis="shared chemist", by=analyst)
    with session_scope(engine) as s:
        rows = list_organization_sites(s, cdn)
        rep_site = s.scalar(sa.select(Report.site_id).where(Report.id == "rep-1"))
        with pytest.raises(NotFoundError):
            list_organization_sites(s, "org-nope")
        full = link_graph(s)
        focused = link_graph(s, cdn)
        alone = link_graph(s, other)
        with pytest.raises(NotFoundError):
            link_graph(s, "org-nope")
    assert rep_site == sites[2]
    assert [(r["id"], r["via"]) for r in rows] == [
        (sites[0], "attribution"),
        (sites[1], "attribution"),
        (rep_site, "report"),
    ]
    assert rows[0]["attribution_confidence"] == 0.9 and rows[2]["basis"] is None

    def kinds(g: dict[str, list[dict[str, object]]]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for n in g["nodes"]:
            out.setdefault(str(n["type"]), set()).add(str(n["id"]))
        return out

    assert kinds(full) == {
        "organization": {cdn, other},
        "site": set(sites),
        "report": {"rep-1"},
    }
    edges = {(e["source"], e["target"], e["type"]) for e in full["edges"]}
    assert edges == {
        (sites[0], cdn, "attribution"),
        (sites[1], cdn, "attribution"),
        (sites[1], other, "attribution"),
        ("rep-1", sites[2], "report-site"),
        ("rep-1", cdn, "report-organization"),
    }
    assert kinds(focused) == kinds(full)  # one hop reaches the other group
    weights = {(e["source"], e["target"]): e["weight"] for e in full["edges"]}
    assert weights[(sites[1], other)] == 0.3
    assert kinds(alone) == {"organization": {cdn, other}, "site": {sites[1]}}
    node_ids = {n["id"] for n in full["nodes"]}
    assert all(e["source"] in node_ids and e["target"] in node_ids for e in full["edges"])
