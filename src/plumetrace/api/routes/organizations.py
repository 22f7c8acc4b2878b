"""Organizations, their designations, attributions of sites, and the link graph."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from plumetrace.api.deps import (
    MAX_DB_INT,
    CurrentUser,
    ReadSession,
    SessionRoute,
    WriteSession,
    allow,
    present,
)
from plumetrace.store import organizations as orgs

__all__ = ["router"]

router = APIRouter(tags=["organizations"], route_class=SessionRoute)

READERS = ("analyst", "supervisor", "liaison")
"""Who may read organizations, their sites and the graph."""
EDITORS = ("analyst", "supervisor", "liaison")
"""Who may create and edit organizations."""
DESIGNATORS = ("supervisor", "liaison")
"""Who records formal designations (facts from authorities)."""
ATTRIBUTORS = ("analyst", "supervisor")
"""Who attributes sites to organizations."""

_Name = Annotated[str, Field(min_length=1, max_length=200)]


class NewOrganization(BaseModel):
    """An organization to create."""

    model_config = ConfigDict(extra="forbid")
    name: _Name
    aliases: list[_Name] = Field(default_factory=list, max_length=100)


class OrganizationEdit(BaseModel):
    """A rename or new aliases, with the version the caller read."""

    model_config = ConfigDict(extra="forbid")
    name: _Name | None = None
    aliases: list[_Name] | None = Field(default=None, max_length=100)
    version: int = Field(ge=0, le=MAX_DB_INT)


class NewDesignation(BaseModel):
    """A formal designation by an authority."""

    model_config = ConfigDict(extra="forbid")
    authority: _Name
    designation: _Name
    date: str = Field(description="YYYY-MM-DD", min_length=8, max_length=10)
    reference: str = Field(default="", max_length=2000)


class NewAttribution(BaseModel):
    """A site tied to the organization, with confidence and basis."""

    model_config = ConfigDict(extra="forbid")
    site_id: str = Field(min_length=1, max_length=64)
    confidence: float = Field(ge=0, le=1)
    basis: str = Field(default="", max_length=20_000)


@router.get("/api/organizations", **allow(*READERS))
def list_organizations(session: ReadSession) -> dict[str, Any]:
    """List organizations with their numbers of designations and attributed sites."""
    return present({"organizations": orgs.list_organizations(session)})


@router.post("/api/organizations", status_code=201, **allow(*EDITORS))
def create_organization(
    body: NewOrganization, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Create an organization (409 if the name exists)."""
    return present(orgs.create_organization(session, body.name, body.aliases, by=user))


@router.get("/api/organizations/{org_id}", **allow(*READERS))
def organization(org_id: str, session: ReadSession) -> dict[str, Any]:
    """Return an organization with its designations."""
    return present(orgs.organization_detail(session, org_id))


@router.patch("/api/organizations/{org_id}", **allow(*EDITORS))
def edit_organization(
    org_id: str, body: OrganizationEdit, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Rename an organization or replace its aliases; a stale ``version`` gets 409."""
    row = orgs.update_organization(
        session,
        org_id,
        name=body.name,
        aliases=body.aliases,
        expected_version=body.version,
        by=user,
    )
    return present(row)


@router.post("/api/organizations/{org_id}/designations", status_code=201, **allow(*DESIGNATORS))
def designate(
    org_id: str, body: NewDesignation, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Record a formal designation of the organization."""
    row = orgs.add_designation(
        session,
        org_id,
        authority=body.authority,
        designation=body.designation,
        date=body.date,
        reference=body.reference,
        by=user,
    )
    return present(row)


@router.post("/api/organizations/{org_id}/attributions", **allow(*ATTRIBUTORS))
def attribute(
    org_id: str, body: NewAttribution, session: WriteSession, user: CurrentUser
) -> dict[str, Any]:
    """Attribute a site to the organization (or update the attribution)."""
    row = orgs.attribute(
        session, body.site_id, org_id, confidence=body.confidence, basis=body.basis, by=user
    )
    return present(row)


@router.delete(
    "/api/organizations/{org_id}/attributions/{site_id}",
    status_code=204,
    **allow(*ATTRIBUTORS),
)
def unattribute(org_id: str, site_id: str, session: WriteSession, user: CurrentUser) -> None:
    """Remove the attribution of a site to the organization."""
    orgs.remove_attribution(session, site_id, org_id, by=user)


@router.get("/api/organizations/{org_id}/sites", **allow(*READERS))
def organization_sites(org_id: str, session: ReadSession) -> dict[str, Any]:
    """List the sites tied to the organization (attributed, or named by a report)."""
    return present({"sites": orgs.list_organization_sites(session, org_id)})


@router.get("/api/graph", **allow(*READERS))
def graph(
    session: ReadSession,
    organization: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Return the node-link graph of sites, organizations and reports."""
    return present(orgs.link_graph(session, organization))
