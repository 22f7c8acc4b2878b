"""Cursor-on-Target events of a releasable lead."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.share.cot import cot_events, cot_time, remarks_tlp
from plumetrace.share.lead import ReleasableLead, ReleasableSite, site_uid

RELEASED = datetime(2025, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC)


def _site(name: str, lat: float, lon: float, **kw: object) -> ReleasableSite:
    values: dict[str, object] = {
        "uid": site_uid(name),
        "lat": lat,
        "lon": lon,
        "uncertainty_m": 35.0,
        "first_seen": datetime(2025, 2, 1, 10, tzinfo=UTC),
        "last_seen": datetime(2025, 2, 20, 10, tzinfo=UTC),
        "n_observations": 3,
        "rate_lo_kg_h": 12.0,
        "rate_hi_kg_h": 31.0,
        "gas": "ch4",
        "observed": f"Recurring methane plume at {name} <with> solvent & smoke",
        "exposure": "residential",
        "advisory": "Homes within 50 m; plan for civilians.",
        "collection": ("EXTRA-PLATFORM-7 pass",),
        "organizations": ("EXTRA-ORG",),
        "source_reports": ("EXTRA-REPORT",),
        "imagery": ("EXTRA-IMAGE.tif",),
    }
    values.update(kw)
    return ReleasableSite(**values)  # type: ignore[arg-type]


@pytest.fixture
def lead() -> ReleasableLead:
    return ReleasableLead(
        id="lead-0042",
        partner_id="partner-co",
        partner_name="Policía Nacional",
        producer="plumetrace team",
        tlp="amber",
        title="Suspected lab cluster <north> & river",
        summary="EXTRA-SUMMARY-TEXT",
        recommended_action="Coordinate a site inspection.",
        released=RELEASED,
        sites=(_site("site-a", 4.6097, -74.0817), _site("site-b", 4.7, -74.2, uncertainty_m=80.5)),
        cot_stale_hours=12.0,
    )


def _parse(doc: bytes) -> ET.Element:
    assert doc.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(doc)


def test_one_event_per_site_with_cot_attributes(lead: ReleasableLead) -> None:
    docs = cot_events(lead)
    assert len(docs) == 2
    for doc, site in zip(docs, lead.sites, strict=True):
        event = _parse(doc)
        assert event.tag == "event"
        assert event.get("version") == "2.0"
        assert event.get("type") == "a-u-G"
        assert event.get("how") == "m-f"
        assert event.get("uid") == site.uid
        point = event.find("point")
        assert point is not None
        assert float(point.get("lat", "nan")) == site.lat
        assert float(point.get("lon", "nan")) == site.lon
        assert float(point.get("ce", "nan")) == site.uncertainty_m
        assert point.get("hae") == "9999999.0"
        assert point.get("le") == "9999999.0"


def test_uid_stable_per_site_and_distinct(lead: ReleasableLead) -> None:
    first = [_parse(d).get("uid") for d in cot_events(lead)]
    again = [_parse(d).get("uid") for d in cot_events(lead, now=RELEASED + timedelta(days=2))]
    assert first == again
    assert len(set(first)) == 2
    assert first[0] == site_uid("site-a")


def test_times_default_to_release_and_stale_from_policy(lead: ReleasableLead) -> None:
    event = _parse(cot_events(lead)[0])
    assert event.get("time") == "2025-03-04T05:06:07.891Z"
    assert event.get("start") == "2025-03-04T05:06:07.891Z"
    assert event.get("stale") == "2025-03-04T17:06:07.891Z"


def test_now_and_stale_hours_are_configurable(lead: ReleasableLead) -> None:
    now = datetime(2025, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    event = _parse(cot_events(lead, now=now, stale_hours=1.5)[1])
    assert event.get("time") == "2025-06-02T04:30:00.000Z"
    assert event.get("start") == "2025-06-02T04:30:00.000Z"
    assert event.get("stale") == "2025-06-02T06:00:00.000Z"


def test_unreleased_preview_uses_current_time(lead: ReleasableLead) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    event = _parse(cot_events(replace(lead, released=None))[0])
    start = datetime.fromisoformat(event.get("start", "").replace("Z", "+00:00"))
    stale = datetime.fromisoformat(event.get("stale", "").replace("Z", "+00:00"))
    assert before <= start <= datetime.now(UTC)
    assert stale - start == timedelta(hours=12)


@pytest.mark.parametrize("hours", [0, -1.0, math.nan, math.inf, True])
def test_bad_stale_hours_rejected(lead: ReleasableLead, hours: float) -> None:
    with pytest.raises(InvalidParameterError, match="stale_hours"):
        cot_events(lead, stale_hours=hours)


def test_bad_policy_stale_hours_rejected(lead: ReleasableLead) -> None:
    with pytest.raises(InvalidParameterError):
        cot_events(replace(lead, cot_stale_hours=0.0))


def test_remarks_hold_only_releasable_text(lead: ReleasableLead) -> None:
    for doc, site in zip(cot_events(lead), lead.sites, strict=True):
        event = _parse(doc)
        remarks = event.findtext("detail/remarks")
        assert remarks is not None
        lines = remarks.split("\n")
        assert lines[0] == "TLP:AMBER"
        assert lines[1] == lead.title
        assert lines[2:] == [
            f"Observed: {site.observed}",
            f"Advisory: {site.advisory}",
            f"Recommended action: {lead.recommended_action}",
            f"Lead: {lead.id}",
        ]
        text = doc.decode("utf-8")
        # releasable, but not for the remarks
        for extra in ("EXTRA", "residential", "plumetrace team", "Policía", "31.0"):
            assert extra not in text
        detail = event.find("detail")
        assert detail is not None
        assert [child.tag for child in detail] == ["contact", "remarks"]
        assert event.find(".//link") is None


def test_contact_callsign(lead: ReleasableLead) -> None:
    calls = [_parse(d).find("detail/contact") for d in cot_events(lead)]
    assert [c.get("callsign") for c in calls if c is not None] == [
        "LEAD lead-0042 1",
        "LEAD lead-0042 2",
    ]


def test_markup_in_text_is_escaped(lead: ReleasableLead) -> None:
    doc = cot_events(lead)[0]
    assert b"<north>" not in doc
    assert b"&lt;north&gt; &amp; river" in doc
    assert _parse(doc).findtext("detail/remarks", "").split("\n")[1] == lead.title


def test_control_characters_do_not_break_the_document(lead: ReleasableLead) -> None:
    site = replace(lead.sites[0], observed="plume\x00\x0bseen")
    event = _parse(cot_events(replace(lead, sites=(site,)))[0])
    assert "Observed: plume\ufffd\ufffdseen" in event.findtext("detail/remarks", "")


def test_remarks_marked_at_strictest_field_level(lead: ReleasableLead) -> None:
    strict = replace(lead, field_tlp={"advisory": "red", "summary": "amber+strict"})
    assert remarks_tlp(strict) == "TLP:RED"
    remarks = _parse(cot_events(strict)[0]).findtext("detail/remarks", "")
    assert remarks.startswith("TLP:RED\n")
    # a field the remarks do not quote does not raise the label
    assert remarks_tlp(replace(lead, field_tlp={"summary": "red"})) == "TLP:AMBER"


def test_missing_advisory_is_left_out(lead: ReleasableLead) -> None:
    site = replace(lead.sites[0], advisory=None)
    remarks = _parse(cot_events(replace(lead, sites=(site,)))[0]).findtext("detail/remarks", "")
    assert "Advisory" not in remarks
    assert remarks.endswith("Lead: lead-0042")


def test_unknown_uncertainty_uses_cot_unknown(lead: ReleasableLead) -> None:
    site = replace(lead.sites[0], uncertainty_m=math.nan)
    point = _parse(cot_events(replace(lead, sites=(site,)))[0]).find("point")
    assert point is not None
    assert point.get("ce") == "9999999.0"


@pytest.mark.parametrize(
    "change", [{"lat": 91.0}, {"lon": -181.0}, {"lat": math.nan}, {"uncertainty_m": -1.0}]
)
def test_bad_site_rejected(lead: ReleasableLead, change: dict[str, float]) -> None:
    site = replace(lead.sites[0], **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=site.uid):
        cot_events(replace(lead, sites=(site,)))


def test_no_sites_no_events(lead: ReleasableLead) -> None:
    assert cot_events(replace(lead, sites=())) == []


def test_cot_time_format() -> None:
    assert cot_time(datetime(2025, 1, 2, 3, 4, 5, 6_999, tzinfo=UTC)) == "2025-01-02T03:04:05.006Z"
    assert cot_time(datetime(2025, 1, 2, 3, 4, 5)) == "2025-01-02T03:04:05.000Z"
