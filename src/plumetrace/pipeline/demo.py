"""The end-to-end demonstration: the chain so far on simulated and real-geography data.

1. simulate AVIRIS-NG-like passes staged over the demo's town (two labs in a dense
   neighbourhood, a rural lab, an industrial leak, an intermittent lab flown twice; see
   :mod:`plumetrace.pipeline.demo_scenes`), retrieve CH4, compare with the truth;
2. find the plumes, their sources and emission rates;
3. plan a survey over the El Paso - Ciudad Juarez border for each operator (the border
   unit may fly the US side only, the joint program both sides), a maritime survey of the
   northern Gulf of California for the border unit (international waters only, beyond
   Mexico's 12 nm territorial sea), and audit a border-unit track that strays across;
4. simulate a month-long surveillance campaign over the same area (passes with coverage
   and detections, reports from other sources), fuse it into candidate sites in the
   embedded store (SQLite under ``OUT/home``), and give each site its civilian context
   from a synthetic town (population raster, building footprints, a school, a hospital);
5. fly simulated sniffer sorties at the next two candidates and locate their sources from
   the readings (ingested: they join the sites); review two more sites; record an
   organization with a designation and attribute the top site to it;
6. confirm the top site, release it to the partner as a lead (every partner format in
   ``OUT/share``), and follow the partner's response to a verifying re-survey.

The workbench page extends this chain.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.pipeline.demo_scenes import (
    DemoSource,
    SceneResult,
    ingest_scenes,
    run_scenes,
    staged_scenes,
)
from plumetrace.pipeline.detect import DetectSummary
from plumetrace.pipeline.plumes import PlumesSummary

__all__ = ["DemoSource", "DemoSummary", "run_demo"]

Step = Callable[[str], None]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo produced.

    ``scene_dir``, ``detect_dir``, ``detect``, ``plumes`` and ``background_rmse_ppm_m``
    are the first (town) scene's; ``sources`` lists every staged scene's sources and
    ``scenes`` each scene's results.
    """

    scene_dir: Path
    detect_dir: Path
    detect: DetectSummary
    sources: tuple[DemoSource, ...]
    background_rmse_ppm_m: float
    plumes: PlumesSummary | None = None
    scenes: tuple[SceneResult, ...] = ()
    locate: dict[str, Any] | None = None
    sniff_truth: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    plan_joint: dict[str, Any] | None = None
    plan_gulf: dict[str, Any] | None = None
    audit: dict[str, Any] | None = None
    sites: dict[str, Any] | None = None


# the demo's survey area: El Paso and Ciudad Juarez, across the US-Mexico border
_DEMO_AOI = {
    "type": "Polygon",
    "coordinates": [
        [[-106.55, 31.68], [-106.35, 31.68], [-106.35, 31.84], [-106.55, 31.84], [-106.55, 31.68]]
    ],
}


# the northern Gulf of California between Baja California and Sonora: the border unit may
# fly only the international waters beyond Mexico's 12 nm territorial sea
_GULF_AOI = {
    "type": "Polygon",
    "coordinates": [
        [[-114.95, 30.3], [-112.95, 30.3], [-112.95, 31.2], [-114.95, 31.2], [-114.95, 30.3]]
    ],
}


def _flight_ops(
    out: Path, say: Step
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Plan each operator's surveys and audit a border-unit track that strays south.

    The border unit and the joint program survey El Paso - Ciudad Juarez, each clipped to
    its authorization; the border unit also plans a maritime survey of the northern Gulf
    of California (international waters only).
    """
    from plumetrace.io._atomic import ensure_dir
    from plumetrace.io.geojson import write_geojson
    from plumetrace.io.operators import read_operators
    from plumetrace.pipeline.audit import run_audit
    from plumetrace.pipeline.plan import PlanOptions, run_plan_survey

    flight = ensure_dir(out / "flight")
    operator = read_operators()["border-unit"]
    write_geojson(
        flight / "aoi.geojson",
        [{"type": "Feature", "geometry": _DEMO_AOI, "properties": {"name": "El Paso - Juarez"}}],
    )
    say("planning a survey inside the border unit's authorized airspace")
    plan = run_plan_survey(
        flight / "aoi.geojson",
        operator,
        flight / "plan",
        PlanOptions(altitude_m=150.0, swath_m=600.0, speed_m_s=20.0),
    )
    say("planning the same survey for the joint program (authorized over Mexico too)")
    joint = run_plan_survey(
        flight / "aoi.geojson",
        read_operators()["partner-program"],
        flight / "plan-joint",
        PlanOptions(altitude_m=150.0, swath_m=600.0, speed_m_s=20.0),
    )
    say("planning a maritime survey of the northern Gulf of California (international waters)")
    write_geojson(
        flight / "gulf.geojson",
        [{"type": "Feature", "geometry": _GULF_AOI, "properties": {"name": "northern Gulf"}}],
    )
    gulf = run_plan_survey(
        flight / "gulf.geojson",
        operator,
        flight / "plan-gulf",
        PlanOptions(altitude_m=300.0, swath_m=2000.0, speed_m_s=60.0),
    )
    say("auditing a flown track against the border unit's authorization")
    t = np.arange(0.0, 900.0, 2.0)
    lat = 31.80 - 0.0002 * np.where(t < 450, t, 900 - t)  # south across the border and back
    lines = ["time,lat,lon,alt_m"] + [
        f"{a:.1f},{b:.6f},-106.45,150" for a, b in zip(t, lat, strict=True)
    ]
    (flight / "track.csv").write_text("\n".join(lines) + "\n")
    audit = run_audit(flight / "track.csv", operator, flight / "audit.json")
    return plan.summary, audit.report, joint.summary, gulf.summary


def _sites(out: Path, seed: int, say: Step, scenes: list[SceneResult]) -> dict[str, Any]:
    """Simulate a campaign, fuse it into sites in the embedded store, add civilian context."""
    from plumetrace.io._atomic import ensure_dir
    from plumetrace.io.context import write_buildings, write_population
    from plumetrace.pipeline.campaign import run_campaign
    from plumetrace.pipeline.context import load_context
    from plumetrace.pipeline.demo_desk import desk_work, sorties_at
    from plumetrace.pipeline.demo_share import demo_people, lead_candidates, share_demo
    from plumetrace.pipeline.ingest import ingest_audit_file, ingest_campaign
    from plumetrace.sim.campaign_spec import CampaignSpec
    from plumetrace.sim.context import synthetic_town
    from plumetrace.store.engine import make_engine, session_scope
    from plumetrace.store.ingest import FlightSpec
    from plumetrace.store.migrate import upgrade
    from plumetrace.store.sites import list_sites, review_queue

    home = out / "home"
    if home.exists():  # a demo builds its scenario from scratch: drop a previous run's store
        shutil.rmtree(home)
    say("simulating a surveillance campaign (passes, coverage, detections, reports)")
    run_campaign(out / "campaign", CampaignSpec(seed=seed, origin_lat=31.76, origin_lon=-106.45))
    engine = make_engine(f"sqlite:///{home / 'plumetrace.db'}")
    try:
        upgrade(engine)
        say("fusing the campaign into candidate sites (SQLite store)")
        ingest = ingest_campaign(engine, out / "campaign", actor="demo")
        say("adding the spectrometer passes: their footprints, plumes and images")
        ingest_scenes(engine, scenes, home / "evidence")
        if (out / "flight" / "audit.json").exists():
            say("keeping the audited border track and its incursion for the map")
            ingest_audit_file(
                engine,
                out / "flight" / "audit.json",
                FlightSpec("flt-demo-border", None, "ac-2", "aviris-ng"),
                actor="demo",
            )
        say("civilian context: synthetic town around the sites")
        grid, feats = synthetic_town(31.76, -106.45, seed=seed, size_m=24_000.0)
        ensure_dir(out / "context")
        write_population(out / "context" / "population.tif", grid)
        write_buildings(out / "context" / "buildings.geojson", feats)
        load_context(
            engine,
            home / "context",
            population=out / "context" / "population.tif",
            buildings=out / "context" / "buildings.geojson",
            actor="demo",
        )
        with session_scope(engine) as s:
            sites = list_sites(s, limit=100_000)
            top = review_queue(s, page=1, page_size=5)
        shared = None
        candidates = lead_candidates(engine)
        sorties: list[tuple[dict[str, Any], dict[str, Any]]] = []
        if candidates:
            people = demo_people(engine)
            sorties = sorties_at(engine, out, candidates[1:3], seed, say)
            say("analysts review sites; an organization and its designation are recorded")
            desk_work(engine, people.user_ids, candidates[0])
            shared = share_demo(engine, out, say, people, candidates[0])
    finally:
        engine.dispose()
    exposure: dict[str, int] = {}
    for site in sites:
        key = site["exposure"] or "unknown"
        exposure[key] = exposure.get(key, 0) + 1
    return {
        "home": str(home),
        "passes": ingest.passes,
        "detections": ingest.detections,
        "reports": ingest.reports,
        "sites": len(sites),
        "confident": sum(1 for site in sites if site["confidence"] >= 0.5),
        "exposure": exposure,
        "top": top,
        "share": shared,
        "sorties": sorties,
    }


def run_demo(
    out_dir: str | Path,
    *,
    seed: int = 7,
    rows: int = 1000,
    cols: int = 598,
    step: Step | None = None,
) -> DemoSummary:
    """Build the whole demonstration scenario under ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Receives ``scenes/<name>/`` (radiance and truth, retrieval, plumes of each staged
        pass), ``flight/``, ``campaign/``, ``context/``, ``sniff*/``, ``share/`` and the
        store under ``home/`` (rebuilt from scratch).
    seed : int
        Seed of every simulation.
    rows, cols : int
        Size of the town scene (the other scenes are at most 320 x 320 pixels).
    step : callable, optional
        Called with a short description before each stage.
    """
    out = Path(out_dir)
    say = step or (lambda _msg: None)
    scenes = run_scenes(out, staged_scenes(rows, cols), seed, say)
    main = scenes[0]
    plan, audit, plan_joint, plan_gulf = _flight_ops(out, say)
    sites = _sites(out, seed, say, scenes)
    sorties = sites.pop("sorties")
    located, sniff_truth = sorties[0] if sorties else (None, None)
    return DemoSummary(
        scene_dir=main.dir / "scene",
        detect_dir=main.dir / "detect",
        detect=main.detect,
        sources=tuple(src for r in scenes for src in r.sources),
        background_rmse_ppm_m=main.background_rmse_ppm_m,
        plumes=main.plumes,
        scenes=tuple(scenes),
        locate=located,
        sniff_truth=sniff_truth,
        plan=plan,
        plan_joint=plan_joint,
        plan_gulf=plan_gulf,
        audit=audit,
        sites=sites,
    )
