"""Probe (no goal): the sparse filter's step as one compiled, GIL-free loop per run.

    python benchmarks/probe_numba_step.py

Why: ``retrieve(threads=2)`` splits the column groups over two Python threads. Each
iteration of the sparse filter is some forty NumPy calls on modest arrays, and every one
hands the GIL over; on a busy host two threads then gained nothing (1.02 s with one,
0.96 s with two, while fastmag1c's OpenMP threads gained 1.8x in the same run). A
numba kernel with ``nogil=True`` does a whole step for a run's groups in one call, reads
each group's packed spectra twice while they are still in cache, and accumulates in
float64.

What it measures: on the speed scene of ``bench_retrieval_speed.py`` (make it first),
the state of the widest step (the first on the packed support, all groups in one run)
is captured from a real ``retrieve``; then :meth:`SparseRun.step` (NumPy) and the kernel
below each take that step from the same state, alternately, and the two results are
compared pixel by pixel. Also the cost a command would pay: ``import numba`` and the
kernel's first call with its on-disk cache warm, in a fresh process.

The kernel is not used by the product (see ``benchmarks/RESULTS.md``, section 3).
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
from threadpoolctl import threadpool_limits

SCENE = Path(__file__).resolve().parent / ".work" / "speed_scene" / "radiance.hdr"


@numba.njit(cache=True, nogil=True)
def step_kernel(
    u: Any,
    alpha: Any,
    r: Any,
    p: Any,
    alive: Any,
    precision: Any,
    z: Any,
    tz: Any,
    n: Any,
    keep_frac: Any,
    kappa: Any,
) -> tuple[float, int]:  # pragma: no cover - compiled
    """One fixed-point step on every group's packed support, in place on alpha/alive."""
    groups, width, bands = u.shape
    moved = 0.0
    count = 0
    a = np.empty(bands)
    q = np.empty(bands)
    for g in range(groups):
        a[:] = 0.0
        dsum = 0.0
        d2sum = 0.0
        for i in range(width):
            d = r[g, i] * alpha[g, i]
            if d != 0.0:
                dsum += d
                d2sum += d * d
                for k in range(bands):
                    a[k] += d * u[g, i, k]
        kf = keep_frac[g]
        dbar = dsum / n[g]
        beta = kf * (d2sum / n[g] - dbar * dbar)
        a *= kf / n[g]
        aq = 0.0
        az = 0.0
        for k in range(bands):
            s = 0.0
            for j in range(bands):
                s += precision[g, k, j] * a[j]
            q[k] = s
            aq += a[k] * s
            az += a[k] * z[g, k]
        t = tz[g]
        k00 = aq - beta
        k01 = az - 1.0
        det = k00 * t - k01 * k01
        y0 = (t * az - k01 * t) / det if abs(det) > 1e-300 else 0.0
        y1 = (k00 * t - k01 * az) / det if abs(det) > 1e-300 else 0.0
        c1 = 1.0 - y1
        c2 = -y0
        norm = c1 * t + c2 * az
        for i in range(width):
            if not alive[g, i]:
                continue
            uq = 0.0
            for k in range(bands):
                uq += u[g, i, k] * q[k]
            ri = r[g, i]
            hat = (c1 * p[g, i] + c2 * uq + dbar * norm) / (ri * norm)
            disc = hat * hat - 4.0 * kappa[g] / norm / (ri * ri)
            new = 0.5 * (hat + np.sqrt(disc)) if hat > 0.0 and disc >= 0.0 else 0.0
            moved += abs(new - alpha[g, i])
            count += 1
            alpha[g, i] = new
            alive[g, i] = new > 0.0
    return moved, count


def _capture() -> tuple[Any, Any]:
    """Run a real retrieval and keep the first packed step's state and its run."""
    import plumetrace.detect.sparse as sparse
    from plumetrace.detect import retrieve
    from plumetrace.io import open_radiance
    from plumetrace.pipeline.detect import DetectOptions, plan_scene

    plan = plan_scene(SCENE, DetectOptions())
    with open_radiance(SCENE) as scene:
        cube = np.ascontiguousarray(scene.read(bands=plan.idx))
    kept: list[Any] = []
    original = sparse.SparseRun.step

    def capture(self: Any) -> tuple[float, int]:
        if not kept:
            kept.extend([copy.deepcopy(self.pack), self])
        return original(self)

    sparse.SparseRun.step = capture  # type: ignore[method-assign]
    try:
        retrieve(cube, plan.unit_absorption, wavelength_nm=plan.wavelength_nm, threads=1)
    finally:
        sparse.SparseRun.step = original  # type: ignore[method-assign]
    return kept[0], kept[1]


def main() -> None:
    if not SCENE.exists():
        sys.exit(f"{SCENE}: missing; run benchmarks/bench_retrieval_speed.py once first")
    with threadpool_limits(1):
        pack0, run = _capture()
        prec = np.ascontiguousarray(run.bg.precision)

        def kernel(pk: Any) -> tuple[float, int]:
            return step_kernel(  # type: ignore[no-any-return]
                pk.u,
                pk.alpha,
                pk.r,
                pk.p,
                pk.alive,
                prec,
                run.z,
                run.tz,
                run.n,
                run.keep_frac,
                run.kappa,
            )

        kernel(copy.deepcopy(pack0))  # compile or load
        times: dict[str, list[float]] = {"numpy": [], "numba": []}
        for _ in range(5):
            run.pack = copy.deepcopy(pack0)
            t0 = time.perf_counter()
            run.step()
            times["numpy"].append(time.perf_counter() - t0)
            pk = copy.deepcopy(pack0)
            t0 = time.perf_counter()
            kernel(pk)
            times["numba"].append(time.perf_counter() - t0)
        run.pack = copy.deepcopy(pack0)
        run.step()
        ref = run.alpha()
        pk = copy.deepcopy(pack0)
        kernel(pk)
        got = np.zeros_like(ref)
        gi, slot = np.nonzero(pk.alive)
        got[gi, pk.pixel[gi, slot]] = pk.alpha[gi, slot]
    print(f"packed support: {int(pack0.alive.sum())} pixels, block {pack0.u.shape}")
    for name, ts in times.items():
        print(f"{name:6s} step: best {min(ts) * 1e3:.1f} ms, median {np.median(ts) * 1e3:.1f} ms")
    flipped = int(((ref > 0) != (got > 0)).sum())
    both = (ref > 0) & (got > 0)
    rel = float(np.max(np.abs(ref - got)[both] / ref[both]))
    print(
        f"pixels whose support differs: {flipped} of {int((ref > 0).sum())}; "
        f"max relative difference elsewhere {rel:.2e}"
    )
    cold = (
        "import time; t = time.perf_counter(); import numba; "
        "t1 = time.perf_counter(); import sys; sys.path.insert(0, sys.argv[1]); "
        "import numpy as np; from probe_numba_step import step_kernel as k; "
        "u = np.zeros((1, 2, 3), np.float32); a = np.zeros((1, 2)); b = np.zeros((1, 2), bool); "
        "P = np.zeros((1, 3, 3)); z = np.zeros((1, 3)); v = np.ones(1); "
        "t2 = time.perf_counter(); k(u, a, a, a, b, P, z, v, v, v, v); "
        "print(f'{t1 - t:.3f} {time.perf_counter() - t2:.3f}')"
    )
    here = str(Path(__file__).resolve().parent)
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", cold, here], capture_output=True, text=True, check=True
        ).stdout.split()
        print(f"fresh process: import numba {out[0]} s, first call (cache warm) {out[1]} s")


if __name__ == "__main__":
    main()
