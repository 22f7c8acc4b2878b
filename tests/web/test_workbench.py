"""The analysts' workbench in a real browser: the review-to-response flow end to end, a
stale review explained, the partner's closed-off view, the map and organizations.

Every run takes screenshots of the main views (1280x800) into a temporary directory
(rendering them is part of the check); the README's pictures are taken on the demo's
scenario by ``scripts/screenshots.sh``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

if os.environ.get("PLUMETRACE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

from plumetrace.store.engine import session_scope
from plumetrace.store.models import Review, Site

from .conftest import VIEWPORT, Server

STAFF_ROUTES = ("#/queue", "#/map", "#/orgs", "#/leads", "#/dashboard", "#/flights")


@contextmanager
def as_user(browser: Any, server: Server, name: str | None) -> Iterator[Page]:
    """A fresh browser context (own sessionStorage), logged in as ``name`` unless None;
    fails the test on any uncaught page error or anything the page's strict
    Content-Security-Policy had to block (an inline script or style, a foreign origin)."""
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    blocked: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        if name is not None:
            login(page, server, name)
        yield page
        assert not errors, f"uncaught errors in the page: {errors}"
        assert not blocked, f"the Content-Security-Policy blocked: {blocked}"
    finally:
        context.close()


def login(page: Page, server: Server, name: str) -> None:
    page.goto("/#/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(server.password(name))
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".user .who")).to_contain_text(name)


def shot(page: Page, screenshots: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("document.querySelectorAll('.table-wrap').forEach(e => { e.scrollLeft = 0; })")
    page.screenshot(path=str(screenshots / f"{name}.png"))


def site_status(server: Server, site_id: str) -> str:
    with session_scope(server.engine) as s:
        return str(s.scalar(sa.select(Site.status).where(Site.id == site_id)))


def test_review_to_partner_response(browser: Any, server: Server, screenshots: Path) -> None:
    home = server.seeded.sites["home"]

    # an analyst works the queue: assigns the site, opens its dossier and confirms it
    with as_user(browser, server, None) as page:
        page.goto("/")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        shot(page, screenshots, "login")
        login(page, server, "ana")
        expect(page).to_have_url(re.compile(r"#/queue$"))
        row = page.locator("#sites-table tbody tr", has=page.locator(f"a[href='#/site/{home}']"))
        expect(row).to_contain_text("high")
        row.get_by_role("button", name="Assign to me").click()
        expect(page.get_by_role("status")).to_contain_text(f"Site {home} is now assigned to you")
        expect(row).to_contain_text("you")
        shot(page, screenshots, "queue")

        row.get_by_role("link", name=home).click()
        expect(page.get_by_role("heading", name=f"Site {home}")).to_be_visible()
        status = page.locator(".dossier .heading .actions .badge")
        expect(status).to_have_text("candidate")
        expect(page.locator(".advisory")).to_contain_text("inside a residential building")
        for chip in (".plume-chip", ".chip:not(.plume-chip)"):  # the plume overlay, the upload
            expect(page.locator(f"{chip} img")).to_have_attribute("src", re.compile("^blob:"))
        expect(page.locator(".plume-chip figcaption")).to_contain_text("plume flt-")
        expect(page.locator("#timeline-table tbody tr")).to_have_count(4)  # 2 detections, 2 passes
        expect(page.get_by_text("criminal organization (Ministry of Justice")).to_be_visible()
        shot(page, screenshots, "dossier")
        page.get_by_label("Note").fill("Plume on two passes over the same roof; matches the tip.")
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("status")).to_contain_text("the site is now confirmed")
        expect(status).to_have_text("confirmed")
        # the dossier shows the site's own audit trail (the hash-chained log)
        expect(page.locator("#audit-trail")).to_contain_text("site.review")
        expect(page.locator("#reviews-table")).to_contain_text("Plume on two passes")
    assert site_status(server, home) == "confirmed"

    # the liaison drafts a lead on it
    with as_user(browser, server, "lia") as page:
        expect(page).to_have_url(re.compile(r"#/leads$"))
        form = page.locator("form#draft")
        form.get_by_label("Partner").select_option("Fiscalia")
        form.locator(f"input[name=sites][value='{home}']").check()
        form.get_by_label("Title").fill("Suspected methamphetamine lab in a residential block")
        form.get_by_label("Summary").fill("Two overflights saw a persistent vapour plume.")
        form.get_by_label("Internal note").fill("Tip from source K-7; do not share.")
        form.get_by_label("TLP").select_option("AMBER")
        form.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("status")).to_contain_text("Draft saved")
        lead_id = page.url.rsplit("/", 1)[-1]
        expect(page.locator(".lead-title .tlp").first).to_have_text("TLP:AMBER")
        page.goto("/#/leads")
        expect(page.locator("#leads-table")).to_contain_text("Suspected methamphetamine lab")
        shot(page, screenshots, "leads")

    # a supervisor reviews what would leave and approves the release
    with as_user(browser, server, "sue") as page:
        page.goto(f"/#/lead/{lead_id}")
        preview = page.locator("#preview")
        expect(preview).to_contain_text("Two overflights saw a persistent vapour plume.")
        expect(preview).not_to_contain_text("K-7")  # the internal note stays home
        expect(page.locator("#redaction-table")).to_contain_text("withheld")
        preview.evaluate("e => e.scrollIntoView()")
        shot(page, screenshots, "lead-preview")
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Approve and release").click()
        expect(page.get_by_role("status")).to_contain_text("approved and released")
        expect(page.locator(".lead-title .badge").first).to_have_text("released")
        page.goto("/#/dashboard")
        expect(page.locator("#overall-response-rate")).to_have_text("0 %")

    # the partner sees only its lead and reports the outcome
    with as_user(browser, server, "pat") as page:
        expect(page).to_have_url(re.compile(r"#/partner$"))
        expect(page.locator("nav")).to_have_count(0)
        cards = page.locator(".partner-lead")
        expect(cards).to_have_count(1)
        card = cards.first
        expect(card).to_contain_text("Suspected methamphetamine lab")
        expect(card.locator(".tlp")).to_have_text("TLP:AMBER")
        expect(card).not_to_contain_text("K-7")
        with page.expect_download() as download:  # fetched with the token, saved as a file
            card.get_by_role("button", name="GeoJSON").click()
        assert download.value.suggested_filename == f"{lead_id}.geojson"
        assert "FeatureCollection" in Path(download.value.path()).read_text()
        card.get_by_role("button", name="Acknowledge receipt").click()
        expect(page.get_by_role("status")).to_contain_text("Receipt acknowledged")
        card = page.locator(".partner-lead").first
        card.get_by_label("Outcome", exact=True).select_option("dismantled")
        card.get_by_label("Details").fill("Lab dismantled; residents evacuated beforehand.")
        card.get_by_label("Action date").fill(date.today().isoformat())
        card.get_by_role("button", name="Send feedback").click()
        expect(page.get_by_role("status")).to_contain_text("Feedback sent")
        expect(page.locator(".partner-lead").first).to_contain_text("dismantled")
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, screenshots, "partner")

    # back at headquarters the response rate is now 100 %
    with as_user(browser, server, "sue") as page:
        page.goto("/#/dashboard")
        expect(page.locator("#overall-response-rate")).to_have_text("100 %")
        fiscalia = page.locator("#partner-metrics tbody tr", has_text="Fiscalia")
        expect(fiscalia).to_contain_text("100 %")
        shot(page, screenshots, "dashboard")


def test_stale_review_is_explained(browser: Any, server: Server) -> None:
    site = server.seeded.sites["conflict"]
    with as_user(browser, server, "ana") as ana, as_user(browser, server, "bob") as bob:
        for page in (ana, bob):
            page.goto(f"/#/site/{site}")
            expect(page.locator(".dossier .heading .actions .badge")).to_have_text("candidate")
        bob.get_by_role("button", name="Confirm").click()
        expect(bob.get_by_role("status")).to_contain_text("the site is now confirmed")

        ana.get_by_role("button", name="Reject").click()
        alert = ana.get_by_role("alert")
        expect(alert).to_contain_text("Another analyst changed this site")
        expect(alert).to_contain_text("nothing was saved")
        alert.get_by_role("button", name="Reload").click()
        expect(ana.locator(".dossier .heading .actions .badge")).to_have_text("confirmed")
        expect(ana.get_by_role("alert")).to_have_count(0)
    assert site_status(server, site) == "confirmed"
    with session_scope(server.engine) as s:
        decisions = s.scalars(sa.select(Review.decision).where(Review.site_id == site)).all()
    assert decisions == ["confirm"]


def test_partner_has_no_staff_navigation(browser: Any, server: Server) -> None:
    with as_user(browser, server, "pat") as page:
        expect(page.get_by_role("heading", name="Leads released to you")).to_be_visible()
        expect(page.locator("nav")).to_have_count(0)
        for route in STAFF_ROUTES:
            expect(page.locator(f"a[href='{route}']")).to_have_count(0)
        page.goto(f"/#/site/{server.seeded.sites['home']}")  # typed by hand: sent back
        expect(page).to_have_url(re.compile(r"#/partner$"))
        page.goto("/#/queue")
        expect(page).to_have_url(re.compile(r"#/partner$"))
        expect(page.get_by_role("heading", name="Leads released to you")).to_be_visible()
    with as_user(browser, server, "ana") as page:  # staff do get the navigation
        nav = page.get_by_role("navigation", name="Workbench")
        for route in STAFF_ROUTES:
            expect(nav.locator(f"a[href='{route}']")).to_have_count(1)


def test_admin_sees_only_the_audit(browser: Any, server: Server) -> None:
    with as_user(browser, server, "adm") as page:
        expect(page).to_have_url(re.compile(r"#/audit$"))
        expect(page.get_by_role("status")).to_contain_text("The chain is intact")
        nav = page.get_by_role("navigation", name="Workbench")
        expect(nav.get_by_role("link")).to_have_count(1)
        expect(page.locator("table.data")).to_contain_text("pat")  # the users
        page.goto("/#/queue")
        expect(page.get_by_role("alert")).to_contain_text("cannot open this page")


def test_map_view(browser: Any, server: Server, screenshots: Path) -> None:
    with as_user(browser, server, "ana") as page:
        page.get_by_role("link", name="Map").click()
        expect(page.locator("#map.leaflet-container")).to_be_visible()
        overlays = page.locator(".leaflet-control-layers-overlays")
        for label in ("Airspace zones", "Flight tracks (1)", "Incursions (1)", "Plumes", "Sites"):
            expect(overlays).to_contain_text(label)
        expect(page.locator(".legend")).to_contain_text("needs-collection")
        plume = page.locator("img.leaflet-image-layer")  # fetched with the token
        expect(plume).to_have_attribute("src", re.compile("^blob:"))
        markers = page.locator("path.site-marker")
        expect(markers.first).to_be_visible()
        shot(page, screenshots, "map")

        overlays.get_by_text("Sites", exact=False).click()  # toggled off, then on again
        expect(markers).to_have_count(0)
        overlays.get_by_text("Sites", exact=False).click()
        expect(markers.first).to_be_visible()
        markers.last.click(force=True)
        expect(page).to_have_url(re.compile(r"#/site/site-"))
        expect(page.get_by_role("heading", name=re.compile("^Site site-"))).to_be_visible()

        # and back: the dossier opens the map on the site, zoomed in
        page.goto(f"/#/site/{server.seeded.sites['home']}")
        page.get_by_role("link", name="Show on the map").click()
        expect(page).to_have_url(re.compile(r"#/map/\d+\.\d{5}/-\d+\.\d{5}/16$"))
        expect(page.locator("img.leaflet-image-layer")).to_have_attribute(
            "src", re.compile("^blob:")
        )
        box = page.locator("img.leaflet-image-layer").bounding_box()
        frame = page.locator("#map").bounding_box()
        assert box is not None and frame is not None
        assert box["width"] > 150  # ~500 m of plume at zoom 16 (2 m/px); < 70 px at the fit
        centre = (frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
        assert box["x"] - 50 < centre[0] < box["x"] + box["width"]  # the site (plume source)
        assert abs(box["y"] + box["height"] / 2 - centre[1]) < 100  # is at the centre


def test_organizations_and_flights(browser: Any, server: Server, screenshots: Path) -> None:
    with as_user(browser, server, "ana") as page:
        page.get_by_role("link", name="Organizations").click()
        page.locator("#orgs-table").get_by_role("link", name="Los Cocineros").click()
        expect(page.get_by_role("heading", name="Los Cocineros")).to_be_visible()
        expect(page.get_by_text("criminal organization")).to_be_visible()
        graph = page.locator("svg.graph")
        expect(graph).to_be_visible()
        expect(graph.locator("a")).to_have_count(3)  # the organization and its two sites
        shot(page, screenshots, "organizations")

        page.get_by_role("link", name="Flights").click()
        expect(page.get_by_role("heading", name="Flights", exact=True)).to_be_visible()
        expect(page.locator("#flights-table tbody tr")).to_have_count(2)
        expect(page.locator("#incursions-table")).to_contain_text("MEX")
        expect(page.locator("#flights-map path.leaflet-interactive").first).to_be_visible()
        shot(page, screenshots, "flights")
