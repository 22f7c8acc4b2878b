"""Partners: the authorities that receive leads, each with its release policy."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plumetrace.errors import ConflictError, InvalidParameterError, NotFoundError
from plumetrace.share.policy import ReleasePolicy
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import Partner

__all__ = ["add_partner", "find_partner", "list_partners", "partner_policy", "set_policy"]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:48]


def add_partner(
    session: Session, name: str, policy: ReleasePolicy, *, country: str = "", actor: str
) -> Partner:
    """Create a partner (id ``partner-<slug of name>``) with its release policy.

    Raises
    ------
    InvalidParameterError
        An unusable name or country code.
    ConflictError
        If a partner with this name (or slug) exists.
    """
    name = " ".join(name.split())
    if not name or len(name) > 200 or not _slug(name):
        raise InvalidParameterError(f"partner name must be 1-200 characters: {name!r}")
    country = country.strip().upper()
    if country and not re.fullmatch(r"[A-Z]{2,3}", country):
        raise InvalidParameterError(f"country must be an ISO 3166 code (MX, MEX), got {country!r}")
    pid = f"partner-{_slug(name)}"
    if session.get(Partner, pid) is not None:
        raise ConflictError(f"partner {name!r} already exists ({pid})")
    partner = Partner(id=pid, name=name, country=country, policy=policy.to_dict())
    session.add(partner)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="partner.add",
        entity="partner",
        entity_id=pid,
        after={"name": name, "country": country, "policy": policy.to_dict()},
    )
    return partner


def find_partner(session: Session, key: str) -> Partner:
    """Return the partner with this id or name.

    Raises
    ------
    NotFoundError
        If there is none.
    """
    partner = session.get(Partner, key)
    if partner is None:
        partner = session.scalars(select(Partner).where(Partner.name == key)).first()
    if partner is None:
        raise NotFoundError(f"no partner {key!r}")
    return partner


def partner_policy(partner: Partner) -> ReleasePolicy:
    """Return a partner's release policy."""
    return ReleasePolicy.from_dict(partner.policy or {})


def set_policy(session: Session, key: str, policy: ReleasePolicy, *, actor: str) -> Partner:
    """Replace a partner's release policy (applies to leads released from now on)."""
    partner = find_partner(session, key)
    before = dict(partner.policy or {})
    partner.policy = policy.to_dict()
    session.flush()
    append_event(
        session,
        actor=actor,
        action="partner.policy",
        entity="partner",
        entity_id=partner.id,
        before={"policy": before},
        after={"policy": policy.to_dict()},
    )
    return partner


def list_partners(session: Session) -> list[dict[str, Any]]:
    """Return every partner (id, name, country, policy), by name."""
    return [
        {"id": p.id, "name": p.name, "country": p.country, "policy": partner_policy(p).to_dict()}
        for p in session.scalars(select(Partner).order_by(Partner.name))
    ]
