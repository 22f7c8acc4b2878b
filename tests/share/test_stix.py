from __future__ import annotations

from collections import Counter

from plumetrace.share.markings import TLP_IDS
from plumetrace.share.policy import CATEGORIES, ReleasePolicy
from plumetrace.share.redact import redact
from plumetrace.share.stix import lead_bundle, prune_references

from .leads import internal_lead
from .stix_checks import check_bundle


def _bundle(policy: ReleasePolicy) -> dict:
    lead, _ = redact(internal_lead(), policy, "Program")
    return lead_bundle(lead)


def test_default_bundle_objects_and_markings() -> None:
    b = _bundle(ReleasePolicy())
    check_bundle(b)
    types = Counter(o["type"] for o in b["objects"])
    assert types == {
        "marking-definition": 1,
        "identity": 2,
        "location": 1,
        "indicator": 1,
        "sighting": 1,
        "relationship": 1,
        "note": 2,
        "report": 1,
    }
    amber = TLP_IDS["amber"]
    for o in b["objects"]:
        if o["type"] != "marking-definition":
            assert o["object_marking_refs"] == [amber], o["id"]
    (sighting,) = [o for o in b["objects"] if o["type"] == "sighting"]
    (loc,) = [o for o in b["objects"] if o["type"] == "location"]
    assert sighting["where_sighted_refs"] == [loc["id"]] and sighting["count"] == 1
    assert loc["precision"] == 42.4 and loc["latitude"] == 31.75123
    (report,) = [o for o in b["objects"] if o["type"] == "report"]
    assert set(report["object_refs"]) == {
        o["id"] for o in b["objects"] if o["type"] not in ("marking-definition", "report")
    }


def test_everything_released_adds_notes_and_threat_actors() -> None:
    b = _bundle(ReleasePolicy(release=frozenset(CATEGORIES)))
    check_bundle(b)
    types = Counter(o["type"] for o in b["objects"])
    assert types["threat-actor"] == 1 and types["note"] == 5 and types["relationship"] == 2
    (rel,) = [o for o in b["objects"] if o.get("relationship_type") == "indicates"]
    assert rel["target_ref"].startswith("threat-actor--")


def test_field_markings_are_granular() -> None:
    b = _bundle(ReleasePolicy(field_tlp={"advisory": "red", "summary": "green"}))
    check_bundle(b)
    assert {o["id"] for o in b["objects"] if o["type"] == "marking-definition"} == {
        TLP_IDS["amber"],
        TLP_IDS["red"],
    }
    (advisory,) = [o for o in b["objects"] if o.get("abstract") == "Civilian context"]
    assert advisory["granular_markings"] == [
        {"marking_ref": TLP_IDS["red"], "selectors": ["content"]}
    ]
    # a field marked less strictly than the lead keeps the lead's marking
    (report,) = [o for o in b["objects"] if o["type"] == "report"]
    assert "granular_markings" not in report


def test_same_lead_same_objects() -> None:
    assert _bundle(ReleasePolicy()) == _bundle(ReleasePolicy())


def test_prune_removes_dangling_references_transitively() -> None:
    b = _bundle(ReleasePolicy(release=frozenset(CATEGORIES)))
    objects = b["objects"]
    indicator = next(o["id"] for o in objects if o["type"] == "indicator")
    pruned = prune_references(o for o in objects if o["id"] != indicator)
    kinds = Counter(o["type"] for o in pruned)
    # the sighting of it and the relationships from it go; notes about it alone go
    assert kinds["sighting"] == 0 and kinds["relationship"] == 0
    check_bundle({**b, "objects": pruned})
    # removing a marking definition drops the granular markings that used it
    b = _bundle(ReleasePolicy(field_tlp={"advisory": "red"}))
    pruned = prune_references(o for o in b["objects"] if o["id"] != TLP_IDS["red"])
    assert not any("granular_markings" in o for o in pruned)
    check_bundle({**b, "objects": pruned})
