"""Probe (no goal): which neighbour should weight the iterative filter's last step?

    python benchmarks/probe_neighbourhood.py [--scenes 6] [--json OUT.json]

On the scenes of ``bench_retrieval_accuracy.py`` (same seeds, same window and target) it
runs the iterative filter per pixel (``spatial=False``) and with its neighbourhood step
weighted by the k-th largest of each pixel's 8 neighbours, k = 1, 2, 3 (the product uses
3). The step's other parts are the product's own: only
``plumetrace.detect.sparse.third_largest_neighbour`` is swapped for a k-th-largest
version. Reported, pooled over the scenes: plume RMSE and bias (truth > 100 ppm·m), the
share of plume pixels set to 0 by truth band, the background's standard deviation and
its share of non-zero pixels (truth == 0): the speckle a plume segmentation has to reject.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ch4_target, dump, machine_info, window_bands
from bench_retrieval_accuracy import scene_specs

BANDS_PPM_M = ((100.0, 300.0), (300.0, 1000.0), (1000.0, 3000.0), (3000.0, np.inf))


def kth_largest_neighbour(k: int) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """The k-th largest of each pixel's 8 neighbours (0 beyond the edges), by sorting."""

    def kth(img: NDArray[np.float64]) -> NDArray[np.float64]:
        rows, cols = img.shape
        padded = np.pad(img, 1)
        around = np.stack(
            [
                padded[dr : dr + rows, dc : dc + cols]
                for dr in range(3)
                for dc in range(3)
                if (dr, dc) != (1, 1)
            ]
        )
        out: NDArray[np.float64] = np.sort(around, axis=0)[8 - k]
        return out

    return kth


def summary(est: list[NDArray[Any]], truth: list[NDArray[Any]]) -> dict[str, Any]:
    e = np.concatenate([a.ravel() for a in est]).astype(np.float64)
    t = np.concatenate([a.ravel() for a in truth]).astype(np.float64)
    ok = np.isfinite(e)
    plume, bg = ok & (t > 100.0), ok & (t == 0.0)
    err = e[plume] - t[plume]
    zero = {
        f"{lo:g}-{hi:g}": float(np.mean(e[plume & (t > lo) & (t <= hi)] == 0))
        for lo, hi in BANDS_PPM_M
    }
    return {
        "plume_rmse": float(np.sqrt(np.mean(err**2))),
        "plume_bias": float(np.mean(err)),
        "plume_zero_share_by_truth_ppm_m": zero,
        "background_std": float(np.std(e[bg])),
        "background_nonzero_share": float(np.mean(e[bg] > 0)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from plumetrace.detect import retrieve, sparse
    from plumetrace.sim import simulate_scene

    product = sparse.third_largest_neighbour
    variants: dict[str, Callable[[NDArray[np.float64]], NDArray[np.float64]] | None] = {
        "per pixel (spatial=False)": None,
        "largest neighbour": kth_largest_neighbour(1),
        "second-largest neighbour": kth_largest_neighbour(2),
        "third-largest neighbour (product)": kth_largest_neighbour(3),
    }
    est: dict[str, list[NDArray[Any]]] = {name: [] for name in variants}
    truths: list[NDArray[Any]] = []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        for spec in scene_specs(args.scenes, 1000, 598, 4):
            sc = simulate_scene(spec)
            b = window_bands(sc.wavelength_nm)
            wl = sc.wavelength_nm[b]
            s = ch4_target(wl, sc.fwhm_nm[b])
            cube = np.ascontiguousarray(sc.radiance[:, :, b])
            truths.append(sc.truth_enhancement)
            del sc
            for name, kth in variants.items():
                try:
                    if kth is not None:
                        sparse.third_largest_neighbour = kth  # type: ignore[assignment]
                    res = retrieve(cube, s, wavelength_nm=wl, spatial=kth is not None)
                finally:
                    sparse.third_largest_neighbour = product
                est[name].append(res.enhancement)
            print(f"seed {spec.seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    rows = {name: summary(v, truths) for name, v in est.items()}
    print("| variant | plume RMSE | plume bias | background std | background non-zero |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['plume_rmse']:.1f} | {r['plume_bias']:.1f} | "
            f"{r['background_std']:.1f} | {100 * r['background_nonzero_share']:.1f} % |"
        )
    print("\nshare of plume pixels set to 0, by true enhancement (ppm·m):")
    for name, r in rows.items():
        bands = ", ".join(
            f"{k}: {100 * v:.1f} %" for k, v in r["plume_zero_share_by_truth_ppm_m"].items()
        )
        print(f"- {name}: {bands}")
    dump(
        args.json,
        {
            "meta": {
                **machine_info(),
                "command": " ".join([Path(sys.executable).name, *sys.argv]),
                "scenes": args.scenes,
                "seconds": time.perf_counter() - t0,
            },
            "variants": rows,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
