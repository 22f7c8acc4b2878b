"""Compartments: sites restricted to a team, hidden from staff outside it.

A site may carry a ``compartment`` (a team name); staff users carry the compartments
they belong to. A staff user's session sees a restricted site only if they belong to
its compartment — nor anything that belongs to the site: its detections, reports,
evidence links, pass records, reviews, assignments, collection requests, attachments
and attributions, nor the leads that include it. Sites without a compartment are
visible to all staff (the default: compartments are off until a site is restricted).

The rule is enforced in one place, for every ORM statement a session runs (SQLAlchemy's
``do_orm_execute`` event with ``with_loader_criteria``): a route cannot forget it, and a
hidden site looks exactly like a missing one (404). A session is filtered when it is
given a viewer (:func:`view_as`); command-line sessions and partner sessions (which only
read frozen releases) are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import event, exists, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from plumetrace.errors import AuthError, InvalidParameterError
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import (
    Assignment,
    Attachment,
    Attribution,
    CollectionRequest,
    Detection,
    EvidenceLink,
    Lead,
    LeadSite,
    Report,
    Review,
    Site,
    SitePass,
    User,
)
from plumetrace.store.users import lookup_token, token_user_query
from plumetrace.store.workflow import bump_site, live_site

__all__ = [
    "check_compartment",
    "hidden_sites",
    "install_compartment_filter",
    "is_hidden",
    "set_site_compartment",
    "set_user_compartments",
    "view_as",
    "viewer_for_token",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_VIEWER = "plumetrace_viewer"
_HIDDEN = "plumetrace_hidden"
_SITE_OWNED: tuple[Any, ...] = (
    Detection,
    Report,
    EvidenceLink,
    SitePass,
    Review,
    Assignment,
    CollectionRequest,
    Attachment,
    Attribution,
    LeadSite,
)
_installed = False


def check_compartment(name: str) -> str:
    """Return ``name`` if it is a valid compartment name (lowercase, 1-64 characters).

    Raises
    ------
    InvalidParameterError
    """
    if not _NAME.fullmatch(name):
        raise InvalidParameterError(
            f"a compartment name is 1-64 lowercase letters, digits, '-' or '_', got {name!r}"
        )
    return name


def view_as(session: Session, viewer: Callable[[], Sequence[str] | None]) -> None:
    """Filter ``session`` for a viewer.

    Parameters
    ----------
    viewer : callable
        Called at the session's first statement: the compartments the viewer belongs
        to, or None for no filtering (it is called late so that it can read who the
        request turned out to be).
    """
    session.info[_VIEWER] = viewer


def _hidden(session: Session) -> tuple[list[str], list[str]]:
    """Return the sites and leads the viewer may not see (computed once per session)."""
    cached = session.info.get(_HIDDEN)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    member = session.info[_VIEWER]()
    if member is None:
        out: tuple[list[str], list[str]] = ([], [])
    else:
        sites_t, leads_t = Site.__table__, LeadSite.__table__
        # Core statements on the connection: not filtered, not re-entering the event
        conn = session.connection()
        hidden_q = select(sites_t.c.id).where(sites_t.c.compartment.is_not(None))
        if member:
            hidden_q = hidden_q.where(sites_t.c.compartment.not_in(list(member)))
        sites = list(conn.execute(hidden_q).scalars())
        while sites:  # and the merged stubs that point at them (they name them)
            stubs = set(
                conn.execute(select(sites_t.c.id).where(sites_t.c.merged_into.in_(sites))).scalars()
            ) - set(sites)
            if not stubs:
                break
            sites += sorted(stubs)
        leads = (
            list(
                conn.execute(
                    select(leads_t.c.lead_id).where(leads_t.c.site_id.in_(sites)).distinct()
                ).scalars()
            )
            if sites
            else []
        )
        out = (sites, leads)
    session.info[_HIDDEN] = out
    return out


def _filter(state: ORMExecuteState) -> None:
    if _VIEWER not in state.session.info:
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria below propagate to these
    if not (state.is_select or state.is_update or state.is_delete):
        return
    sites, leads = _hidden(state.session)
    if not sites:
        return
    options = [with_loader_criteria(Site, Site.id.not_in(sites), include_aliases=True)]
    for model in _SITE_OWNED:
        column = model.site_id
        nullable = model.__table__.c.site_id.nullable
        crit = or_(column.is_(None), column.not_in(sites)) if nullable else column.not_in(sites)
        options.append(with_loader_criteria(model, crit, include_aliases=True))
    if leads:
        options.append(with_loader_criteria(Lead, Lead.id.not_in(leads), include_aliases=True))
    state.statement = state.statement.options(*options)


_VIEWER_BY_TOKEN = token_user_query(
    exists().where(Site.__table__.c.compartment.is_not(None)).label("any_restricted")
)


def viewer_for_token(session: Session, token: str) -> User:
    """Return a token's user (:func:`~plumetrace.store.users.user_for_token`).

    In the same round trip it learns whether any site is restricted at all: if none is,
    the session's filter knows that nothing is hidden without a query of its own (the
    API's every request starts here).

    Raises
    ------
    AuthError
        (401) if the token is unknown, expired or its user inactive.
    """
    user, row = lookup_token(session, token, _VIEWER_BY_TOKEN)
    if not row["any_restricted"]:
        session.info[_HIDDEN] = ([], [])
    return user


def hidden_sites(session: Session) -> list[str]:
    """Return the sites the session's viewer may not see (none if unfiltered).

    For Core statements run on the session's connection, which the filter does not
    reach: a hot query that skips the ORM applies ``Site.id.not_in(...)`` itself.
    """
    if _VIEWER not in session.info:
        return []
    return _hidden(session)[0]


def is_hidden(session: Session, entity: str, entity_id: str) -> bool:
    """Whether the session's viewer may not see this site or lead (False if unfiltered)."""
    if _VIEWER not in session.info or entity not in ("site", "lead"):
        return False
    sites, leads = _hidden(session)
    return entity_id in (sites if entity == "site" else leads)


def install_compartment_filter() -> None:
    """Register the filter on every session (once; idempotent)."""
    global _installed
    if not _installed:
        event.listen(Session, "do_orm_execute", _filter)
        _installed = True


def set_site_compartment(
    session: Session, site_id: str, compartment: str | None, *, by: User, version: int | None
) -> dict[str, Any]:
    """Restrict a site to a compartment (or open it to all staff, with None).

    A supervisor may restrict a site only to a compartment they belong to (they would
    otherwise lose sight of it themselves). Audited as ``site.compartment``.

    Raises
    ------
    NotFoundError
        No such site (or one the user may not see).
    AuthError
        (403) The user does not belong to the compartment.
    ConflictError
        The site changed since ``version`` (None: the operator acts on the current one).
    """
    if compartment is not None:
        check_compartment(compartment)
        if compartment not in (by.compartments or []):
            raise AuthError(
                f"you do not belong to compartment {compartment!r}: an admin adds you first"
            )
    site = live_site(session, site_id)
    before = {"compartment": site.compartment}
    expected = site.version if version is None else version
    new_version = bump_site(session, site, expected, compartment=compartment)
    append_event(
        session,
        actor=by.name,
        action="site.compartment",
        entity="site",
        entity_id=site.id,
        before=before,
        after={"compartment": compartment},
    )
    return {"id": site_id, "compartment": compartment, "version": new_version}


def set_user_compartments(
    session: Session, user: User, compartments: Sequence[str], *, actor: str
) -> list[str]:
    """Set the compartments a user belongs to (audited as ``user.compartments``)."""
    names = sorted({check_compartment(c) for c in compartments})
    before = {"compartments": list(user.compartments or [])}
    user.compartments = names
    session.flush()
    append_event(
        session,
        actor=actor,
        action="user.compartments",
        entity="user",
        entity_id=user.id,
        before=before,
        after={"compartments": names},
    )
    return names
