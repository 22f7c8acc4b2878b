"""The audit log: verify the hash chain; one entity's events."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from plumetrace.api.deps import ReadSession, SessionRoute, allow, present
from plumetrace.errors import NotFoundError
from plumetrace.store.audit_log import events_for, verify
from plumetrace.store.compartments import is_hidden

__all__ = ["router"]

router = APIRouter(tags=["audit"], route_class=SessionRoute)


@router.get("/api/audit/verify", **allow("supervisor", "admin"))
def verify_chain(
    session: ReadSession,
    expect_head: Annotated[
        str | None, Query(max_length=200, description="A published SEQ:HASH head")
    ] = None,
) -> dict[str, Any]:
    """Recompute the audit chain and report any edit, deletion or reordering."""
    result = verify(session, expect_head=expect_head)
    return present({**asdict(result), "head": f"{result.head_seq}:{result.head_hash}"})


@router.get("/api/audit/events", **allow("analyst", "supervisor", "liaison", "admin"))
def entity_events(
    session: ReadSession,
    entity: Annotated[str, Query(max_length=32, description="site, lead, organization...")],
    entity_id: Annotated[str, Query(max_length=64)],
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> dict[str, Any]:
    """List one entity's audit events, newest first (its audit trail)."""
    if is_hidden(session, entity, entity_id):  # a restricted site looks like a missing one
        raise NotFoundError(f"no {entity} {entity_id!r}")
    return present({"events": events_for(session, entity, entity_id, limit)})
