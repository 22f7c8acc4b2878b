"""The queue and the spatial queries use indexes, not table scans (EXPLAIN on each backend).

A store with enough rows for the planner to care (6,000 sites, 30,000 detections over
~2° x 2°), analysed; then the statements the store functions really send are captured
and explained. PostgreSQL: no ``Seq Scan`` on ``sites`` or ``detections``; SQLite: no
``SCAN`` of either table without an index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from plumetrace.store.bulk import bulk_insert
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.map import map_layers
from plumetrace.store.migrate import upgrade
from plumetrace.store.models import Detection, Flight, Site, User
from plumetrace.store.sites import list_sites, queue_size, review_queue, sites_near
from tests.conftest import _pg_schema_url

N_SITES, N_DET = 6_000, 30_000
LON0, LAT0 = -106.45, 31.75
T0 = datetime(2026, 1, 1, tzinfo=UTC)
BOX = (-106.47, 31.73, -106.43, 31.77)  # ~4 km x 4 km: 0.04 % of the area


def _seed(engine: sa.Engine) -> None:
    rng = np.random.default_rng(3)
    lat = LAT0 + rng.uniform(-1, 1, N_SITES)
    lon = LON0 + rng.uniform(-1, 1, N_SITES)
    status = rng.choice(["candidate", "needs-collection", "confirmed", "rejected"], N_SITES)
    sites = [
        {
            "id": f"site-{k:010x}",
            "lat": float(lat[k]),
            "lon": float(lon[k]),
            "uncertainty_m": 20.0,
            "confidence": float(rng.uniform()),
            "status": str(status[k]),
            "pos_weight": 1 / 400,
            "priority": float(rng.uniform()),
            "last_seen": T0 + timedelta(hours=int(rng.integers(0, 1000))),
            "confidence_terms": {},
            "version": 1,
            "created": T0,
            "updated": T0,
            "n_detections": 5,
            # a few sites assigned or restricted: the partial indexes hold only those
            "assignee_id": "usr-ana" if k % 97 == 0 else None,
            "compartment": "alpha" if k % 89 == 0 else None,
        }
        for k in range(N_SITES)
    ]
    site = rng.integers(0, N_SITES, N_DET)
    dets = [
        {
            "id": f"det-{i:09d}",
            "flight_id": "flt-1",
            "time": T0 + timedelta(minutes=i),
            "kind": "plume" if i % 10 else "insitu",
            "gas": "ch4",
            "lat": float(lat[site[i]] + rng.normal(0, 3e-4)),
            "lon": float(lon[site[i]] + rng.normal(0, 3e-4)),
            "uncertainty_m": 30.0,
            "site_id": f"site-{int(site[i]):010x}",
            "properties": {},
        }
        for i in range(N_DET)
    ]
    with session_scope(engine, write=True) as s:
        s.add(Flight(id="flt-1"))
        s.add(User(id="usr-ana", name="ana", role="analyst", password_hash="x"))
        s.flush()
        defaults = ("n_reports", "n_passes", "n_passes_detected", "n_scored", "n_rated")
        floats = ("report_llr", "score_logit_sum", "log_rate_sum", "log_rate_sq_sum")
        bulk_insert(
            s,
            Site,
            [{**r, **dict.fromkeys(defaults, 0), **dict.fromkeys(floats, 0.0)} for r in sites],
        )
        bulk_insert(s, Detection, dets)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # what autovacuum does on a live server: statistics and the visibility map
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """A migrated, seeded and analysed store of each backend (once for the module)."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('idx') / 'p.db'}"])
    else:
        urls = _pg_schema_url()
    url = next(urls)
    engine = make_engine(url)
    upgrade(engine)
    _seed(engine)
    yield engine
    engine.dispose()
    for _ in urls:  # drops the PostgreSQL schema
        pass


def _captured(engine: sa.Engine, fn: Callable[[Session], Any]) -> list[tuple[str, Any]]:
    """Run ``fn`` in a session; return the SELECT statements it sent, with parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        with session_scope(engine) as s:
            fn(s)
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    assert seen, "the function sent no SELECT"
    return seen


def _plans(engine: sa.Engine, fn: Callable[[Session], Any]) -> list[str]:
    pg = engine.dialect.name == "postgresql"
    out = []
    with engine.connect() as conn:
        for statement, params in _captured(engine, fn):
            prefix = "EXPLAIN " if pg else "EXPLAIN QUERY PLAN "
            rows = conn.exec_driver_sql(prefix + statement, params).all()
            out.append("\n".join(str(r[0] if pg else r[-1]) for r in rows))
    return out


def _table_scans(engine: sa.Engine, plans: list[str]) -> list[str]:
    if engine.dialect.name == "postgresql":
        bad = re.compile(r"Seq Scan on (sites|detections)\b")
    else:  # SQLite: "SCAN sites" without "USING [COVERING] INDEX"
        bad = re.compile(r"^SCAN (sites|detections)\b(?!.*USING (COVERING )?INDEX)", re.M)
    return [p for p in plans if bad.search(p)]


QUERIES: dict[str, Callable[[Session], Any]] = {
    "queue page 1": lambda s: review_queue(s, page=1, page_size=50),
    "queue page 5": lambda s: review_queue(s, page=5, page_size=50),
    "queue size": lambda s: queue_size(s),
    "sites in a box": lambda s: list_sites(s, bbox=BOX),
    "sites within 2 km": lambda s: sites_near(s, LON0, LAT0, 2000.0),
    "map layers of a box": lambda s: map_layers(s, BOX),
    "an analyst's sites": lambda s: list_sites(s, assignee="usr-ana"),
    "restricted sites": lambda s: s.execute(
        sa.select(Site.id).where(Site.compartment.is_not(None))
    ).all(),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_queries_do_not_scan_the_big_tables(big: sa.Engine, name: str) -> None:
    plans = _plans(big, QUERIES[name])
    assert not _table_scans(big, plans), "\n---\n".join(plans)


def test_the_spatial_queries_use_the_position_indexes(big: sa.Engine) -> None:
    plans = "\n".join(_plans(big, QUERIES["map layers of a box"]))
    assert "ix_sites_lat_lon" in plans
    assert "ix_detections_lat_lon" in plans
    assert "ix_sites_lat_lon" in "\n".join(_plans(big, QUERIES["sites within 2 km"]))


def test_the_queue_walks_its_index(big: sa.Engine) -> None:
    assert "ix_sites_queue" in "\n".join(_plans(big, QUERIES["queue page 1"]))
    assert "ix_sites_queue" in "\n".join(_plans(big, QUERIES["queue size"]))


def test_assignee_and_compartment_lookups_use_their_partial_indexes(big: sa.Engine) -> None:
    """The indexes hold only sites with an assignee or a compartment, and are used."""
    assert "ix_sites_assignee_id" in "\n".join(_plans(big, QUERIES["an analyst's sites"]))
    assert "ix_sites_compartment" in "\n".join(_plans(big, QUERIES["restricted sites"]))
    with big.connect() as conn:
        if big.dialect.name == "postgresql":
            sizes = dict(
                conn.exec_driver_sql(
                    "SELECT c.relname, c.reltuples FROM pg_class c "
                    "WHERE c.relname IN ('ix_sites_assignee_id', 'ix_sites_compartment') "
                    "AND c.relnamespace = current_schema()::regnamespace"
                ).all()
            )
            assert sizes == {
                "ix_sites_assignee_id": len(range(0, N_SITES, 97)),
                "ix_sites_compartment": len(range(0, N_SITES, 89)),
            }
        else:  # index_list: seq, name, unique, origin, partial
            partial = {r[1]: r[4] for r in conn.exec_driver_sql("PRAGMA index_list(sites)")}
            assert partial["ix_sites_assignee_id"] == partial["ix_sites_compartment"] == 1


def test_the_probe_sees_a_table_scan(big: sa.Engine) -> None:
    """The check itself: an unindexed filter on the big table is reported as a scan."""
    plans = _plans(
        big, lambda s: s.execute(sa.select(Detection.id).where(Detection.gas == "ch4")).all()
    )
    assert _table_scans(big, plans)
