"""``plumetrace sim sniff``: a closed-loop simulated drone sortie around a hidden source.

The truth is the filament/puff model of :mod:`plumetrace.sim.filament` (meandering,
intermittent), never the Gaussian plume the estimator assumes. At each waypoint the drone
hovers for ``dwell_s`` seconds, averaging the sniffer (1 Hz, Gaussian noise) and the
anemometer; the estimator assimilates the reading; the planner chooses the next
waypoint (adaptive: expected information gain among candidates within the step limit and
inside the allowed area; lawnmower: crosswind lanes across the area). The track, the
readings (in ``locate``'s format) and the estimate after every reading are written.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray

from plumetrace import __version__
from plumetrace.errors import InvalidParameterError
from plumetrace.insitu.likelihood import NoiseModel
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.planner import (
    PlannerOptions,
    candidate_waypoints,
    downwind_of,
    expected_information_gain,
    next_waypoint,
)
from plumetrace.insitu.plume import ForwardModel
from plumetrace.insitu.prior import Prior
from plumetrace.insitu.smc import SourceEstimator
from plumetrace.insitu.summary import PosteriorSummary, summarize
from plumetrace.io._atomic import ensure_dir
from plumetrace.io.locate_png import write_posterior_png
from plumetrace.io.tables import write_csv, write_json
from plumetrace.sim.filament import FilamentModel, FilamentSpec

__all__ = ["SortieOptions", "SortieResult", "run_sim_sniff", "run_sortie"]

log = logging.getLogger(__name__)

Strategy = Literal["adaptive", "lawnmower"]
BACKGROUND_PPM = 1.95


@dataclass(frozen=True)
class SortieOptions:
    """A simulated sortie.

    Attributes
    ----------
    seed : int
        Seeds the scenario (source, wind) and every random draw.
    readings : int
        Number of readings (waypoints).
    strategy : {"adaptive", "lawnmower"}
        How the next waypoint is chosen.
    area_m : float
        The allowed area is the square ``[0, area_m]²`` (m).
    rate_kg_h : float or None
        True emission rate; random log-uniform 1-20 kg/h when None.
    wind_speed_m_s : float
        Mean wind speed.
    wind_from_deg : float or None
        Mean wind direction; random when None.
    source_height_m : float
        True source height (the estimator does not know it: prior 0-3 m).
    flight_height_m : float
        Sensor height.
    dwell_s : float
        Hover time per reading (the sniffer and anemometer are averaged at 1 Hz).
    speed_m_s : float
        Flight speed between waypoints.
    step_m : float
        Longest move between readings.
    sensor_noise_ppm : float
        Standard deviation of one 1 Hz sniffer sample.
    particles : int
        Estimator particles.
    model_error, intermittency : float
        The estimator's measurement model (see :class:`NoiseModel`).
    allowed : tuple of (x, y) tuples or None
        Exterior ring (local metres) of the polygon the drone may fly in; the
        ``[0, area_m]²`` square by default. Waypoints never leave it.
    """

    seed: int = 0
    readings: int = 50
    strategy: Strategy = "adaptive"
    area_m: float = 100.0
    rate_kg_h: float | None = None
    wind_speed_m_s: float = 3.0
    wind_from_deg: float | None = None
    source_height_m: float = 1.0
    flight_height_m: float = 2.0
    dwell_s: float = 10.0
    speed_m_s: float = 5.0
    step_m: float = 10.0
    sensor_noise_ppm: float = 0.05
    particles: int = 5000
    model_error: float = 1.0
    intermittency: float = 0.3
    allowed: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.allowed is not None:
            if len(self.allowed) < 3:
                raise InvalidParameterError("the allowed polygon needs at least 3 vertices")
            poly = shapely.Polygon(self.allowed)
            if not poly.is_valid or poly.area <= 0.0:
                raise InvalidParameterError("the allowed polygon must be a valid, non-empty ring")
        if self.readings < 1 or self.particles < 100:
            raise InvalidParameterError("need at least 1 reading and 100 particles")
        if self.strategy not in ("adaptive", "lawnmower"):
            raise InvalidParameterError(f"unknown strategy {self.strategy!r}")
        for name in ("area_m", "wind_speed_m_s", "dwell_s", "speed_m_s", "step_m"):
            if not getattr(self, name) > 0.0:
                raise InvalidParameterError(f"{name} must be > 0")


@dataclass(frozen=True)
class SortieResult:
    """A finished sortie: truth, track rows and the final posterior."""

    truth: dict[str, Any]
    rows: list[dict[str, float]]
    estimator: SourceEstimator
    summary: PosteriorSummary
    box: tuple[float, float, float, float]
    observations: Observations


def _lawnmower(area: float, spacing: float, wind_from_deg: float) -> NDArray[np.float64]:
    """Waypoints on crosswind lanes covering the area, from downwind to upwind."""
    to = np.deg2rad(wind_from_deg + 180.0)
    down = np.array([np.sin(to), np.cos(to)])
    cross = np.array([down[1], -down[0]])
    centre = np.array([area / 2, area / 2])
    half = area * math.sqrt(2.0) / 2
    offsets = np.arange(-half, half + 1e-9, spacing)
    pts = []
    for i, along in enumerate(offsets[::-1]):  # downwind first
        lane = offsets if i % 2 == 0 else offsets[::-1]
        for c in lane:
            p = centre + along * down + c * cross
            if 0.0 <= p[0] <= area and 0.0 <= p[1] <= area:
                pts.append(p)
    return np.asarray(pts, dtype=np.float64)


def _dwell(
    truth: FilamentModel,
    pos: NDArray[np.float64],
    dwell_s: float,
    noise: float,
    rng: np.random.Generator,
) -> tuple[float, float, float, float]:
    """Hover: 1 Hz samples of concentration and wind; returns means and sigma-theta."""
    n = max(1, round(dwell_s))
    conc = np.empty(n)
    ue = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        truth.advance(dwell_s / n)
        conc[i] = float(truth.concentration_ppm(pos[None, :])[0])
        speed, frm = truth.wind()
        ue[i] = -speed * math.sin(math.radians(frm))
        un[i] = -speed * math.cos(math.radians(frm))
    conc += noise * rng.standard_normal(n)
    mean_e, mean_n = float(ue.mean()), float(un.mean())
    speed = float(np.hypot(ue, un).mean())
    frm = math.degrees(math.atan2(-mean_e, -mean_n)) % 360.0
    dirs = np.degrees(np.arctan2(-ue, -un))
    dev = (dirs - frm + 180.0) % 360.0 - 180.0
    sigma_theta = float(np.sqrt(np.mean(dev**2))) if n > 1 else float("nan")
    return float(conc.mean()), speed, frm, sigma_theta


def run_sortie(
    options: SortieOptions, progress: Callable[[int, int], None] | None = None
) -> SortieResult:
    """Fly one simulated sortie (pure: no files)."""
    rng = np.random.default_rng(options.seed)
    area = options.area_m
    wind_from = (
        float(rng.uniform(0.0, 360.0)) if options.wind_from_deg is None else options.wind_from_deg
    )
    rate = (
        float(np.exp(rng.uniform(np.log(1.0), np.log(20.0))))
        if options.rate_kg_h is None
        else options.rate_kg_h
    )
    src = rng.uniform(0.25 * area, 0.75 * area, 2)
    truth_spec = FilamentSpec(
        source_xyz=(float(src[0]), float(src[1]), options.source_height_m),
        rate_kg_s=rate / 3600.0,
        wind_speed_m_s=options.wind_speed_m_s,
        wind_from_deg=wind_from,
    )
    truth = FilamentModel(truth_spec, np.random.default_rng(options.seed + 10_000))
    allowed = shapely.box(0.0, 0.0, area, area)
    if options.allowed is not None:
        allowed = shapely.Polygon(options.allowed)
    x0, y0, x1, y1 = allowed.bounds
    box = (float(x0), float(y0), float(x1), float(y1))
    prior = Prior(box=box, z_range=(0.0, 3.0), rate_kg_h=(0.01, 1000.0), stability_sigma=0.75)
    model = ForwardModel()
    sigma_reading = options.sensor_noise_ppm / math.sqrt(max(1, round(options.dwell_s)))
    # short hover averages of a meandering plume scatter by a factor of ~e around the
    # long-time mean the Gaussian plume predicts, and often miss it altogether
    noise = NoiseModel(
        sigma_ppm=sigma_reading,
        threshold_ppm=0.0,
        relative_error=options.model_error,
        intermittency=options.intermittency,
    )
    est = SourceEstimator(model, prior, noise, options.particles, rng)
    planner = PlannerOptions(step_m=options.step_m)
    to = np.deg2rad(wind_from + 180.0)
    start = np.array([area / 2, area / 2]) + 0.45 * area * np.array([np.sin(to), np.cos(to)])
    if not allowed.contains(shapely.Point(start)):
        near = shapely.ops.nearest_points(allowed.buffer(-1e-6), shapely.Point(start))[0]
        start = np.array([near.x, near.y])
    pos = start
    lanes = _lawnmower(area, options.step_m, wind_from)
    lanes = lanes[shapely.contains_xy(allowed, lanes[:, 0], lanes[:, 1])]
    if lanes.shape[0] == 0:
        lanes = start[None, :]
    rows: list[dict[str, float]] = []
    parts: list[Observations] = []
    t_now = 0.0
    for k in range(options.readings):
        here = np.array([pos[0], pos[1], options.flight_height_m])
        conc, speed, frm, sth = _dwell(truth, here, options.dwell_s, options.sensor_noise_ppm, rng)
        t_now = truth.time_s
        obs = Observations.create(
            here[None, :],
            np.array([conc]),
            speed,
            frm,
            sigma_theta_deg=sth,
            time_s=np.array([t_now]),
        )
        parts.append(obs)
        t0 = time.perf_counter()
        est.update(obs)
        t_update = time.perf_counter() - t0
        s = summarize(est.theta, est.weights)
        err = float(np.hypot(s.x_m - src[0], s.y_m - src[1]))
        rows.append(
            {
                "reading": k + 1,
                "time_s": round(t_now, 2),
                "x_m": float(pos[0]),
                "y_m": float(pos[1]),
                "z_m": options.flight_height_m,
                "conc_ppm": BACKGROUND_PPM + conc,
                "enhancement_ppm": conc,
                "wind_speed_m_s": speed,
                "wind_dir_deg": frm,
                "turbulence": sth,
                "est_x_m": s.x_m,
                "est_y_m": s.y_m,
                "est_z_m": s.z_m,
                "est_position_ci68_m": s.position_ci68_m,
                "est_rate_kg_h": s.rate_kg_h,
                "est_rate_kg_h_ci68_lo": s.rate_kg_h_ci68[0],
                "est_rate_kg_h_ci68_hi": s.rate_kg_h_ci68[1],
                "position_error_m": err,
                "rate_error_frac": abs(s.rate_kg_h - rate) / rate,
                "update_ms": 1e3 * t_update,
            }
        )
        if progress is not None:
            progress(k + 1, options.readings)
        if k + 1 == options.readings:
            break
        if options.strategy == "adaptive":
            t1 = time.perf_counter()
            cands = candidate_waypoints((float(pos[0]), float(pos[1])), planner, allowed)
            gains = expected_information_gain(
                model,
                est.theta,
                est.weights,
                cands,
                height_m=options.flight_height_m,
                wind_speed_m_s=speed,
                wind_from_deg=frm,
                sigma_theta_deg=sth,
                noise=noise,
                options=planner,
                rng=rng,
            )
            target = downwind_of(s.x_m, s.y_m, frm, 2.0 * options.step_m)
            nxt = np.array(
                next_waypoint((float(pos[0]), float(pos[1])), gains, cands, fallback_xy=target)
            )
            rows[-1]["plan_ms"] = 1e3 * (time.perf_counter() - t1)
        else:
            nxt = lanes[(k + 1) % len(lanes)]
        truth.advance(float(np.hypot(*(nxt - pos))) / options.speed_m_s)
        pos = nxt
    summary = summarize(est.theta, est.weights)
    truth_doc = {
        "x_m": float(src[0]),
        "y_m": float(src[1]),
        "z_m": options.source_height_m,
        "rate_kg_h": rate,
        "wind_speed_m_s": options.wind_speed_m_s,
        "wind_from_deg": wind_from,
        "model": "filament",
        "filament": truth_spec.to_dict(),
    }
    return SortieResult(truth_doc, rows, est, summary, box, Observations.concat(parts))


def run_sim_sniff(
    out_dir: Path, options: SortieOptions, progress: Callable[[int, int], None] | None = None
) -> SortieResult:
    """Fly a sortie and write track.csv, readings.csv, truth.json, result.json/.png."""
    ensure_dir(out_dir)
    t0 = time.perf_counter()
    res = run_sortie(options, progress)
    seconds = time.perf_counter() - t0
    track_cols = list(res.rows[0].keys()) + (["plan_ms"] if "plan_ms" not in res.rows[0] else [])
    write_csv(out_dir / "track.csv", res.rows, track_cols)
    readings = [
        {
            "time": r["time_s"],
            "x_m": r["x_m"],
            "y_m": r["y_m"],
            "z_m": r["z_m"],
            "conc_ppm": r["conc_ppm"],
            "background_ppm": BACKGROUND_PPM,
            "wind_speed_m_s": r["wind_speed_m_s"],
            "wind_dir_deg": r["wind_dir_deg"],
            "turbulence": r["turbulence"],
        }
        for r in res.rows
    ]
    write_csv(out_dir / "readings.csv", readings, list(readings[0].keys()))
    write_json(out_dir / "truth.json", res.truth)
    s = res.summary
    doc = {
        "x_m": s.x_m,
        "y_m": s.y_m,
        "z_m": s.z_m,
        "position_ci68_m": s.position_ci68_m,
        "rate_kg_h": s.rate_kg_h,
        "rate_kg_h_ci68": list(s.rate_kg_h_ci68),
        "rate_kg_h_ci95": list(s.rate_kg_h_ci95),
        "n_readings": len(res.rows),
        "particles": options.particles,
        "seconds": round(seconds, 3),
        "position_error_m": res.rows[-1]["position_error_m"],
        "rate_error_frac": res.rows[-1]["rate_error_frac"],
        "options": asdict(options),
        "plumetrace_version": __version__,
    }
    write_json(out_dir / "result.json", doc)
    write_posterior_png(
        out_dir / "result.png",
        x=res.estimator.theta[:, 0],
        y=res.estimator.theta[:, 1],
        weights=res.estimator.weights,
        box=res.box,
        start=res.observations.start,
        end=res.observations.end,
        enhancement_ppm=res.observations.enhancement_ppm,
        estimate=(s.x_m, s.y_m),
        radius68_m=s.position_ci68_m,
        wind_from_deg=float(res.truth["wind_from_deg"]),
        title=(
            f"{options.strategy}, {len(res.rows)} readings: error "
            f"{res.rows[-1]['position_error_m']:.1f} m, rate {s.rate_kg_h:.3g} kg/h "
            f"(true {res.truth['rate_kg_h']:.3g})"
        ),
        truth=(float(res.truth["x_m"]), float(res.truth["y_m"])),
    )
    return res
