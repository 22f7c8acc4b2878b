"""The demo's build time against issue 8's limit (<= 3 minutes here), stage by stage.

    python benchmarks/bench_demo.py [--runs 2]

Runs ``plumetrace demo --no-serve`` (default size: the 1000 x 598 town pass and four
320 x 320 passes) as a subprocess, timed whole (Python start-up included), ``--runs``
times; then once in this process with a timestamp per stage (the demo's own progress
messages). Results: benchmarks/results/demo.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import MACHINE, ROOT

from plumetrace.pipeline.demo import run_demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    whole = []
    for k in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "plumetrace", "demo", "--no-serve", "--out", str(work / "cli")],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        whole.append(time.perf_counter() - t0)
        print(f"run {k + 1}: plumetrace demo --no-serve {whole[-1]:.1f} s", flush=True)
    stages: list[tuple[str, float]] = []
    last = [time.perf_counter(), "start"]

    def step(message: str) -> None:
        now = time.perf_counter()
        stages.append((str(last[1]), now - float(last[0])))
        last[:] = [now, message]

    t0 = time.perf_counter()
    run_demo(work / "inproc", step=step)
    step("end")
    total = time.perf_counter() - t0
    stages = stages[1:]  # the empty "start" stage
    shutil.rmtree(work, ignore_errors=True)
    slowest = sorted(stages, key=lambda s: -s[1])[:6]
    for name, sec in slowest:
        print(f"  {sec:6.1f} s  {name}")
    out = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": MACHINE,
        "command": "plumetrace demo --no-serve",
        "whole_s": whole,
        "in_process_s": total,
        "stages_s": dict(stages),
        "limit_s": 180.0,
    }
    path = ROOT / "benchmarks" / "results" / "demo.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"whole: best {min(whole):.1f} s, worst {max(whole):.1f} s (limit 180 s) -> {path}")


if __name__ == "__main__":
    main()
