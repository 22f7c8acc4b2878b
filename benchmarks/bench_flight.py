"""Flight operations speed: plan, audit and airspace check at the issue's sizes.

    python benchmarks/bench_flight.py

* ``plan survey`` of a 5,117 km² AOI across El Paso - Ciudad Juarez (1 km swath);
* ``audit`` of a 1,000,000-point CSV track (1 Hz, meandering across the border), the whole
  command and its parts in this process: reading the CSV; zones + incursions as the
  command finds them (containment in lon/lat on the grid lookup, only measured samples
  projected); the map alone; the whole job (``run_audit``: read, search, REPORT.json,
  .geojson, .png); and importing the CLI (a lower bound of any command's start-up);
* ``airspace check --json-lines`` of 1,000,000 random points around El Paso, the whole
  command and the check itself.

Whole commands are timed as subprocesses (Python start-up included), best of 2. The
audit command is also run 12 more times alone and 6 times each with one and with two
busy-looping processes beside it (every core taken), to show its spread, not just its best.
Results: benchmarks/results/flight.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import MACHINE, ROOT, WORK

PLUMETRACE = [sys.executable, "-m", "plumetrace"]


def _time(cmd: list[str], stdin: Path | None = None, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        with (stdin if stdin else Path("/dev/null")).open("rb") as f:
            subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def _busy(n: int) -> list[subprocess.Popen[bytes]]:
    """Start ``n`` processes that spin on a core each until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def _spread(cmd: list[str], runs: int, busy: int) -> dict[str, float]:
    """Single runs of ``cmd`` beside ``busy`` spinning processes: min, median, max (s)."""
    spinners = _busy(busy)
    try:
        time.sleep(0.5)
        times = [_time(cmd, repeat=1) for _ in range(runs)]
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()
    return {
        "runs": runs,
        "min_s": min(times),
        "median_s": float(np.median(times)),
        "max_s": max(times),
    }


def main() -> None:
    work = WORK / "flight"
    work.mkdir(parents=True, exist_ok=True)
    aoi = work / "aoi.geojson"
    aoi.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-106.9, 31.5],
                        [-106.15, 31.5],
                        [-106.15, 32.15],
                        [-106.9, 32.15],
                        [-106.9, 31.5],
                    ]
                ],
            }
        )
    )
    t = np.arange(0, 1_000_000, 1.0)
    lat = 31.80 - 0.12 * np.abs(np.sin(t / 3000))
    lon = -106.45 + 0.05 * np.sin(t / 10000)
    track = work / "track.csv"
    np.savetxt(
        track,
        np.column_stack([t, lat, lon, np.full_like(t, 100)]),
        delimiter=",",
        header="time,lat,lon,alt_m",
        comments="",
        fmt=["%.1f", "%.6f", "%.6f", "%.1f"],
    )
    rng = np.random.default_rng(0)
    pts = work / "points.txt"
    np.savetxt(
        pts,
        np.column_stack(
            [rng.uniform(31.0, 32.5, 1_000_000), rng.uniform(-107.5, -105.5, 1_000_000)]
        ),
        delimiter=",",
        fmt="%.6f",
    )
    res: dict[str, object] = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/bench_flight.py",
    }
    res["plan_survey_5117km2_s"] = _time(
        [
            *PLUMETRACE,
            "plan",
            "survey",
            str(aoi),
            "--operator",
            "border-unit",
            "--out",
            str(work / "plan"),
            "--swath-m",
            "1000",
        ]
    )
    audit_cmd = [
        *PLUMETRACE,
        "audit",
        str(track),
        "--operator",
        "border-unit",
        "--out",
        str(work / "audit.json"),
    ]
    res["audit_1e6_command_s"] = _time(audit_cmd)
    res["audit_1e6_command_spread"] = {
        "alone": _spread(audit_cmd, 12, 0),
        "one_core_busy": _spread(audit_cmd, 6, 1),
        "both_cores_busy": _spread(audit_cmd, 6, 2),
    }
    res["check_1e6_command_s"] = _time(
        [*PLUMETRACE, "airspace", "check", "--json-lines", "--operator", "border-unit"], stdin=pts
    )
    res["cli_import_s"] = _time([sys.executable, "-c", "import plumetrace.cli.app"])
    # the parts, in this process
    import shapely

    from plumetrace.data import country_land
    from plumetrace.flight.airspace import build_zones
    from plumetrace.flight.audit import find_incursions
    from plumetrace.io.audit_png import write_audit_png
    from plumetrace.io.operators import read_operators
    from plumetrace.io.tracks import read_track
    from plumetrace.pipeline.airspace import AirspaceChecker
    from plumetrace.pipeline.audit import _inside, run_audit

    op = read_operators()["border-unit"]
    t0 = time.perf_counter()
    tr = read_track(track)
    t1 = time.perf_counter()
    z = build_zones(
        country_land(), (tr.lon.min(), tr.lat.min(), tr.lon.max(), tr.lat.max()), margin_m=60_000.0
    )
    auth = shapely.intersection(z.authorized(op.authorized), z.region)
    auth_ll = shapely.make_valid(z.to_lonlat(auth))
    inside = _inside(auth_ll, tr.lon, tr.lat)
    nan = np.full(tr.size, np.nan)
    incursions = find_incursions(
        nan, nan, tr.time_s, auth, inside=inside, project=lambda i: z.to_local(tr.lon[i], tr.lat[i])
    )
    t2 = time.perf_counter()
    write_audit_png(work / "map.png", tr.lon, tr.lat, incursions, auth_ll, title="benchmark")
    t3 = time.perf_counter()
    run_audit(track, op, work / "audit_inproc.json")
    t4 = time.perf_counter()
    res["audit_1e6_read_s"] = t1 - t0
    res["audit_1e6_zones_and_incursions_s"] = t2 - t1
    res["audit_1e6_png_s"] = t3 - t2
    res["audit_1e6_run_audit_s"] = t4 - t3
    d = np.loadtxt(pts, delimiter=",")
    checker = AirspaceChecker(op)
    checker.check_arrays(d[:, 0], d[:, 1])  # build the tiles
    t0 = time.perf_counter()
    checker.check_arrays(d[:, 0], d[:, 1])
    res["check_1e6_arrays_warm_s"] = time.perf_counter() - t0
    out = ROOT / "benchmarks" / "results" / "flight.json"
    out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
