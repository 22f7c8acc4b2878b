"""The demo's spectrometer passes: staged scenes, each with a story, retrieved and fused.

Every scene is simulated over the demo's synthetic town (El Paso - Ciudad Juarez, see
:func:`plumetrace.sim.context.synthetic_town`) with its sources placed on purpose:

* ``town``: two small labs inside the dense neighbourhood of Ciudad Juarez (the size
  of this scene is the demo's ``--rows``/``--cols``);
* ``rural``: a lab on open land south of the town;
* ``industrial``: a large leak (with a gas flare beside it) in the industrial zone on
  the US side, flown by the border unit;
* ``intermittent``: a lab in the west of the neighbourhood flown twice a week apart:
  emitting on the first pass (``intermittent-1``), quiet on the second
  (``intermittent-2``), so its site has a detection and an empty pass.

Each scene is retrieved (``detect``), its plumes quantified (``plumes``), compared with
the truth and ingested into the store as one pass (coverage, then detections with their
enhancement images), so the sites, the map and the dossiers show them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from plumetrace.constants import kg_m2_per_ppm_m
from plumetrace.io.geotiff import read_geotiff
from plumetrace.io.tables import read_json
from plumetrace.pipeline.detect import DetectOptions, DetectSummary, run_detect
from plumetrace.pipeline.plumes import PlumesInputs, PlumesSummary, run_plumes
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.plumes import PlumeOptions
from plumetrace.sim import SceneSpec

__all__ = [
    "DemoSource",
    "SceneResult",
    "StagedScene",
    "StagedSource",
    "false_plumes",
    "ingest_scenes",
    "run_scenes",
    "staged_scenes",
]

Step = Callable[[str], None]

WIND_SPEED_M_S = 3.0
WIND_DIR_DEG = 250.0  # from the west-south-west: plumes drift east-north-east
MATCH_RADIUS_M = 150.0
"""A retrieved plume belongs to a true source when its located source is this close."""


@dataclass(frozen=True)
class StagedSource:
    """A source placed in a staged scene.

    Attributes
    ----------
    label : str
        What it stands for (printed by the demo).
    east, north : float
        Position as fractions of the scene's width and height from its centre.
    rate_kg_h : float, kg/h
    """

    label: str
    east: float
    north: float
    rate_kg_h: float


@dataclass(frozen=True)
class StagedScene:
    """One spectrometer pass of the demo.

    Attributes
    ----------
    name : str
        Directory name under ``OUT/scenes`` and the pass's flight id suffix.
    story : str
        One line on what the scene shows.
    lat, lon : float, degrees
        Scene centre.
    rows, cols : int
    operator : str
        Who flew it (an operator of the packaged operators file).
    when : datetime
        Time of the pass (UTC).
    sources : tuple of StagedSource
    flares : int
    """

    name: str
    story: str
    lat: float
    lon: float
    rows: int
    cols: int
    operator: str
    when: datetime
    sources: tuple[StagedSource, ...]
    flares: int = 0

    def spec(self, seed: int) -> SceneSpec:
        """Return the scene's simulation spec (AVIRIS-NG-like, 5 m pixels)."""
        px = 5.0
        m_per_deg_lat = 111_132.0
        m_per_deg_lon = m_per_deg_lat * math.cos(math.radians(self.lat))
        placed = tuple(
            (
                self.lat + s.north * self.rows * px / m_per_deg_lat,
                self.lon + s.east * self.cols * px / m_per_deg_lon,
                s.rate_kg_h,
            )
            for s in self.sources
        )
        return SceneSpec(
            seed=seed,
            rows=self.rows,
            cols=self.cols,
            sources=0,
            wind_speed_m_s=WIND_SPEED_M_S,
            wind_dir_deg=WIND_DIR_DEG,
            pixel_size_m=px,
            origin_lat=self.lat,
            origin_lon=self.lon,
            flares=self.flares,
            placed=placed,
        )


@dataclass(frozen=True)
class DemoSource:
    """One simulated source next to what the retrieval found around it.

    Attributes
    ----------
    id : str
        ``<scene>/src-001``, ...
    label : str
        What the source stands for.
    rate_kg_h : float, kg/h
        True emission rate.
    true_mass_kg, retrieved_mass_kg : float, kg
        Excess CH4 mass within ``radius_m`` of the source, true and retrieved.
    peak_ppm_m : float, ppm·m
        Largest retrieved enhancement within ``radius_m``.
    radius_m : float, m
    flux_kg_h, flux_kg_h_sigma : float or None, kg/h
        Emission rate of the plume located within ``radius_m`` (None: no plume found).
    """

    id: str
    label: str
    rate_kg_h: float
    true_mass_kg: float
    retrieved_mass_kg: float
    peak_ppm_m: float
    radius_m: float
    flux_kg_h: float | None = None
    flux_kg_h_sigma: float | None = None


@dataclass(frozen=True)
class SceneResult:
    """What one staged scene produced."""

    scene: StagedScene
    dir: Path
    detect: DetectSummary
    plumes: PlumesSummary
    sources: tuple[DemoSource, ...]
    background_rmse_ppm_m: float
    false_plumes: int = 0
    """Plumes whose located source is not within ``MATCH_RADIUS_M`` of a true source."""
    false_flux_kg_h: float = 0.0
    """Their summed emission rate, kg/h."""


def staged_scenes(rows: int, cols: int) -> tuple[StagedScene, ...]:
    """Return the demo's passes; ``rows`` x ``cols`` is the town scene's size.

    The smaller scenes are square, 320 pixels (1.6 km) a side, or the town scene's
    smaller side if that is less (but at least 128 pixels: the retrieval's background
    statistics need them).
    """
    side = max(128, min(320, rows, cols))
    day = datetime(2025, 4, 2, 17, 0, tzinfo=UTC)

    def on(days: int) -> datetime:
        return day + timedelta(days=days)

    return (
        StagedScene(
            "town",
            "two labs in a dense neighbourhood of Ciudad Juarez",
            31.733,
            -106.490,
            rows,
            cols,
            "partner-program",
            day,
            (
                StagedSource("lab in a house", -0.30, 0.16, 180.0),
                StagedSource("lab behind a shop", -0.33, -0.18, 260.0),
            ),
        ),
        StagedScene(
            "rural",
            "a lab on open land south of the town",
            31.680,
            -106.530,
            side,
            side,
            "partner-program",
            on(1),
            (StagedSource("rural lab", -0.25, 0.0, 240.0),),
        ),
        StagedScene(
            "industrial",
            "a large leak in the industrial zone (US side), a flare beside it",
            31.753,
            -106.350,
            side,
            side,
            "border-unit",
            on(2),
            (StagedSource("industrial leak", -0.28, 0.05, 1500.0),),
            flares=1,
        ),
        StagedScene(
            "intermittent-1",
            "a lab that emits on this pass ...",
            31.722,
            -106.545,
            side,
            side,
            "partner-program",
            on(3),
            (StagedSource("intermittent lab", -0.25, -0.05, 220.0),),
        ),
        StagedScene(
            "intermittent-2",
            "... and is quiet a week later (same footprint)",
            31.722,
            -106.545,
            side,
            side,
            "partner-program",
            on(10),
            (),
        ),
    )


def _compare(
    scene_dir: Path, detect_dir: Path, plumes_dir: Path, name: str, labels: list[str]
) -> tuple[tuple[DemoSource, ...], float, list[dict[str, Any]]]:
    """Each true source against the retrieval around it, the background RMSE, false plumes.

    A false plume is one whose located source is farther than ``MATCH_RADIUS_M`` from
    every true source (its properties are returned).
    """
    truth = read_json(scene_dir / "truth.json")
    true_map = read_geotiff(scene_dir / "truth_enhancement.tif").data.astype(np.float64)
    ret = read_geotiff(detect_dir / "enhancement.tif")
    got = np.where(ret.data == ret.nodata, np.nan, ret.data).astype(np.float64)
    pixel = float(truth["pixel_size_m"])
    kg_per_ppm_m_px = kg_m2_per_ppm_m("ch4") * pixel**2
    yy, xx = np.mgrid[: true_map.shape[0], : true_map.shape[1]]
    plumes = read_json(plumes_dir / "plumes.geojson").get("features", [])
    found = []
    for src, label in zip(truth["sources"], labels, strict=True):
        near = np.hypot(yy - src["row"], xx - src["col"]) * pixel <= MATCH_RADIUS_M
        match = _nearest_plume(plumes, src["row"], src["col"], pixel)
        found.append(
            DemoSource(
                id=f"{name}/{src['id']}",
                label=label,
                rate_kg_h=float(src["rate_kg_h"]),
                true_mass_kg=float(np.sum(true_map[near]) * kg_per_ppm_m_px),
                retrieved_mass_kg=float(np.nansum(got[near]) * kg_per_ppm_m_px),
                peak_ppm_m=float(np.nanmax(got[near])) if np.isfinite(got[near]).any() else 0.0,
                radius_m=MATCH_RADIUS_M,
                flux_kg_h=None if match is None else float(match["flux_kg_h"]),
                flux_kg_h_sigma=None if match is None else float(match["flux_kg_h_sigma"]),
            )
        )
    bg = (true_map == 0) & np.isfinite(got)
    rmse = float(np.sqrt(np.mean(got[bg] ** 2))) if bg.any() else 0.0
    return tuple(found), rmse, false_plumes(plumes, truth["sources"], pixel)


def false_plumes(
    plumes: list[dict[str, Any]], sources: list[dict[str, Any]], pixel_m: float
) -> list[dict[str, Any]]:
    """Return the plumes (their properties) located beyond ``MATCH_RADIUS_M`` of all sources.

    Parameters
    ----------
    plumes : list of dict
        ``plumes.geojson`` features (``source_row``, ``source_col`` in their properties).
    sources : list of dict
        ``truth.json`` sources (``row``, ``col``).
    pixel_m : float, m
    """
    return [
        f["properties"]
        for f in plumes
        if all(
            _distance_m(f["properties"], s["row"], s["col"], pixel_m) > MATCH_RADIUS_M
            for s in sources
        )
    ]


def _distance_m(plume: dict[str, Any], row: int, col: int, pixel_m: float) -> float:
    """Distance from a plume's located source to (row, col), m."""
    return math.hypot(plume["source_row"] - row, plume["source_col"] - col) * pixel_m


def _nearest_plume(
    plumes: list[dict[str, Any]], row: int, col: int, pixel_m: float
) -> dict[str, Any] | None:
    """Properties of the plume whose source is nearest (row, col), within the radius."""
    best, best_d = None, MATCH_RADIUS_M
    for feature in plumes:
        p = feature["properties"]
        d = _distance_m(p, row, col, pixel_m)
        if d <= best_d:
            best, best_d = p, d
    return best


def run_scenes(
    out: Path, scenes: tuple[StagedScene, ...], seed: int, say: Step
) -> list[SceneResult]:
    """Simulate, retrieve and quantify every staged scene under ``out / "scenes"``."""
    results = []
    for i, staged in enumerate(scenes):
        where = out / "scenes" / staged.name
        say(f"scene {staged.name}: simulating the radiance ({staged.story})")
        spec = staged.spec(seed + 101 * i)
        run_sim_scene(where / "scene", spec)
        say(f"scene {staged.name}: retrieving CH4 enhancement")
        detect = run_detect(where / "scene" / "radiance.hdr", where / "detect", DetectOptions())
        say(f"scene {staged.name}: finding plumes, sources and emission rates")
        plumes = run_plumes(
            PlumesInputs(where / "detect" / "enhancement.tif"),
            where / "plumes",
            PlumeOptions(
                wind_speed_m_s=spec.wind_speed_m_s,
                wind_dir_deg=spec.wind_dir_deg,
                sensor="aviris-ng",
                seed=seed,
            ),
        )
        sources, rmse, false = _compare(
            where / "scene",
            where / "detect",
            where / "plumes",
            staged.name,
            [s.label for s in staged.sources],
        )
        results.append(
            SceneResult(
                staged,
                where,
                detect,
                plumes,
                sources,
                rmse,
                false_plumes=len(false),
                false_flux_kg_h=float(sum(p["flux_kg_h"] for p in false)),
            )
        )
    return results


def ingest_scenes(engine: Engine, results: list[SceneResult], evidence_dir: Path) -> None:
    """Ingest each scene as one pass: its footprint, then its plumes with their images."""
    from plumetrace.pipeline.ingest import ingest_coverage_file, ingest_detections_file
    from plumetrace.store.ingest import FlightSpec

    for r in results:
        flight = FlightSpec(f"flt-scene-{r.scene.name}", r.scene.operator, "ac-1", "aviris-ng")
        ingest_coverage_file(
            engine,
            r.dir / "plumes" / "footprint.geojson",
            time=r.scene.when,
            flight=flight,
            actor="demo",
        )
        ingest_detections_file(
            engine,
            r.dir / "plumes" / "plumes.geojson",
            time=r.scene.when,
            flight=flight,
            actor="demo",
            enhancement=r.dir / "detect" / "enhancement.tif",
            evidence_dir=evidence_dir,
        )
