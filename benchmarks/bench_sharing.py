"""Partner sharing speed: releasing leads, serving TAXII pages, building STIX.

    python benchmarks/bench_sharing.py [--leads 300] [--backends sqlite,postgresql]

Each backend starts empty (SQLite file under benchmarks/.work; PostgreSQL: a fresh schema
of the ``test`` database at 127.0.0.1:5432). ``--leads`` sites are ingested far apart and
confirmed by an analyst; for each, a liaison drafts a lead for one partner and a
supervisor approves it (redaction, the frozen release, STIX objects into the partner's
TAXII collection, audit events: one transaction each), timed per lead. Then 200 TAXII
object pages of 100 (random cursor) are timed through the HTTP API (in-process client,
the partner's token) and at the store. The pure kernels (redaction + STIX bundle of one
lead) and the OASIS validator on that bundle are timed separately.

Issue 7 names no speed goal and no peer; these numbers are the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from _common import MACHINE, ROOT, WORK

from plumetrace.geo import local_projection
from plumetrace.io.evidence import DetectionRecord
from plumetrace.settings import Settings
from plumetrace.share.policy import ReleasePolicy
from plumetrace.share.redact import redact
from plumetrace.share.stix import lead_bundle
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.ingest import FlightSpec, ingest_detections
from plumetrace.store.lead_evidence import internal_lead
from plumetrace.store.leads import approve_lead, draft_lead
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import Lead, Site, User
from plumetrace.store.partners import add_partner
from plumetrace.store.taxii import collection_id, objects_page
from plumetrace.store.users import add_user, issue_token
from plumetrace.store.workflow import review

PG = os.environ.get(
    "PLUMETRACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 2)


def _url(backend: str, work: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        for p in work.glob("sharing.db*"):
            p.unlink()
        return f"sqlite:///{work / 'sharing.db'}", None
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {name}"))
    admin.dispose()
    return f"{PG}?options=-csearch_path%3D{name}", name


def _seed(engine: sa.Engine, n: int) -> tuple[list[str], dict[str, User]]:
    _fwd, inv = local_projection(-106.45, 31.75)
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(-80_000, 80_000, n), rng.uniform(-80_000, 80_000, n)
    lon, lat = inv.transform(xs, ys)
    with session_scope(engine, write=True) as s:
        add_partner(s, "Fiscalia", ReleasePolicy(release=frozenset({"sensor"})), actor="b")
        users = {}
        for name, role in (("ana", "analyst"), ("lia", "liaison"), ("sue", "supervisor")):
            users[name], _ = add_user(s, name, role, actor="b")
        users["pat"], _ = add_user(s, "pat", "partner", actor="b", partner_id="partner-fiscalia")
        recs = [
            DetectionRecord(
                f"p{i}",
                "plume",
                float(lat[i]),
                float(lon[i]),
                30.0,
                40.0,
                25.0,
                60.0,
                0.9,
                properties={"method": "mf"},
            )
            for i in range(n)
        ]
        r = ingest_detections(
            s,
            FlightSpec("flt-1", "border-unit", "ac-1", "aviris-ng"),
            recs,
            time=datetime(2026, 5, 1, tzinfo=UTC),
            actor="b",
            source="bench",
        )
        sites = sorted(r.sites_created)
        for sid in sites:
            site = s.get(Site, sid)
            assert site is not None
            review(s, sid, "confirm", by=users["ana"], expected_version=site.version)
    return sites, users


def run_backend(backend: str, n: int, work: Path) -> dict[str, object]:
    url, schema = _url(backend, work)
    engine = make_engine(url)
    upgrade(engine)
    sites, users = _seed(engine, n)
    release_t = []
    for sid in sites:
        t1 = time.perf_counter()
        with session_scope(engine, write=True) as s:
            lead = draft_lead(
                s,
                partner="Fiscalia",
                site_ids=[sid],
                by=users["lia"],
                title="Suspected production site",
            )
            approve_lead(s, lead.id, by=users["sue"], producer="Program")
        release_t.append(time.perf_counter() - t1)
    with session_scope(engine, write=True) as s:
        pat = s.get(User, users["pat"].id)
        assert pat is not None
        pat.must_change_password = False
        token, _ = issue_token(s, pat, timedelta(hours=1))
        n_objects = s.scalar(sa.text("SELECT count(*) FROM shared_objects"))
        lead_ids = list(s.scalars(sa.select(Lead.id)))
    pid = "partner-fiscalia"
    rng = np.random.default_rng(1)
    store_t = []
    for _ in range(200):
        cursor = str(int(rng.integers(0, max(int(n_objects) - 100, 1))))
        t1 = time.perf_counter()
        with session_scope(engine) as s:
            page = objects_page(s, pid, limit=100, cursor=cursor)
        store_t.append(time.perf_counter() - t1)
        assert len(page.rows) == 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from plumetrace.api import create_app

        app = create_app(Settings(home=work / "home", database_url=url))
        http_t = []
        path = f"/taxii2/leads/collections/{collection_id(pid)}/objects/"
        with TestClient(app) as client:
            for _ in range(200):
                cursor = str(int(rng.integers(0, max(int(n_objects) - 100, 1))))
                t1 = time.perf_counter()
                r = client.get(
                    path,
                    params={"limit": 100, "next": cursor},
                    headers={"Authorization": f"Bearer {token}"},
                )
                http_t.append(time.perf_counter() - t1)
                assert r.status_code == 200 and len(r.json()["objects"]) == 100
    # the pure part of one release, and the validator, on one lead
    from stix2validator import validate_string

    with session_scope(engine) as s:
        lead = s.get(Lead, lead_ids[0])
        assert lead is not None
        internal = internal_lead(s, lead)
    pure_t, valid_t = [], []
    for _ in range(50):
        t1 = time.perf_counter()
        releasable, _red = redact(internal, ReleasePolicy(release=frozenset({"sensor"})), "P")
        bundle = lead_bundle(releasable)
        pure_t.append(time.perf_counter() - t1)
        text = json.dumps(bundle)
        t1 = time.perf_counter()
        assert validate_string(text).is_valid
        valid_t.append(time.perf_counter() - t1)
    engine.dispose()
    if schema:
        admin = sa.create_engine(PG)
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return {
        "leads": len(sites),
        "shared_objects": int(n_objects),
        "release_ms_p50": _pct(release_t, 50),
        "release_ms_p95": _pct(release_t, 95),
        "releases_per_s": round(len(release_t) / sum(release_t), 1),
        "release_ms_first_last10": [_pct(release_t[:10], 50), _pct(release_t[-10:], 50)],
        "taxii_page100_http_ms_p50": _pct(http_t, 50),
        "taxii_page100_http_ms_p95": _pct(http_t, 95),
        "taxii_page100_store_ms_p50": _pct(store_t, 50),
        "taxii_page100_store_ms_p95": _pct(store_t, 95),
        "redact_and_bundle_ms_p50": _pct(pure_t, 50),
        "stix2_validator_ms_p50": _pct(valid_t, 50),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=300)
    ap.add_argument("--backends", default="sqlite,postgresql")
    a = ap.parse_args()
    work = WORK / "sharing"
    work.mkdir(parents=True, exist_ok=True)
    res: dict[str, object] = {
        "machine": MACHINE,
        "date": time.strftime("%Y-%m-%d"),
        "command": f"python benchmarks/bench_sharing.py --leads {a.leads}",
    }
    for backend in a.backends.split(","):
        res[backend] = run_backend(backend, a.leads, work)
        print(json.dumps(res[backend], indent=2), flush=True)
    if a.leads == 300:
        out = ROOT / "benchmarks" / "results" / "sharing.json"
        out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
