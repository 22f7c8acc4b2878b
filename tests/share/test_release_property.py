"""Property: nothing a policy withholds reaches any partner format; no reference dangles.

Random leads carry a distinct random word in every withholdable slot (platform, sensor,
flight, method, analyst, file, internal note, report, organization), and free text that
mentions some of them; random policies release random categories at random markings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumetrace.share.cot import cot_events
from plumetrace.share.geo import lead_geojson, lead_kml
from plumetrace.share.lead import InternalLead, LeadSite, OrgRef, PassRecord, SourceReport
from plumetrace.share.markings import TLP_LEVELS
from plumetrace.share.policy import CATEGORIES, FIELDS, ReleasePolicy
from plumetrace.share.redact import redact, withheld_values
from plumetrace.share.stix import lead_bundle

from .stix_checks import check_bundle

T0 = datetime(2026, 3, 1, tzinfo=UTC)

# never hex (so never inside a UUID), never an English word
WORD = st.from_regex(r"[g-z]{3}[0-9]{2}[g-z]{3}", fullmatch=True)


@st.composite
def leads(draw: st.DrawFn) -> InternalLead:
    words = iter(draw(st.lists(WORD, min_size=120, max_size=120, unique=True)))
    w = lambda: next(words)  # noqa: E731
    sites = []
    for _ in range(draw(st.integers(1, 3))):
        passes = tuple(
            PassRecord(
                w(),
                T0 + timedelta(hours=draw(st.integers(0, 500))),
                draw(st.booleans()),
                w(),
                w(),
                w(),
                w(),
                w(),
                (w(),),
                f'{{"type": "Point", "note": "{w()}"}}',
            )
            for _ in range(draw(st.integers(0, 3)))
        )
        first = T0 + timedelta(hours=draw(st.integers(0, 100)))
        sites.append(
            LeadSite(
                site_id=f"site-{w()}",
                lat=draw(st.floats(-80, 80)),
                lon=draw(st.floats(-179, 179)),
                uncertainty_m=draw(st.floats(1, 5000)),
                first_seen=first,
                last_seen=first + timedelta(hours=draw(st.integers(0, 900))),
                n_passes=len(passes),
                n_passes_detected=draw(st.integers(0, 5)),
                rate_kg_h=None,
                rate_lo_kg_h=draw(st.none() | st.floats(0.1, 50)),
                rate_hi_kg_h=draw(st.none() | st.floats(50, 900)),
                confidence=draw(st.floats(0, 1)),
                exposure=draw(st.sampled_from([None, "low", "medium", "high", "unknown"])),
                advisory=draw(st.none() | st.just("Residents nearby: keep away <&>.")),
                passes=passes,
                reports=(SourceReport(w(), T0, "C", 3, f"tip {w()} said {w()}"),),
                organizations=(OrgRef(w(), 0.5, (f"{w()}: FTO (2025-01-01)",), (w(),)),),
                attachments=(f"{w()}.png",),
                reviewers=(w(),),
                notes=(f"note {w()}",),
            )
        )
    staff = tuple(w() for _ in range(3))
    withheld_pool = [*staff, sites[0].site_id, sites[0].reports[0].id]
    for p in sites[0].passes:
        withheld_pool += [p.flight_id, p.platform or "", p.sensor or "", p.methods[0]]
    mention = draw(st.lists(st.sampled_from(withheld_pool), max_size=6))
    text = " ".join(["Lab", *mention, "near", "the", "river"]) + "."
    return InternalLead(
        id=f"lead-{w()}",
        partner_id="partner-x",
        partner_name="Partner X",
        tlp=draw(st.sampled_from(TLP_LEVELS)),
        title=f"Site of {draw(st.sampled_from(withheld_pool))}",
        summary=text,
        recommended_action=f"Investigate; ask {draw(st.sampled_from(withheld_pool))}.",
        internal_note=f"internal {w()}",
        drafted_by=staff[0],
        approved_by=staff[1],
        drafted=T0,
        released=T0 + timedelta(days=40),
        sites=tuple(sites),
        staff=staff,
    )


policies = st.builds(
    ReleasePolicy,
    tlp=st.sampled_from(TLP_LEVELS),
    release=st.frozensets(st.sampled_from(sorted(CATEGORIES))),
    field_tlp=st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(TLP_LEVELS), max_size=4),
    cot_stale_hours=st.floats(0.5, 200),
)


def partner_outputs(lead: InternalLead, policy: ReleasePolicy) -> tuple[dict, list[str]]:
    """Return the STIX bundle and every partner-visible rendering as text."""
    releasable, _ = redact(lead, policy, "Program")
    bundle = lead_bundle(releasable)
    texts = [
        json.dumps(bundle),
        json.dumps(lead_geojson(releasable)),
        lead_kml(releasable),
        *(e.decode() for e in cot_events(releasable)),
        json.dumps(releasable.to_dict()),
    ]
    return bundle, texts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lead=leads(), policy=policies)
def test_nothing_withheld_leaves_and_no_reference_dangles(
    lead: InternalLead, policy: ReleasePolicy
) -> None:
    bundle, texts = partner_outputs(lead, policy)
    withheld = withheld_values(lead, policy)
    assert set(withheld.values()) <= set(CATEGORIES) - policy.release
    low = [t.lower() for t in texts]
    for value, category in withheld.items():
        for word in value.split():  # every random word of a withheld text, too
            if any(c.isdigit() for c in word):
                word = word.strip('.,:;"{}()')
                assert all(word.lower() not in t for t in low), (category, word)
    check_bundle(bundle)
