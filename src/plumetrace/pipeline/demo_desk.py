"""The demo's analyst desk: sniffer sorties at two candidates, a few reviews, an organization.

After the campaign is fused into sites: two simulated drone sorties fly at the next two
candidates of the review queue (each sortie's hidden source is placed at its candidate;
the located source is ingested as an in-situ detection, so it joins the site and its
68 % credible region shows on the map); an analyst asks for collection on one site and
rejects a weak one; an organization with a (simulated) designation is recorded and the
lead's site attributed to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from plumetrace.pipeline.ingest import ingest_detections_file
from plumetrace.pipeline.locate import LocateInputs, run_locate
from plumetrace.pipeline.sniff import SortieOptions, run_sim_sniff
from plumetrace.store.engine import session_scope
from plumetrace.store.ingest import FlightSpec
from plumetrace.store.models import Site, User
from plumetrace.store.organizations import add_designation, attribute, create_organization
from plumetrace.store.sites import review_queue
from plumetrace.store.workflow import review

__all__ = ["desk_work", "sorties_at"]

_M_PER_DEG = 111_320.0


def sorties_at(
    engine: Engine,
    out: Path,
    site_ids: list[str],
    seed: int,
    say: Callable[[str], None],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Fly a simulated sortie at each site, locate its source, ingest the result.

    Returns
    -------
    list of (dict, dict)
        Each sortie's locate result and its truth (local frame, m).
    """
    results = []
    for k, site_id in enumerate(site_ids):
        with session_scope(engine) as s:
            site = s.get(Site, site_id)
            assert site is not None
            lat, lon = site.lat, site.lon
        folder = out / ("sniff" if k == 0 else f"sniff{k + 1}")
        say(f"flying a sniffer sortie at candidate {site_id} (adaptive waypoints)")
        sortie = run_sim_sniff(folder, SortieOptions(seed=seed + k, readings=40, particles=3000))
        truth = sortie.truth
        # the local frame's origin, so that the sortie's hidden source lies at the site
        origin = (
            lat - float(truth["y_m"]) / _M_PER_DEG,
            lon - float(truth["x_m"]) / (_M_PER_DEG * math.cos(math.radians(lat))),
        )
        say(f"locating the source from sortie {k + 1}'s readings")
        res = run_locate(
            LocateInputs(
                readings=folder / "readings.csv",
                out=folder / "locate.json",
                particles=3000,
                seed=seed + k,
                model_error=1.0,
                intermittency=0.3,
                origin=origin,
            )
        )
        ingest_detections_file(
            engine,
            folder / "locate.json",
            time=datetime(2025, 4, 3 + k, 16, 0, tzinfo=UTC),
            flight=FlightSpec(f"flt-demo-uas-{k + 1}", "partner-program", "uas-1", "sniffer"),
            actor="demo",
        )
        results.append((res.document, truth))
    return results


def desk_work(engine: Engine, user_ids: dict[str, str], lead_site: str) -> dict[str, Any]:
    """Review two more sites and record an organization; return what was done."""
    done: dict[str, Any] = {"reviews": []}
    with session_scope(engine, write=True) as s:
        ana = s.get(User, user_ids["ana"])
        lia = s.get(User, user_ids["lia"])
        assert ana is not None and lia is not None
        queue = [q for q in review_queue(s, page=1, page_size=50) if q["id"] != lead_site]
        decisions = []
        if queue:
            decisions.append((queue[0]["id"], "needs-collection", "one pass only: fly again"))
        weak = [q for q in queue if q["confidence"] < 0.3]
        if weak:
            decisions.append((weak[-1]["id"], "reject", "a single weak detection, not seen since"))
        for site_id, decision, note in decisions:
            site = s.get(Site, site_id)
            assert site is not None
            review(s, site_id, decision, note, by=ana, expected_version=site.version)
            done["reviews"].append((site_id, decision))
        org = create_organization(s, "Cartel del Desierto (demo)", ["CDD"], by=lia)
        add_designation(
            s,
            org["id"],
            authority="Ministry of Justice (simulated)",
            designation="Criminal organization (simulated)",
            date="2025-01-15",
            reference="demo only: a fictional organization",
            by=lia,
        )
        attribute(
            s,
            lead_site,
            org["id"],
            confidence=0.6,
            basis="two reports of other sources name it (demo)",
            by=ana,
        )
        done["organization"] = org["id"]
    return done
