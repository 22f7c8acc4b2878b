"""Screenshots of the workbench's main views on the demo's scenario, for the README.

Builds the demo (``plumetrace demo --no-serve`` in-process, so the logins are known),
serves its store with ``plumetrace serve`` on a free local port, and drives Debian's
Chromium with Playwright through the views an analyst, a supervisor and the partner see.
The pictures go to ``docs/screenshots/`` (1280 x 800).

Usage: ``.venv/bin/python scripts/demo_screenshots.py [OUT_DIR]`` (default: a temporary
directory); ``scripts/screenshots.sh`` sets up and runs it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from plumetrace.pipeline.demo import run_demo
from plumetrace.pipeline.demo_scenes import staged_scenes

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PLUMETRACE_HOME": str(home)}
    exe = Path(sys.executable).with_name("plumetrace")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if b'<div id="app">' in r.read():
                    return proc
                raise SystemExit("the server does not serve the built page: run scripts/setup.sh")
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("plumetrace serve did not start") from None
            time.sleep(0.2)


def _login(page: Page, name: str, password: str) -> None:
    page.goto("/#/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".user .who")).to_contain_text(name)


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # map tiles of vector layers and charts settle
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
    print(f"  {SHOTS / f'{name}.png'}")


def _town_site(home: Path) -> str:
    """The site of the town pass's second lab (it has a plume image and a dense-town context)."""
    import math

    from plumetrace.store.engine import make_engine, session_scope
    from plumetrace.store.sites import list_sites

    town = staged_scenes(1000, 598)[0]
    lat, lon, _ = town.spec(0).placed[1]
    engine = make_engine(f"sqlite:///{home / 'plumetrace.db'}")
    try:
        with session_scope(engine) as s:
            sites = list_sites(s, limit=100_000)
    finally:
        engine.dispose()

    def dist(site: dict[str, Any]) -> float:
        return math.hypot((site["lat"] - lat) * 111_000, (site["lon"] - lon) * 94_000)

    return str(min(sites, key=dist)["id"])


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="demo-"))
    print(f"building the demo in {out}")
    summary = run_demo(out, step=lambda msg: print(f"  {msg}"))
    assert summary.sites is not None and summary.sites["share"] is not None
    share = summary.sites["share"]
    logins = {name: pw for name, (_role, pw) in share["logins"].items()}
    home = Path(summary.sites["home"])
    town_site = _town_site(home)
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = _serve(home, port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            size: ViewportSize = {"width": 1280, "height": 800}

            def page_of(user: str | None) -> Page:
                ctx = browser.new_context(viewport=size, base_url=f"http://127.0.0.1:{port}")
                page = ctx.new_page()
                if user is not None:
                    _login(page, user, logins[user])
                return page

            print("screenshots:")
            page = page_of(None)
            page.goto("/")
            expect(page.get_by_role("button", name="Log in")).to_be_visible()
            _shot(page, "login")

            page = page_of("ana")
            expect(page.locator("#sites-table tbody tr").first).to_be_visible()
            _shot(page, "queue")
            page.goto(f"/#/site/{town_site}")
            expect(page.locator(".chip img").first).to_have_attribute("src", re.compile("^blob:"))
            _shot(page, "dossier", full_page=True)
            page.get_by_role("link", name="Map", exact=True).click()
            expect(page.locator("path.site-marker").first).to_be_visible()
            _shot(page, "map-overview")
            town = staged_scenes(1000, 598)[0]  # the town pass, its plumes over the town
            page.goto(f"/#/map/{town.lat:.5f}/{town.lon - 0.01:.5f}/14")
            expect(page.locator("img.leaflet-image-layer").first).to_be_visible()
            _shot(page, "map")
            page.get_by_role("link", name="Organizations").click()
            page.locator("#orgs-table a").first.click()
            expect(page.locator("svg.graph")).to_be_visible()
            _shot(page, "organizations")
            page.get_by_role("link", name="Flights").click()
            expect(page.locator("#flights-map path.leaflet-interactive").first).to_be_visible()
            _shot(page, "flights")

            page = page_of("sue")
            page.goto("/#/leads")
            expect(page.locator("#leads-table tbody tr").first).to_be_visible()
            _shot(page, "leads")
            page.goto(f"/#/lead/{share['lead']}")
            expect(page.locator("#released-h")).to_be_visible()
            _shot(page, "lead")
            page.goto("/#/dashboard")
            expect(page.locator("canvas").first).to_be_visible()
            _shot(page, "dashboard")

            page = page_of("pat")
            expect(page.locator(".partner-lead").first).to_be_visible()
            _shot(page, "partner")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
