from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from plumetrace.api import create_app
from plumetrace.api.headers import content_security_policy
from plumetrace.settings import Settings
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import AuditEvent
from plumetrace.store.users import add_user

from .conftest import Api, TestClient


def test_page_and_data_get_their_own_policies(api: Api) -> None:
    page = api.client.get("/")
    csp = page.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in page.headers  # plain HTTP here
    data = api.get("/api/sites", "ana")
    assert data.status_code == 200
    assert data.headers["Cache-Control"] == "no-store"
    assert data.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    denied = api.client.get("/api/sites")  # errors carry them too
    assert denied.status_code == 401 and denied.headers["Cache-Control"] == "no-store"
    docs = api.client.get("/docs")  # FastAPI's page loads its scripts from a CDN: untouched
    assert docs.status_code == 200 and "Content-Security-Policy" not in docs.headers


def test_over_https_browsers_are_told_to_stay(api: Api) -> None:
    r = api.client.get("/api/sites", headers=api.auth("ana"), follow_redirects=False)
    assert "Strict-Transport-Security" not in r.headers
    tls = TestClient(api.client.app, base_url="https://plumetrace.example")
    r = tls.get("/api/sites", headers=api.auth("ana"))
    assert r.status_code == 200 and r.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        (None, None),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        ("javascript:alert(1)", None),
    ],
)
def test_a_configured_basemap_may_serve_images(url: str | None, origin: str | None) -> None:
    img = next(d for d in content_security_policy(url).split("; ") if d.startswith("img-src"))
    assert img == "img-src 'self' blob: data:" + ("" if origin is None else f" {origin}")


def test_audit_chain_is_verified_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine, write=True) as s:
        add_user(s, "ana", "analyst", actor="test")
        add_user(s, "bob", "analyst", actor="test")
    settings = Settings(home=tmp_path, database_url=url)
    with TestClient(create_app(settings)) as client:
        audit = client.app.state.audit  # type: ignore[attr-defined]
        assert audit.ok and audit.events == 2
    with engine.begin() as con:  # someone with the database file edits the log
        con.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        con.execute(sa.update(AuditEvent).where(AuditEvent.seq == 1).values(actor="mallory"))
    caplog.set_level(logging.INFO, logger="plumetrace.api.app")
    with TestClient(create_app(settings)) as client:  # still serves, and says so
        assert client.app.state.audit.ok is False  # type: ignore[attr-defined]
        assert client.get("/").status_code in (200, 503)
    assert any(r.levelno == logging.ERROR and "BROKEN" in r.message for r in caplog.records)
    engine.dispose()
