"""Redaction: turn an internal lead into what one partner may receive.

Rules (see :data:`plumetrace.share.policy.CATEGORIES`):

- Structured provenance (platforms, sensors, flights and tracks, methods, analysts,
  evidence files, internal notes and identifiers, other-source reports, attribution) is
  carried over only for the categories the policy releases; the rest is never copied.
- Free text (title, summary, recommended action, advisory) is scrubbed of every withheld
  value that occurs in it as a whole word or phrase, case-insensitively, replaced by
  ``[withheld]``. Values shorter than three characters are not scrubbed (they would eat
  ordinary words); paraphrase is beyond any filter, which is why release needs a
  supervisor's review (:func:`redact` reports what it scrubbed, for that review).
- Positions keep 5 decimals (~1 m), rates two significant figures; the model
  confidence, internal site ids and pass-by-pass times are methods and stay home.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from plumetrace.share.lead import (
    InternalLead,
    LeadSite,
    ReleasableLead,
    ReleasableSite,
    site_uid,
)
from plumetrace.share.policy import ReleasePolicy

__all__ = ["WITHHELD", "Redaction", "observed_text", "redact", "withheld_values"]

WITHHELD = "[withheld]"
"""What replaces a withheld value in free text."""

GAS_NAMES = {"ch4": "methane", "co2": "carbon dioxide", "nh3": "ammonia"}


@dataclass(frozen=True)
class Redaction:
    """What redaction removed, for the release review.

    Attributes
    ----------
    withheld : dict of str to int
        Number of withheld values per category.
    scrubbed : dict of str to int
        Withheld values found and replaced in free text, per field.
    """

    withheld: dict[str, int] = field(default_factory=dict)
    scrubbed: dict[str, int] = field(default_factory=dict)


def withheld_values(lead: InternalLead, policy: ReleasePolicy) -> dict[str, str]:
    """Return every value of ``lead`` the policy withholds, mapped to its category.

    Parameters
    ----------
    lead : InternalLead
    policy : ReleasePolicy

    Returns
    -------
    dict of str to str
        Value -> category, for the categories not released.
    """
    found: dict[str, str] = {}

    def add(category: str, *values: str | None) -> None:
        if policy.releases(category):
            return
        for v in values:
            if v and v.strip():
                found.setdefault(v.strip(), category)

    add("analyst", lead.drafted_by, lead.approved_by, *lead.staff)
    add("internal", lead.internal_note)
    for site in lead.sites:
        add("internal", site.site_id, *site.notes)
        add("analyst", *site.reviewers)
        add("imagery", *site.attachments)
        for p in site.passes:
            add("platform", p.operator, p.platform, p.platform_kind)
            add("sensor", p.sensor, p.sensor_kind)
            add("flight_track", p.flight_id, p.track)
            add("method", *p.methods)
        for r in site.reports:
            add("reports", r.id, r.text)
        for o in site.organizations:
            add("attribution", o.name, *o.aliases, *o.designations)
    return found


def _scrubber(values: dict[str, str]) -> re.Pattern[str] | None:
    terms = sorted((v for v in values if len(v) >= 3), key=len, reverse=True)
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in terms)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _sig2(x: float | None) -> float | None:
    if x is None:
        return None
    return float(f"{x:.2g}")


def _day(t: datetime | None) -> str:
    return "an unknown date" if t is None else t.strftime("%Y-%m-%d")


def observed_text(site: LeadSite) -> str:
    """Return what was observed at ``site`` in releasable terms (no sources or methods).

    Examples
    --------
    "Chemical vapour emissions (methane) consistent with a production site were observed
    on 3 occasions between 2026-05-01 and 2026-05-09; estimated emission 12-30 kg/h."
    """
    gas = GAS_NAMES.get(site.gas.lower(), site.gas)
    n = site.n_passes_detected
    when = (
        f"on {_day(site.first_seen)}"
        if site.first_seen == site.last_seen or site.last_seen is None
        else f"between {_day(site.first_seen)} and {_day(site.last_seen)}"
    )
    text = (
        f"Chemical vapour emissions ({gas}) consistent with a production site were observed "
        f"{'once' if n <= 1 else f'on {n} occasions'} {when}"
    )
    lo, hi = _sig2(site.rate_lo_kg_h), _sig2(site.rate_hi_kg_h)
    if lo is not None and hi is not None:
        text += f"; estimated emission {lo:g}-{hi:g} kg/h"
    return text + "."


def _collection(site: LeadSite, policy: ReleasePolicy) -> list[str]:
    lines: list[str] = []
    for p in site.passes:
        parts = [
            f"{p.time.strftime('%Y-%m-%dT%H:%MZ')} {'detected' if p.detected else 'not detected'}"
        ]
        if policy.releases("platform"):
            parts.append(
                f"platform {p.platform or 'unknown'} ({p.platform_kind or 'unknown'}),"
                f" operator {p.operator or 'unknown'}"
            )
        if policy.releases("sensor"):
            parts.append(f"sensor {p.sensor or 'unknown'} ({p.sensor_kind or 'unknown'})")
        if policy.releases("flight_track"):
            parts.append(f"flight {p.flight_id}")
        if policy.releases("method") and p.methods:
            parts.append(f"methods {', '.join(p.methods)}")
        if len(parts) > 1:
            lines.append("; ".join(parts))
    if policy.releases("flight_track"):
        lines += [f"track of {p.flight_id}: {p.track}" for p in site.passes if p.track]
    if policy.releases("method"):
        lines.append(f"model confidence {site.confidence:.2f}")
    if policy.releases("analyst") and site.reviewers:
        lines.append(f"reviewed by {', '.join(site.reviewers)}")
    if policy.releases("internal"):
        lines.append(f"internal site id {site.site_id}")
        lines += [f"analyst note: {n}" for n in site.notes]
    return lines


def _site(site: LeadSite, policy: ReleasePolicy) -> ReleasableSite:
    release = policy.releases
    orgs = (
        tuple(
            f"{o.name} (confidence {o.confidence:.2f})"
            + (f"; also known as {', '.join(o.aliases)}" if o.aliases else "")
            + (f"; designations: {'; '.join(o.designations)}" if o.designations else "")
            for o in site.organizations
        )
        if release("attribution")
        else ()
    )
    reports = (
        tuple(
            f"{r.time.strftime('%Y-%m-%d')} [{r.reliability}{r.credibility}] {r.text}"
            for r in site.reports
        )
        if release("reports")
        else ()
    )
    return ReleasableSite(
        uid=site_uid(site.site_id),
        lat=round(site.lat, 5),
        lon=round(site.lon, 5),
        uncertainty_m=float(f"{site.uncertainty_m:.3g}"),
        first_seen=site.first_seen,
        last_seen=site.last_seen,
        n_observations=site.n_passes_detected,
        rate_lo_kg_h=_sig2(site.rate_lo_kg_h),
        rate_hi_kg_h=_sig2(site.rate_hi_kg_h),
        gas=site.gas,
        observed=observed_text(site),
        exposure=site.exposure,
        advisory=site.advisory,
        collection=tuple(_collection(site, policy)),
        organizations=orgs,
        source_reports=reports,
        imagery=tuple(site.attachments) if release("imagery") else (),
    )


def redact(
    lead: InternalLead, policy: ReleasePolicy, producer: str
) -> tuple[ReleasableLead, Redaction]:
    """Return what ``policy`` lets the partner have of ``lead``, and what was removed.

    Parameters
    ----------
    lead : InternalLead
        The lead with all its evidence.
    policy : ReleasePolicy
        The partner's release policy.
    producer : str
        Our name as the partner knows it.

    Returns
    -------
    ReleasableLead
        The only input of the partner formats.
    Redaction
        Counts of withheld values and of scrubbed mentions, for the reviewer.
    """
    values = withheld_values(lead, policy)
    pattern = _scrubber(values)
    scrubbed: Counter[str] = Counter()

    def scrub(name: str, text: str | None) -> str | None:
        if text is None or pattern is None:
            return text
        out, n = pattern.subn(WITHHELD, text)
        if n:
            scrubbed[name] += n
        return out

    def scrub_all(name: str, texts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(scrub(name, t)) for t in texts)

    sites = []
    for s in lead.sites:
        r = _site(s, policy)
        sites.append(
            ReleasableSite(
                **{
                    **r.__dict__,
                    "observed": str(scrub("observed", r.observed)),
                    "advisory": scrub("advisory", r.advisory),
                    # released categories may still mention withheld ones (a platform
                    # named after a sensor): every line goes through the scrubber too
                    "collection": scrub_all("collection", r.collection),
                    "organizations": scrub_all("organizations", r.organizations),
                    "source_reports": scrub_all("source_reports", r.source_reports),
                    "imagery": scrub_all("imagery", r.imagery),
                }
            )
        )
    extra = []
    if policy.releases("analyst") and (lead.drafted_by or lead.approved_by):
        extra.append(
            f"Drafted by {lead.drafted_by or 'unknown'}; approved by {lead.approved_by or '-'}."
        )
    if policy.releases("internal") and lead.internal_note:
        extra.append(f"Internal note: {lead.internal_note}")
    summary = "\n".join([lead.summary, *extra]) if extra else lead.summary
    releasable = ReleasableLead(
        id=lead.id,
        partner_id=lead.partner_id,
        partner_name=lead.partner_name,
        producer=producer,
        tlp=lead.tlp,
        title=str(scrub("title", lead.title)),
        summary=str(scrub("summary", summary)),
        recommended_action=str(scrub("recommended_action", lead.recommended_action)),
        released=lead.released,
        sites=tuple(sites),
        field_tlp=dict(policy.field_tlp),
        cot_stale_hours=policy.cot_stale_hours,
    )
    return releasable, Redaction(dict(Counter(values.values())), dict(scrubbed))
