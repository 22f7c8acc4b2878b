"""Leads in the store: drafting rules, release freezing, response recording, re-survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from plumetrace.errors import AuthError, ConflictError, InvalidParameterError, NotFoundError
from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord
from plumetrace.share.policy import ReleasePolicy
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec, ingest_coverage, ingest_detections
from plumetrace.store.lead_response import (
    lead_detail,
    lead_metrics,
    list_leads,
    record_event,
    verify_by_surveys,
)
from plumetrace.store.leads import approve_lead, draft_lead
from plumetrace.store.models import Lead, SharedObject, Site, User
from plumetrace.store.partners import add_partner
from plumetrace.store.users import add_user
from plumetrace.store.workflow import review

LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)
NOW = datetime.now(UTC)


def _det(key: str, x: float) -> DetectionRecord:
    _fwd, inv = local_projection(LON0, LAT0)
    lon, lat = inv.transform(x, 0.0)
    return DetectionRecord(key, "plume", float(lat), float(lon), 20.0, 50.0, 35.0, 65.0, 0.8)


@pytest.fixture
def world(engine: sa.Engine) -> dict[str, str]:
    out: dict[str, str] = {}
    with session_scope(engine, write=True) as s:
        out["partner"] = add_partner(s, "Fiscalia", ReleasePolicy(), actor="t").id
        out["other"] = add_partner(s, "Other", ReleasePolicy(), actor="t").id
        for name, role, partner in [
            ("ana", "analyst", None),
            ("sue", "supervisor", None),
            ("sam", "supervisor", None),
            ("lia", "liaison", None),
            ("pat", "partner", out["partner"]),
            ("pax", "partner", out["other"]),
        ]:
            user, _ = add_user(s, name, role, actor="t", partner_id=partner)
            out[name] = user.id
        for key, x in (("site1", 0.0), ("site2", 8000.0)):
            r = ingest_detections(
                s,
                FlightSpec("flt-1", operator="op", platform="ac-1", sensor="s"),
                [_det(key, x)],
                time=T0,
                actor="t",
                source="t",
            )
            (out[key],) = r.sites_created
        site1 = out["site1"]
        ana = s.get(User, out["ana"])
        assert ana is not None
        site = s.get(Site, site1)
        assert site is not None
        review(s, site1, "confirm", by=ana, expected_version=site.version)
    return out


def _u(s: sa.orm.Session, world: dict[str, str], name: str) -> User:
    user = s.get(User, world[name])
    assert user is not None
    return user


def _released(engine: sa.Engine, world: dict[str, str], at: datetime = NOW) -> str:
    with session_scope(engine, write=True) as s:
        lead = draft_lead(
            s, partner="Fiscalia", site_ids=[world["site1"]], by=_u(s, world, "lia"), title="Lab"
        )
        approve_lead(s, lead.id, by=_u(s, world, "sue"), producer="Program", now=at)
        return lead.id


def test_partner_users_belong_to_a_partner(engine: sa.Engine, world: dict[str, str]) -> None:
    with session_scope(engine, write=True) as s:
        with pytest.raises(InvalidParameterError, match="--partner"):
            add_user(s, "p2", "partner", actor="t")
        with pytest.raises(InvalidParameterError, match="only partner users"):
            add_user(s, "a2", "analyst", actor="t", partner_id=world["partner"])
        with pytest.raises(NotFoundError):
            add_user(s, "p3", "partner", actor="t", partner_id="partner-nope")


def test_drafting_rules(engine: sa.Engine, world: dict[str, str]) -> None:
    with session_scope(engine, write=True) as s:
        lia, ana = _u(s, world, "lia"), _u(s, world, "ana")
        with pytest.raises(AuthError):
            draft_lead(s, partner="Fiscalia", site_ids=[world["site1"]], by=ana, title="x")
        with pytest.raises(ConflictError, match="candidate"):
            draft_lead(s, partner="Fiscalia", site_ids=[world["site2"]], by=lia, title="x")
        with pytest.raises(InvalidParameterError, match="at least one"):
            draft_lead(s, partner="Fiscalia", site_ids=[" "], by=lia, title="x")
        with pytest.raises(InvalidParameterError, match="title"):
            draft_lead(s, partner="Fiscalia", site_ids=[world["site1"]], by=lia, title=" ")
        with pytest.raises(NotFoundError):
            draft_lead(s, partner="Nobody", site_ids=[world["site1"]], by=lia, title="x")
        lead = draft_lead(
            s,
            partner="partner-fiscalia",
            site_ids=[world["site1"]] * 2,
            by=lia,
            title="x",
            tlp="TLP:GREEN",
        )
        assert lead.tlp == "green" and lead_detail(s, lead.id)["sites"] == [world["site1"]]


def test_release_freezes_what_left(engine: sa.Engine, world: dict[str, str]) -> None:
    with session_scope(engine, write=True) as s:
        lead = draft_lead(
            s, partner="Fiscalia", site_ids=[world["site1"]], by=_u(s, world, "sue"), title="Lab"
        )
        with pytest.raises(AuthError, match="supervisor only"):
            approve_lead(s, lead.id, by=_u(s, world, "lia"), producer="P")
        with pytest.raises(AuthError, match="two-person"):
            approve_lead(s, lead.id, by=_u(s, world, "sue"), producer="P")
        approve_lead(s, lead.id, by=_u(s, world, "sam"), producer="Program")
        n = s.scalar(sa.select(sa.func.count()).select_from(SharedObject))
        frozen = s.get(Lead, lead.id).release  # type: ignore[union-attr]
    # what the site becomes afterwards does not change what was released
    with session_scope(engine, write=True) as s:
        s.execute(sa.update(Site).where(Site.id == world["site1"]).values(lat=0.0, lon=0.0))
    with session_scope(engine) as s:
        assert s.get(Lead, lead.id).release == frozen  # type: ignore[union-attr]
        assert frozen["sites"][0]["lat"] != 0.0
    # a second lead shares the identities and markings already in the collection
    _released(engine, world)
    with session_scope(engine) as s:
        n2 = s.scalar(sa.select(sa.func.count()).select_from(SharedObject))
        kinds = s.scalars(sa.select(SharedObject.stix_type)).all()
    assert n2 - n == n - 3  # everything but the two identities and the marking
    assert kinds.count("identity") == 2 and kinds.count("marking-definition") == 1


def test_response_recording_rules(engine: sa.Engine, world: dict[str, str]) -> None:
    lead_id = _released(engine, world, at=NOW - timedelta(days=2))
    with session_scope(engine, write=True) as s:
        pat, pax, lia = _u(s, world, "pat"), _u(s, world, "pax"), _u(s, world, "lia")
        with pytest.raises(NotFoundError):
            record_event(s, lead_id, "acknowledged", by=pax)
        with pytest.raises(AuthError):
            record_event(s, lead_id, "verified", by=pat, verification="no-emission")
        with pytest.raises(AuthError):
            record_event(s, lead_id, "acknowledged", by=_u(s, world, "ana"))
        with pytest.raises(InvalidParameterError, match="before the lead was released"):
            record_event(s, lead_id, "acknowledged", by=pat, time=NOW - timedelta(days=9))
        with pytest.raises(InvalidParameterError, match="outcome"):
            record_event(s, lead_id, "feedback", by=pat)
        with pytest.raises(InvalidParameterError, match="kind"):
            record_event(s, lead_id, "celebrated", by=pat)
        record_event(s, lead_id, "feedback", by=pat, outcome="nothing-found", text="empty house")
        row = list_leads(s)[0]
        assert row["state"] == "feedback" and row["acknowledged"] == row["feedback"]
        record_event(s, lead_id, "acknowledged", by=lia, time=NOW - timedelta(days=1))
        assert list_leads(s)[0]["acknowledged"] == row["acknowledged"]  # the first one stays
        m = lead_metrics(s)
        assert m["overall"]["response_rate"] == 1.0
        assert [e["channel"] for e in lead_detail(s, lead_id)["events"]] == [
            "system",
            "partner",
            "liaison",
        ]


def test_resurvey_verifies_acted_leads(engine: sa.Engine, world: dict[str, str]) -> None:
    lead_id = _released(engine, world, at=NOW - timedelta(days=5))
    with session_scope(engine, write=True) as s:
        record_event(s, lead_id, "action", by=_u(s, world, "pat"), time=NOW - timedelta(days=3))
        assert verify_by_surveys(s) == []  # no pass since the action
    cover = box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.01, LAT0 + 0.01)
    with session_scope(engine, write=True) as s:
        # a pass before the action does not count
        ingest_coverage(
            s,
            FlightSpec("flt-old", "op", "ac-1", "s"),
            cover,
            time=NOW - timedelta(days=4),
            actor="t",
            source="c",
        )
        assert verify_by_surveys(s) == []
        ingest_coverage(
            s,
            FlightSpec("flt-2", "op", "ac-1", "s"),
            cover,
            time=NOW - timedelta(days=1),
            actor="t",
            source="c",
        )
        assert verify_by_surveys(s) == [lead_id]
        detail = lead_detail(s, lead_id)
    assert detail["verification"] == "no-emission" and detail["state"] == "verified"
    assert detail["events"][-1]["channel"] == "survey"


def test_resurvey_that_still_sees_the_emission(engine: sa.Engine, world: dict[str, str]) -> None:
    lead_id = _released(engine, world, at=NOW - timedelta(days=5))
    with session_scope(engine, write=True) as s:
        record_event(
            s,
            lead_id,
            "feedback",
            by=_u(s, world, "pat"),
            outcome="declined",
            time=NOW - timedelta(days=3),
        )
        ingest_detections(
            s,
            FlightSpec("flt-3", "op", "ac-1", "s"),
            [_det("again", 5.0)],
            time=NOW - timedelta(days=1),
            actor="t",
            source="t",
        )
        assert verify_by_surveys(s) == [lead_id]
        assert lead_detail(s, lead_id)["verification"] == "still-emitting"
