"""Real-data validation of ``plumetrace locate``: the Chilbolton 2017 controlled releases.

For every single-source release (rel02-07, 11, 13, 15) the open-path readings (1-min
path means, 7 beams) and the sonic wind are written as locate inputs (READINGS.csv with
``beam_id``, BEAMS.csv) and ``run_locate`` estimates the source with the position unknown:
the prior box is the default (the beams' extent plus margins, larger upwind), which
covers the whole site. Reported: position error (m), rate estimate / true rate (Newman et
al.'s metered rate; the cylinder-scale rate too), whether the true rate is inside the 68 %
and 95 % intervals, and the run time.

    python benchmarks/bench_locate_chilbolton.py [--particles 2000] [--variant NAME ...]

Variants: ``given-bg`` (background_ppm column from the off-release periods),
``estimated-bg`` (no background column: estimated jointly), ``known-height``
(given background, source height 0.3 m known). Results: benchmarks/results/locate_chilbolton.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import MACHINE, ROOT, WORK

from plumetrace.pipeline.locate import LocateInputs, run_locate

DATA = ROOT.parent / "shared" / "data" / "chilbolton2017"
SINGLE = ("rel02", "rel03", "rel04", "rel05", "rel06", "rel07", "rel11", "rel13", "rel15")
VARIANTS = ("given-bg", "estimated-bg", "known-height")


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as f:
        return list(csv.DictReader(f))


def write_inputs(exp: str, folder: Path, *, background: bool) -> None:
    """Write READINGS.csv and BEAMS.csv of one release into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    wind = {w["seq_index"]: w for w in _rows("wind.csv") if w["experiment_id"] == exp}
    with (folder / "readings.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            ["time", "beam_id", "conc_ppm"]
            + (["background_ppm"] if background else [])
            + ["wind_speed_m_s", "wind_dir_deg", "turbulence"]
        )
        for r in _rows("readings.csv"):
            if r["experiment_id"] != exp:
                continue
            w = wind[r["seq_index"]]
            # sigma-theta from the tangent of the direction's rolling std (README)
            sigma_theta = math.degrees(math.atan(float(w["tan_gamma_h"])))
            out.writerow(
                [r["minute_start"], r["beam_id"], r["ch4_ppm"]]
                + ([r["background_ppm"]] if background else [])
                + [w["speed_m_s"], w["direction_from_cw_plus_y_deg"], f"{sigma_theta:.4f}"]
            )
    with (DATA / "beams.csv").open() as src, (folder / "beams.csv").open("w") as dst:
        dst.write(src.read())


def run(exp: str, variant: str, particles: int, seed: int) -> dict[str, Any]:
    experiments = {e["experiment_id"]: e for e in _rows("experiments.csv")}
    sources = {s["source_id"]: s for s in _rows("sources.csv")}
    e = experiments[exp]
    src = sources[e["active_source_ids"]]
    folder = WORK / "chilbolton" / variant / exp
    write_inputs(exp, folder, background=variant != "estimated-bg")
    inputs = LocateInputs(
        readings=folder / "readings.csv",
        beams=folder / "beams.csv",
        out=folder / "result.json",
        particles=particles,
        seed=seed,
        source_height=0.3 if variant == "known-height" else None,
        temperature_k=float(e["mean_temp_K"]),
        pressure_pa=float(e["mean_press_Pa"]),
    )
    t0 = time.perf_counter()
    res = run_locate(inputs)
    seconds = time.perf_counter() - t0
    d = res.document
    true_rate = float(src["rate_kg_h"])
    cyl = float(e["cylinder_rate_kg_s"]) * 3600 if e["cylinder_rate_kg_s"] else None
    err = float(np.hypot(d["x_m"] - float(src["x_m"]), d["y_m"] - float(src["y_m"])))
    lo68, hi68 = d["rate_kg_h_ci68"]
    lo95, hi95 = d["rate_kg_h_ci95"]
    return {
        "experiment": exp,
        "variant": variant,
        "source": src["source_id"],
        "readings": d["n_readings"],
        "position_error_m": round(err, 2),
        "position_ci68_m": round(d["position_ci68_m"], 2),
        "z_m": round(d["z_m"], 2),
        "rate_kg_h": round(d["rate_kg_h"], 3),
        "rate_kg_h_ci68": [round(lo68, 3), round(hi68, 3)],
        "rate_kg_h_ci95": [round(lo95, 3), round(hi95, 3)],
        "true_rate_kg_h": true_rate,
        "cylinder_rate_kg_h": None if cyl is None else round(cyl, 3),
        "rate_ratio": round(d["rate_kg_h"] / true_rate, 3),
        "true_in_ci68": lo68 <= true_rate <= hi68,
        "true_in_ci95": lo95 <= true_rate <= hi95,
        "within_10m": err <= 10.0,
        "within_factor_1_5": 1 / 1.5 <= d["rate_kg_h"] / true_rate <= 1.5,
        "dispersion_scale": round(d["dispersion_scale"], 3),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--particles", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", nargs="*", default=["given-bg"], choices=VARIANTS)
    ap.add_argument("--experiments", nargs="*", default=list(SINGLE))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/locate_chilbolton.json")
    args = ap.parse_args()
    rows = []
    for variant in args.variant:
        for exp in args.experiments:
            r = run(exp, variant, args.particles, args.seed)
            rows.append(r)
            print(json.dumps(r), flush=True)
    summary = {}
    for variant in args.variant:
        sel = [r for r in rows if r["variant"] == variant]
        summary[variant] = {
            "experiments": len(sel),
            "within_10m": sum(r["within_10m"] for r in sel),
            "true_in_ci95": sum(r["true_in_ci95"] for r in sel),
            "within_factor_1_5": sum(r["within_factor_1_5"] for r in sel),
            "all_three": sum(
                r["within_10m"] and r["true_in_ci95"] and r["within_factor_1_5"] for r in sel
            ),
            "median_position_error_m": float(np.median([r["position_error_m"] for r in sel])),
            "median_rate_ratio": float(np.median([r["rate_ratio"] for r in sel])),
        }
    doc = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/bench_locate_chilbolton.py "
        + " ".join(f"--variant {v}" for v in args.variant)
        + f" --particles {args.particles}",
        "summary": summary,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
