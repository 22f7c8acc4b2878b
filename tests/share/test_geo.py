"""GeoJSON and KML renderings of a releasable lead."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plumetrace.io.geojson import read_geojson, write_geojson
from plumetrace.share.geo import KML_NS, lead_geojson, lead_kml, site_properties
from plumetrace.share.lead import ReleasableLead, ReleasableSite, site_uid

K = f"{{{KML_NS}}}"
RELEASED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)

BASE_KEYS = {
    "lead_id",
    "title",
    "tlp",
    "field_tlp",
    "uncertainty_m",
    "first_seen",
    "last_seen",
    "n_observations",
    "rate_lo_kg_h",
    "rate_hi_kg_h",
    "gas",
    "observed",
    "exposure",
    "advisory",
    "recommended_action",
    "summary",
    "released",
    "producer",
    "partner",
}
LIST_KEYS = {"collection", "organizations", "source_reports", "imagery"}


@pytest.fixture
def lead() -> ReleasableLead:
    full = ReleasableSite(
        uid=site_uid("site-a"),
        lat=4.6097,
        lon=-74.0817,
        uncertainty_m=35.0,
        first_seen=datetime(2025, 2, 1, 10, tzinfo=UTC),
        last_seen=datetime(2025, 2, 20, 10, 30, tzinfo=UTC),
        n_observations=3,
        rate_lo_kg_h=12.0,
        rate_hi_kg_h=31.0,
        gas="ch4",
        observed="Plume <A> & smoke > 2 passes",
        exposure="residential",
        advisory="Homes within 50 m & a school",
        collection=("aircraft pass 2025-02-01",),
        organizations=("Group <X>",),
        source_reports=("Report: 'lab' & \"barrels\"",),
        imagery=("chip_01.png",),
    )
    bare = ReleasableSite(
        uid=site_uid("site-b"),
        lat=-33.5,
        lon=151.25,
        uncertainty_m=80.0,
        first_seen=None,
        last_seen=None,
        n_observations=1,
        rate_lo_kg_h=None,
        rate_hi_kg_h=math.nan,
        gas="ch4",
        observed="Single detection",
        exposure=None,
        advisory=None,
    )
    return ReleasableLead(
        id="lead-0042",
        partner_id="partner-co",
        partner_name="Policía Nacional",
        producer="plumetrace team",
        tlp="amber",
        title="Cluster <north> & river",
        summary="Two sites & one <unclear>",
        recommended_action="Coordinate an inspection.",
        released=RELEASED,
        sites=(full, bare),
        field_tlp={"advisory": "red"},
    )


# --------------------------------------------------------------------------- properties


def test_site_properties(lead: ReleasableLead) -> None:
    props = site_properties(lead, lead.sites[0])
    assert set(props) == BASE_KEYS | LIST_KEYS
    assert props["lead_id"] == "lead-0042"
    assert props["tlp"] == "TLP:AMBER"
    assert props["field_tlp"] == {"advisory": "red"}
    assert props["first_seen"] == "2025-02-01T10:00:00Z"
    assert props["last_seen"] == "2025-02-20T10:30:00Z"
    assert props["released"] == "2025-03-04T05:06:07Z"
    assert props["rate_lo_kg_h"] == 12.0
    assert props["rate_hi_kg_h"] == 31.0
    assert props["uncertainty_m"] == 35.0
    assert props["n_observations"] == 3
    assert props["partner"] == "Policía Nacional"
    assert props["producer"] == "plumetrace team"
    assert props["collection"] == ["aircraft pass 2025-02-01"]
    assert props["organizations"] == ["Group <X>"]


def test_empty_lists_and_missing_values(lead: ReleasableLead) -> None:
    props = site_properties(lead, lead.sites[1])
    assert set(props) == BASE_KEYS
    assert props["first_seen"] is None
    assert props["last_seen"] is None
    assert props["rate_lo_kg_h"] is None
    assert props["rate_hi_kg_h"] is None  # NaN is not JSON
    assert props["exposure"] is None
    assert site_properties(replace(lead, released=None), lead.sites[1])["released"] is None


# --------------------------------------------------------------------------- GeoJSON


def test_geojson_structure(lead: ReleasableLead) -> None:
    fc = lead_geojson(lead)
    # strict JSON: no NaN, round-trips unchanged
    assert json.loads(json.dumps(fc, allow_nan=False)) == fc
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == 2
    for feature, site in zip(fc["features"], lead.sites, strict=True):
        assert set(feature) == {"type", "id", "geometry", "properties"}
        assert feature["type"] == "Feature"
        assert feature["id"] == site.uid
        assert feature["geometry"] == {"type": "Point", "coordinates": [site.lon, site.lat]}
        assert feature["properties"] == site_properties(lead, site)


def test_geojson_coordinates_are_lon_lat(lead: ReleasableLead) -> None:
    lon, lat = lead_geojson(lead)["features"][1]["geometry"]["coordinates"]
    assert (lon, lat) == (151.25, -33.5)


def test_geojson_ids_stable_and_distinct(lead: ReleasableLead) -> None:
    ids = [f["id"] for f in lead_geojson(lead)["features"]]
    assert ids == [f["id"] for f in lead_geojson(lead)["features"]]
    assert len(set(ids)) == 2


def test_geojson_is_written_by_io(lead: ReleasableLead, tmp_path: Path) -> None:
    path = tmp_path / "lead.geojson"
    fc = lead_geojson(lead)
    write_geojson(path, fc["features"])
    back = read_geojson(path)
    assert [f["id"] for f in back["features"]] == [f["id"] for f in fc["features"]]


# --------------------------------------------------------------------------- KML


def _kml(lead: ReleasableLead) -> ET.Element:
    text = lead_kml(lead)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_kml_structure(lead: ReleasableLead) -> None:
    root = _kml(lead)
    assert root.tag == f"{K}kml"
    doc = root.find(f"{K}Document")
    assert doc is not None
    assert doc.findtext(f"{K}name") == "Cluster <north> & river (TLP:AMBER)"
    marks = doc.findall(f"{K}Placemark")
    assert [m.get("id") for m in marks] == [s.uid for s in lead.sites]
    for n, (mark, site) in enumerate(zip(marks, lead.sites, strict=True), start=1):
        assert mark.findtext(f"{K}name") == f"Cluster <north> & river — site {n}"
        coords = mark.findtext(f"{K}Point/{K}coordinates")
        assert coords is not None
        lon, lat, alt = (float(v) for v in coords.split(","))
        assert (lon, lat, alt) == (site.lon, site.lat, 0.0)


def test_kml_extended_data_matches_geojson(lead: ReleasableLead) -> None:
    marks = _kml(lead).findall(f"{K}Document/{K}Placemark")
    for mark, site in zip(marks, lead.sites, strict=True):
        props = site_properties(lead, site)
        data = {
            d.get("name"): d.findtext(f"{K}value", "")
            for d in mark.findall(f"{K}ExtendedData/{K}Data")
        }
        assert list(data) == list(props)
        for key, value in props.items():
            if value is None:
                assert data[key] == ""
            elif isinstance(value, list | dict):
                assert json.loads(data[key]) == value
            elif isinstance(value, float):
                assert float(data[key]) == value
            else:
                assert data[key] == str(value)


def test_kml_escapes_markup(lead: ReleasableLead) -> None:
    text = lead_kml(lead)
    for raw in ("<north>", "<A>", "<X>", "<unclear>", "& river"):
        assert raw not in text
    assert "&lt;north&gt; &amp; river" in text
    mark = _kml(lead).find(f"{K}Document/{K}Placemark")
    assert mark is not None
    description = mark.findtext(f"{K}description")
    assert description is not None
    assert "Observed: Plume <A> & smoke > 2 passes" in description
    assert "Reports from other sources:\n  - Report: 'lab' & \"barrels\"" in description


def test_kml_description_plain_text(lead: ReleasableLead) -> None:
    marks = _kml(lead).findall(f"{K}Document/{K}Placemark")
    full = marks[0].findtext(f"{K}description", "")
    lines = full.split("\n")
    assert lines[0] == "TLP:AMBER"
    assert "Lead: lead-0042" in lines
    assert "Advisory [TLP:RED]: Homes within 50 m & a school" in lines
    assert "Emission rate, high (kg/h): 31.0" in lines
    bare = marks[1].findtext(f"{K}description", "")
    assert "Advisory" not in bare
    assert "First seen" not in bare
    assert "Collection" not in bare


def test_kml_time_span(lead: ReleasableLead) -> None:
    marks = _kml(lead).findall(f"{K}Document/{K}Placemark")
    assert marks[0].findtext(f"{K}TimeSpan/{K}begin") == "2025-02-01T10:00:00Z"
    assert marks[0].findtext(f"{K}TimeSpan/{K}end") == "2025-02-20T10:30:00Z"
    assert marks[1].find(f"{K}TimeSpan") is None


def test_kml_control_characters(lead: ReleasableLead) -> None:
    site = replace(lead.sites[0], observed="bad\x01char")
    root = _kml(replace(lead, title="t\x00", sites=(site,)))
    assert root.findtext(f"{K}Document/{K}name") == "t\ufffd (TLP:AMBER)"
