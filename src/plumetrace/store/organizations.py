"""Organizations: who they are, their formal designations, and the sites tied to them.

An attribution links a site to an organization with a confidence in [0, 1] and the
analyst's basis for it; there is at most one per (site, organization) and attributing
again updates it. Reports from other sources may name an organization too; both kinds of
link feed :func:`link_graph`, the node-link view of the analysts' workbench. Every
change is one audit event with before and after.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import date as _date
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from plumetrace.errors import ConflictError, InvalidParameterError, NotFoundError
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import (
    Attribution,
    Designation,
    Organization,
    Report,
    Site,
    User,
)

__all__ = [
    "add_designation",
    "attribute",
    "create_organization",
    "link_graph",
    "list_organization_sites",
    "list_organizations",
    "organization_detail",
    "organization_id",
    "remove_attribution",
    "update_organization",
]

_MAX_BASIS_CHARS = 20_000


def organization_id(name: str) -> str:
    """Return the stable identifier of an organization name (``org-`` + 10 hex digits).

    The same derivation as report ingest uses, so an organization created here and one
    named in a report are the same record.
    """
    return "org-" + hashlib.sha256(name.casefold().encode()).hexdigest()[:10]


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InvalidParameterError(f"organization name must be 1-200 characters: {name!r}")
    return name


def _clean_aliases(aliases: Iterable[str], name: str) -> list[str]:
    out: list[str] = []
    for a in aliases:
        a = " ".join(str(a).split())
        if not a or len(a) > 200:
            raise InvalidParameterError(f"alias must be 1-200 characters: {a!r}")
        if a.casefold() != name.casefold() and a.casefold() not in {x.casefold() for x in out}:
            out.append(a)
    return out


def _org(session: Session, org_id: str) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFoundError(f"no organization {org_id!r}")
    return org


def _org_row(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "aliases": list(org.aliases), "version": org.version}


def create_organization(
    session: Session, name: str, aliases: Sequence[str] = (), *, by: User
) -> dict[str, Any]:
    """Create an organization.

    Parameters
    ----------
    name : str
        Unique (case-insensitively), 1-200 characters.
    aliases : sequence of str
        Other names it goes by.
    by : User

    Returns
    -------
    dict
        ``{"id", "name", "aliases", "version"}``.

    Raises
    ------
    InvalidParameterError
        An empty or overlong name or alias.
    ConflictError
        An organization of that name exists.
    """
    name = _clean_name(name)
    oid = organization_id(name)
    clash = (
        session.get(Organization, oid)
        or session.scalars(
            select(Organization).where(func.lower(Organization.name) == name.lower())
        ).first()
    )
    if clash is not None:
        raise ConflictError(f"organization {clash.name!r} already exists ({clash.id})")
    org = Organization(id=oid, name=name, aliases=_clean_aliases(aliases, name))
    session.add(org)
    session.flush()
    row = _org_row(org)
    append_event(
        session,
        actor=by.name,
        action="organization.create",
        entity="organization",
        entity_id=oid,
        after=row,
    )
    return row


def update_organization(
    session: Session,
    org_id: str,
    *,
    name: str | None = None,
    aliases: Sequence[str] | None = None,
    expected_version: int,
    by: User,
) -> dict[str, Any]:
    """Rename an organization or replace its aliases (optimistic locking).

    Raises
    ------
    NotFoundError
        Unknown organization.
    ConflictError
        The new name is taken, or the record changed since ``expected_version``.
    """
    org = _org(session, org_id)
    before = _org_row(org)
    new_name = org.name if name is None else _clean_name(name)
    if new_name.lower() != org.name.lower():
        clash = session.scalars(
            select(Organization).where(
                func.lower(Organization.name) == new_name.lower(), Organization.id != org_id
            )
        ).first()
        if clash is not None:
            raise ConflictError(f"organization {clash.name!r} already exists ({clash.id})")
    new_aliases = _clean_aliases(org.aliases if aliases is None else aliases, new_name)
    res = session.execute(
        update(Organization)
        .where(Organization.id == org_id, Organization.version == expected_version)
        .values(name=new_name, aliases=new_aliases, version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if int(cast(CursorResult[Any], res).rowcount) != 1:
        current = session.scalar(select(Organization.version).where(Organization.id == org_id))
        raise ConflictError(
            f"organization {org_id} was changed by someone else (you read version "
            f"{expected_version}, it is now at version {current}): reload it and edit again"
        )
    session.refresh(org)
    after = _org_row(org)
    append_event(
        session,
        actor=by.name,
        action="organization.update",
        entity="organization",
        entity_id=org_id,
        before=before,
        after=after,
    )
    return after


def list_organizations(session: Session) -> list[dict[str, Any]]:
    """Return every organization with its counts of designations and attributed sites."""
    n_des = (
        select(func.count())
        .select_from(Designation)
        .where(Designation.organization_id == Organization.id)
        .scalar_subquery()
    )
    n_sites = (
        select(func.count())
        .select_from(Attribution)
        .where(Attribution.organization_id == Organization.id)
        .scalar_subquery()
    )
    stmt = select(
        Organization.id,
        Organization.name,
        Organization.aliases,
        Organization.version,
        n_des.label("n_designations"),
        n_sites.label("n_sites"),
    ).order_by(Organization.name)
    return [dict(r._mapping) for r in session.execute(stmt)]


def _designation_row(d: Designation) -> dict[str, Any]:
    return {
        "id": d.id,
        "organization_id": d.organization_id,
        "authority": d.authority,
        "designation": d.designation,
        "date": d.date,
        "reference": d.reference,
    }


def organization_detail(session: Session, org_id: str) -> dict[str, Any]:
    """Return an organization with its designations and number of attributed sites.

    Raises
    ------
    NotFoundError
        Unknown organization.
    """
    org = _org(session, org_id)
    out = _org_row(org)
    out["designations"] = [
        _designation_row(d)
        for d in session.scalars(
            select(Designation)
            .where(Designation.organization_id == org_id)
            .order_by(Designation.date, Designation.id)
        )
    ]
    out["n_sites"] = int(
        session.scalar(
            select(func.count())
            .select_from(Attribution)
            .where(Attribution.organization_id == org_id)
        )
        or 0
    )
    return out


def add_designation(
    session: Session,
    org_id: str,
    *,
    authority: str,
    designation: str,
    date: str,
    reference: str = "",
    by: User,
) -> dict[str, Any]:
    """Record a formal designation of an organization by an authority.

    Parameters
    ----------
    org_id : str
    authority : str
        Who designated it (a ministry, a court, a sanctions body).
    designation : str
        What it was designated as.
    date : str
        ``YYYY-MM-DD``.
    reference : str
        Where it is published.
    by : User

    Raises
    ------
    NotFoundError
        Unknown organization.
    InvalidParameterError
        Empty fields or a date that is not ISO 8601 ``YYYY-MM-DD``.
    """
    _org(session, org_id)
    authority, designation = authority.strip(), designation.strip()
    if not (0 < len(authority) <= 200) or not (0 < len(designation) <= 200):
        raise InvalidParameterError("authority and designation must be 1-200 characters")
    try:
        day = _date.fromisoformat(date.strip())
    except ValueError:
        raise InvalidParameterError(
            f"designation date must be ISO 8601 YYYY-MM-DD, got {date!r}"
        ) from None
    des = Designation(
        id=f"des-{secrets.token_hex(6)}",
        organization_id=org_id,
        authority=authority,
        designation=designation,
        date=day.isoformat(),
        reference=reference.strip(),
    )
    session.add(des)
    session.flush()
    row = _designation_row(des)
    append_event(
        session,
        actor=by.name,
        action="organization.designate",
        entity="organization",
        entity_id=org_id,
        after=row,
    )
    return row


def _attribution_row(a: Attribution) -> dict[str, Any]:
    return {
        "id": a.id,
        "site_id": a.site_id,
        "organization_id": a.organization_id,
        "confidence": a.confidence,
        "basis": a.basis,
        "user_id": a.user_id,
        "time": a.time,
    }


def attribute(
    session: Session,
    site_id: str,
    org_id: str,
    *,
    confidence: float,
    basis: str,
    by: User,
) -> dict[str, Any]:
    """Attribute a site to an organization, or update the existing attribution.

    Parameters
    ----------
    site_id, org_id : str
    confidence : float
        In [0, 1]: how sure the analyst is of the link.
    basis : str
        Why (the evidence), in words.
    by : User

    Raises
    ------
    NotFoundError
        Unknown site or organization.
    InvalidParameterError
        Confidence outside [0, 1] or an overlong basis.
    ConflictError
        The site was merged into another one.
    """
    if not (0.0 <= confidence <= 1.0):
        raise InvalidParameterError(f"confidence must be in [0, 1], got {confidence}")
    if len(basis) > _MAX_BASIS_CHARS:
        raise InvalidParameterError(f"basis is longer than {_MAX_BASIS_CHARS} characters")
    site = session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"no site {site_id!r}")
    if site.status == "merged":
        raise ConflictError(f"site {site_id} was merged into {site.merged_into}: work on that one")
    _org(session, org_id)
    att = session.scalars(
        select(Attribution).where(
            Attribution.site_id == site_id, Attribution.organization_id == org_id
        )
    ).first()
    before = None if att is None else _attribution_row(att)
    if att is None:
        att = Attribution(
            id=f"attr-{secrets.token_hex(6)}",
            site_id=site_id,
            organization_id=org_id,
            confidence=confidence,
            basis=basis,
            user_id=by.id,
        )
        session.add(att)
    else:
        att.confidence = confidence
        att.basis = basis
        att.user_id = by.id
    session.flush()
    after = _attribution_row(att)
    append_event(
        session,
        actor=by.name,
        action="site.attribute",
        entity="site",
        entity_id=site_id,
        before=before,
        after=after,
    )
    return after


def remove_attribution(session: Session, site_id: str, org_id: str, *, by: User) -> None:
    """Delete the attribution of a site to an organization (the audit log keeps it).

    Raises
    ------
    NotFoundError
        If there is no such attribution.
    """
    att = session.scalars(
        select(Attribution).where(
            Attribution.site_id == site_id, Attribution.organization_id == org_id
        )
    ).first()
    if att is None:
        raise NotFoundError(f"site {site_id!r} is not attributed to {org_id!r}")
    before = _attribution_row(att)
    session.execute(delete(Attribution).where(Attribution.id == att.id))
    append_event(
        session,
        actor=by.name,
        action="site.unattribute",
        entity="site",
        entity_id=site_id,
        before=before,
    )


def list_organization_sites(session: Session, org_id: str) -> list[dict[str, Any]]:
    """Return the sites tied to an organization, by attribution or by a report naming it.

    Each row has the site's id, position, status and confidence, plus ``via``
    (``"attribution"`` or ``"report"``), ``attribution_confidence`` and ``basis`` (None
    for report links). Attributed sites come first, most confident first.

    Raises
    ------
    NotFoundError
        Unknown organization.
    """
    _org(session, org_id)
    cols = (Site.id, Site.lat, Site.lon, Site.uncertainty_m, Site.status, Site.confidence)
    attributed = session.execute(
        select(*cols, Attribution.confidence.label("attribution_confidence"), Attribution.basis)
        .join(Attribution, Attribution.site_id == Site.id)
        .where(Attribution.organization_id == org_id)
        .order_by(Attribution.confidence.desc(), Site.id)
    )
    out: list[dict[str, Any]] = [{**r._mapping, "via": "attribution"} for r in attributed]
    seen = {r["id"] for r in out}
    reported = session.execute(
        select(*cols)
        .join(Report, Report.site_id == Site.id)
        .where(Report.organization_id == org_id, Site.status != "merged")
        .distinct()
        .order_by(Site.id)
    )
    for r in reported:
        if r.id not in seen:
            seen.add(r.id)
            out.append(
                {**r._mapping, "attribution_confidence": None, "basis": None, "via": "report"}
            )
    return out


def link_graph(
    session: Session, org_id: str | None = None, *, max_reports: int = 5000
) -> dict[str, list[dict[str, Any]]]:
    """Return the node-link graph of sites, organizations and reports.

    With ``org_id``: that organization, its attributed sites, the reports naming it and
    their sites, and the other organizations attributed to those sites (one hop).
    Without: every attribution and every report that names an organization.

    Returns
    -------
    dict
        ``{"nodes": [...], "edges": [...]}``. A node has ``id``, ``type`` (``site``,
        ``organization`` or ``report``) and ``label`` plus type-specific fields; an edge
        has ``source``, ``target``, ``type`` (``attribution`` site → organization,
        ``report-site``, ``report-organization``) and ``weight`` (the attribution
        confidence; 1 for report links).

    Raises
    ------
    NotFoundError
        Unknown ``org_id``.
    """
    att_stmt = select(Attribution.site_id, Attribution.organization_id, Attribution.confidence)
    rep_stmt = select(
        Report.id,
        Report.time,
        Report.source_reliability,
        Report.credibility,
        Report.site_id,
        Report.organization_id,
    ).where(Report.organization_id.is_not(None))
    if org_id is not None:
        _org(session, org_id)
        direct = select(Attribution.site_id).where(Attribution.organization_id == org_id)
        reported = select(Report.site_id).where(
            Report.organization_id == org_id, Report.site_id.is_not(None)
        )
        att_stmt = att_stmt.where(
            (Attribution.organization_id == org_id)
            | Attribution.site_id.in_(direct)
            | Attribution.site_id.in_(reported)
        )
        rep_stmt = rep_stmt.where(Report.organization_id == org_id)
    attributions = session.execute(att_stmt.order_by(Attribution.id)).all()
    reports = session.execute(rep_stmt.order_by(Report.time, Report.id).limit(max_reports)).all()

    site_ids = {a.site_id for a in attributions} | {r.site_id for r in reports if r.site_id}
    org_ids = {a.organization_id for a in attributions} | {r.organization_id for r in reports}
    if org_id is not None:
        org_ids.add(org_id)

    nodes: list[dict[str, Any]] = []
    for o in session.scalars(
        select(Organization).where(Organization.id.in_(org_ids)).order_by(Organization.id)
    ):
        nodes.append(
            {"id": o.id, "type": "organization", "label": o.name, "aliases": list(o.aliases)}
        )
    site_rows = session.execute(
        select(Site.id, Site.status, Site.confidence, Site.lat, Site.lon)
        .where(Site.id.in_(site_ids))
        .order_by(Site.id)
    )
    for s in site_rows:
        nodes.append(
            {
                "id": s.id,
                "type": "site",
                "label": s.id,
                "status": s.status,
                "confidence": s.confidence,
                "lat": s.lat,
                "lon": s.lon,
            }
        )
    for r in reports:
        nodes.append(
            {
                "id": r.id,
                "type": "report",
                "label": f"{r.id} ({r.source_reliability}{r.credibility})",
                "time": r.time,
                "grading": f"{r.source_reliability}{r.credibility}",
            }
        )
    edges: list[dict[str, Any]] = [
        {
            "source": a.site_id,
            "target": a.organization_id,
            "type": "attribution",
            "weight": a.confidence,
        }
        for a in attributions
    ]
    for r in reports:
        if r.site_id:
            edges.append(
                {"source": r.id, "target": r.site_id, "type": "report-site", "weight": 1.0}
            )
        edges.append(
            {
                "source": r.id,
                "target": r.organization_id,
                "type": "report-organization",
                "weight": 1.0,
            }
        )
    return {"nodes": nodes, "edges": edges}
