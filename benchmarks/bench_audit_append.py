"""Concurrent writers on the audit chain: how many notes per second, and their latency.

    python benchmarks/bench_audit_append.py [--threads 8] [--notes 300] [--rounds 3]

Every write of the API ends by appending to the hash-chained audit log while holding the
chain's lock (on PostgreSQL an advisory transaction lock) until it commits, so the
writes of a team are serialised by how long that lock is held. This measures it in
isolation: ``--threads`` threads of one process each add ``--notes`` notes to sites of a
fresh schema of the test PostgreSQL (``PLUMETRACE_TEST_POSTGRES_URL``), each note one
unit of work through the store, as the API's route runs it. The threads share one
interpreter lock, as a worker's route threads do. Reported per round: notes/s and the
p50 / p99 latency of a note; best round by throughput. The chain is verified at the end.

Results: benchmarks/results/audit_append.json (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from _common import MACHINE, ROOT

from plumetrace.store.audit_log import verify
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import Site, User
from plumetrace.store.types import utcnow
from plumetrace.store.workflow import review

PG = os.environ.get(
    "PLUMETRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _site(k: int) -> Site:
    now = utcnow()
    return Site(
        id=f"site-{k:04d}",
        lat=31.75 + k * 1e-3,
        lon=-106.45,
        uncertainty_m=30.0,
        confidence=0.5,
        pos_weight=1 / 900,
        first_seen=now,
        last_seen=now,
    )


def _round(engine: sa.Engine, threads: int, notes: int, users: list[User]) -> dict[str, float]:
    lat: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            _write(k)
        except BaseException as exc:  # reported after the round: a thread cannot raise
            errors.append(exc)

    def _write(k: int) -> None:
        mine: list[float] = []
        start.wait()
        for i in range(notes):
            t0 = time.perf_counter()
            with session_scope(engine, write=True) as s:
                review(s, f"site-{(k * notes + i) % 50:04d}", "note", f"n{i}", by=users[k])
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    pool = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    ms = np.asarray(lat) * 1000
    return {
        "notes_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--notes", type=int, default=300, help="per thread and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(
        f"{PG}?options=-csearch_path%3D{schema}", pool_size=a.threads, max_overflow=0
    )
    try:
        upgrade(engine)
        with session_scope(engine, write=True) as s:
            s.add_all(_site(k) for k in range(50))
            s.add_all(
                User(id=f"usr-{k}", name=f"analyst{k}", role="analyst", password_hash="x")
                for k in range(a.threads)
            )
        with session_scope(engine) as s:
            users = [s.get_one(User, f"usr-{k}") for k in range(a.threads)]
            for u in users:
                s.expunge(u)
        rounds = [_round(engine, a.threads, a.notes, users) for _ in range(a.rounds)]
        for r in rounds:
            print(
                f"{r['notes_per_s']:8.1f} notes/s  p50 {r['p50_ms']:6.2f} ms  "
                f"p99 {r['p99_ms']:6.2f} ms"
            )
        with session_scope(engine) as s:
            ok = verify(s).ok
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    best = max(rounds, key=lambda r: r["notes_per_s"])
    doc = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": f"python benchmarks/bench_audit_append.py --threads {a.threads} "
        f"--notes {a.notes} --rounds {a.rounds}",
        "rounds": rounds,
        "best": best,
        "audit_verifies": ok,
    }
    out = a.out or ROOT / "benchmarks" / "results" / "audit_append.json"
    out.write_text(json.dumps(doc, indent=2))
    print(f"best {best['notes_per_s']} notes/s; audit verifies: {ok}; results: {out}")
    if not ok:
        raise SystemExit("the audit chain does not verify")


if __name__ == "__main__":
    main()
