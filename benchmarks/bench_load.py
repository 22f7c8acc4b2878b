"""Load test: many analysts working one PostgreSQL team database through the API.

    python benchmarks/bench_load.py [--detections 1000000] [--sites 50000]
        [--analysts 140] [--workers 1,2,4] [--requests 60000] [--duration 90]
        [--think-ms 350] [--reuse] [--database plumetrace_load] [--out PATH]

1. Seeds a dedicated database (``--database``, dropped and created again; ``--reuse``
   keeps one seeded with the same sizes) through the store's bulk writers (PostgreSQL
   ``COPY``): flights, sites, detections (each a site's position plus 20-60 m error),
   their evidence links and pass records, then ``VACUUM ANALYZE``. Seeding 1 M
   detections takes a few minutes; an ingest of the same files would take ~10 minutes
   (benchmarks/results/store.json).
2. Adds one supervisor and ``--analysts`` analysts with tokens (store, not timed).
3. For each worker count: starts ``plumetrace serve --workers N --no-access-log`` on
   127.0.0.1, waits until it answers, then runs the analysts concurrently (asyncio, one
   keep-alive HTTP/1.1 connection each) until ``--requests`` or ``--duration`` is
   reached. An analyst lists a page of the review queue, opens two of its sites, and on
   each decides (confirm, reject, needs-collection; with the version it read) or adds a
   note, then thinks (exponential, mean ``--think-ms``) before the next request. A 409
   (someone else changed the site first) is an accepted rejection; any other 4xx/5xx
   or a transport failure is an error.
4. After each run: every review answered 2xx is in the database with its decision; per
   site, the version grew by exactly the decisions accepted and the status is the last
   accepted decision's (no lost update, no write from a rejected one); the reviews and
   audit events added equal the ones answered 2xx; the audit log's hash chain verifies.

Loopback only; bounded in requests and time. The load generator runs on the same
machine as the server and PostgreSQL and shares its cores (its CPU time is reported).
Results: benchmarks/results/load.json at full size (else ``--out``), and a table.

Goals (issue 9, 2-core machine, 1 M detections, 50 k sites, 140 analysts):
>= 300 requests/s sustained, p99 <= 200 ms, zero errors, zero lost updates, the audit
log verifies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ADMIN_URL = os.environ.get(
    "PLUMETRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOALS = {"requests_per_s": 300.0, "p99_ms": 200.0}
_SEED_TAG = "plumetrace-load-seed"
_CHUNK = 100_000
LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_DECISIONS = {"confirm": "confirmed", "reject": "rejected", "needs-collection": "needs-collection"}


# ----------------------------------------------------------------------------- database


def _db_url(name: str) -> str:
    return sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _admin() -> sa.Engine:
    return sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")


def _seed_comment(name: str) -> dict[str, Any] | None:
    admin = _admin()
    with admin.connect() as c:
        text = c.execute(
            sa.text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"
            ),
            {"n": name},
        ).scalar()
    admin.dispose()
    if not text or not str(text).startswith(_SEED_TAG):
        return None
    return dict(json.loads(str(text)[len(_SEED_TAG) + 1 :]))


def drop_database(name: str) -> None:
    """Drop the load-test database (and its connections)."""
    admin = _admin()
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _create_database(name: str) -> None:
    drop_database(name)
    admin = _admin()
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _site_rows(rng: np.random.Generator, n: int) -> tuple[list[dict[str, Any]], Any]:
    from plumetrace.geo import local_projection
    from plumetrace.sites.priority import site_priority

    _fwd, inv = local_projection(LON0, LAT0)
    x = rng.uniform(-100_000, 100_000, n)
    y = rng.uniform(-100_000, 100_000, n)
    lon, lat = inv.transform(x, y)
    conf = rng.uniform(0.05, 0.99, n)
    rate = np.exp(rng.uniform(math.log(5), math.log(500), n))
    exposures = rng.choice(np.array(["low", "medium", "high", "unknown", ""]), n)
    status = rng.choice(
        np.array(["candidate", "needs-collection", "confirmed", "rejected"]),
        n,
        p=[0.9, 0.04, 0.04, 0.02],
    )
    now = datetime.now(UTC)
    rows = []
    for k in range(n):
        exp = str(exposures[k]) or None
        r = float(rate[k])
        rows.append(
            {
                "id": f"site-{k:010x}",
                "lat": float(lat[k]),
                "lon": float(lon[k]),
                "uncertainty_m": 15.0,
                "confidence": float(conf[k]),
                "status": str(status[k]),
                "n_detections": 0,
                "n_reports": 0,
                "n_passes": 0,
                "n_passes_detected": 0,
                "report_llr": 0.0,
                "score_logit_sum": 0.0,
                "n_scored": 0,
                "log_rate_sum": 0.0,
                "log_rate_sq_sum": 0.0,
                "n_rated": 0,
                "pos_weight": 1 / 15.0**2,
                "confidence_terms": {"passes": 0.0, "reports": 0.0},
                "first_seen": None,
                "last_seen": None,
                "rate_kg_h": r,
                "rate_lo_kg_h": 0.7 * r,
                "rate_hi_kg_h": 1.3 * r,
                "exposure": exp,
                "context": None,
                "priority": site_priority(float(conf[k]), r, exp),
                "merged_into": None,
                "assignee_id": None,
                "compartment": None,
                "created": now,
                "updated": now,
                "version": 1,
            }
        )
    return rows, (np.asarray(lon), np.asarray(lat))


def seed(url: str, n_det: int, n_sites: int, n_flights: int = 100) -> dict[str, float]:
    """Fill an empty, migrated database; return timings (s)."""
    from plumetrace.geo import local_projection
    from plumetrace.store.audit_log import append_event
    from plumetrace.store.bulk import bulk_insert, bulk_update
    from plumetrace.store.engine import make_engine, session_scope
    from plumetrace.store.migrate import upgrade
    from plumetrace.store.models import (
        Detection,
        EvidenceLink,
        Flight,
        Operator,
        Platform,
        Sensor,
        Site,
        SitePass,
    )

    t_start = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    rng = np.random.default_rng(9)
    sites, (slon, slat) = _site_rows(rng, n_sites)
    flight_times = [T0 + timedelta(hours=6 * k) for k in range(n_flights)]
    with session_scope(engine, write=True) as s:
        s.add(Operator(id="border-unit", name="Border unit"))
        s.add(Platform(id="ac-1", operator_id="border-unit", kind="aircraft"))
        s.add(Sensor(id="aviris-ng", kind="imaging"))
        s.flush()
        s.add_all(  # ORM: "end" is a reserved word the COPY column list would need quoted
            Flight(
                id=f"flt-{k:04d}",
                operator_id="border-unit",
                platform_id="ac-1",
                sensor_id="aviris-ng",
                start=t,
                end=t + timedelta(hours=2),
            )
            for k, t in enumerate(flight_times)
        )
        s.flush()
        for a in range(0, n_sites, _CHUNK):
            bulk_insert(s, Site, sites[a : a + _CHUNK])
    # detections: a random site each, its position plus 20-60 m of error
    fwd, inv = local_projection(LON0, LAT0)
    sx, sy = fwd.transform(slon, slat)
    sx, sy = np.asarray(sx), np.asarray(sy)
    n_seen = np.zeros(n_sites, np.int64)
    first = np.full(n_sites, np.iinfo(np.int64).max)
    last = np.full(n_sites, -1)
    passes: set[tuple[int, int]] = set()
    t_sites = time.perf_counter()
    for a in range(0, n_det, _CHUNK):
        m = min(_CHUNK, n_det - a)
        site = rng.integers(0, n_sites, m)
        flight = rng.integers(0, n_flights, m)
        sigma = rng.uniform(20, 60, m)
        dx, dy = rng.normal(0, 1, m) * sigma, rng.normal(0, 1, m) * sigma
        lon, lat = inv.transform(sx[site] + dx, sy[site] + dy)
        rate = np.exp(rng.uniform(math.log(5), math.log(500), m))
        insitu = rng.random(m) < 0.1
        dets, links = [], []
        for i in range(m):
            k, f = int(site[i]), int(flight[i])
            det_id = f"det-{a + i:09d}"
            r = float(rate[i])
            dets.append(
                {
                    "id": det_id,
                    "flight_id": f"flt-{f:04d}",
                    "scene_id": None,
                    "time": flight_times[f],
                    "kind": "insitu" if insitu[i] else "plume",
                    "gas": "ch4",
                    "lat": float(lat[i]),
                    "lon": float(lon[i]),
                    "uncertainty_m": float(sigma[i]),
                    "rate_kg_h": r,
                    "rate_lo_kg_h": 0.7 * r,
                    "rate_hi_kg_h": 1.3 * r,
                    "score": 0.8,
                    "site_id": sites[k]["id"],
                    "properties": {},
                }
            )
            dist = float(math.hypot(dx[i], dy[i]))
            links.append(
                {
                    "site_id": sites[k]["id"],
                    "kind": "detection",
                    "evidence_id": det_id,
                    "distance_m": dist,
                    "mahalanobis": dist / float(sigma[i]),
                    "weight": 1.0,
                    "reason": f"{dist:.0f} m from the site, inside the gate",
                    "time": flight_times[f],
                }
            )
            n_seen[k] += 1
            first[k] = min(first[k], f)
            last[k] = max(last[k], f)
            passes.add((k, f))
        with session_scope(engine, write=True) as s:
            bulk_insert(s, Detection, dets)
            bulk_insert(s, EvidenceLink, links)
        print(f"  seeded {a + m:,} detections", flush=True)
    t_dets = time.perf_counter()
    pass_rows = [
        {
            "site_id": sites[k]["id"],
            "flight_id": f"flt-{f:04d}",
            "time": flight_times[f],
            "detected": True,
            "covered": True,
        }
        for k, f in sorted(passes)
    ]
    per_site = Counter(k for k, _f in passes)
    updates = [
        {
            "id": sites[k]["id"],
            "n_detections": int(n_seen[k]),
            "n_passes": per_site[k],
            "n_passes_detected": per_site[k],
            "first_seen": flight_times[int(first[k])] if n_seen[k] else None,
            "last_seen": flight_times[int(last[k])] if n_seen[k] else None,
        }
        for k in range(n_sites)
    ]
    with session_scope(engine, write=True) as s:
        for a in range(0, len(pass_rows), _CHUNK):
            bulk_insert(s, SitePass, pass_rows[a : a + _CHUNK])
        bulk_update(s, Site, updates)
        append_event(
            s,
            actor="bench:load",
            action="bench.seed",
            entity="store",
            entity_id="load",
            after={"detections": n_det, "sites": n_sites, "flights": n_flights},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    t_end = time.perf_counter()
    return {
        "sites_s": round(t_sites - t_start, 1),
        "detections_s": round(t_dets - t_sites, 1),
        "passes_analyze_s": round(t_end - t_dets, 1),
        "total_s": round(t_end - t_start, 1),
    }


def prepare_database(name: str, n_det: int, n_sites: int, reuse: bool) -> dict[str, Any]:
    """Return the seed record of a database seeded with these sizes (seeding if needed)."""
    want = {"detections": n_det, "sites": n_sites}
    if reuse:
        have = _seed_comment(name)
        if have is not None and all(have.get(k) == v for k, v in want.items()):
            print(f"reusing database {name} ({n_det:,} detections, {n_sites:,} sites)")
            return {**have, "reused": True}
    print(f"seeding database {name}: {n_det:,} detections, {n_sites:,} sites ...", flush=True)
    _create_database(name)
    timing = seed(_db_url(name), n_det, n_sites)
    record = {**want, "seed_s": timing, "seeded": datetime.now(UTC).isoformat()}
    admin = _admin()
    with admin.connect() as c:
        text = f"{_SEED_TAG} {json.dumps(record)}".replace("'", "''")
        c.execute(sa.text(f"COMMENT ON DATABASE \"{name}\" IS '{text}'"))
    admin.dispose()
    print(f"seeded in {timing['total_s']} s", flush=True)
    return {**record, "reused": False}


def make_users(url: str, n: int) -> dict[str, str]:
    """Add (or reuse) ``n`` analysts; return a fresh token of each, by name."""
    from plumetrace.store.engine import make_engine, session_scope
    from plumetrace.store.models import User
    from plumetrace.store.users import add_user, issue_token

    engine = make_engine(url)
    tokens = {}
    with session_scope(engine, write=True) as s:
        for k in range(n):
            name = f"analyst{k:03d}"
            user = s.scalar(sa.select(User).where(User.name == name))
            if user is None:
                user, _pw = add_user(s, name, "analyst", actor="bench:load")
                user.must_change_password = False
            tokens[name], _ = issue_token(s, user, timedelta(hours=4))
    engine.dispose()
    return tokens


# ------------------------------------------------------------------------------ client


class HttpError(Exception):
    """A transport failure (connection refused or closed mid-response, bad framing)."""


class Connection:
    """One keep-alive HTTP/1.1 connection (the load generator's own, kept minimal so
    that it takes little of the CPU it shares with the server)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.reader is None or self.reader.at_eof():
            await self._connect()
        assert self.reader is not None and self.writer is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.auth}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise HttpError("connection closed before the response")
            status = int(status_line.split()[1])
            length, close = 0, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                key = key.strip().lower()
                if key == "content-length":
                    length = int(value)
                elif key == "connection" and value.strip().lower() == "close":
                    close = True
                elif key == "transfer-encoding":
                    raise HttpError("chunked responses are not expected")
            raw = await self.reader.readexactly(length) if length else b""
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            await self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from None
        if close:
            await self.close()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw[:200]

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


# ----------------------------------------------------------------------------- analysts


@dataclass
class Run:
    """What the analysts did and saw."""

    deadline: float
    budget: int
    think_s: float
    sent: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    done_at: list[float] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # 2xx reviews and notes
    conflicts: int = 0

    def take(self) -> bool:
        if self.sent >= self.budget or time.perf_counter() >= self.deadline:
            return False
        self.sent += 1
        return True


async def _call(
    run: Run, conn: Connection, kind: str, method: str, path: str, body: Any = None
) -> tuple[int, Any] | None:
    t0 = time.perf_counter()
    try:
        status, doc = await conn.request(method, path, body)
    except HttpError as exc:
        run.errors.append(f"{kind} {path}: {exc}")
        return None
    t1 = time.perf_counter()
    run.latencies[kind].append(t1 - t0)
    run.done_at.append(t1)
    run.statuses[(kind, status)] += 1
    if status == 409 and kind in ("review", "note"):
        run.conflicts += 1  # someone else changed the site first: nothing was written
        return None
    if status >= 400:
        run.errors.append(f"{kind} {path}: HTTP {status} {str(doc)[:200]}")
        return None
    return status, doc


async def analyst(run: Run, host: str, port: int, token: str, seed: int) -> None:
    """One analyst: queue page, two sites, a decision or a note on each, thinking between."""
    rng = random.Random(seed)
    conn = Connection(host, port, token)

    async def think() -> None:
        await asyncio.sleep(rng.expovariate(1 / run.think_s) if run.think_s > 0 else 0)

    await asyncio.sleep(rng.uniform(0, max(run.think_s, 0.05) * 2))  # stagger the start
    try:
        while run.take():
            page = min(int(rng.expovariate(1 / 3)) + 1, 40)
            got = await _call(run, conn, "queue", "GET", f"/api/sites/queue?page={page}")
            await think()
            if got is None or not got[1]["sites"]:
                continue
            rows = got[1]["sites"]
            for row in rng.sample(rows, min(2, len(rows))):
                if not run.take():
                    return
                got = await _call(run, conn, "site", "GET", f"/api/sites/{row['id']}")
                await think()
                if got is None:
                    continue
                site = got[1]
                roll = rng.random()
                if roll < 0.3:
                    decision = rng.choice(list(_DECISIONS))
                    body = {"decision": decision, "version": site["version"], "note": "load"}
                    kind = "review"
                elif roll < 0.55:
                    decision, kind = "note", "note"
                    body = {"decision": "note", "note": f"looked at it ({rng.random():.3f})"}
                else:
                    continue
                if not run.take():
                    return
                got = await _call(run, conn, kind, "POST", f"/api/sites/{site['id']}/reviews", body)
                if got is not None:
                    run.accepted.append({**got[1], "decision": decision})
                await think()
    finally:
        await conn.close()


async def _drive(
    host: str, port: int, tokens: list[str], analysts: int, budget: int, duration: float,
    think_s: float,
) -> tuple[Run, float, float]:  # fmt: skip
    start = time.perf_counter()
    run = Run(deadline=start + duration, budget=budget, think_s=think_s)
    await asyncio.gather(
        *(analyst(run, host, port, tokens[i % len(tokens)], i) for i in range(analysts))
    )
    return run, start, time.perf_counter()


# ------------------------------------------------------------------------------ server


def start_server(
    url: str, workers: int, port: int, home: Path, pool: int, threads: int
) -> subprocess.Popen[Any]:
    env = {
        **os.environ,
        "PLUMETRACE_DATABASE_URL": url,
        "PLUMETRACE_HOME": str(home),
        "PLUMETRACE_DB_POOL_SIZE": str(pool),
        "PLUMETRACE_DB_MAX_OVERFLOW": str(pool),
        "PLUMETRACE_API_THREADS": str(threads),
    }
    cmd = [
        sys.executable, "-m", "plumetrace", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def stop_server(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def _wait_ready(port: int, token: str, proc: subprocess.Popen[Any], workers: int) -> None:
    import psutil

    t_end = time.perf_counter() + 180
    while time.perf_counter() < t_end:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"the server exited ({proc.returncode}): {err[-2000:]}")
        children = [  # uvicorn's workers, not multiprocessing's resource tracker
            c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())
        ]
        conn = Connection("127.0.0.1", port, token)
        try:
            status, _ = await conn.request("GET", "/api/sites/queue?page_size=1")
            if status == 200 and (workers == 1 or len(children) >= workers):
                break
        except (HttpError, OSError):
            pass
        finally:
            await conn.close()
        await asyncio.sleep(0.5)
    else:
        raise RuntimeError("the server did not answer within 180 s")
    # every worker: a few rounds of requests so that each has started and warmed up
    conns = [Connection("127.0.0.1", port, token) for _ in range(4 * workers)]
    for _ in range(5):
        await asyncio.gather(*(c.request("GET", "/api/sites/queue") for c in conns))
    for c in conns:
        await c.close()


def _cpu_times(pids: list[int], database: str) -> dict[str, float]:
    """CPU seconds so far of the server's processes, of the PostgreSQL backends serving
    ``database`` (not other databases' on a shared server; backends that exit between
    two readings are missed) and of this process (the load generator)."""
    import psutil

    out = {"server": 0.0, "postgres": 0.0}
    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs += [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for p in procs:
        try:
            t = p.cpu_times()
            out["server"] += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    for p in psutil.process_iter(["name", "cmdline"]):
        title = " ".join(p.info["cmdline"] or [])
        if p.info["name"] in ("postgres", "postmaster") and f" {database} " in title:
            try:
                t = p.cpu_times()
                out["postgres"] += t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
    ru = os.times()
    out["load_generator"] = ru.user + ru.system
    return out


# ------------------------------------------------------------------------------ checks


def _snapshot(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        versions = dict(c.execute(sa.text("SELECT id, version FROM sites")).all())
        reviews = c.execute(sa.text("SELECT count(*) FROM reviews")).scalar()
        events = c.execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
    engine.dispose()
    return {"versions": versions, "reviews": int(reviews or 0), "events": int(events or 0)}


def check_consistency(url: str, before: dict[str, Any], run: Run) -> dict[str, Any]:
    """Lost updates and phantom writes: compare what was answered with what is stored."""
    from plumetrace.store.audit_log import verify
    from plumetrace.store.engine import make_engine, session_scope

    after = _snapshot(url)
    problems: list[str] = []
    engine = sa.create_engine(url)
    ids = [a["review"] for a in run.accepted]
    stored: dict[str, tuple[str, str]] = {}
    with engine.connect() as c:
        for a in range(0, len(ids), 5000):
            rows = c.execute(
                sa.text("SELECT id, site_id, decision FROM reviews WHERE id = ANY(:ids)"),
                {"ids": ids[a : a + 5000]},
            ).all()
            stored.update({r[0]: (r[1], r[2]) for r in rows})
        status = dict(c.execute(sa.text("SELECT id, status FROM sites")).all())
    engine.dispose()
    missing = [i for i in ids if stored.get(i) is None]
    if missing:
        problems.append(f"{len(missing)} reviews answered 2xx are not stored: {missing[:5]}")
    wrong = [a["review"] for a in run.accepted if a["review"] in stored and
             stored[a["review"]] != (a["site"], a["decision"])]  # fmt: skip
    if wrong:
        problems.append(f"{len(wrong)} reviews stored with another site/decision: {wrong[:5]}")
    decisions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in run.accepted:
        if a["decision"] != "note":
            decisions[a["site"]].append(a)
    lost = 0
    for sid, accepted in decisions.items():
        grew = after["versions"][sid] - before["versions"][sid]
        if grew != len(accepted):
            lost += 1
            problems.append(f"{sid}: version grew by {grew}, {len(accepted)} decisions accepted")
            continue
        last = max(accepted, key=lambda a: a["version"])
        versions = sorted(a["version"] for a in accepted)
        if versions != list(range(before["versions"][sid] + 1, after["versions"][sid] + 1)):
            lost += 1
            problems.append(f"{sid}: accepted versions {versions} are not one each")
        if status[sid] != _DECISIONS[last["decision"]]:
            lost += 1
            problems.append(f"{sid}: status {status[sid]}, last accepted {last['decision']}")
    untouched = [
        s for s, v in after["versions"].items() if v != before["versions"][s] and s not in decisions
    ]
    if untouched:
        problems.append(f"{len(untouched)} sites changed without an accepted decision")
    new_reviews = after["reviews"] - before["reviews"]
    if new_reviews != len(run.accepted):
        problems.append(f"{new_reviews} reviews stored, {len(run.accepted)} answered 2xx")
    n_open = sum(1 for a in run.accepted if a.get("collection_request"))
    want_events = len(run.accepted) + n_open
    new_events = after["events"] - before["events"]
    if new_events != want_events:
        problems.append(f"{new_events} audit events added, {want_events} expected")
    t0 = time.perf_counter()
    eng = make_engine(url)
    with session_scope(eng) as s:
        audit = verify(s)
    eng.dispose()
    return {
        "accepted_reviews": len(run.accepted) - sum(a["decision"] == "note" for a in run.accepted),
        "accepted_notes": sum(a["decision"] == "note" for a in run.accepted),
        "rejected_409": run.conflicts,
        "lost_updates": lost,
        "problems": problems[:20],
        "consistent": not problems,
        "audit_ok": audit.ok,
        "audit_events": audit.events,
        "audit_problems": audit.problems[:5],
        "audit_verify_s": round(time.perf_counter() - t0, 2),
    }


# ------------------------------------------------------------------------------- driver


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 1) if xs else float("nan")


def run_workers(url: str, workers: int, tokens: list[str], a: argparse.Namespace) -> dict[str, Any]:
    """Serve with ``workers`` processes, run the analysts, check the database."""
    before = _snapshot(url)
    with tempfile.TemporaryDirectory(prefix="plumetrace-load-") as home:
        proc = start_server(url, workers, a.port, Path(home), a.pool_size, a.threads)
        try:
            asyncio.run(_wait_ready(a.port, tokens[0], proc, workers))
            cpu0 = _cpu_times([proc.pid], sa.engine.make_url(url).database or "")
            run, t0, t1 = asyncio.run(
                _drive(
                    "127.0.0.1", a.port, tokens, a.analysts, a.requests, a.duration,
                    a.think_ms / 1000,
                )
            )  # fmt: skip
            cpu1 = _cpu_times([proc.pid], sa.engine.make_url(url).database or "")
        finally:
            stop_server(proc)
    wall = t1 - t0
    done = np.asarray(run.done_at) - t0
    all_lat = [x for xs in run.latencies.values() for x in xs]
    # sustained: the middle of the run, without the staggered start and the drain
    lo, hi = 0.1 * wall, 0.9 * wall
    steady = int(((done >= lo) & (done < hi)).sum()) / max(hi - lo, 1e-9)
    per_s = np.bincount(done.astype(int)) if len(done) else np.zeros(1)
    inner = per_s[1:-1] if len(per_s) > 2 else per_s
    out: dict[str, Any] = {
        "workers": workers,
        "analysts": a.analysts,
        "think_ms_mean": a.think_ms,
        "pool_size_per_worker": a.pool_size,
        "threads_per_worker": a.threads,
        "requests": len(run.done_at),
        "duration_s": round(wall, 1),
        "requests_per_s": round(len(run.done_at) / wall, 1),
        "sustained_requests_per_s": round(steady, 1),
        "min_requests_in_a_second": int(inner.min()) if len(inner) else 0,
        "p50_ms": _pct(all_lat, 50),
        "p95_ms": _pct(all_lat, 95),
        "p99_ms": _pct(all_lat, 99),
        "max_ms": _pct(all_lat, 100),
        "by_kind": {
            k: {"n": len(v), "p50_ms": _pct(v, 50), "p95_ms": _pct(v, 95), "p99_ms": _pct(v, 99)}
            for k, v in sorted(run.latencies.items())
        },
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(run.statuses.items())},
        "errors": len(run.errors),
        "error_samples": run.errors[:10],
        "cpu_s": {k: round(cpu1[k] - cpu0[k], 1) for k in cpu0},
    }
    out.update(check_consistency(url, before, run))
    out["goals_met"] = bool(
        out["sustained_requests_per_s"] >= GOALS["requests_per_s"]
        and out["p99_ms"] <= GOALS["p99_ms"]
        and out["errors"] == 0
        and out["lost_updates"] == 0
        and out["consistent"]
        and out["audit_ok"]
    )
    return out


def _table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'workers':>7} {'req':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'409':>5} {'lost':>5} {'audit':>6} {'goals':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r['workers']:>7} {r['requests']:>7} {r['sustained_requests_per_s']:>7.1f} "
            f"{r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['errors']:>6} "
            f"{r['rejected_409']:>5} {r['lost_updates']:>5} "
            f"{'ok' if r['audit_ok'] else 'BROKEN':>6} {'met' if r['goals_met'] else 'no':>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detections", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--analysts", type=int, default=140)
    ap.add_argument("--workers", default="2", help="worker counts to compare, e.g. 1,2,4")
    ap.add_argument("--requests", type=int, default=60_000, help="at most this many per run")
    ap.add_argument("--duration", type=float, default=90.0, help="at most this long per run, s")
    ap.add_argument("--think-ms", type=float, default=350.0, help="mean think time, ms")
    ap.add_argument("--pool-size", type=int, default=10, help="connections per worker")
    ap.add_argument("--threads", type=int, default=8, help="route threads per worker")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--database", default="plumetrace_load")
    ap.add_argument("--reuse", action="store_true", help="keep a database seeded the same")
    ap.add_argument("--drop", action="store_true", help="drop the database afterwards")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.requests < 1 or a.requests > 1_000_000 or a.duration <= 0 or a.duration > 3600:
        ap.error("--requests must be in [1, 1e6] and --duration in (0, 3600] s")
    load_before = os.getloadavg()
    full = a.detections == 1_000_000 and a.sites == 50_000 and a.analysts == 140
    out = a.out or (HERE / "results" / "load.json" if full else HERE / ".work" / "load.json")
    try:
        seeded = prepare_database(a.database, a.detections, a.sites, a.reuse)
        url = _db_url(a.database)
        tokens = list(make_users(url, a.analysts).values())
        results = []
        for w in (int(x) for x in a.workers.split(",")):
            print(f"{w} worker(s): {a.analysts} analysts ...", flush=True)
            results.append(run_workers(url, w, tokens, a))
            print(json.dumps(results[-1], indent=2), flush=True)
    finally:
        if a.drop:
            drop_database(a.database)
    doc = {
        "command": "python benchmarks/bench_load.py " + " ".join(argv or sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, shared by the server, PostgreSQL and the load "
        "generator (loopback)",
        "load_average_before": [round(x, 2) for x in load_before],
        "database": {k: v for k, v in seeded.items()},
        "goals": GOALS,
        "runs": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(_table(results))
    print(f"results: {out}")
    return 0 if all(r["errors"] == 0 and r["consistent"] and r["audit_ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
