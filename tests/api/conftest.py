"""Fixtures of the API tests: a migrated database of each backend, users, seeded sites."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette asks for ``httpx2``; until the dev dependencies carry it, httpx works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient as TestClient

from sqlalchemy.orm import Session

from plumetrace import security
from plumetrace.api import create_app
from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord
from plumetrace.settings import Settings
from plumetrace.share.policy import ReleasePolicy
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import Site, User
from plumetrace.store.partners import add_partner
from plumetrace.store.users import add_user, issue_token

LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)

USERS = {
    "ana": "analyst",
    "bob": "analyst",
    "sue": "supervisor",
    "lia": "liaison",
    "pat": "partner",
    "pax": "partner",
    "adm": "admin",
}


PARTNERS = {"pat": ("Fiscalia", "MX"), "pax": ("Other Agency", "GT")}
"""Each partner user's partner (name, country)."""


def det(key: str, x: float, y: float, sigma: float = 20.0) -> DetectionRecord:
    _fwd, inv = local_projection(LON0, LAT0)
    lon, lat = inv.transform(x, y)
    return DetectionRecord(key, "plume", float(lat), float(lon), sigma, 50.0, 35.0, 65.0, 0.8)


def seed_sites(engine: sa.Engine) -> list[str]:
    """Ingest two far-apart detections: two candidate sites; return their ids."""
    with session_scope(engine, write=True) as s:
        r = ingest_detections(
            s,
            FlightSpec("flt-1", operator="border-unit", platform="ac-1", sensor="aviris-ng"),
            [det("p1", 0, 0), det("p2", 8000, 0)],
            time=T0,
            actor="test",
            source="t",
        )
    return sorted(r.sites_created)


@dataclass
class Api:
    """A running app on a seeded database."""

    client: TestClient
    engine: sa.Engine
    home: Path
    sites: list[str]
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def get(self, path: str, who: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.auth(who), **kw)

    def post(self, path: str, who: str, **kw: Any) -> Any:
        return self.client.post(path, headers=self.auth(who), **kw)

    def version(self, site_id: str) -> int:
        with session_scope(self.engine) as s:
            return int(s.scalar(sa.select(Site.version).where(Site.id == site_id)) or -1)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash test passwords with cheap Argon2 parameters (verification follows the hash)."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


def add_people(s: Session) -> dict[str, tuple[User, str]]:
    """Add the partners and a user of every role (:data:`USERS`); return user, password."""
    for pname, country in PARTNERS.values():
        add_partner(s, pname, ReleasePolicy(), country=country, actor="test")
    out = {}
    for name, role in USERS.items():
        partner = (
            f"partner-{PARTNERS[name][0].lower().replace(' ', '-')}" if name in PARTNERS else None
        )
        user, pw = add_user(s, name, role, actor="test", partner_id=partner)
        user.must_change_password = False  # as if each had set their own already
        out[name] = (user, pw)
    return out


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    engine = make_engine(db_url)
    upgrade(engine)
    passwords: dict[str, str] = {}
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    with session_scope(engine, write=True) as s:
        for name, (user, pw) in add_people(s).items():
            passwords[name] = pw
            ids[name] = user.id
            tokens[name], _ = issue_token(s, user, timedelta(hours=1))
    sites = seed_sites(engine)
    home = tmp_path / "home"
    app = create_app(Settings(home=home, database_url=db_url))
    with TestClient(app) as client:
        yield Api(client, engine, home, sites, passwords, tokens, ids)
    engine.dispose()


def confirm(api: Api, site_id: str) -> None:
    """Confirm a site as analyst ``ana`` (through the API, as the workbench would)."""
    r = api.post(
        f"/api/sites/{site_id}/reviews",
        "ana",
        json={"decision": "confirm", "version": api.version(site_id)},
    )
    assert r.status_code == 200, r.text


def release_lead(
    api: Api, partner: str = "Fiscalia", sites: list[str] | None = None, **fields: Any
) -> str:
    """Confirm ``sites`` (default the first seeded one), draft a lead as ``lia`` and have
    ``sue`` approve it; return the lead id."""
    sites = sites or api.sites[:1]
    for sid in sites:
        with session_scope(api.engine) as s:
            status = s.get(Site, sid).status  # type: ignore[union-attr]
        if status != "confirmed":
            confirm(api, sid)
    body = {"partner": partner, "sites": sites, "title": "Suspected lab", **fields}
    r = api.post("/api/leads", "lia", json=body)
    assert r.status_code == 201, r.text
    lead_id = str(r.json()["id"])
    r = api.post(f"/api/leads/{lead_id}/approve", "sue")
    assert r.status_code == 200, r.text
    return lead_id
