"""Hand-built internal leads for the sharing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plumetrace.share.lead import InternalLead, LeadSite, OrgRef, PassRecord, SourceReport

T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)


def internal_lead(**kw: object) -> InternalLead:
    """Return a one-site lead whose every withholdable value is a distinct word."""
    p = PassRecord(
        "flt-alpha",
        T0,
        True,
        "border-unit",
        "ac-bravo",
        "aircraft",
        "sens-charlie",
        "aviris-ng",
        ("matched-filter",),
        '{"type": "LineString", "coordinates": []}',
    )
    miss = PassRecord(
        "flt-delta",
        T0 + timedelta(days=3),
        False,
        "border-unit",
        "uas-echo",
        "drone",
        "sniff-foxtrot",
        "insitu",
    )
    site = LeadSite(
        site_id="site-0a1b2c",
        lat=31.7512345678,
        lon=-106.4498765,
        uncertainty_m=42.42,
        first_seen=T0,
        last_seen=T0 + timedelta(days=3),
        n_passes=2,
        n_passes_detected=1,
        rate_kg_h=21.3,
        rate_lo_kg_h=12.345,
        rate_hi_kg_h=33.33,
        confidence=0.913,
        exposure="high",
        advisory="Dense housing: 40 people within 100 m.",
        passes=(p, miss),
        reports=(SourceReport("rep-golf", T0, "B", 2, "tip from hotel-source"),),
        organizations=(OrgRef("Cartel India", 0.7, ("OFAC: SDGT (2025-02-20)",), ("CI",)),),
        attachments=("chip-juliet.png",),
        reviewers=("kilo",),
        notes=("lima says the roof is new",),
    )
    base = dict(
        id="lead-0123456789abcdef",
        partner_id="partner-fiscalia",
        partner_name="Fiscalia",
        tlp="amber",
        title="Suspected lab near ac-bravo",
        summary="kilo and mike saw it with aviris-ng from flt-alpha.",
        recommended_action="Ground investigation by the partner's authorities.",
        internal_note="source november",
        drafted_by="mike",
        approved_by="oscar",
        drafted=T0 + timedelta(days=4),
        released=T0 + timedelta(days=5),
        sites=(site,),
        staff=("kilo", "mike", "oscar", "papa"),
    )
    base.update(kw)
    return InternalLead(**base)  # type: ignore[arg-type]
