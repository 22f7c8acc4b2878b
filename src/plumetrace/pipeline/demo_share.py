"""The demo's sharing chapter: a confirmed site becomes a lead, released, answered, verified.

On the demo's embedded store: an analyst confirms the top of the review queue, a liaison
drafts a lead for the partner (a demo partner with the default policy: sources and
methods withheld, TLP:AMBER), a supervisor releases it, every partner format is written
to ``OUT/share``, and the partner's answer follows on a sped-up clock: acknowledgement,
feedback (lab dismantled), and a re-survey pass over the site that verifies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from plumetrace.io._atomic import atomic_write_bytes, ensure_dir
from plumetrace.settings import Settings
from plumetrace.share.export import EXPORT_FORMATS, render_lead
from plumetrace.share.policy import ReleasePolicy
from plumetrace.store.engine import session_scope
from plumetrace.store.lead_response import (
    lead_detail,
    lead_metrics,
    record_event,
    verify_by_surveys,
)
from plumetrace.store.leads import approve_lead, draft_lead, release_of
from plumetrace.store.models import Site, User
from plumetrace.store.partners import add_partner
from plumetrace.store.sites import review_queue
from plumetrace.store.types import utcnow
from plumetrace.store.users import add_user
from plumetrace.store.workflow import review

__all__ = [
    "DEMO_PARTNER",
    "DEMO_USERS",
    "DemoPeople",
    "demo_people",
    "lead_candidates",
    "share_demo",
]

DEMO_PARTNER = ("Fiscalia General (demo)", "MX")
"""The demo's partner: name and country."""

DEMO_USERS = {"ana": "analyst", "sue": "supervisor", "lia": "liaison", "pat": "partner"}
"""The demo's users and their roles."""

_EXT = {"stix": "stix.json", "geojson": "geojson", "kml": "kml", "cot": "cot.xml"}


def _users(s: Session, partner_id: str) -> tuple[dict[str, User], dict[str, str]]:
    """Create the demo's users; their random passwords stay valid (a demo, on localhost)."""
    out, passwords = {}, {}
    for name, role in DEMO_USERS.items():
        user, password = add_user(
            s, name, role, actor="demo", partner_id=partner_id if role == "partner" else None
        )
        user.must_change_password = False
        out[name], passwords[name] = user, password
    return out, passwords


def _resurvey(engine: Engine, site: dict[str, Any], actor: str) -> None:
    """Fly a short pass over the site that sees no emission (its coverage only)."""
    from shapely.geometry import box

    from plumetrace.geo import lonlat_box
    from plumetrace.store.ingest import FlightSpec, ingest_coverage

    west, south, east, north = lonlat_box([site["lat"]], [site["lon"]], 500.0)
    with session_scope(engine, write=True) as s:
        ingest_coverage(
            s,
            FlightSpec("flt-demo-resurvey", "border-unit", "ac-1", "aviris-ng"),
            box(west, south, east, north),
            time=utcnow(),
            actor=actor,
            source="demo re-survey",
        )


@dataclass(frozen=True)
class DemoPeople:
    """The demo's partner and users (with their passwords, valid on this store only)."""

    partner_id: str
    user_ids: dict[str, str]
    passwords: dict[str, str]


def _user(s: Session, user_id: str) -> User:
    user = s.get(User, user_id)
    assert user is not None
    return user


def demo_people(engine: Engine) -> DemoPeople:
    """Create the demo's partner (default policy) and users."""
    with session_scope(engine, write=True) as s:
        partner = add_partner(
            s, DEMO_PARTNER[0], ReleasePolicy(), country=DEMO_PARTNER[1], actor="demo"
        )
        users, passwords = _users(s, partner.id)
        return DemoPeople(partner.id, {n: u.id for n, u in users.items()}, passwords)


def lead_candidates(engine: Engine, n: int = 3) -> list[str]:
    """Return the top ``n`` sites of the review queue with confidence >= 0.5."""
    with session_scope(engine) as s:
        top = [q for q in review_queue(s, page=1, page_size=20) if q["confidence"] >= 0.5]
    return [q["id"] for q in top[:n]]


def share_demo(
    engine: Engine, out: Path, say: Callable[[str], None], people: DemoPeople, site_id: str
) -> dict[str, Any]:
    """Run the sharing chapter on the demo store; return its summary.

    Parameters
    ----------
    engine : Engine
        The demo's migrated store, with sites and their context.
    out : Path
        The demo's output directory; the exports go to ``out / "share"``.
    say : callable
        Progress messages.
    people : DemoPeople
        The partner and the users who act.
    site_id : str
        The site that becomes the lead.
    """
    producer = Settings().producer
    passwords = people.passwords
    with session_scope(engine, write=True) as s:
        users = {name: _user(s, uid) for name, uid in people.user_ids.items()}
        partner_id = people.partner_id
        site = s.get(Site, site_id)
        assert site is not None
        say(f"analyst confirms {site.id}; liaison drafts a lead; supervisor releases it")
        review(
            s,
            site.id,
            "confirm",
            "matches two passes and a tip",
            by=users["ana"],
            expected_version=site.version,
        )
        lead = draft_lead(
            s,
            partner=partner_id,
            site_ids=[site.id],
            by=users["lia"],
            title="Suspected clandestine production site",
            summary="Repeated chemical vapour emissions from one location; see the advisory.",
            internal_note="ana: confirmed from the queue in the demo",
        )
        approve_lead(s, lead.id, by=users["sue"], producer=producer)
        lead_id, site_pos = lead.id, {"lat": site.lat, "lon": site.lon}
        frozen = release_of(lead)
    share = ensure_dir(out / "share")
    files = {}
    for fmt in EXPORT_FORMATS:
        body, _media = render_lead(frozen, fmt)
        path = share / f"{lead_id}.{_EXT[fmt]}"
        atomic_write_bytes(path, body)
        files[fmt] = str(path)
    say("partner acknowledges, reports the lab dismantled; a re-survey verifies it")
    with session_scope(engine, write=True) as s:
        pat = _user(s, people.user_ids["pat"])
        record_event(s, lead_id, "acknowledged", by=pat)
        record_event(s, lead_id, "action", by=pat, time=utcnow())
        record_event(
            s,
            lead_id,
            "feedback",
            by=pat,
            outcome="dismantled",
            text="Lab found in a house and dismantled; residents evacuated first.",
        )
    _resurvey(engine, site_pos, "demo")
    with session_scope(engine, write=True) as s:
        verify_by_surveys(s)
        detail = lead_detail(s, lead_id)
        metrics = lead_metrics(s, utcnow() + timedelta(seconds=1))
    return {
        "lead": lead_id,
        "site": detail["sites"][0],
        "state": detail["state"],
        "verification": detail["verification"],
        "tlp": detail["tlp"],
        "withheld": (detail["redaction"] or {}).get("withheld", {}),
        "files": files,
        "response_rate": metrics["overall"]["response_rate"],
        "logins": {name: (DEMO_USERS[name], pw) for name, pw in passwords.items()},
    }
