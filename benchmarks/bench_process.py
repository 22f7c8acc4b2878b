"""``plumetrace process`` over many scenes: throughput, Dask scaling, overhead (issue 9).

    python benchmarks/bench_process.py [--scenes 100] [--distinct 10] [--rows 500]

Simulates ``--distinct`` AVIRIS-NG shaped scenes (``--rows`` x 598 pixels x 425 bands,
float32: 508 MB each at 500 rows, two CH4 sources of 150-900 kg/h each) and lays out
``--scenes`` scenes as hard links to them under AVIRIS-NG flight-line names
(``angYYYYMMDDtHHMMSS_rdn``), so every scene is processed in full but the disk holds only
the distinct cubes (the page cache holds them too: reads come from memory, as from a
fast shared file system). Then, one after another, each into a fresh directory:

1. a plain loop in this process: ``run_detect`` + ``run_plumes`` per scene, BLAS at 1
   thread and at the library default (2 threads) - the baseline without any batch
   machinery;
2. ``plumetrace process SCENES --executor local`` (the batch in one process, 1 thread);
3. ``plumetrace process SCENES --workers 1`` and ``--workers 2`` (a local Dask cluster,
   one single-threaded worker process per core);
4. ``--workers 2`` again with ingest into a fresh SQLite store (``--ingest``).

Commands 2-4 are timed whole as subprocesses (Python start-up, cluster start and the
STAC catalog included). Reported: scenes/min, MB/s of radiance (whole cubes), the 2 vs 1
worker scaling ratio, and each run's time against the plain loop (the overhead). Results:
benchmarks/results/process.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import MACHINE, ROOT

from plumetrace.pipeline.detect import DetectOptions, run_detect
from plumetrace.pipeline.plumes import PlumesInputs, run_plumes
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.plumes import PlumeOptions
from plumetrace.sim import SceneSpec

WIND = ["--wind-speed", "3", "--wind-dir", "270"]


def make_scenes(work: Path, n: int, distinct: int, rows: int) -> tuple[list[Path], int]:
    """Simulate the distinct cubes and hard-link ``n`` named scenes to them."""
    src = work / "distinct"
    for k in range(distinct):
        d = src / f"d{k:02d}"
        if not (d / "radiance.hdr").is_file():
            spec = SceneSpec(
                rows=rows,
                cols=598,
                sources=2,
                seed=100 + k,
                rate_min_kg_h=150.0,
                rate_max_kg_h=900.0,
                origin_lat=31.60 + 0.02 * k,
                origin_lon=-106.40,
            )
            run_sim_scene(d, spec)
            print(f"simulated distinct scene {k + 1}/{distinct}", flush=True)
    scenes_dir = work / "scenes"
    shutil.rmtree(scenes_dir, ignore_errors=True)
    scenes_dir.mkdir(parents=True)
    t0 = datetime(2025, 4, 2, 15, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        d = src / f"d{i % distinct:02d}"
        stamp = (t0 + timedelta(minutes=7 * i)).strftime("%Y%m%dt%H%M%S")
        name = f"ang{stamp}_rdn"
        os.link(d / "radiance", scenes_dir / name)
        (scenes_dir / f"{name}.hdr").write_text((d / "radiance.hdr").read_text())
        out.append(scenes_dir / f"{name}.hdr")
    cube_bytes = (src / "d00" / "radiance").stat().st_size
    return out, cube_bytes


def plain_loop(scenes: list[Path], out: Path, threads: int | None) -> float:
    """The baseline: detect + plumes per scene, one after another, in this process."""
    det = DetectOptions(threads=threads)
    plo = PlumeOptions(wind_speed_m_s=3.0, wind_dir_deg=270.0)
    t0 = time.perf_counter()
    for s in scenes:
        d = out / s.name.removesuffix(".hdr")
        run_detect(s, d, det)
        run_plumes(PlumesInputs(d / "enhancement.tif"), d, plo)
    return time.perf_counter() - t0


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Run ``plumetrace`` as a subprocess; its wall time and its batch.json."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "plumetrace", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stdout[-3000:])
        raise SystemExit(f"plumetrace {' '.join(args[:3])} ... exited {done.returncode}")
    out = Path(args[args.index("-o") + 1])
    return wall, json.loads((out / "batch.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenes", type=int, default=100)
    ap.add_argument("--distinct", type=int, default=10)
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--work", type=Path, default=None, help="Keep the scenes here for re-runs.")
    ap.add_argument("--skip-loop", action="store_true", help="Leave out the plain loops.")
    ap.add_argument(
        "--cases", default="local,w1,w2,w2ingest", help="process runs: local,w1,w2,w2ingest"
    )
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/process.json")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-process-"))
    work.mkdir(parents=True, exist_ok=True)
    scenes, cube_bytes = make_scenes(work, args.scenes, args.distinct, args.rows)
    total_mb = cube_bytes * len(scenes) / 1e6
    print(f"{len(scenes)} scenes of {cube_bytes / 1e6:.0f} MB ({total_mb / 1e3:.1f} GB) in {work}")
    env = dict(os.environ, PLUMETRACE_HOME=str(work / "home"))
    env.pop("PLUMETRACE_DATABASE_URL", None)
    glob = str(work / "scenes" / "*.hdr")
    runs: dict[str, dict[str, Any]] = {}

    def record(name: str, seconds: float, extra: dict[str, Any] | None = None) -> None:
        runs[name] = {
            "seconds": round(seconds, 2),
            "scenes_per_min": round(60 * len(scenes) / seconds, 2),
            "mb_per_s": round(total_mb / seconds, 1),
            **(extra or {}),
        }
        print(
            f"{name:28s} {seconds:8.1f} s  {runs[name]['scenes_per_min']:6.1f} scenes/min  "
            f"{runs[name]['mb_per_s']:6.1f} MB/s",
            flush=True,
        )

    if not args.skip_loop:
        for threads in (1, None):
            out = work / f"loop-{threads or 'default'}"
            shutil.rmtree(out, ignore_errors=True)
            record(f"plain loop, BLAS {threads or 'default'}", plain_loop(scenes, out, threads))
    cases = [
        ("process --executor local", ["--executor", "local", "--threads", "1", "--no-ingest"]),
        ("process --workers 1", ["--workers", "1", "--no-ingest"]),
        ("process --workers 2", ["--workers", "2", "--no-ingest"]),
        (
            "process --workers 2 --ingest",
            [
                "--workers",
                "2",
                "--ingest",
                "--operator",
                "partner-program",
                "--platform",
                "ac-1",
                "--sensor",
                "aviris-ng",
            ],
        ),
    ]
    chosen = dict(zip(("local", "w1", "w2", "w2ingest"), cases, strict=True))
    cases = [chosen[c] for c in args.cases.split(",")]
    if args.json.exists():  # a partial re-run keeps the other runs of the file
        runs.update(json.loads(args.json.read_text()).get("runs", {}))
    for name, extra in cases:
        out = work / name.replace(" ", "_").replace("-", "")
        shutil.rmtree(out, ignore_errors=True)
        if "--ingest" in extra:
            shutil.rmtree(work / "home", ignore_errors=True)
        wall, doc = run_cli(["process", glob, "-o", str(out), *WIND, *extra], env)
        if doc["done"] != len(scenes):
            raise SystemExit(f"{name}: {doc['done']} of {len(scenes)} scenes done")
        record(name, wall, {"plumes": doc["plumes"], "batch_seconds": doc["seconds"]})
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    one, two = runs["process --workers 1"], runs["process --workers 2"]
    ratios: dict[str, float] = {"scaling_2_vs_1_workers": round(one["seconds"] / two["seconds"], 3)}
    for base in ("plain loop, BLAS 1", "plain loop, BLAS default"):
        if base in runs:
            for name in ("process --executor local", "process --workers 1", "process --workers 2"):
                ratios[f"{name} / {base}"] = round(runs[name]["seconds"] / runs[base]["seconds"], 3)
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": MACHINE,
        "command": "python benchmarks/bench_process.py " + " ".join(sys.argv[1:]),
        "scenes": len(scenes),
        "distinct_cubes": args.distinct,
        "shape": [args.rows, 598, 425],
        "cube_mb": round(cube_bytes / 1e6, 1),
        "runs": runs,
        "ratios": ratios,
        "peak_child_rss_gib": round(peak, 2),
        "load_average_at_end": os.getloadavg(),
    }
    print(json.dumps(ratios, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {args.json}")


if __name__ == "__main__":
    main()
