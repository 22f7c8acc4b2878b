"""In-situ source estimation benchmarks: Stone Soup's STE scenario, robustness, speed.

    python benchmarks/bench_sniff.py stonesoup  [--seeds 10]   # side by side with Stone Soup 1.9.1
    python benchmarks/bench_sniff.py robustness [--seeds 20]   # filament truth, 100 readings
    python benchmarks/bench_sniff.py speed                      # 20,000 particles

``stonesoup``: the scenario of Stone Soup's "Autonomous Source Term Estimation" example
(benchmarks/peers/STONESOUP_STE.md): truth = Stone Soup's isotropic plume (source (30, 40, 1),
Q = 5, u = 4, φ = π/2, ζ₁ = 1, ζ₂ = 8) with its sensor noise (50 % multiplicative, 5e-4
threshold, 30 % missed detections); start (5, 5, 0); 50 readings; the same 9 moves per step
(stay, ±2/±4 m in x or y, inside [0, 50]²). plumetrace infers with the same isotropic plume
(``--dispersion isotropic``, as Stone Soup does; ``--dispersion briggs-rural`` runs its
Gaussian plume against this truth instead) and chooses among the same 9 moves by expected
information gain. Unlike Stone Soup, plumetrace is given an anemometer reading (speed 4 ± 0.2
m/s, direction ± 5°), as its locate command expects; Stone Soup estimates u and φ. Stone Soup
itself runs in the same invocation (benchmarks/.env-stonesoup, `setup_stonesoup.sh`) on the
same seeds. Concentrations are taken as kg/m³ and Q as kg/s for unit bookkeeping.

``robustness``: ``plumetrace sim sniff`` sorties (filament/puff truth with meandering,
Gaussian-plume inference), adaptive, 100 readings: fraction of seeds within 3 m.

``speed``: 20,000 particles: one point-reading update, scoring 24 candidate waypoints, one
Metropolis-Hastings sweep over 100 readings; with 1 and 2 numba threads.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np
from _common import HERE, MACHINE, ROOT, WORK

from plumetrace.constants import MOLAR_MASS_KG_MOL, kg_m3_per_ppm
from plumetrace.insitu.likelihood import NoiseModel
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.planner import (
    PlannerOptions,
    downwind_of,
    expected_information_gain,
    next_waypoint,
)
from plumetrace.insitu.plume import ForwardModel
from plumetrace.insitu.prior import Prior
from plumetrace.insitu.smc import SourceEstimator
from plumetrace.insitu.summary import summarize

RESULTS = ROOT / "benchmarks" / "results"
RHO = kg_m3_per_ppm(MOLAR_MASS_KG_MOL["ch4"])  # kg/m³ per ppm
SS_TRUTH = {
    "x": 30.0,
    "y": 40.0,
    "z": 1.0,
    "q": 5.0,
    "u": 4.0,
    "phi": math.pi / 2,
    "z1": 1.0,
    "z2": 8.0,
}


def isotropic_plume(p: np.ndarray) -> float:
    """Stone Soup's IsotropicPlume (gas.py L118-169) at the scenario's truth."""
    t = SS_TRUTH
    d = max(math.dist(p, (t["x"], t["y"], t["z"])), 0.1)
    lam = math.sqrt(t["z1"] * t["z2"] / (1 + t["u"] ** 2 * t["z2"] / (4 * t["z1"])))
    return (
        t["q"]
        / (4 * math.pi * t["z1"] * d)
        * math.exp(
            -(p[0] - t["x"]) * t["u"] * math.cos(t["phi"]) / (2 * t["z1"])
            - (p[1] - t["y"]) * t["u"] * math.sin(t["phi"]) / (2 * t["z1"])
            - d / lam
        )
    )


def ss_reading(p: np.ndarray, rng: np.random.Generator) -> float:
    """Stone Soup's truth measurement (sensor/gas.py): 50 % noise, threshold, 30 % misses."""
    c = isotropic_plume(p)
    z = c + 0.5 * c * rng.standard_normal()
    if z < 5e-4 or rng.random() < 0.3:
        return 0.0
    return z


def ss_moves(pos: np.ndarray) -> np.ndarray:
    out = [pos.copy()]
    for axis in (0, 1):
        for step in (-4.0, -2.0, 2.0, 4.0):
            q = pos.copy()
            q[axis] += step
            if 0.0 <= q[0] <= 50.0 and 0.0 <= q[1] <= 50.0:
                out.append(q)
    return np.array(out)


def run_ours_stonesoup(
    seed: int, readings: int, particles: int, dispersion: str = "isotropic"
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    model = ForwardModel(scheme=dispersion)  # type: ignore[arg-type]
    sigma = 1e-4 / RHO
    thr = 5e-4 / RHO
    noise = NoiseModel(sigma_ppm=sigma, threshold_ppm=thr, relative_error=0.5, intermittency=0.3)
    # Q in kg/s (Stone Soup's units taken as kg/s): 0.1-100, log-uniform
    prior = Prior(box=(0, 0, 50, 50), z_range=(0.0, 5.0), rate_kg_h=(360.0, 360000.0))
    est = SourceEstimator(model, prior, noise, particles, rng)
    opts = PlannerOptions(max_particles=min(particles, 4000))
    pos = np.array([5.0, 5.0])
    pos_err, rate_err, track = [], [], []
    t0 = time.perf_counter()
    for k in range(readings):
        z = ss_reading(np.array([pos[0], pos[1], 0.0]), rng)
        speed = 4.0 + 0.2 * rng.standard_normal()
        wind_from = float(rng.normal(0.0, 5.0)) % 360.0
        obs = Observations.create(
            np.array([[pos[0], pos[1], 0.0]]), np.array([z / RHO]), speed, wind_from
        )
        est.update(obs)
        s = summarize(est.theta, est.weights)
        pos_err.append(float(math.hypot(s.x_m - 30.0, s.y_m - 40.0)))
        rate_err.append(abs(s.rate_kg_h / 3600.0 - 5.0) / 5.0)
        track.append([float(pos[0]), float(pos[1])])
        if k + 1 == readings:
            break
        cands = ss_moves(pos)
        gains = expected_information_gain(
            model,
            est.theta,
            est.weights,
            cands,
            height_m=0.0,
            wind_speed_m_s=speed,
            wind_from_deg=wind_from,
            sigma_theta_deg=float("nan"),
            noise=noise,
            options=opts,
            rng=rng,
        )
        target = downwind_of(s.x_m, s.y_m, wind_from, 10.0)
        pos = np.array(
            next_waypoint((float(pos[0]), float(pos[1])), gains, cands, fallback_xy=target)
        )
    return {
        "seed": seed,
        "final_pos_err_m": pos_err[-1],
        "final_rate_rel_err": rate_err[-1],
        "pos_err_m": pos_err,
        "rate_rel_err": rate_err,
        "track": track,
        "seconds": time.perf_counter() - t0,
    }


def stonesoup(args: argparse.Namespace) -> dict[str, Any]:
    seeds = list(range(args.seeds))
    ours = []
    for seed in seeds:
        r = run_ours_stonesoup(seed, args.readings, args.particles, args.dispersion)
        ours.append(r)
        print(
            f"plumetrace seed {seed}: {r['final_pos_err_m']:.2f} m, "
            f"{100 * r['final_rate_rel_err']:.0f} %, {r['seconds']:.1f} s",
            flush=True,
        )
    peer_py = HERE / ".env-stonesoup" / "bin" / "python"
    peer_out = WORK / "stonesoup_ste.json"
    peer: dict[str, Any] | None = None
    if peer_py.exists():
        subprocess.run(
            [
                str(peer_py),
                str(HERE / "peers" / "stonesoup_ste.py"),
                "--seeds",
                f"0-{args.seeds - 1}",
                "--readings",
                str(args.readings),
                "--out",
                str(peer_out),
            ],
            check=True,
        )
        peer = json.loads(peer_out.read_text())
    else:
        print(
            "benchmarks/.env-stonesoup missing: run benchmarks/setup_stonesoup.sh", file=sys.stderr
        )
    out: dict[str, Any] = {
        "seeds": seeds,
        "readings": args.readings,
        "plumetrace": {
            "particles": args.particles,
            "dispersion": args.dispersion,
            "median_pos_err_m": float(np.median([r["final_pos_err_m"] for r in ours])),
            "median_rate_rel_err": float(np.median([r["final_rate_rel_err"] for r in ours])),
            "median_seconds_per_seed": float(np.median([r["seconds"] for r in ours])),
            "per_seed": [
                {k: r[k] for k in ("seed", "final_pos_err_m", "final_rate_rel_err", "seconds")}
                for r in ours
            ],
        },
    }
    if peer is not None:
        rows = [p for p in peer.get("runs", []) if isinstance(p, dict)]
        out["stonesoup"] = {
            "version": "1.9.1",
            "median_pos_err_m": float(np.median([p["final_pos_err_m"] for p in rows])),
            "median_rate_rel_err": float(np.median([p["final_rate_rel_err"] for p in rows])),
            "median_seconds_per_seed": float(
                np.median([p.get("wall_s", p.get("elapsed_s", np.nan)) for p in rows])
            ),
            "per_seed": [
                {
                    "seed": p.get("seed"),
                    "final_pos_err_m": p["final_pos_err_m"],
                    "final_rate_rel_err": p["final_rate_rel_err"],
                }
                for p in rows
            ],
        }
    return out


def robustness(args: argparse.Namespace) -> dict[str, Any]:
    from plumetrace.pipeline.sniff import SortieOptions, run_sortie

    rows = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        res = run_sortie(SortieOptions(seed=seed, readings=args.readings, particles=args.particles))
        last = res.rows[-1]
        rows.append(
            {
                "seed": seed,
                "position_error_m": last["position_error_m"],
                "rate_error_frac": last["rate_error_frac"],
                "true_rate_kg_h": res.truth["rate_kg_h"],
                "seconds": time.perf_counter() - t0,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    errs = np.array([r["position_error_m"] for r in rows])
    return {
        "readings": args.readings,
        "particles": args.particles,
        "fraction_within_3m": float(np.mean(errs <= 3.0)),
        "median_position_error_m": float(np.median(errs)),
        "median_rate_error_frac": float(np.median([r["rate_error_frac"] for r in rows])),
        "rows": rows,
    }


def _speed_once() -> dict[str, float]:
    """Timings at 20,000 particles in this process (thread count set by the caller)."""
    rng = np.random.default_rng(0)
    model = ForwardModel()
    prior = Prior(box=(0, 0, 100, 100), stability_sigma=0.75)
    noise = NoiseModel(sigma_ppm=0.02)
    est = SourceEstimator(model, prior, noise, 20_000, rng)
    m = 100
    pts = np.column_stack([rng.uniform(0, 100, m), rng.uniform(0, 100, m), np.full(m, 2.0)])
    obs = Observations.create(
        pts, rng.exponential(0.2, m), 3.0, rng.uniform(0, 360, m), sigma_theta_deg=12.0
    )
    one = obs.take(slice(0, 1))
    est.update(one)  # compile
    # per-reading update without rejuvenation (weights only)
    times = []
    for j in range(1, 21):
        r = obs.take(slice(j, j + 1))
        t0 = time.perf_counter()
        ll = est._loglik(
            est.theta,
            model.pack_readings(r),
            r.enhancement_ppm,
            np.full(1, 0.02),
            np.zeros(1),
            np.ones(1),
        )
        est.log_w = est.log_w + ll
        times.append(time.perf_counter() - t0)
    update_ms = 1e3 * float(np.median(times))
    # scoring 24 candidates
    from plumetrace.insitu.planner import candidate_waypoints

    cands = candidate_waypoints((50.0, 50.0), PlannerOptions())
    score = {}
    for cap in (4000, 20_000):
        opts = PlannerOptions(max_particles=cap)

        def run(opts: PlannerOptions = opts) -> None:
            expected_information_gain(
                model,
                est.theta,
                est.weights,
                cands,
                height_m=2.0,
                wind_speed_m_s=3.0,
                wind_from_deg=0.0,
                sigma_theta_deg=12.0,
                noise=noise,
                options=opts,
                rng=rng,
            )

        run()
        t0 = time.perf_counter()
        for _ in range(5):
            run()
        score[cap] = 1e3 * (time.perf_counter() - t0) / 5
    # one MH sweep = the log-likelihood of all 100 readings for 20,000 proposals
    r_all = model.pack_readings(obs)
    t0 = time.perf_counter()
    for _ in range(3):
        est._loglik(
            est.theta, r_all, obs.enhancement_ppm, np.full(m, 0.02), np.zeros(m), np.ones(m)
        )
    sweep_ms = 1e3 * (time.perf_counter() - t0) / 3
    return {
        "update_ms": update_ms,
        "score_24_ms_resampled_4000": score[4000],
        "score_24_ms_all_20000": score[20_000],
        "mh_sweep_100_readings_ms": sweep_ms,
    }


def speed(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for threads in (1, 2):
        env = dict(
            os.environ,
            NUMBA_NUM_THREADS=str(threads),
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
        )
        res = subprocess.run(
            [sys.executable, __file__, "_speed_child"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        out[f"threads_{threads}"] = json.loads(res.stdout.strip().splitlines()[-1])
        print(threads, out[f"threads_{threads}"], flush=True)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_speed_child":
        print(json.dumps(_speed_once()))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["stonesoup", "robustness", "speed"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--readings", type=int, default=None)
    ap.add_argument("--particles", type=int, default=10_000)
    ap.add_argument(
        "--dispersion",
        default="isotropic",
        help="plumetrace's forward model in the stonesoup scenario",
    )
    args = ap.parse_args()
    if args.readings is None:
        args.readings = 50 if args.mode == "stonesoup" else 100
    fn = {"stonesoup": stonesoup, "robustness": robustness, "speed": speed}[args.mode]
    result = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/bench_sniff.py " + " ".join(sys.argv[1:]),
        **fn(args),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"_{args.dispersion}" if args.mode == "stonesoup" else ""
    path = RESULTS / f"sniff_{args.mode}{suffix}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("rows",)}, indent=2)[:3000])


if __name__ == "__main__":
    main()
