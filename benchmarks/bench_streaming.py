"""SLOW, run by hand (not in CI): ``plumetrace detect`` streams a 12 GB cube in column blocks.

Writes a float32 ENVI BIL cube of 1000 rows x 7060 cols x 425 bands (12.0 GB) into
``benchmarks/.work/stream`` block by block with :class:`plumetrace.io.envi.EnviWriter`,
filling it by tiling one simulated 1000 x 598 AVIRIS-NG scene across the columns, then
runs the whole ``plumetrace detect`` command on it under ``/usr/bin/time -v`` and records
its peak resident memory (goal: < 4 GB) and wall time.

Needs at least 30 GB free on the disk of ``benchmarks/.work`` (checked first; the run is
skipped with a message otherwise). The page cache cannot be dropped here, so the cube is
partly cached from being written (24 GiB of RAM): the time is a warm-ish-cache time.
The cube is deleted afterwards unless ``--keep``.

    benchmarks/.env/bin/python benchmarks/bench_streaming.py [--quick] [--keep] [--json out.json]

(any environment with plumetrace installed works; the peers are not used).
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

from _common import WINDOW_NM, WORK, dump, machine_info, plumetrace_cmd, run_timed

MIN_FREE_BYTES = 30 * 10**9


def evict_from_page_cache(path: Path) -> None:
    """Flush ``path`` and ask the kernel to drop its cached pages (this file only).

    ``posix_fadvise(POSIX_FADV_DONTNEED)`` on a clean file, no privileges needed; the
    system-wide ``drop_caches`` is not used.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_bytes(path: Path) -> int | None:
    """Bytes of ``path`` resident in the page cache (``fincore``), None if unknown."""
    try:
        out = subprocess.run(
            ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return int(out[0])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return None


def write_tiled_cube(
    base: Path, rows: int, cols: int, seed: int, block_rows: int
) -> dict[str, Any]:
    """Write a (rows, cols, 425) BIL cube tiling a simulated scene; return timing facts."""
    from plumetrace.io.envi import EnviWriter
    from plumetrace.sim import SceneSpec, simulate_scene

    t0 = time.perf_counter()
    tile_cols = min(cols, 598)
    sc = simulate_scene(
        SceneSpec(
            seed=seed,
            rows=rows,
            cols=tile_cols,
            sources=3,
            rate_min_kg_h=100.0,
            rate_max_kg_h=1000.0,
            wind_speed_m_s=3.0,
        )
    )
    t_sim = time.perf_counter() - t0
    tile = sc.radiance
    bands = tile.shape[2]
    reps = -(-cols // tile_cols)
    t1 = time.perf_counter()
    with EnviWriter(
        base,
        rows,
        cols,
        bands,
        wavelength_nm=sc.wavelength_nm,
        fwhm_nm=sc.fwhm_nm,
        interleave="bil",
        description="plumetrace streaming benchmark (tiled simulated scene)",
    ) as w:
        for r0 in range(0, rows, block_rows):
            blk = np.tile(tile[r0 : r0 + block_rows], (1, reps, 1))[:, :cols]
            w.write_rows(r0, blk)
    return {"simulate_s": t_sim, "write_s": time.perf_counter() - t1, "bands": bands}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--cols", type=int, default=7060, help="7060 x 1000 x 425 x 4 B = 12.0 GB")
    ap.add_argument("--quick", action="store_true", help="1000 x 1200 (2.0 GB) instead")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--block-rows", type=int, default=16)
    ap.add_argument("--method", default="iterative")
    ap.add_argument("--keep", action="store_true", help="keep the cube in benchmarks/.work/stream")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.quick:
        args.cols = 1200
    WORK.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(WORK).free
    if free < MIN_FREE_BYTES:
        print(
            f"SKIPPED: only {free / 1e9:.1f} GB free in {WORK}; the streaming benchmark needs "
            f"{MIN_FREE_BYTES / 1e9:.0f} GB"
        )
        return 0
    info = machine_info()
    info["free_disk_gb_before"] = free / 1e9
    folder = WORK / ("stream" if not args.quick else "stream_quick")
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "radiance"
    expected = args.rows * args.cols * 425 * 4
    if base.exists() and base.stat().st_size == expected:
        print(f"reusing {base} ({expected / 1e9:.2f} GB)", flush=True)
        written: dict[str, Any] = {"reused": True}
    else:
        print(
            f"writing {args.rows} x {args.cols} x 425 float32 BIL ({expected / 1e9:.2f} GB) ...",
            flush=True,
        )
        written = write_tiled_cube(base, args.rows, args.cols, args.seed, args.block_rows)
        print(f"written in {written['write_s']:.0f} s", flush=True)
    size = base.stat().st_size
    out = folder / "detect_out"
    cmd = [
        *plumetrace_cmd(),
        "detect",
        str(base.with_name("radiance.hdr")),
        "--out",
        str(out),
        "--method",
        args.method,
        "--window",
        f"{WINDOW_NM[0]:g}:{WINDOW_NM[1]:g}",
    ]
    runs: dict[str, dict[str, Any]] = {}
    for label in ("cold", "warm"):
        if label == "cold":
            evict_from_page_cache(base)
        resident = cached_bytes(base)
        print(
            f"running ({label}, {resident if resident is not None else '?'} bytes cached):",
            " ".join(cmd),
            flush=True,
        )
        run = run_timed(cmd)
        if run.returncode != 0:
            print(run.stderr[-3000:])
            return 1
        report = json.loads((out / "detect.json").read_text())
        runs[label] = {
            "cached_bytes_before": resident,
            "wall_s": run.seconds,
            "max_rss_bytes": run.max_rss_bytes,
            "detect_json_seconds": report.get("seconds"),
        }
    worst = max(r["max_rss_bytes"] for r in runs.values())
    payload = {
        "meta": {**info, "command": " ".join([Path(sys.executable).name, *sys.argv])},
        "cube": {
            "path": str(base),
            "rows": args.rows,
            "cols": args.cols,
            "bands": 425,
            "bytes": size,
            **written,
        },
        "detect": {"command": " ".join(cmd), "runs": runs},
        "goal_rss_lt_4gb": worst < 4 * 10**9,
    }
    print(f"\n# Streaming: {args.rows} x {args.cols} x 425 float32 BIL, {size / 1e9:.2f} GB")
    print("| what | value |\n|---|---|")
    write_s = written.get("write_s", float("nan"))
    print(f"| write the cube (EnviWriter, {args.block_rows}-row blocks) | {write_s:.0f} s |")
    for label, r in runs.items():
        cached = r["cached_bytes_before"]
        cached_txt = "?" if cached is None else f"{cached / 1e9:.2f} GB"
        print(
            f"| plumetrace detect, {label} ({cached_txt} of the cube in page cache before) | "
            f"{r['wall_s']:.1f} s wall, detect.json {r['detect_json_seconds']} s, peak RSS "
            f"{r['max_rss_bytes'] / 1e9:.2f} GB ({r['max_rss_bytes'] / size:.3f} x cube) |"
        )
    print(
        f"\ngoal peak RSS < 4 GB: {'MET' if payload['goal_rss_lt_4gb'] else 'NOT MET'} "
        f"(largest {worst / 1e9:.2f} GB)"
    )
    print(
        "meta:",
        json.dumps(
            {k: info[k] for k in ("date", "machine", "python", "numpy", "plumetrace", "git")}
        ),
    )
    dump(args.json, payload)
    if not args.keep:
        base.unlink()
        base.with_name("radiance.hdr").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
