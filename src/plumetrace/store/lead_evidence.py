"""Gather everything we hold about a lead's sites into an :class:`InternalLead`.

Sources and methods included (flights, platforms, sensors, methods, analysts, reports,
attributions, files): redaction decides what leaves, so this module collects all of it.
A site merged since the lead was drafted is followed to the site it was merged into;
the partner keeps seeing the uid of the site the lead was drafted on.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plumetrace.errors import NotFoundError
from plumetrace.share.lead import (
    InternalLead,
    LeadSite,
    OrgRef,
    PassRecord,
    SourceReport,
)
from plumetrace.store.models import (
    Attachment,
    Attribution,
    Designation,
    Detection,
    Flight,
    Lead,
    Organization,
    Partner,
    Platform,
    Report,
    Review,
    Sensor,
    Site,
    SitePass,
    User,
)
from plumetrace.store.models import LeadSite as LeadSiteRow

__all__ = ["follow_merges", "internal_lead", "lead_site_ids"]


def follow_merges(session: Session, site_id: str) -> Site:
    """Return the live site ``site_id`` is now part of (itself unless it was merged)."""
    seen: set[str] = set()
    site = session.get(Site, site_id)
    while site is not None and site.merged_into and site.id not in seen:
        seen.add(site.id)
        site = session.get(Site, site.merged_into)
    if site is None:
        raise NotFoundError(f"no site {site_id!r}")
    return site


def lead_site_ids(session: Session, lead_id: str) -> list[str]:
    """Return the ids of the sites a lead was drafted on, sorted."""
    return list(
        session.scalars(
            select(LeadSiteRow.site_id)
            .where(LeadSiteRow.lead_id == lead_id)
            .order_by(LeadSiteRow.site_id)
        )
    )


def _name(session: Session, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return None if user is None else user.name


def _passes(session: Session, site_id: str) -> tuple[PassRecord, ...]:
    rows = session.execute(
        select(SitePass, Flight, Platform.kind, Sensor.kind)
        .join(Flight, Flight.id == SitePass.flight_id)
        .outerjoin(Platform, Platform.id == Flight.platform_id)
        .outerjoin(Sensor, Sensor.id == Flight.sensor_id)
        .where(SitePass.site_id == site_id)
        .order_by(SitePass.time)
    ).all()
    methods: dict[str, set[str]] = {}
    for flight_id, props in session.execute(
        select(Detection.flight_id, Detection.properties).where(Detection.site_id == site_id)
    ):
        m = (props or {}).get("method")
        if m:
            methods.setdefault(flight_id, set()).add(str(m))
    return tuple(
        PassRecord(
            flight_id=f.id,
            time=sp.time,
            detected=bool(sp.detected),
            operator=f.operator_id,
            platform=f.platform_id,
            platform_kind=pkind,
            sensor=f.sensor_id,
            sensor_kind=skind,
            methods=tuple(sorted(methods.get(f.id, ()))),
            track=f.track_geojson or f.footprint_geojson,
        )
        for sp, f, pkind, skind in rows
    )


def _organizations(session: Session, site_id: str) -> tuple[OrgRef, ...]:
    out = []
    for att, org in session.execute(
        select(Attribution, Organization)
        .join(Organization, Organization.id == Attribution.organization_id)
        .where(Attribution.site_id == site_id)
        .order_by(Organization.name)
    ):
        designations = tuple(
            f"{d.authority}: {d.designation} ({d.date})"
            for d in session.scalars(
                select(Designation)
                .where(Designation.organization_id == org.id)
                .order_by(Designation.date)
            )
        )
        out.append(OrgRef(org.name, float(att.confidence), designations, tuple(org.aliases)))
    return tuple(out)


def _site(session: Session, site_id: str) -> LeadSite:
    site = follow_merges(session, site_id)
    ids = {site_id, site.id}
    reports = tuple(
        SourceReport(r.id, r.time, r.source_reliability, r.credibility, r.text)
        for r in session.scalars(
            select(Report).where(Report.site_id.in_(ids)).order_by(Report.time)
        )
    )
    reviews = session.execute(
        select(User.name, Review.note)
        .join(User, User.id == Review.user_id)
        .where(Review.site_id.in_(ids))
        .order_by(Review.time)
    ).all()
    files = tuple(
        session.scalars(
            select(Attachment.filename).where(Attachment.site_id.in_(ids)).order_by(Attachment.time)
        )
    )
    gases = Counter(session.scalars(select(Detection.gas).where(Detection.site_id == site.id)))
    ctx = site.context or {}
    return LeadSite(
        site_id=site_id,
        lat=site.lat,
        lon=site.lon,
        uncertainty_m=site.uncertainty_m,
        first_seen=site.first_seen,
        last_seen=site.last_seen,
        n_passes=site.n_passes,
        n_passes_detected=site.n_passes_detected,
        rate_kg_h=site.rate_kg_h,
        rate_lo_kg_h=site.rate_lo_kg_h,
        rate_hi_kg_h=site.rate_hi_kg_h,
        confidence=site.confidence,
        gas=gases.most_common(1)[0][0] if gases else "ch4",
        exposure=site.exposure,
        advisory=ctx.get("advisory"),
        passes=_passes(session, site.id),
        reports=reports,
        organizations=_organizations(session, site.id),
        attachments=files,
        reviewers=tuple(dict.fromkeys(name for name, _ in reviews)),
        notes=tuple(note for _, note in reviews if note),
    )


def internal_lead(
    session: Session,
    lead: Lead,
    *,
    approved_by: str | None = None,
    released: datetime | None = None,
) -> InternalLead:
    """Return everything we hold about ``lead`` (its sites followed through merges).

    Parameters
    ----------
    session : Session
    lead : Lead
    approved_by : str, optional
        Approver's name (defaults to the stored one).
    released : datetime, optional, UTC
        Release time (defaults to the stored one).
    """
    partner = session.get(Partner, lead.partner_id)
    assert partner is not None  # foreign key
    return InternalLead(
        id=lead.id,
        partner_id=partner.id,
        partner_name=partner.name,
        tlp=lead.tlp,
        title=lead.title,
        summary=lead.summary,
        recommended_action=lead.recommended_action,
        internal_note=lead.internal_note,
        drafted_by=_name(session, lead.drafted_by),
        approved_by=approved_by or _name(session, lead.approved_by),
        drafted=lead.drafted,
        released=released or lead.released,
        sites=tuple(_site(session, sid) for sid in lead_site_ids(session, lead.id)),
        staff=tuple(session.scalars(select(User.name).where(User.role != "partner"))),
    )
