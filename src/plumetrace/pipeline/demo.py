"""The end-to-end demonstration: the chain so far on simulated and real-geography data.

1. simulate an AVIRIS-NG-like scene, retrieve CH4, compare with the truth;
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.constants import kg_m2_per_ppm_m
from plumetrace.io.geotiff import read_geotiff
from plumetrace.io.tables import read_json
from plumetrace.pipeline.detect import DetectOptions, DetectSummary, run_detect
from plumetrace.pipeline.plumes import PlumesInputs, PlumesSummary, run_plumes
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.plumes import PlumeOptions
from plumetrace.sim import SceneSpec

__all__ = ["DemoSource", "DemoSummary", "run_demo"]

Step = Callable[[str], None]


@dataclass(frozen=True)
class DemoSource:
    """One simulated source next to what the retrieval found around it.

    Attributes
    ----------
    id : str
    rate_kg_h : float, kg/h
        True emission rate.
    true_mass_kg, retrieved_mass_kg : float, kg
        Excess CH4 mass within ``radius_m`` of the source, true and retrieved.
    peak_ppm_m : float, ppm·m
        Largest retrieved enhancement within ``radius_m``.
    radius_m : float, m
    """

    id: str
    rate_kg_h: float
    true_mass_kg: float
    retrieved_mass_kg: float
    peak_ppm_m: float
    radius_m: float


@dataclass(frozen=True)
class DemoSummary:
    """What the demo produced."""

    scene_dir: Path
    detect_dir: Path
    detect: DetectSummary
    sources: tuple[DemoSource, ...]
    background_rmse_ppm_m: float
    plumes: PlumesSummary | None = None
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


def _sites(out: Path, seed: int, say: Step) -> dict[str, Any]:
    """Simulate a campaign, fuse it into sites in the embedded store, add civilian context."""
    from plumetrace.io._atomic import ensure_dir
    from plumetrace.io.context import write_buildings, write_population
    from plumetrace.pipeline.campaign import run_campaign
    from plumetrace.pipeline.context import load_context
    from plumetrace.pipeline.demo_desk import desk_work, sorties_at
    from plumetrace.pipeline.demo_share import demo_people, lead_candidates, share_demo
    from plumetrace.pipeline.ingest import (
        ingest_audit_file,
        ingest_campaign,
        ingest_coverage_file,
        ingest_detections_file,
    )
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
        if (out / "plumes" / "footprint.geojson").exists():
            say("adding the simulated scene's pass: its footprint and its plumes")
            scene = FlightSpec("flt-demo-scene", "border-unit", "ac-1", "aviris-ng")
            when = datetime(2025, 4, 2, 17, 0, tzinfo=UTC)
            ingest_coverage_file(
                engine, out / "plumes" / "footprint.geojson", time=when, flight=scene, actor="demo"
            )
            ingest_detections_file(
                engine,
                out / "plumes" / "plumes.geojson",
                time=when,
                flight=scene,
                actor="demo",
                enhancement=out / "detect" / "enhancement.tif",
                evidence_dir=home / "evidence",
            )
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
    """Simulate an AVIRIS-NG-like scene with three sources, retrieve CH4, compare.

    Parameters
    ----------
    out_dir : str or Path
        Receives ``scene/`` (radiance, truth) and ``detect/`` (retrieval products).
    seed, rows, cols : int
        Scene seed and size.
    step : callable, optional
        Called with a short description before each stage.
    """
    out = Path(out_dir)
    say = step or (lambda _msg: None)
    spec = SceneSpec(
        seed=seed,
        rows=rows,
        cols=cols,
        sources=3,
        rate_min_kg_h=150.0,
        rate_max_kg_h=1500.0,
        wind_speed_m_s=3.0,
        wind_dir_deg=250.0,
        flares=1,
        # over the campaign's area (west El Paso): its plumes join the same map and store
        origin_lat=31.79,
        origin_lon=-106.50,
    )
    say("simulating the radiance scene")
    run_sim_scene(out / "scene", spec)
    say("retrieving CH4 enhancement")
    detect = run_detect(out / "scene" / "radiance.hdr", out / "detect", DetectOptions())
    say("comparing with the truth")
    truth = read_json(out / "scene" / "truth.json")
    true_map = read_geotiff(out / "scene" / "truth_enhancement.tif").data.astype(np.float64)
    ret = read_geotiff(out / "detect" / "enhancement.tif")
    got = np.where(ret.data == ret.nodata, np.nan, ret.data).astype(np.float64)
    pixel = float(truth["pixel_size_m"])
    kg_per_ppm_m_px = kg_m2_per_ppm_m("ch4") * pixel**2
    yy, xx = np.mgrid[: true_map.shape[0], : true_map.shape[1]]
    radius_m = 150.0
    found = []
    for src in truth["sources"]:
        near = np.hypot(yy - src["row"], xx - src["col"]) * pixel <= radius_m
        found.append(
            DemoSource(
                id=str(src["id"]),
                rate_kg_h=float(src["rate_kg_h"]),
                true_mass_kg=float(np.sum(true_map[near]) * kg_per_ppm_m_px),
                retrieved_mass_kg=float(np.nansum(got[near]) * kg_per_ppm_m_px),
                peak_ppm_m=float(np.nanmax(got[near])) if np.isfinite(got[near]).any() else 0.0,
                radius_m=radius_m,
            )
        )
    bg = (true_map == 0) & np.isfinite(got)
    say("finding plumes, sources and emission rates")
    plumes = run_plumes(
        PlumesInputs(out / "detect" / "enhancement.tif"),
        out / "plumes",
        PlumeOptions(
            wind_speed_m_s=spec.wind_speed_m_s,
            wind_dir_deg=spec.wind_dir_deg,
            sensor="aviris-ng",
            seed=seed,
        ),
    )
    plan, audit, plan_joint, plan_gulf = _flight_ops(out, say)
    sites = _sites(out, seed, say)
    sorties = sites.pop("sorties")
    located, sniff_truth = sorties[0] if sorties else (None, None)
    return DemoSummary(
        scene_dir=out / "scene",
        detect_dir=out / "detect",
        detect=detect,
        sources=tuple(found),
        background_rmse_ppm_m=float(np.sqrt(np.mean(got[bg] ** 2))) if bg.any() else 0.0,
        plumes=plumes,
        locate=located,
        sniff_truth=sniff_truth,
        plan=plan,
        plan_joint=plan_joint,
        plan_gulf=plan_gulf,
        audit=audit,
        sites=sites,
    )
