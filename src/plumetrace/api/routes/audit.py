"""The audit log: verify the hash chain."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from plumetrace.api.deps import ReadSession, allow, present
from plumetrace.store.audit_log import verify

__all__ = ["router"]

router = APIRouter(tags=["audit"])


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
