from __future__ import annotations

import json

from plumetrace.share.lead import ReleasableLead, site_uid
from plumetrace.share.policy import CATEGORIES, ReleasePolicy
from plumetrace.share.redact import WITHHELD, observed_text, redact, withheld_values

from .leads import internal_lead

SECRETS = {
    "platform": ["border-unit", "ac-bravo", "aircraft", "uas-echo", "drone"],
    "sensor": ["sens-charlie", "aviris-ng", "sniff-foxtrot", "insitu"],
    "flight_track": ["flt-alpha", "flt-delta", "LineString"],
    "method": ["matched-filter", "0.91"],
    "analyst": ["kilo", "mike", "oscar", "papa"],
    "imagery": ["chip-juliet.png"],
    "internal": ["november", "site-0a1b2c", "lima says"],
    "reports": ["hotel-source", "rep-golf"],
    "attribution": ["Cartel India", "SDGT"],
}


def _text(policy: ReleasePolicy) -> str:
    lead, _ = redact(internal_lead(), policy, "Program")
    return json.dumps(lead.to_dict())


def test_default_policy_releases_no_source_or_method() -> None:
    text = _text(ReleasePolicy())
    for category, values in SECRETS.items():
        for v in values:
            assert v not in text, (category, v)


def test_each_category_released_alone_reaches_the_partner_and_only_it() -> None:
    for category, values in SECRETS.items():
        text = _text(ReleasePolicy(release=frozenset({category})))
        for v in values:
            if v not in ("papa", "rep-golf"):  # uninvolved staff, our report ids: nowhere
                assert v in text, (category, v)
        for other, others in SECRETS.items():
            if other != category:
                for v in others:
                    assert v not in text, (category, other, v)


def test_free_text_is_scrubbed_as_whole_words() -> None:
    lead, red = redact(internal_lead(), ReleasePolicy(), "Program")
    assert lead.title == f"Suspected lab near {WITHHELD}"
    assert lead.summary == f"{WITHHELD} and {WITHHELD} saw it with {WITHHELD} from {WITHHELD}."
    assert red.scrubbed == {"title": 1, "summary": 4}
    assert red.withheld["analyst"] == 4
    # a name inside a longer word is not a mention of it
    lead2, _ = redact(internal_lead(summary="Pakilometres, smiked"), ReleasePolicy(), "P")
    assert lead2.summary == "Pakilometres, smiked"


def test_releasable_values_are_rounded_and_the_site_opaque() -> None:
    lead, _ = redact(internal_lead(), ReleasePolicy(), "Program")
    (s,) = lead.sites
    assert s.uid == site_uid("site-0a1b2c") and "0a1b2c" not in s.uid
    assert (s.lat, s.lon, s.uncertainty_m) == (31.75123, -106.44988, 42.4)
    assert (s.rate_lo_kg_h, s.rate_hi_kg_h, s.n_observations) == (12.0, 33.0, 1)
    assert s.observed == (
        "Chemical vapour emissions (methane) consistent with a production site were observed "
        "once between 2026-05-01 and 2026-05-04; estimated emission 12-33 kg/h."
    )
    assert ReleasableLead.from_dict(json.loads(json.dumps(lead.to_dict()))) == lead


def test_withheld_values_cover_every_category() -> None:
    values = withheld_values(internal_lead(), ReleasePolicy())
    assert set(values.values()) == set(CATEGORIES)
    assert withheld_values(internal_lead(), ReleasePolicy(release=frozenset(CATEGORIES))) == {}


def test_observed_text_counts_and_windows() -> None:
    site = internal_lead().sites[0]
    from dataclasses import replace

    once = replace(site, last_seen=site.first_seen, n_passes_detected=1, rate_lo_kg_h=None)
    assert observed_text(once).endswith("were observed once on 2026-05-01.")
    many = replace(site, n_passes_detected=4)
    assert "on 4 occasions between" in observed_text(many)
