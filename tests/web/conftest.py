"""Fixtures of the browser tests: the built workbench served by uvicorn on a seeded
SQLite database, and Debian's Chromium driven by Playwright.

Without ``/usr/bin/chromium`` (or the ``playwright`` package, or npm to build the
front-end) the tests are skipped, unless ``PLUMETRACE_REQUIRE_BROWSER=1``: then they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from plumetrace import security
from plumetrace.api import create_app
from plumetrace.io import evidence_files
from plumetrace.io.audit_files import AuditRecord
from plumetrace.settings import Settings
from plumetrace.sites.context import SiteContext
from plumetrace.store import organizations as orgs
from plumetrace.store import workflow
from plumetrace.store.context import set_site_contexts
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.flights import store_audit
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import Detection, Site
from plumetrace.store.users import find_user
from tests.api.conftest import LON0, T0, add_people, det
from tests.live import serve

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
STATIC = REPO / "src" / "plumetrace" / "api" / "static"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}


def unavailable(reason: str) -> None:
    """Skip, or fail when the browser tests are required (``PLUMETRACE_REQUIRE_BROWSER=1``)."""
    if os.environ.get("PLUMETRACE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required but {reason}")
    pytest.skip(reason)


# --------------------------------------------------------------------------- front-end


def _newest_source() -> float:
    files = [WEB / n for n in ("index.html", "package.json", "package-lock.json")]
    files += [*WEB.glob("*.config.ts"), WEB / "tsconfig.json"]
    files += [p for p in (WEB / "src").rglob("*") if p.is_file()]
    return max(p.stat().st_mtime for p in files if p.exists())


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, cwd=WEB, capture_output=True, text=True, timeout=600, check=False)
    if r.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` in web/ failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


@pytest.fixture(scope="session")
def static_dir() -> Path:
    """The built workbench; built first when missing or older than web/'s sources."""
    index = STATIC / "index.html"
    if index.exists() and index.stat().st_mtime >= _newest_source():
        return STATIC
    if shutil.which("npm") is None:
        unavailable("npm is not installed (needed to build the workbench)")
    if not (WEB / "node_modules").is_dir():
        _run(["npm", "ci", "--no-audit", "--no-fund"])
    _run(["npm", "run", "build"])
    assert index.exists(), "npm run build wrote no index.html"
    return STATIC


# --------------------------------------------------------------------------- database


def _png(width: int = 96, height: int = 64) -> bytes:
    """A small RGB PNG (a plume-like blob on a grey ground), made without any library."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0
        for x in range(width):
            d = ((x - width * 0.35) / (width * 0.4)) ** 2 + ((y - height / 2) / (height * 0.2)) ** 2
            v = max(0.0, 1.0 - d)
            row += bytes((int(120 + 135 * v), int(120 + 60 * v), int(120 - 80 * v)))
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


HOME_CONTEXT = SiteContext(
    people_100m=64.0,
    people_500m=1450.0,
    in_building=True,
    residential=True,
    building_distance_m=0.0,
    nearest_school_m=310.0,
    nearest_hospital_m=1800.0,
    exposure="high",
    advisory=(
        "High exposure: the source is likely inside a residential building, with about 64 "
        "people within 100 m and a school 310 m away. Ground investigation only, with local "
        "authorities ready to evacuate or shelter residents in place; responders need "
        "protection against toxic vapours and the fire and explosion risk of a lab."
    ),
)


@dataclass
class Seeded:
    """What the database holds before the first test: users, sites, an organization."""

    passwords: dict[str, str]
    sites: dict[str, str]
    """Role in the tests -> site id: ``home`` (e2e flow), ``conflict`` (409), ``other``."""
    organization: str


def _site_at(session: Any, x: float) -> str:
    """The id of the live site whose longitude is nearest the seed's local x (m)."""
    rows = session.execute(sa.select(Site.id, Site.lon).where(Site.merged_into.is_(None))).all()
    target = LON0 + x / (111_320 * 0.85)
    return str(min(rows, key=lambda r: abs(r.lon - target)).id)


def seed(engine: sa.Engine, home: Path) -> Seeded:
    """Partners, a user of every role, four sites (one in a home, with context, an image
    and a second pass), and an organization with a designation and an attribution."""
    passwords: dict[str, str] = {}
    saved = security._HASHER
    security._HASHER = PasswordHasher(time_cost=1, memory_cost=1024)  # cheap test hashes
    try:
        with session_scope(engine, write=True) as s:
            passwords = {name: pw for name, (_user, pw) in add_people(s).items()}
    finally:
        security._HASHER = saved
    with session_scope(engine, write=True) as s:
        spec = FlightSpec("flt-1", operator="border-unit", platform="ac-1", sensor="aviris-ng")
        records = [det("p1", 0, 0), det("p2", 8000, 0), det("p3", 16000, 0), det("p4", 24000, 0)]
        ingest_detections(s, spec, records, time=T0, actor="test", source="t")
    with session_scope(engine, write=True) as s:
        spec2 = FlightSpec("flt-2", operator="border-unit", platform="ac-2", sensor="avirisng")
        ingest_detections(
            s, spec2, [det("p1b", 5, 3)], time=T0 + timedelta(days=1), actor="test", source="t"
        )
    with session_scope(engine, write=True) as s:
        sites = {"home": _site_at(s, 0), "conflict": _site_at(s, 8000), "other": _site_at(s, 16000)}
        row = s.get(Site, sites["home"])
        assert row is not None
        pos = {"id": row.id, "confidence": row.confidence, "rate_kg_h": row.rate_kg_h}
        set_site_contexts(s, [(pos, HOME_CONTEXT.to_dict())])
        ana = find_user(s, "ana")
        data = _png()
        sha = evidence_files.store_evidence_file(Settings(home=home).evidence_dir, data)
        workflow.add_attachment(
            s,
            sites["home"],
            sha256=sha,
            filename="plume-flt-1.png",
            media_type="image/png",
            size=len(data),
            by=ana,
        )
        org = orgs.create_organization(s, "Los Cocineros", ["LC"], by=ana)
        sue = find_user(s, "sue")
        orgs.add_designation(
            s,
            org["id"],
            authority="Ministry of Justice",
            designation="criminal organization",
            date="2025-11-04",
            reference="Resolution 12/2025",
            by=sue,
        )
        orgs.attribute(
            s, sites["home"], org["id"], confidence=0.7, basis="informant report", by=ana
        )
        orgs.attribute(s, sites["other"], org["id"], confidence=0.4, basis="same supply", by=ana)
        _plume_image(s, sites["home"], sha)
        store_audit(s, FlightSpec("flt-1"), border_audit(), actor="test")
    return Seeded(passwords, sites, org["id"])


def _plume_image(session: Any, site_id: str, sha: str) -> None:
    """Give the site's first plume an outline and an image, as a plume ingest does."""
    plume = session.scalars(
        sa.select(Detection)
        .where(Detection.site_id == site_id, Detection.kind == "plume")
        .order_by(Detection.time)
    ).first()
    lon, lat = plume.lon, plume.lat
    w, s, e, n = lon - 0.0008, lat - 0.0012, lon + 0.0045, lat + 0.0012
    outline = [[lon, lat], [e, lat + 0.0009], [e, lat - 0.0009], [lon, lat]]
    plume.properties = {
        "outline": {"type": "Polygon", "coordinates": [outline]},
        "image": {"sha256": sha, "bounds": [[s, w], [n, e]]},
        "max_ppm_m": 1850.0,
    }


def border_audit() -> AuditRecord:
    """An audit of flight flt-1: a track along the border that strays south once."""
    t = [T0 + timedelta(minutes=m) for m in (0, 12, 20, 31, 45)]
    track = [
        [-106.52, 31.80],
        [-106.45, 31.765],
        [-106.40, 31.735],
        [-106.33, 31.77],
        [-106.15, 31.80],
    ]
    entry, exit_ = [-106.468, 31.774], [-106.352, 31.759]
    incursion = {
        "zone": "MEX",
        "entry_time": (t[1] - timedelta(minutes=3)).isoformat(),
        "exit_time": (t[3] - timedelta(minutes=4)).isoformat(),
        "duration_s": 1380.0,
        "max_depth_m": 2300.0,
        "entry_lat": entry[1],
        "entry_lon": entry[0],
        "exit_lat": exit_[1],
        "exit_lon": exit_[0],
    }
    report = {
        "operator": "border-unit",
        "points": 2700,
        "start": t[0].isoformat(),
        "end": t[-1].isoformat(),
        "total_unauthorized_s": 1380.0,
        "incursions": [incursion],
        "warnings": [],
        "authorized": ["USA", "international"],
    }
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": track},
            "properties": {"kind": "track", "operator": "border-unit"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [entry, *track[1:3], exit_]},
            "properties": {"kind": "incursion", **incursion},
        },
    ]
    digest = hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()
    return AuditRecord(report, features, (-106.52, 31.735, -106.15, 31.80), digest)


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    """The workbench and API on a local port, and what the database was seeded with."""

    url: str
    engine: sa.Engine
    seeded: Seeded

    def password(self, name: str) -> str:
        return self.seeded.passwords[name]


@pytest.fixture(scope="session")
def server(static_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn serving ``create_app`` (and the built files at ``/``) on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("web")
    home = tmp / "home"
    url = f"sqlite:///{tmp / 'plumetrace.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded = seed(engine, home)
    app = create_app(Settings(home=home, database_url=url))  # serves static_dir at "/"
    try:
        with serve(app) as base:
            with urllib.request.urlopen(f"{base}/", timeout=10) as r:  # the built page
                assert b'<div id="app">' in r.read(), "/ does not serve the built workbench"
            yield Server(base, engine, seeded)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests' screenshots go: a temporary directory (the README's pictures are
    taken on the demo's scenario by ``scripts/screenshots.sh``)."""
    return tmp_path_factory.mktemp("screenshots")
