"""The ``locate`` job: sniffer readings -> source position and rate with credible intervals.

Reads READINGS.csv (and BEAMS.csv / WIND.csv), builds :class:`Observations`, sets the
prior (source box, height, rate range, stability from turbulence or marginalised,
background known or estimated jointly), runs the particle filter over the readings in
time order, and writes RESULT.json and the posterior map PNG beside it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumetrace import __version__
from plumetrace.constants import BACKGROUND_FLOOR_PPM, molar_mass_kg_mol
from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.geo import local_to_lonlat
from plumetrace.insitu.background import estimate_background, estimate_noise
from plumetrace.insitu.dispersion import Scheme
from plumetrace.insitu.likelihood import NoiseModel, correlation_weights
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume import ForwardModel
from plumetrace.insitu.prior import Prior
from plumetrace.insitu.smc import SourceEstimator
from plumetrace.insitu.summary import PosteriorSummary, summarize
from plumetrace.io.locate_png import write_posterior_png
from plumetrace.io.readings import ReadingsTable, read_readings
from plumetrace.io.tables import write_json

__all__ = [
    "LocateInputs",
    "LocateResult",
    "default_source_box",
    "observations_from_table",
    "run_locate",
]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class LocateInputs:
    """Everything ``plumetrace locate`` needs (CLI options map one to one).

    Attributes
    ----------
    readings : Path
        READINGS.csv.
    out : Path
        RESULT.json; the posterior PNG is written beside it (same stem, ``.png``).
    beams, wind : Path or None
        BEAMS.csv (path sensors) and WIND.csv.
    gas : str
        Gas name for the molar mass (ppm <-> kg/m³).
    molar_mass : float or None
        Molar mass (kg/mol) of any other gas; overrides ``gas``.
    source_box : tuple of 4 floats or None
        Prior region ``(xmin, ymin, xmax, ymax)`` in m; default: the readings' extent
        plus a margin, larger upwind.
    source_height : float or None
        Known source height (m); estimated in [0, 5] m when omitted.
    particles : int
        Particle count.
    seed : int
        Random seed.
    origin : tuple of 2 floats or None
        ``(lat, lon)`` of the local frame's origin, to report the source's lat/lon.
    dispersion : str
        Dispersion curves (``briggs-rural``, ``briggs-urban``, ``pasquill-gifford``).
    noise_ppm : float or None
        Sensor noise (ppm); estimated from the readings when omitted.
    threshold_ppm : float
        Detection threshold on the enhancement (ppm); readings below are censored.
    model_error : float
        Model error as a fraction of the predicted enhancement.
    intermittency : float
        Probability that a reading misses the plume.
    rate_range_kg_h : tuple of 2 floats
        Log-uniform rate prior bounds (kg/h).
    correlation_time_s : float
        Readings of one beam (or one fixed position) within this time share their model
        error: together they count as one reading (0: all independent).
    systematic_error : float
        Absolute calibration error of the dispersion model (1σ, ln units) folded into
        the rate intervals; 0.35 means a factor 2 at 2σ, the usual accuracy of Gaussian
        plume models (Hanna, Briggs & Hosker 1982).
    temperature_k, pressure_pa : float
        Air state for ppm <-> kg/m³.
    """

    readings: Path
    out: Path
    beams: Path | None = None
    wind: Path | None = None
    gas: str = "ch4"
    molar_mass: float | None = None
    source_box: tuple[float, float, float, float] | None = None
    source_height: float | None = None
    particles: int = 5000
    seed: int = 0
    origin: tuple[float, float] | None = None
    dispersion: Scheme = "briggs-rural"
    noise_ppm: float | None = None
    threshold_ppm: float = 0.0
    model_error: float = 0.5
    intermittency: float = 0.1
    rate_range_kg_h: tuple[float, float] = (1e-3, 1e4)
    systematic_error: float = 0.35
    correlation_time_s: float = 300.0
    temperature_k: float = 288.15
    pressure_pa: float = 101325.0


@dataclass(frozen=True)
class LocateResult:
    """What ``locate`` produced."""

    summary: PosteriorSummary
    document: dict[str, Any]
    json_path: Path
    png_path: Path


def observations_from_table(
    table: ReadingsTable, background_ppm: NDArray[np.float64]
) -> Observations:
    """Build kernel observations from a readings table and a per-reading background."""
    return Observations(
        start=table.start,
        end=table.end,
        enhancement_ppm=table.conc_ppm - background_ppm,
        wind_speed_m_s=np.maximum(table.wind_speed_m_s, 0.5),
        wind_from_deg=table.wind_dir_deg,
        sigma_theta_deg=table.turbulence_deg,
        time_s=table.time_s,
    )


def default_source_box(obs: Observations) -> tuple[float, float, float, float]:
    """Return the readings' extent plus a margin on every side and twice that upwind.

    The margin is a quarter of the extent's larger side, at least 10 m; the upwind side
    (of the mean wind) is pushed out by a further margin proportional to how much the
    wind points across it.
    """
    pts = np.concatenate([obs.start[:, :2], obs.end[:, :2]])
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    margin = max(10.0, 0.25 * max(x1 - x0, y1 - y0))
    frm = np.deg2rad(obs.wind_from_deg)
    ux, uy = float(np.mean(np.sin(frm))), float(np.mean(np.cos(frm)))  # towards upwind
    norm = max(np.hypot(ux, uy), 1e-9)
    ux, uy = ux / norm, uy / norm
    extra = 2.0 * margin
    return (
        float(x0 - margin - extra * max(-ux, 0.0)),
        float(y0 - margin - extra * max(-uy, 0.0)),
        float(x1 + margin + extra * max(ux, 0.0)),
        float(y1 + margin + extra * max(uy, 0.0)),
    )


def _background_prior(
    conc_ppm: NDArray[np.float64], groups: NDArray[np.intp], gas: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[float, float]]:
    """Return the starting background, the noise and the background offset's prior range.

    One background for all readings starts at their 1st percentile ``b0``. A plume only
    adds gas, so the true background is at most ``b0 + 3σ``; it may be much lower when
    every reading saw the plume (a fixed sensor beside a source that is always on). The
    lower bound is the gas's clean-air floor when plumetrace knows one
    (:data:`~plumetrace.constants.BACKGROUND_FLOOR_PPM`), else ``b0`` minus the spread
    between the median reading and ``b0``.
    """
    _, sigma = estimate_background(conc_ppm, groups)
    b0 = float(np.percentile(conc_ppm, 1.0))
    s = float(np.median(sigma))
    floor = BACKGROUND_FLOOR_PPM.get(gas.lower())
    if floor is None or floor >= b0:
        low = -max(float(np.median(conc_ppm)) - b0, 3.0 * s)
    else:
        low = floor - b0
    return np.full_like(conc_ppm, b0), sigma, (low, 3.0 * s)


def _position_groups(start: NDArray[np.float64]) -> NDArray[np.intp]:
    """Group point readings taken at the same place (to 1 m)."""
    keys = np.round(start).astype(np.int64)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    return np.asarray(inverse.reshape(-1), dtype=np.intp)


def _mean_direction(deg: NDArray[np.float64]) -> float:
    r = np.deg2rad(deg)
    return float(np.rad2deg(np.arctan2(np.mean(np.sin(r)), np.mean(np.cos(r)))) % 360.0)


def run_locate(inputs: LocateInputs, progress: ProgressCallback | None = None) -> LocateResult:
    """Run the whole ``locate`` job (see the module docstring).

    Parameters
    ----------
    inputs : LocateInputs
        Files and options.
    progress : callable, optional
        ``progress(done, total)`` in readings assimilated.

    Raises
    ------
    PlumetraceError
        On unreadable input, inconsistent options or an unwritable output.
    """
    t_start = time.perf_counter()
    if inputs.particles < 100:
        raise InvalidParameterError(f"--particles must be at least 100 (got {inputs.particles})")
    if inputs.source_height is not None and not inputs.source_height >= 0.0:
        raise InvalidParameterError("--source-height must be >= 0 m")
    out_dir = inputs.out.parent if str(inputs.out.parent) else Path()
    if not out_dir.is_dir():
        raise DataSourceError(inputs.out, "its directory does not exist")
    if inputs.out.is_dir():
        raise DataSourceError(inputs.out, "is a directory; give the RESULT.json file to write")
    molar = molar_mass_kg_mol(inputs.gas, inputs.molar_mass)
    table = read_readings(inputs.readings, beams=inputs.beams, wind=inputs.wind)
    groups = table.groups()
    given_background = table.background_ppm is not None
    if table.background_ppm is not None:
        background = table.background_ppm
        enhancement = table.conc_ppm - background
        sigma = estimate_noise(enhancement, groups)
        bg_prior = (0.0, 0.0)
    else:
        background, sigma, bg_prior = _background_prior(table.conc_ppm, groups, inputs.gas)
    if inputs.noise_ppm is not None:
        if not inputs.noise_ppm > 0.0:
            raise InvalidParameterError("--noise-ppm must be > 0")
        sigma = np.full_like(sigma, inputs.noise_ppm)
    obs = observations_from_table(table, background)
    if not inputs.correlation_time_s >= 0.0:
        raise InvalidParameterError("--correlation-time must be >= 0 s")
    places = groups if table.beam_id is not None else _position_groups(table.start)
    weight = correlation_weights(table.time_s, places, inputs.correlation_time_s)
    box = inputs.source_box if inputs.source_box is not None else default_source_box(obs)
    has_turbulence = bool(np.any(np.isfinite(obs.sigma_theta_deg)))
    z_range = (
        (inputs.source_height, inputs.source_height)
        if inputs.source_height is not None
        else (0.0, 5.0)
    )
    prior = Prior(
        box=box,
        z_range=z_range,
        rate_kg_h=inputs.rate_range_kg_h,
        stability_sigma=0.75 if has_turbulence else None,
        background_ppm=bg_prior,
    )
    model = ForwardModel(
        scheme=inputs.dispersion,
        molar_mass_kg_mol=molar,
        pressure_pa=inputs.pressure_pa,
        temperature_k=inputs.temperature_k,
    )
    noise = NoiseModel(
        sigma_ppm=float(np.median(sigma)),
        threshold_ppm=inputs.threshold_ppm,
        relative_error=inputs.model_error,
        intermittency=inputs.intermittency,
    )
    rng = np.random.default_rng(inputs.seed)
    estimator = SourceEstimator(model, prior, noise, inputs.particles, rng)
    m = obs.size
    n_chunks = min(m, 20)
    edges = np.linspace(0, m, n_chunks + 1).astype(int)
    for a, b in itertools.pairwise(edges):
        estimator.update(obs.take(slice(a, b)), sigma_ppm=sigma[a:b], weight=weight[a:b])
        if progress is not None:
            progress(int(b), m)
    if not inputs.systematic_error >= 0.0:
        raise InvalidParameterError("--systematic-error must be >= 0")
    summary = summarize(
        estimator.theta,
        estimator.weights,
        systematic_error=inputs.systematic_error,
        rng=np.random.default_rng(inputs.seed + 1),
    )
    seconds = time.perf_counter() - t_start
    png_path = inputs.out.with_suffix(".png")
    document: dict[str, Any] = {
        "x_m": summary.x_m,
        "y_m": summary.y_m,
        "z_m": summary.z_m,
    }
    if inputs.origin is not None:
        lon, lat = local_to_lonlat(summary.x_m, summary.y_m, *inputs.origin)
        document["lat"] = float(lat)
        document["lon"] = float(lon)
    document.update(
        {
            "position_ci68_m": summary.position_ci68_m,
            "rate_kg_h": summary.rate_kg_h,
            "rate_kg_h_ci68": list(summary.rate_kg_h_ci68),
            "rate_kg_h_ci95": list(summary.rate_kg_h_ci95),
            "n_readings": m,
            "particles": inputs.particles,
            "seconds": round(seconds, 3),
            "position_ci95_m": summary.position_ci95_m,
            "sensor": "path" if bool(np.any(obs.is_path)) else "point",
            "method": f"smc-gaussian-plume:{inputs.dispersion}",
            "gas": inputs.gas if inputs.molar_mass is None else None,
            "molar_mass_kg_mol": molar,
            "source_box": list(box),
            "source_height_fixed": inputs.source_height is not None,
            "background": "given" if given_background else "estimated",
            "background_offset_ppm": summary.background_offset_ppm,
            "noise_ppm": float(np.median(sigma)),
            "stability": "from turbulence" if has_turbulence else "marginalised",
            "systematic_error": inputs.systematic_error,
            "correlation_time_s": inputs.correlation_time_s,
            "effective_readings": float(weight.sum()),
            "dispersion_scale": summary.scale,
            "dispersion_scale_ci68": list(summary.scale_ci68),
            "wind_bias_deg": summary.wind_bias_deg,
            "effective_sample_size": summary.ess,
            "seed": inputs.seed,
            "readings_file": str(inputs.readings),
            "posterior_png": png_path.name,
            "plumetrace_version": __version__,
        }
    )
    write_json(inputs.out, document)
    write_posterior_png(
        png_path,
        x=estimator.theta[:, 0],
        y=estimator.theta[:, 1],
        weights=estimator.weights,
        box=box,
        start=obs.start,
        end=obs.end,
        enhancement_ppm=obs.enhancement_ppm,
        estimate=(summary.x_m, summary.y_m),
        radius68_m=summary.position_ci68_m,
        wind_from_deg=_mean_direction(obs.wind_from_deg),
        title=(
            f"source ({summary.x_m:.1f}, {summary.y_m:.1f}) m ± {summary.position_ci68_m:.1f} m"
            f"  ·  {summary.rate_kg_h:.3g} kg/h "
            f"[{summary.rate_kg_h_ci95[0]:.3g}, {summary.rate_kg_h_ci95[1]:.3g}] (95 %)"
        ),
    )
    log.info("locate: %d readings, %d particles, %.1f s", m, inputs.particles, seconds)
    return LocateResult(summary=summary, document=document, json_path=inputs.out, png_path=png_path)
