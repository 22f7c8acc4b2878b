from __future__ import annotations

import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.share.markings import TLP_IDS, parse_tlp, stricter, tlp_label, tlp_marking
from plumetrace.share.policy import CATEGORIES, ReleasePolicy, Timeline


def test_tlp_levels_and_official_markings() -> None:
    assert parse_tlp("TLP:AMBER+STRICT") == "amber+strict"
    assert parse_tlp(" red ") == "red"
    with pytest.raises(InvalidParameterError, match="CLEAR"):
        parse_tlp("white")  # TLP 1.0's name: TLP 2.0 says CLEAR
    assert tlp_label("amber+strict") == "TLP:AMBER+STRICT"
    assert stricter("green", "amber") == "amber" == stricter("amber", "clear")
    m = tlp_marking("clear")
    # the OASIS-published TLP 2.0 object, recognised by its id
    assert m["id"] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    assert m["name"] == "TLP:CLEAR" and m["created"] == "2022-10-01T00:00:00.000Z"
    ext = m["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
    assert ext == {"extension_type": "property-extension", "tlp_2_0": "clear"}
    assert len(set(TLP_IDS.values())) == 5


def test_policy_defaults_withhold_everything() -> None:
    p = ReleasePolicy()
    assert p.tlp == "amber" and not any(p.releases(c) for c in CATEGORIES)
    with pytest.raises(InvalidParameterError):
        p.releases("nope")


def test_policy_round_trip_and_errors() -> None:
    p = ReleasePolicy.from_dict(
        {
            "tlp": "GREEN",
            "release": ["sensor", "platform"],
            "field_tlp": {"advisory": "TLP:RED"},
            "timeline": {"acknowledge_days": 1},
            "cot_stale_hours": 6,
        }
    )
    assert p.tlp == "green" and p.field_tlp == {"advisory": "red"}
    assert p.timeline == Timeline(acknowledge_days=1)
    assert ReleasePolicy.from_dict(p.to_dict()) == p
    for bad, msg in (
        ({"release": ["everything"]}, "unknown release categories"),
        ({"field_tlp": {"colour": "red"}}, "unknown fields"),
        ({"tlp": "purple"}, "unknown TLP"),
        ({"timeline": {"acknowledge_days": 0}}, "positive"),
        ({"timeline": {"ack": 1}}, "unknown timeline keys"),
        ({"releases": []}, "unknown policy keys"),
        ({"release": "sensor"}, "list"),
        ({"cot_stale_hours": -1}, "positive"),
    ):
        with pytest.raises(InvalidParameterError, match=msg):
            ReleasePolicy.from_dict(bad)
