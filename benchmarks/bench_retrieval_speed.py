"""Speed and memory of plumetrace's CH4 retrieval against mag1c, fastmag1c and SPy.

A 1000 rows x 598 cols x 425 bands float32 AVIRIS-NG-shaped ENVI BIL scene (1.02 GB) is
simulated once into ``benchmarks/.work/speed_scene`` (``plumetrace sim scene``). Every
method uses the same bands (2122-2485 nm, 72 bands; see ``_common.WINDOW_NM``) and the
same target. Each timing is the best of ``--repeats`` (3) after one untimed warm-up, all
in the same run:

* plumetrace ``retrieve`` compute (window cube already in memory), ``iterative`` and
  ``mf``, with 1 and 2 threads (``threads=N`` under a threadpoolctl limit of N BLAS
  threads: the column groups split over N threads, each with a one-thread BLAS);
* the whole ``plumetrace detect`` command (read, retrieve, write GeoTIFFs, detect.json,
  quick-look), wall time of the subprocess and its peak RSS (``/usr/bin/time -v``);
* mag1c 1.2.0's command line (through ``_mag1c_cli.py``, which only restores ``np.int``):
  ``-t 1`` and its default (``-t 0``). mag1c's ``-t`` is the number of extra *data
  loader* processes, not compute threads; torch computes with all cores either way, so a
  third run pins torch to one compute thread (``OMP_NUM_THREADS=1``);
* fastmag1c 0.1.0 ``filters.fastmag1c`` compute with ``torch.set_num_threads`` 1 and 2;
* SPy's ``MatchedFilter`` per column, BLAS 1 and 2 threads.

The radiance file stays in the page cache between runs (24 GiB of RAM), so the command
timings are warm-cache timings.

Run inside ``benchmarks/.env`` (``bash benchmarks/setup_peers.sh``)::

    benchmarks/.env/bin/python benchmarks/bench_retrieval_speed.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    WINDOW_NM,
    WORK,
    best_of,
    ch4_target,
    dump,
    machine_info,
    measured,
    plumetrace_cmd,
    run_timed,
    window_bands,
)
from _peers import (
    fastmag1c_retrieve,
    have_peers,
    mag1c_command,
    spy_columnwise_mf,
    write_mag1c_spec,
)

WINDOW_ARG = f"{WINDOW_NM[0]:g}:{WINDOW_NM[1]:g}"


def ensure_scene(out: Path, rows: int, cols: int, seed: int) -> Path:
    """Simulate the benchmark scene with ``plumetrace sim scene`` unless it already exists."""
    from plumetrace.io.radiance import open_radiance

    hdr = out / "radiance.hdr"
    if hdr.exists():
        with open_radiance(hdr) as cube:
            if cube.shape[:2] == (rows, cols):
                return out / "radiance"
        shutil.rmtree(out)
    cmd = [
        *plumetrace_cmd(),
        "sim",
        "scene",
        str(out),
        "--seed",
        str(seed),
        "--rows",
        str(rows),
        "--cols",
        str(cols),
        "--sources",
        "3",
        "--rate-min",
        "100",
        "--rate-max",
        "1000",
        "--wind-speed",
        "3",
        "--format",
        "envi",
    ]
    print("simulating:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, capture_output=True)
    return out / "radiance"


def time_command(cmd: list[str], repeats: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Warm-up + ``repeats`` timed runs of a command; best wall time and the peak RSS."""
    warm = run_timed(cmd, env=env)
    if warm.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{warm.stderr[-3000:]}")
    runs = [run_timed(cmd, env=env) for _ in range(repeats)]
    for r in runs:
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    best = min(runs, key=lambda r: r.seconds)
    return {
        "command": " ".join(cmd),
        "env": env or {},
        "best_s": best.seconds,
        "runs_s": [r.seconds for r in runs],
        "max_rss_bytes": max(r.max_rss_bytes for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 x 200 scene, 1 repeat")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--cols", type=int, default=598)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mag1c-repeats", type=int, default=None, help="default: --repeats")
    ap.add_argument("--skip-mag1c", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.cols, args.repeats = 300, 200, 1
    mag1c_repeats = args.repeats if args.mag1c_repeats is None else args.mag1c_repeats
    if not have_peers():
        print(
            "peers missing: run bash benchmarks/setup_peers.sh and use benchmarks/.env/bin/python"
        )
        return 2

    import torch
    from threadpoolctl import threadpool_limits

    from plumetrace.detect import retrieve
    from plumetrace.io.radiance import open_radiance

    t_start = time.perf_counter()
    info = machine_info()
    info["loadavg_at_start"] = os.getloadavg()
    name = "speed_scene" if not args.quick else "speed_scene_quick"
    rdn = ensure_scene(WORK / name, args.rows, args.cols, args.seed)
    hdr = rdn.with_name("radiance.hdr")
    file_bytes = rdn.stat().st_size
    with open_radiance(hdr) as src:
        wl_all = np.asarray(src.wavelength_nm, dtype=np.float64)
        fwhm_all = np.asarray(src.fwhm_nm, dtype=np.float64)
        idx = window_bands(wl_all)
        cube = src.read(bands=idx)
        shape = src.shape
    s_all = ch4_target(wl_all, fwhm_all)
    s = s_all[idx]
    wl = wl_all[idx]
    print(f"scene {shape} ({file_bytes / 1e9:.2f} GB), window {idx.size} bands", flush=True)

    res: dict[str, Any] = {"compute": {}, "commands": {}}

    # --- compute only ------------------------------------------------------------------
    def record(label: str, fn: Any, limits: Any, extra: Any = None) -> None:
        def group() -> Any:
            with limits():
                return best_of(fn, args.repeats)

        (tm, r), others = measured(group)
        entry = {"best_s": tm.best, "runs_s": tm.runs, "others_cores": others}
        if extra is not None:
            entry.update(extra(r))
        res["compute"][label] = entry
        print(f"{label}: {tm.best:.3f} s (others {others:.2f} cores)", flush=True)

    def blas(n: int) -> Any:
        return lambda: threadpool_limits(n)

    def torch_threads(n: int) -> Any:
        class _T:
            def __enter__(self) -> None:
                self.old = torch.get_num_threads()
                torch.set_num_threads(n)

            def __exit__(self, *e: object) -> None:
                torch.set_num_threads(self.old)

        return _T

    for threads in (1, 2):
        for method in ("iterative", "mf"):
            record(
                f"plumetrace {method}, {threads} thread(s)",
                lambda m=method, n=threads: retrieve(
                    cube, s, method=m, wavelength_nm=wl, threads=n
                ),
                blas(threads),
                lambda r: {"iterations": r.iterations},
            )
        record(
            f"SPy MF (columnwise), {threads} BLAS thread(s)",
            lambda: spy_columnwise_mf(cube, s),
            blas(threads),
        )
        record(
            f"fastmag1c, {threads} torch thread(s)",
            lambda: fastmag1c_retrieve(cube, s),
            torch_threads(threads),
        )

    # --- whole commands ----------------------------------------------------------------
    out = WORK / f"{name}_out"
    out.mkdir(parents=True, exist_ok=True)
    for method, threads in (("iterative", 1), ("iterative", None), ("mf", None)):
        cmd = [
            *plumetrace_cmd(),
            "detect",
            str(hdr),
            "--out",
            str(out / f"detect_{method}"),
            "--method",
            method,
            "--window",
            WINDOW_ARG,
        ]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        label = f"plumetrace detect --method {method}" + (
            f" --threads {threads}" if threads else " (default threads)"
        )
        r, others = measured(lambda c=cmd: time_command(c, args.repeats))
        r["others_cores"] = others
        report = json.loads((out / f"detect_{method}" / "detect.json").read_text())
        r["detect_json_seconds"] = report.get("seconds")
        res["commands"][label] = r
        print(
            f"{label}: {r['best_s']:.2f} s, max RSS {r['max_rss_bytes'] / 2**30:.2f} GiB",
            flush=True,
        )

    if not args.skip_mag1c:
        spec = write_mag1c_spec(out / "mag1c_spec.txt", wl_all, s_all)
        for label, extra, env in (
            ("mag1c CLI -t 1", ["-t", "1"], None),
            ("mag1c CLI (defaults, -t 0)", [], None),
            (
                "mag1c CLI, OMP_NUM_THREADS=1 (1 compute thread)",
                [],
                {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            ),
        ):
            cmd = mag1c_command(rdn, spec, out / "mag1c_out", extra)
            r, others = measured(lambda c=cmd, e=env: time_command(c, mag1c_repeats, env=e))
            r["others_cores"] = others
            res["commands"][label] = r
            print(
                f"{label}: {r['best_s']:.2f} s, max RSS {r['max_rss_bytes'] / 2**30:.2f} GiB",
                flush=True,
            )

    c, k = res["compute"], res["commands"]
    it1 = c["plumetrace iterative, 1 thread(s)"]["best_s"]
    it2 = c["plumetrace iterative, 2 thread(s)"]["best_s"]
    mf1 = c["plumetrace mf, 1 thread(s)"]["best_s"]
    mf2 = c["plumetrace mf, 2 thread(s)"]["best_s"]
    whole = k["plumetrace detect --method iterative (default threads)"]
    whole1 = k["plumetrace detect --method iterative --threads 1"]
    ratios: dict[str, float] = {
        "fastmag1c(1) / plumetrace iterative(1)": c["fastmag1c, 1 torch thread(s)"]["best_s"] / it1,
        "fastmag1c(2) / plumetrace iterative(2)": c["fastmag1c, 2 torch thread(s)"]["best_s"] / it2,
        "SPy MF(1) / plumetrace mf(1)": c["SPy MF (columnwise), 1 BLAS thread(s)"]["best_s"] / mf1,
        "whole command max RSS / cube file size": whole["max_rss_bytes"] / file_bytes,
        "whole command max RSS / window cube size": whole["max_rss_bytes"]
        / (shape[0] * shape[1] * idx.size * 4),
    }
    if not args.skip_mag1c:
        for label in (
            "mag1c CLI -t 1",
            "mag1c CLI (defaults, -t 0)",
            "mag1c CLI, OMP_NUM_THREADS=1 (1 compute thread)",
        ):
            ratios[f"{label} / plumetrace iterative compute(1)"] = k[label]["best_s"] / it1
        ratios["mag1c CLI (defaults) / plumetrace detect (defaults)"] = (
            k["mag1c CLI (defaults, -t 0)"]["best_s"] / whole["best_s"]
        )
    goals = {
        "mag1c CLI -t 1 / plumetrace iterative compute (1 thread) >= 10": (
            None
            if args.skip_mag1c
            else ratios["mag1c CLI -t 1 / plumetrace iterative compute(1)"] >= 10
        ),
        "fastmag1c / plumetrace iterative >= 3 (1 thread each)": ratios[
            "fastmag1c(1) / plumetrace iterative(1)"
        ]
        >= 3,
        "fastmag1c / plumetrace iterative >= 3 (2 threads each)": ratios[
            "fastmag1c(2) / plumetrace iterative(2)"
        ]
        >= 3,
        "plumetrace mf compute <= 0.5 s (1 thread)": mf1 <= 0.5,
        "plumetrace mf compute <= 0.5 s (2 threads)": mf2 <= 0.5,
        "whole command <= 3 s (default threads)": whole["best_s"] <= 3.0,
        "whole command <= 3 s (1 thread)": whole1["best_s"] <= 3.0,
        "whole command peak RSS <= 1.5 x cube size": ratios[
            "whole command max RSS / cube file size"
        ]
        <= 1.5,
    }
    info["loadavg_at_end"] = os.getloadavg()
    payload = {
        "meta": {
            **info,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "scene": str(hdr),
            "shape": shape,
            "file_bytes": file_bytes,
            "window_nm": WINDOW_NM,
            "window_bands": int(idx.size),
            "repeats": args.repeats,
            "mag1c_repeats": mag1c_repeats,
            "seconds": time.perf_counter() - t_start,
        },
        "results": res,
        "ratios": ratios,
        "goals": goals,
    }
    _report(payload)
    dump(args.json, payload)
    return 0


def _report(p: dict[str, Any]) -> None:
    m = p["meta"]
    print(
        f"\n# Retrieval speed: {m['shape'][0]} x {m['shape'][1]} x {m['shape'][2]} float32 "
        f"({m['file_bytes'] / 1e9:.2f} GB), {m['window_bands']} bands in "
        f"{m['window_nm'][0]:g}-{m['window_nm'][1]:g} nm; best of {m['repeats']} after a warm-up"
    )
    print("| what | best (s) | runs (s) | peak RSS (GiB) | other processes (cores) |")
    print("|---|---|---|---|---|")
    for k, v in p["results"]["compute"].items():
        runs = ", ".join(f"{x:.3f}" for x in v["runs_s"])
        print(f"| {k} (compute) | {v['best_s']:.3f} | {runs} | | {v['others_cores']:.2f} |")
    for k, v in p["results"]["commands"].items():
        runs = ", ".join(f"{x:.2f}" for x in v["runs_s"])
        print(
            f"| {k} | {v['best_s']:.2f} | {runs} | {v['max_rss_bytes'] / 2**30:.2f} | "
            f"{v['others_cores']:.2f} |"
        )
    print("\n| ratio | value |\n|---|---|")
    for k, v in p["ratios"].items():
        print(f"| {k} | {v:.2f} |")
    print()
    for k, v in p["goals"].items():
        print(f"goal {k}: {'skipped' if v is None else ('MET' if v else 'NOT MET')}")
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
                    "blas",
                    "loadavg_at_start",
                    "loadavg_at_end",
                    "seconds",
                )
            }
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
