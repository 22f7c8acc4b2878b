"""Stone Soup 1.9.1 gas source-term estimation (STE) peer, run over several seeds.

Re-creates the scenario of Stone Soup's gallery example
``docs/examples/sensormanagement/Autonomous_Source_Term_Estimation.py`` (stonesoup 1.9.1 sdist)
with Stone Soup's own classes, the same constants and the same call sequence, and records, per
seed, the estimate after every reading. The scenario is written out with equations in
``STONESOUP_STE.md`` beside this file.

Run it in the isolated Stone Soup venv (``bash benchmarks/setup_stonesoup.sh``)::

    benchmarks/.env-stonesoup/bin/python benchmarks/peers/stonesoup_ste.py \
        --seeds 0-9 --readings 50 --out benchmarks/.work/stonesoup_ste.json

The estimate is the particle posterior's weighted mean (``ParticleState.mean``), the point
summary of Stone Soup's particle filter; the example itself only plots the particle cloud.
All randomness in Stone Soup's path here (prior draw, measurement noise, missed detections,
resampling, MCMC moves, synthetic reward detections) comes from NumPy's global RandomState, so
``np.random.seed(seed)`` makes a run reproducible (the example uses ``np.random.seed(1990)``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from stonesoup.models.measurement.gas import IsotropicPlume
from stonesoup.models.transition.linear import CombinedGaussianTransitionModel, RandomWalk
from stonesoup.movable.grid import NStepDirectionalGridMovable
from stonesoup.platform import FixedPlatform
from stonesoup.predictor.particle import ParticlePredictor
from stonesoup.regulariser.particle import MCMCRegulariser
from stonesoup.resampler.particle import ESSResampler
from stonesoup.sensor.gas import GasIntensitySensor
from stonesoup.sensormanager import BruteForceSensorManager
from stonesoup.sensormanager.reward import MultiUpdateExpectedKLDivergence
from stonesoup.types.groundtruth import GroundTruthState
from stonesoup.types.hypothesis import SingleHypothesis
from stonesoup.types.state import ParticleState, State, StateVectors
from stonesoup.types.track import Track
from stonesoup.updater.particle import ParticleUpdater

EXAMPLE = "docs/examples/sensormanagement/Autonomous_Source_Term_Estimation.py (stonesoup 1.9.1)"

# --- Scenario constants (identical to the example) ------------------------------------------
# Source term S = [x, y, z, Q, u, phi, zeta1, zeta2]
TRUTH = {
    "x": 30.0,
    "y": 40.0,
    "z": 1.0,  # source position, m
    "Q": 5.0,  # release rate ("g/s")
    "u": 4.0,  # wind speed, m/s
    "phi": float(np.radians(90.0)),  # wind direction, rad
    "zeta1": 1.0,  # diffusivity
    "zeta2": 8.0,  # gas lifetime
}
STATE_ORDER = ("x", "y", "z", "Q", "u", "phi", "zeta1", "zeta2")
SENSOR = {  # GasIntensitySensor arguments (others at their defaults)
    "min_noise": 1e-4,
    "missed_detection_probability": 0.3,
    "sensing_threshold": 5e-4,
    "standard_deviation_percentage": 0.5,  # class default, not set by the example
}
START_XYZ = (5.0, 5.0, 0.0)  # sensor start; the sensor stays in the z = 0 plane
AREA = ((0.0, 50.0), (0.0, 50.0))  # action_space bounds, x and y (inclusive)
GRID = {"resolution": 1, "n_steps": 2, "step_size": 2}  # -> moves of +-2, +-4 m along x or y
N_PARTICLES = 10_000
UPDATES_PER_TRACK = 4  # MultiUpdateExpectedKLDivergence


def prior_particles(n: int) -> StateVectors:
    """The example's prior: uniform position, Gamma(2, scale 5) rate, uniform nuisance terms."""
    rnd = np.random
    return StateVectors(
        [
            rnd.uniform(0, 50, n),  # x
            rnd.uniform(0, 50, n),  # y
            rnd.uniform(0, 5, n),  # z
            rnd.gamma(2, 5, n),  # Q   (shape 2, scale 5: mean 10)
            rnd.uniform(0, 6, n),  # u
            rnd.uniform(np.radians(0), np.radians(180), n),  # phi
            rnd.uniform(0, 2, n),  # zeta1
            rnd.uniform(6, 10, n),  # zeta2
        ]
    )


def invalid_particles(state: ParticleState) -> np.ndarray:
    """Constraint used by the example's updater and regulariser: Q, u, zeta1, zeta2 >= 0."""
    sv = state.state_vector
    return (sv[3, :] < 0) | (sv[4, :] < 0) | (sv[6, :] < 0) | (sv[7, :] < 0)


def weighted_median(values: np.ndarray, log_weight: np.ndarray) -> float:
    """Weighted 50 % quantile of one state component (secondary estimate, not the example's)."""
    order = np.argsort(values)
    w = np.exp(log_weight[order] - np.max(log_weight))
    cdf = np.cumsum(w)
    return float(values[order][np.searchsorted(cdf, 0.5 * cdf[-1])])


def run_seed(seed: int, readings: int, n_particles: int, updates_per_track: int) -> dict[str, Any]:
    np.random.seed(seed)  # noqa: NPY002 - Stone Soup draws from the global RandomState
    t0 = datetime(2000, 1, 1)  # the example uses datetime.now(); only differences matter

    truth = GroundTruthState([TRUTH[k] for k in STATE_ORDER], timestamp=t0)

    sensor = GasIntensitySensor(
        min_noise=SENSOR["min_noise"],
        missed_detection_probability=SENSOR["missed_detection_probability"],
        sensing_threshold=SENSOR["sensing_threshold"],
    )
    mover = NStepDirectionalGridMovable(
        states=[State([[START_XYZ[0]], [START_XYZ[1]], [START_XYZ[2]]], timestamp=t0)],
        position_mapping=(0, 1, 2),
        action_mapping=(0, 1),
        action_space=np.array(AREA),
        **GRID,
    )
    platform_ = FixedPlatform(movement_controller=mover, sensors=[sensor])

    predictor = ParticlePredictor(CombinedGaussianTransitionModel([RandomWalk(0.0)] * 8))
    # The updater's own model is never used: every detection carries the sensor's model.
    updater = ParticleUpdater(
        IsotropicPlume(),
        resampler=ESSResampler(),
        regulariser=MCMCRegulariser(constraint_func=invalid_particles),
        constraint_func=invalid_particles,
    )
    reward = MultiUpdateExpectedKLDivergence(
        updater=ParticleUpdater(measurement_model=None), updates_per_track=updates_per_track
    )
    manager = BruteForceSensorManager(
        sensors={sensor}, platforms={platform_}, reward_function=reward
    )

    state = ParticleState(
        prior_particles(n_particles), weight=np.full(n_particles, 1 / n_particles), timestamp=t0
    )
    state.parent = state
    track = Track(state)

    rows: list[dict[str, Any]] = []
    tic = time.perf_counter()
    for k in range(readings):
        now = t0 + timedelta(seconds=k + 1)
        if k > 0:  # first reading at the start position, then one move per reading
            choice = manager.choose_actions({track}, now)[0]
            for actionable, actions in choice.items():
                actionable.add_actions(actions)
                actionable.act(now)

        predicted = predictor.predict(state, timestamp=now)
        truth.timestamp = now
        detection = sensor.measure({truth}, noise=True).pop()
        state = updater.update(SingleHypothesis(predicted, detection))
        track.append(state)

        mean = np.asarray(state.mean, dtype=float).ravel()
        sd = np.sqrt(np.clip(np.diag(np.asarray(state.covar, dtype=float)), 0, None))
        pos = np.asarray(platform_.position, dtype=float).ravel()
        sv, lw = np.asarray(state.state_vector, dtype=float), np.asarray(state.log_weight)
        wmed = [weighted_median(sv[i], lw) for i in (0, 1, 3)]
        rows.append(
            {
                "sensor_xy": [float(pos[0]), float(pos[1])],
                "z": float(np.asarray(detection.state_vector).ravel()[0]),
                "est": dict(zip(STATE_ORDER, map(float, mean), strict=True)),
                "sd_xyQ": [float(sd[0]), float(sd[1]), float(sd[3])],
                "pos_err_m": float(np.hypot(mean[0] - TRUTH["x"], mean[1] - TRUTH["y"])),
                "rate_rel_err": float(abs(mean[3] - TRUTH["Q"]) / TRUTH["Q"]),
                "pos_err_m_wmedian": float(np.hypot(wmed[0] - TRUTH["x"], wmed[1] - TRUTH["y"])),
                "rate_rel_err_wmedian": float(abs(wmed[2] - TRUTH["Q"]) / TRUTH["Q"]),
                "sqrt_trace_cov": float(np.sqrt(np.trace(np.asarray(state.covar, dtype=float)))),
                "t_s": time.perf_counter() - tic,
            }
        )
    wall = time.perf_counter() - tic

    return {
        "seed": seed,
        "final_pos_err_m": rows[-1]["pos_err_m"],
        "final_rate_rel_err": rows[-1]["rate_rel_err"],
        "final_estimate": rows[-1]["est"],
        "final_pos_err_m_wmedian": rows[-1]["pos_err_m_wmedian"],
        "final_rate_rel_err_wmedian": rows[-1]["rate_rel_err_wmedian"],
        "pos_err_m": [r["pos_err_m"] for r in rows],
        "rate_rel_err": [r["rate_rel_err"] for r in rows],
        "pos_err_m_wmedian": [r["pos_err_m_wmedian"] for r in rows],
        "rate_rel_err_wmedian": [r["rate_rel_err_wmedian"] for r in rows],
        "sensor_xy": [r["sensor_xy"] for r in rows],
        "measurements": [r["z"] for r in rows],
        "n_nonzero_measurements": int(sum(r["z"] > 0 for r in rows)),
        "estimates": [r["est"] for r in rows],
        "sd_xyQ": [r["sd_xyQ"] for r in rows],
        "sqrt_trace_cov": [r["sqrt_trace_cov"] for r in rows],
        "elapsed_s": [r["t_s"] for r in rows],
        "wall_s": wall,
    }


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        seeds.extend(range(int(a), int(b) + 1) if b else [int(a)])
    return seeds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,1990 (example: 1990)")
    ap.add_argument("--readings", type=int, default=50, help="readings per run (example: 50)")
    ap.add_argument("--particles", type=int, default=N_PARTICLES, help="example: 10000")
    ap.add_argument("--updates-per-track", type=int, default=UPDATES_PER_TRACK, help="example: 4")
    ap.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = ap.parse_args(argv)

    seeds = parse_seeds(args.seeds)
    runs = []
    for s in seeds:
        r = run_seed(s, args.readings, args.particles, args.updates_per_track)
        runs.append(r)
        print(
            f"seed {s:>4}: pos err {r['final_pos_err_m']:6.2f} m  rate err "
            f"{100 * r['final_rate_rel_err']:6.1f} %  Q_est {r['final_estimate']['Q']:6.2f}  "
            f"nonzero z {r['n_nonzero_measurements']:>2}/{args.readings}  {r['wall_s']:6.1f} s",
            flush=True,
        )

    med = statistics.median
    summary = {
        "median_final_pos_err_m": med(r["final_pos_err_m"] for r in runs),
        "median_final_rate_rel_err": med(r["final_rate_rel_err"] for r in runs),
        "median_final_pos_err_m_wmedian": med(r["final_pos_err_m_wmedian"] for r in runs),
        "median_final_rate_rel_err_wmedian": med(r["final_rate_rel_err_wmedian"] for r in runs),
        "mean_final_pos_err_m": statistics.fmean(r["final_pos_err_m"] for r in runs),
        "mean_final_rate_rel_err": statistics.fmean(r["final_rate_rel_err"] for r in runs),
        "median_pos_err_m_per_reading": [
            med(r["pos_err_m"][k] for r in runs) for k in range(args.readings)
        ],
        "median_rate_rel_err_per_reading": [
            med(r["rate_rel_err"][k] for r in runs) for k in range(args.readings)
        ],
        "median_wall_s": med(r["wall_s"] for r in runs),
        "total_wall_s": sum(r["wall_s"] for r in runs),
    }
    print(
        f"median over {len(runs)} seeds: pos err {summary['median_final_pos_err_m']:.2f} m, "
        f"rate err {100 * summary['median_final_rate_rel_err']:.1f} % (weighted-median estimate: "
        f"{summary['median_final_pos_err_m_wmedian']:.2f} m, "
        f"{100 * summary['median_final_rate_rel_err_wmedian']:.1f} %), "
        f"{summary['median_wall_s']:.1f} s/seed"
    )

    result = {
        "peer": "stonesoup",
        "stonesoup_version": version("stonesoup"),
        "numpy_version": np.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "example": EXAMPLE,
        "scenario": {
            "truth": TRUTH,
            "state_order": STATE_ORDER,
            "sensor": SENSOR,
            "start_xyz": START_XYZ,
            "area": AREA,
            "grid": GRID,
            "readings": args.readings,
            "truth_measurement_model": "IsotropicPlume (same model as inference), noise=True",
        },
        "estimator": {
            "filter": "ParticlePredictor(RandomWalk(0)x8) + ParticleUpdater",
            "particles": args.particles,
            "prior": {
                "x": "U(0,50)",
                "y": "U(0,50)",
                "z": "U(0,5)",
                "Q": "Gamma(k=2, scale=5)",
                "u": "U(0,6)",
                "phi": "U(0,pi)",
                "zeta1": "U(0,2)",
                "zeta2": "U(6,10)",
            },
            "resampler": "ESSResampler(threshold=N/2, SystematicResampler)",
            "regulariser": "MCMCRegulariser (Gaussian kernel, Metropolis-Hastings), "
            "constraint Q,u,zeta1,zeta2 >= 0",
            "constraint": "weights of particles with Q,u,zeta1 or zeta2 < 0 set to 0",
            "sensor_manager": "BruteForceSensorManager (myopic, one step)",
            "reward": f"MultiUpdateExpectedKLDivergence(updates_per_track="
            f"{args.updates_per_track}, measurement_noise=True)",
            "estimate": "ParticleState.mean (weighted particle mean); *_wmedian fields: "
            "per-component weighted median of x, y, Q (secondary, not the example's)",
        },
        "seeds": seeds,
        "summary": summary,
        "runs": runs,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
        print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
