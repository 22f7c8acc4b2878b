"""Simulated scenes with known plumes for fitting and validating ``plumes``.

Each case is a plumetrace-simulated radiance scene (turbulent puff plumes, ISOFIT noise)
retrieved with ``detect`` (iterative filter), cached under ``benchmarks/.work/plume_cases``.
Case sets (seeds are disjoint, so fits and validation never share a scene):

``train``      seeds 1000-1039: AVIRIS-NG, 5 m, 600 x 598, 5 sources, 50-2000 kg/h, 1-8 m/s
``valid``      seeds 2000-2049: same distribution (the validation set)
``pod200``     seeds 3000-3009: 4 sources at 200 kg/h, 3 m/s
``empty``      seeds 4000-4009: 1000 x 598, no plume (false plumes per 100 km²)
``speed``      seed 6000: 1000 x 598, 10 sources, 100-2000 kg/h (timing)
``speed``      seed 6000: 1000 x 598, 10 sources, 100-2000 kg/h (timing)
``emit-train`` seeds 5000-5029: EMIT bands and noise, 60 m, 300 x 300, 3 sources,
               500-8000 kg/h, 1-8 m/s

Usage: ``python benchmarks/plume_cases.py [SET ...]`` (all sets by default); scenes that
are already cached are skipped. Wind direction is uniform in 0-360 degrees per scene.

Each scene is retrieved twice: ``det_spatial/`` with ``detect``'s defaults (the
neighbourhood step) and ``det/`` with ``--no-spatial`` (the per-pixel filter).
:func:`load_case` reads ``det_spatial/`` unless the environment variable
``PLUME_CASES_DETECT`` names the other folder.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent / ".work" / "plume_cases"
DETECTIONS = {"det": False, "det_spatial": True}
"""Retrieval folders of each case and whether their detect ran with ``spatial``."""


@dataclass(frozen=True)
class CaseSet:
    name: str
    seeds: range
    sensor: str = "aviris-ng"
    pixel_size_m: float = 5.0
    rows: int = 600
    cols: int = 598
    sources: int = 5
    rate_min: float = 50.0
    rate_max: float = 2000.0
    wind: tuple[float, float] | None = (1.0, 8.0)
    fixed_wind: float | None = None


SETS = {
    s.name: s
    for s in (
        CaseSet("train", range(1000, 1040)),
        CaseSet("valid", range(2000, 2050)),
        CaseSet(
            "pod200",
            range(3000, 3010),
            sources=4,
            rate_min=200.0,
            rate_max=200.0,
            wind=None,
            fixed_wind=3.0,
        ),
        CaseSet("empty", range(4000, 4010), rows=1000, sources=0),
        CaseSet("speed", range(6000, 6001), rows=1000, sources=10, rate_min=100.0),
        CaseSet(
            "emit-train",
            range(5000, 5030),
            sensor="emit",
            pixel_size_m=60.0,
            rows=300,
            cols=300,
            sources=3,
            rate_min=500.0,
            rate_max=8000.0,
        ),
    )
}


def case_dir(set_name: str, seed: int) -> Path:
    return ROOT / set_name / f"seed{seed}"


def scene_wind(case: CaseSet, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed + 7919)
    speed = case.fixed_wind if case.fixed_wind is not None else float(rng.uniform(*case.wind))
    direction = float(rng.uniform(0.0, 360.0))
    return round(speed, 2), round(direction, 1)


def make_case(args: tuple[str, int]) -> str:
    from threadpoolctl import threadpool_limits

    from plumetrace.pipeline.detect import DetectOptions, run_detect
    from plumetrace.pipeline.sim import run_sim_scene
    from plumetrace.sim import SceneSpec

    set_name, seed = args
    case = SETS[set_name]
    out = case_dir(set_name, seed)
    if all((out / d / "detect.json").exists() for d in DETECTIONS):
        return f"{set_name}/{seed}: cached"
    speed, direction = scene_wind(case, seed)
    spec = SceneSpec(
        seed=seed,
        rows=case.rows,
        cols=case.cols,
        sensor=case.sensor,
        sources=case.sources,
        rate_min_kg_h=case.rate_min,
        rate_max_kg_h=case.rate_max,
        wind_speed_m_s=speed,
        wind_dir_deg=direction,
        pixel_size_m=case.pixel_size_m,
    )
    with threadpool_limits(1):
        if not (out / "radiance.hdr").exists() or not (out / "radiance").exists():
            run_sim_scene(out, spec)
        for name, spatial in DETECTIONS.items():
            opts = DetectOptions(quicklook=False, spatial=spatial)
            run_detect(out / "radiance.hdr", out / name, opts)
    (out / "radiance").unlink()  # keep the products and truth, not the 100+ MB cube
    return f"{set_name}/{seed}: made"


def main(names: list[str]) -> None:
    jobs = [(n, s) for n in (names or list(SETS)) for s in SETS[n].seeds]
    with Pool(2) as pool:
        for msg in pool.imap_unordered(make_case, jobs):
            print(msg, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])


@dataclass
class LoadedCase:
    set_name: str
    seed: int
    enhancement: np.ndarray
    uncertainty: np.ndarray
    albedo: np.ndarray
    residual: np.ndarray
    flagged: np.ndarray
    no_data: np.ndarray
    truth: np.ndarray
    sources_rc: np.ndarray
    rates: np.ndarray
    wind_speed: float
    wind_dir: float
    pixel_size_m: float
    noise_ppm_m: float
    area_km2: float


def load_case(set_name: str, seed: int) -> LoadedCase:
    import json

    from plumetrace.detect import flags
    from plumetrace.io.geotiff import read_geotiff

    d = case_dir(set_name, seed)
    det = os.environ.get("PLUME_CASES_DETECT", "det_spatial")
    truth = json.loads((d / "truth.json").read_text())

    def layer(name: str) -> np.ndarray:
        r = read_geotiff(d / det / f"{name}.tif")
        a = r.data.astype(np.float64)
        return np.where(a == -9999.0, np.nan, a)

    bits = read_geotiff(d / det / "mask.tif").data.astype(np.uint8)
    unc = layer("uncertainty")
    src = truth["sources"]
    px = float(truth["pixel_size_m"])
    return LoadedCase(
        set_name,
        seed,
        layer("enhancement"),
        unc,
        layer("albedo"),
        layer("residual"),
        (bits & (flags.SATURATED | flags.FLARE | flags.DARK)) > 0,
        (bits & flags.NO_DATA) > 0,
        read_geotiff(d / "truth_enhancement.tif").data.astype(np.float64),
        np.array([[s["row"] + 0.5, s["col"] + 0.5] for s in src]).reshape(-1, 2),
        np.array([s["rate_kg_h"] for s in src]),
        float(truth["spec"]["wind_speed_m_s"]),
        float(truth["spec"]["wind_dir_deg"]),
        px,
        float(np.nanmedian(unc)),
        unc.size * px * px / 1e6,
    )


def run_case(case: LoadedCase, **option_overrides):
    from plumetrace.plumes import PlumeOptions, find_plumes, north_up_jacobian

    kw = {
        "wind_speed_m_s": case.wind_speed,
        "wind_dir_deg": case.wind_dir,
        "wind_speed_sigma_m_s": 0.0,
        "sensor": "aviris-ng" if case.pixel_size_m < 20 else "emit",
    }
    kw.update(option_overrides)
    return find_plumes(
        case.enhancement,
        jacobian=north_up_jacobian(case.pixel_size_m),
        uncertainty=case.uncertainty,
        albedo=case.albedo,
        residual=case.residual,
        flagged=case.flagged,
        no_data=case.no_data,
        options=PlumeOptions(**kw),
    )
