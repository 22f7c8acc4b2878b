"""Store speed at team scale: ingest rate, review-queue and site-detail latency.

    python benchmarks/bench_store.py [--detections 1000000] [--sites 50000]
                                     [--backends sqlite,postgresql] [--out PATH]

50,000 true sites spread over ~2° x 2° around El Paso - Ciudad Juarez; 100 passes of
10,000 detections each (every detection a random site plus 20-60 m position error),
written as plumes.geojson files and ingested through the same job as
``plumetrace ingest detections`` (file parsing, association, fusion, confidence, audit
event). Then 200 review-queue pages (random page of 50 among the first 100 pages) and 200
site details (random sites) are timed; p50/p95 reported. Each backend starts empty:
SQLite in a file under benchmarks/.work, PostgreSQL in a fresh schema of the ``test``
database at 127.0.0.1:5432.

Goal (issue 6): ingest >= 5,000 detections/s; queue page and site detail p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from _common import MACHINE, ROOT, WORK

from plumetrace.geo import local_projection
from plumetrace.io.geojson import write_geojson
from plumetrace.pipeline.ingest import ingest_detections_file
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.ingest import FlightSpec
from plumetrace.store.migrate import upgrade
from plumetrace.store.sites import review_queue, site_detail

PG = os.environ.get(
    "PLUMETRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PER_PASS = 10_000


def make_passes(n_det: int, n_sites: int, work: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    _fwd, inv = local_projection(-106.45, 31.75)
    sx = rng.uniform(-100_000, 100_000, n_sites)
    sy = rng.uniform(-100_000, 100_000, n_sites)
    rates = np.exp(rng.uniform(np.log(5), np.log(500), n_sites))
    files = []
    for k in range(n_det // PER_PASS):
        path = work / f"pass-{k:03d}.geojson"
        files.append(path)
        if path.exists():
            continue
        site = rng.integers(0, n_sites, PER_PASS)
        sigma = rng.uniform(20, 60, PER_PASS)
        x = sx[site] + rng.normal(0, 1, PER_PASS) * sigma
        y = sy[site] + rng.normal(0, 1, PER_PASS) * sigma
        lon, lat = inv.transform(x, y)
        feats = []
        for i in range(PER_PASS):
            r = float(rates[site[i]] * rng.lognormal(0, 0.3))
            feats.append(
                {
                    "type": "Feature",
                    "id": f"plume-{i}",
                    "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                    "properties": {
                        "id": f"plume-{i}",
                        "source_lon": float(lon[i]),
                        "source_lat": float(lat[i]),
                        "source_uncertainty_m": float(sigma[i]),
                        "flux_kg_h": r,
                        "flux_kg_h_sigma": 0.3 * r,
                        "confidence": float(rng.uniform(0.3, 0.99)),
                    },
                }
            )
        write_geojson(path, feats)
    return files


def _pg_url() -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {name}"))
    admin.dispose()
    return f"{PG}?options=-csearch_path%3D{name}", name


def _drop_pg(name: str) -> None:
    admin = sa.create_engine(PG)
    with admin.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, q))


def run_backend(backend: str, files: list[Path], work: Path) -> dict[str, object]:
    schema = None
    if backend == "sqlite":
        db = work / "store.db"
        for p in work.glob("store.db*"):
            p.unlink()
        url = f"sqlite:///{db}"
    else:
        url, schema = _pg_url()
    engine = make_engine(url)
    upgrade(engine)
    load_before = os.getloadavg()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0
    start = time.perf_counter()
    per_file = []
    for k, f in enumerate(files):
        t1 = time.perf_counter()
        r = ingest_detections_file(
            engine,
            f,
            time=t0 + timedelta(hours=6 * k),
            flight=FlightSpec(f"flt-{k:03d}", "border-unit", "ac-1", "aviris-ng"),
            actor="bench",
        )
        n += r.new
        per_file.append(time.perf_counter() - t1)
        if k % 10 == 0:
            rate = n / (time.perf_counter() - start)
            print(f"{backend}: {n} detections, {rate:.0f}/s", flush=True)
    ingest_s = time.perf_counter() - start
    load_after = os.getloadavg()
    with session_scope(engine) as s:
        n_sites = s.scalar(sa.text("SELECT count(*) FROM sites WHERE status != 'merged'"))
        ids = [r[0] for r in s.execute(sa.text("SELECT id FROM sites WHERE status != 'merged'"))]
    rng = np.random.default_rng(1)
    queue_t, detail_t = [], []
    for _ in range(200):
        page = int(rng.integers(1, 101))
        t1 = time.perf_counter()
        with session_scope(engine) as s:
            review_queue(s, page=page, page_size=50)
        queue_t.append(time.perf_counter() - t1)
        sid = ids[int(rng.integers(0, len(ids)))]
        t1 = time.perf_counter()
        with session_scope(engine) as s:
            site_detail(s, sid)
        detail_t.append(time.perf_counter() - t1)
    engine.dispose()
    if schema:
        _drop_pg(schema)
    return {
        "detections": n,
        "sites": n_sites,
        "ingest_s": round(ingest_s, 1),
        "ingest_detections_per_s": round(n / ingest_s),
        "ingest_file_s_first_last": [round(per_file[0], 2), round(per_file[-1], 2)],
        "ingest_file_s_p50_p95": [
            round(float(np.percentile(per_file, 50)), 2),
            round(float(np.percentile(per_file, 95)), 2),
        ],
        # the machine is shared: 1/5/15-minute load averages before and after the ingest
        "load_average_before_after": [
            [round(x, 2) for x in load_before],
            [round(x, 2) for x in load_after],
        ],
        "queue_page_ms_p50": round(_pct(queue_t, 50), 2),
        "queue_page_ms_p95": round(_pct(queue_t, 95), 2),
        "site_detail_ms_p50": round(_pct(detail_t, 50), 2),
        "site_detail_ms_p95": round(_pct(detail_t, 95), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detections", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results" / "store.json",
        help="results file (written for the full 1e6 / 5e4 size only)",
    )
    a = ap.parse_args()
    work = WORK / "store" / f"{a.detections}-{a.sites}"
    work.mkdir(parents=True, exist_ok=True)
    files = make_passes(a.detections, a.sites, work)
    res: dict[str, object] = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d"),
        "command": f"python benchmarks/bench_store.py --detections {a.detections} "
        f"--sites {a.sites}",
    }
    for backend in a.backends.split(","):
        res[backend] = run_backend(backend, files, work)
        print(json.dumps(res[backend], indent=2), flush=True)
    if a.detections == 1_000_000:
        out = a.out
        if out.exists():  # keep the other backend's latest numbers
            res = {**json.loads(out.read_text()), **res}
        out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
