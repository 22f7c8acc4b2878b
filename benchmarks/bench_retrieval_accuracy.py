"""Accuracy of plumetrace's CH4 retrievals against mag1c, fastmag1c and SPy on simulated scenes.

Every scene is simulated with :func:`plumetrace.sim.simulate_scene` (AVIRIS-NG bands and
noise, 5 m pixels, log-uniform emission rates 50-2000 kg/h, one wind speed per scene
from 1 to 8 m/s). All methods get the same bands (:data:`_common.WINDOW_NM`, 2122-2485 nm)
and the same target (plumetrace's ``target_from_lookup_table`` at the scene's bands):

* plumetrace ``retrieve``: ``iterative``, ``mf`` and ``ace`` with their defaults;
* mag1c 1.2.0 ``acrwl1mf`` (float64, 30 iterations, its command line's defaults);
* fastmag1c 0.1.0 ``filters.fastmag1c`` (its defaults: float32, alpha 1e-4, 30 iterations);
* SPy ``MatchedFilter`` with per-column statistics.

Reported per method, pooled over the scenes: RMSE, bias and median |error| on plume pixels
(truth > ``--plume-threshold`` ppm·m, default 100), and the standard deviation, mean and
median |value| of the background (truth == 0).

Also checks that plumetrace's classic filter (``method="mf", shrinkage="none",
albedo_correction=False``, no pixel screened out) equals SPy's column-wise matched filter,
and how far the default (shrunk) ``mf`` is from it; a float64 NumPy evaluation of the
same formula is the referee.

Run inside ``benchmarks/.env`` (``bash benchmarks/setup_peers.sh``)::

    benchmarks/.env/bin/python benchmarks/bench_retrieval_accuracy.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WINDOW_NM, ch4_target, dump, machine_info, window_bands
from _peers import (
    fastmag1c_retrieve,
    have_peers,
    mag1c_acrwl1mf,
    spy_columnwise_mf,
)

WINDS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
DIRS = (270.0, 225.0, 180.0, 300.0, 135.0, 250.0)


def scene_specs(n: int, rows: int, cols: int, sources: int) -> list[Any]:
    from plumetrace.sim import SceneSpec

    return [
        SceneSpec(
            seed=100 + i,
            rows=rows,
            cols=cols,
            sources=sources,
            rate_min_kg_h=50.0,
            rate_max_kg_h=2000.0,
            wind_speed_m_s=WINDS[i % len(WINDS)],
            wind_dir_deg=DIRS[i % len(DIRS)],
            pixel_size_m=5.0,
        )
        for i in range(n)
    ]


def float64_columnwise_mf(
    cube: NDArray[np.float32], s: NDArray[np.float64], *, float32_gram: bool = False
) -> NDArray[np.float64]:
    """Referee: the classic column-wise matched filter, all in float64 NumPy.

    With ``float32_gram`` only the Gram matrix ``uᵀu`` is formed in float32 (as a float32
    pipeline does), to show how much of a difference that one step explains.
    """
    rows, cols, _ = cube.shape
    out = np.empty((rows, cols))
    for c in range(cols):
        x = cube[:, c, :].astype(np.float64)
        mu = x.mean(axis=0)
        u = x - mu
        if float32_gram:
            u32 = u.astype(np.float32)
            cov = (u32.T @ u32).astype(np.float64) / rows
        else:
            cov = u.T @ u / rows
        t = s * mu
        z = np.linalg.solve(cov, t)
        out[:, c] = u @ z / (t @ z)
    return out


def run_methods(
    cube: NDArray[np.float32], s: NDArray[np.float64], wl: NDArray[np.float64]
) -> tuple[dict[str, NDArray[Any]], dict[str, float]]:
    from plumetrace.detect import retrieve

    out: dict[str, NDArray[Any]] = {}
    secs: dict[str, float] = {}

    def timed(name: str, fn: Any) -> None:
        t0 = time.perf_counter()
        out[name] = np.asarray(fn(), dtype=np.float64)
        secs[name] = time.perf_counter() - t0

    for method in ("iterative", "mf", "ace"):
        timed(
            f"plumetrace {method}",
            lambda m=method: retrieve(cube, s, method=m, wavelength_nm=wl).enhancement,
        )
    timed(
        "plumetrace iterative --no-spatial",
        lambda: retrieve(cube, s, method="iterative", wavelength_nm=wl, spatial=False).enhancement,
    )
    timed("mag1c acrwl1mf", lambda: mag1c_acrwl1mf(cube, s))
    timed("fastmag1c", lambda: fastmag1c_retrieve(cube, s))
    timed("SPy MF (columnwise)", lambda: spy_columnwise_mf(cube, s))
    return out, secs


def mf_equivalence(
    cube: NDArray[np.float32],
    s: NDArray[np.float64],
    wl: NDArray[np.float64],
    spy: NDArray[np.float64],
) -> dict[str, float]:
    """Differences between plumetrace's classic MF, SPy's MF and a float64 referee."""
    from plumetrace.detect import retrieve

    rows, cols, _ = cube.shape
    no_flags = np.zeros((rows, cols), dtype=np.uint8)
    plain = retrieve(
        cube, s, method="mf", shrinkage="none", albedo_correction=False, pixel_flags=no_flags
    ).enhancement.astype(np.float64)
    screened = retrieve(
        cube, s, method="mf", shrinkage="none", albedo_correction=False, wavelength_nm=wl
    ).enhancement.astype(np.float64)
    default = retrieve(cube, s, method="mf", wavelength_nm=wl).enhancement.astype(np.float64)
    ref = float64_columnwise_mf(cube, s)
    ref32 = float64_columnwise_mf(cube, s, float32_gram=True)
    scale = float(np.std(spy))

    def stats(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, float, float]:
        ok = np.isfinite(a) & np.isfinite(b)
        d = np.abs(a[ok] - b[ok])
        return float(d.max()), float(np.median(d)), float(np.sqrt(np.mean(d**2)))

    res: dict[str, float] = {"spy_std_ppm_m": scale}
    for name, a, b in (
        ("none_vs_spy", plain, spy),
        ("none_screened_vs_spy", screened, spy),
        ("default_vs_spy", default, spy),
        ("spy_vs_float64", spy, ref),
        ("none_vs_float64", plain, ref),
        ("f32gram_vs_float64", ref32, ref),
    ):
        mx, med, rms = stats(a, b)
        res[f"{name}_max"] = mx
        res[f"{name}_median"] = med
        res[f"{name}_rms"] = rms
        res[f"{name}_max_rel"] = mx / scale
    res["screened_nan_pixels"] = float(np.count_nonzero(~np.isfinite(screened)))
    return res


def metrics(
    est: NDArray[np.float64], truth: NDArray[np.float32], ok: NDArray[np.bool_], thr: float
) -> dict[str, float]:
    plume = ok & (truth > thr)
    bg = ok & (truth == 0)
    e = est[plume] - truth[plume]
    b = est[bg]
    return {
        "n_plume": int(plume.sum()),
        "n_background": int(bg.sum()),
        "plume_rmse": float(np.sqrt(np.mean(e**2))),
        "plume_bias": float(np.mean(e)),
        "plume_median_abs_err": float(np.median(np.abs(e))),
        "background_std": float(np.std(b)),
        "background_mean": float(np.mean(b)),
        "background_median_abs": float(np.median(np.abs(b))),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 scenes of 400 x 200 pixels")
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--cols", type=int, default=598)
    ap.add_argument("--sources", type=int, default=4)
    ap.add_argument("--plume-threshold", type=float, default=100.0, help="ppm·m")
    ap.add_argument("--threads", type=int, default=2, help="BLAS and torch threads")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.scenes, args.rows, args.cols = 2, 400, 200
    if not have_peers():
        print(
            "peers missing: run bash benchmarks/setup_peers.sh and use benchmarks/.env/bin/python"
        )
        return 2

    import torch
    from threadpoolctl import threadpool_limits

    from plumetrace.sim import simulate_scene

    torch.set_num_threads(args.threads)
    info = machine_info()
    specs = scene_specs(args.scenes, args.rows, args.cols, args.sources)
    per_scene: list[dict[str, Any]] = []
    pooled_est: dict[str, list[NDArray[np.float64]]] = {}
    pooled_truth: list[NDArray[np.float32]] = []
    pooled_ok: list[NDArray[np.bool_]] = []
    equiv: list[dict[str, float]] = []
    t_start = time.perf_counter()
    with threadpool_limits(args.threads):
        for spec in specs:
            t0 = time.perf_counter()
            sc = simulate_scene(spec)
            b = window_bands(sc.wavelength_nm)
            wl = sc.wavelength_nm[b]
            s = ch4_target(wl, sc.fwhm_nm[b])
            cube = np.ascontiguousarray(sc.radiance[:, :, b])
            truth = sc.truth_enhancement
            rates = [round(src.rate_kg_h, 1) for src in sc.sources]
            del sc
            est, secs = run_methods(cube, s, wl)
            ok = np.ones(truth.shape, dtype=bool)
            for a in est.values():
                ok &= np.isfinite(a)
            eq = mf_equivalence(cube, s, wl, est["SPy MF (columnwise)"])
            equiv.append(eq)
            row: dict[str, Any] = {
                "seed": spec.seed,
                "wind_m_s": spec.wind_speed_m_s,
                "wind_dir_deg": spec.wind_dir_deg,
                "rates_kg_h": rates,
                "bands": int(b.size),
                "excluded_pixels": int((~ok).sum()),
                "seconds": secs,
                "metrics": {k: metrics(v, truth, ok, args.plume_threshold) for k, v in est.items()},
                "mf_equivalence": eq,
            }
            per_scene.append(row)
            for k, v in est.items():
                pooled_est.setdefault(k, []).append(v[ok])
            pooled_truth.append(truth[ok])
            pooled_ok.append(np.ones(int(ok.sum()), dtype=bool))
            it = row["metrics"]["plumetrace iterative"]
            sp = row["metrics"]["plumetrace iterative --no-spatial"]
            mg = row["metrics"]["mag1c acrwl1mf"]
            print(
                f"scene seed={spec.seed} wind={spec.wind_speed_m_s:g} m/s: "
                f"plume px {it['n_plume']}, RMSE iterative {it['plume_rmse']:.1f} "
                f"(--no-spatial {sp['plume_rmse']:.1f}) vs mag1c {mg['plume_rmse']:.1f}; "
                f"bg std {it['background_std']:.1f} ({sp['background_std']:.1f}) vs "
                f"{mg['background_std']:.1f}  ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    truth_all = np.concatenate(pooled_truth)
    ok_all = np.concatenate(pooled_ok)
    pooled = {
        k: metrics(np.concatenate(v), truth_all, ok_all, args.plume_threshold)
        for k, v in pooled_est.items()
    }
    eq_summary = {
        k: (max(e[k] for e in equiv) if ("max" in k) else float(np.median([e[k] for e in equiv])))
        for k in equiv[0]
    }
    mg = pooled["mag1c acrwl1mf"]
    verdicts = {}
    for key, name in (
        ("iterative", "plumetrace iterative"),
        ("per_pixel", "plumetrace iterative --no-spatial"),
    ):
        verdicts[f"{key}_rmse_le_mag1c"] = pooled[name]["plume_rmse"] <= mg["plume_rmse"]
        verdicts[f"{key}_bg_std_le_mag1c"] = pooled[name]["background_std"] <= mg["background_std"]
    payload = {
        "meta": {
            **info,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "scenes": args.scenes,
            "rows": args.rows,
            "cols": args.cols,
            "sources_per_scene": args.sources,
            "window_nm": WINDOW_NM,
            "plume_threshold_ppm_m": args.plume_threshold,
            "threads": args.threads,
            "seconds": time.perf_counter() - t_start,
        },
        "pooled": pooled,
        "mf_equivalence": eq_summary,
        "verdicts": verdicts,
        "scenes": per_scene,
    }
    _report(payload)
    dump(args.json, payload)
    return 0


def _report(p: dict[str, Any]) -> None:
    m = p["meta"]
    print(
        f"\n# Retrieval accuracy: {m['scenes']} scenes of {m['rows']} x {m['cols']} px, "
        f"window {m['window_nm'][0]:g}-{m['window_nm'][1]:g} nm, plume = truth > "
        f"{m['plume_threshold_ppm_m']:g} ppm·m (ppm·m throughout)"
    )
    print(
        "| method | plume RMSE | plume bias | plume median abs err | background std | "
        "background mean | background median abs |"
    )
    print("|---|---|---|---|---|---|---|")
    for k, v in p["pooled"].items():
        print(
            f"| {k} | {v['plume_rmse']:.1f} | {v['plume_bias']:+.1f} | "
            f"{v['plume_median_abs_err']:.1f} | {v['background_std']:.1f} | "
            f"{v['background_mean']:+.1f} | {v['background_median_abs']:.1f} |"
        )
    first = next(iter(p["pooled"].values()))
    print(f"(plume pixels {first['n_plume']}, background pixels {first['n_background']})")
    e = p["mf_equivalence"]
    print("\n# Classic matched filter vs SPy (max over scenes; rel = / std of SPy output)")
    for key, label in (
        ("none_vs_spy", "plumetrace mf, shrinkage=none, no albedo, no screening vs SPy"),
        ("none_screened_vs_spy", "same, with plumetrace's default pixel screening vs SPy"),
        ("default_vs_spy", "plumetrace mf defaults (shrinkage) vs SPy"),
        ("spy_vs_float64", "SPy vs float64 NumPy referee"),
        ("none_vs_float64", "plumetrace mf, shrinkage=none vs float64 referee"),
        (
            "f32gram_vs_float64",
            "float64 referee with only its Gram matrix in float32 vs float64 referee",
        ),
    ):
        print(
            f"- {label}: max |diff| {e[key + '_max']:.3g} ppm·m (rel {e[key + '_max_rel']:.2e}), "
            f"median {e[key + '_median']:.3g}, rms {e[key + '_rms']:.3g}"
        )
    mg = p["pooled"]["mag1c acrwl1mf"]
    v = p["verdicts"]
    for key, name in (
        ("iterative", "plumetrace iterative"),
        ("per_pixel", "plumetrace iterative --no-spatial"),
    ):
        it = p["pooled"][name]
        print(
            f"\ngoal {name} plume RMSE <= mag1c: "
            f"{'MET' if v[key + '_rmse_le_mag1c'] else 'NOT MET'}"
            f" ({it['plume_rmse']:.1f} vs {mg['plume_rmse']:.1f} ppm·m, ratio "
            f"{it['plume_rmse'] / mg['plume_rmse']:.3f})"
        )
        print(
            f"goal {name} background std <= mag1c: "
            f"{'MET' if v[key + '_bg_std_le_mag1c'] else 'NOT MET'}"
            f" ({it['background_std']:.1f} vs {mg['background_std']:.1f} ppm·m, ratio "
            f"{it['background_std'] / mg['background_std']:.3f})"
        )
    print(
        "meta:",
        json.dumps(
            {
                k: m[k]
                for k in (
                    "date",
                    "machine",
                    "cpu",
                    "python",
                    "numpy",
                    "torch",
                    "mag1c",
                    "fastmag1c",
                    "spectral",
                    "plumetrace",
                    "git",
                    "seconds",
                )
            }
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
