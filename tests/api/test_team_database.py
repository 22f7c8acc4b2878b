"""A team on one database: pool settings, sites near a point, no pool deadlock, fast present."""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from plumetrace.api.deps import present
from plumetrace.errors import ConfigurationError
from plumetrace.io.tables import to_jsonable
from plumetrace.settings import Settings
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import upgrade
from plumetrace.store.users import issue_token
from tests.conftest import _pg_schema_url

from .conftest import LAT0, LON0, Api, TestClient, add_people, seed_sites


def test_pool_settings_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUMETRACE_DB_POOL_SIZE", "3")
    monkeypatch.setenv("PLUMETRACE_DB_MAX_OVERFLOW", "0")
    cfg = Settings()
    assert (cfg.db_pool_size, cfg.db_max_overflow, cfg.api_threads) == (3, 0, 8)
    eng = make_engine(
        "postgresql+psycopg://u@127.0.0.1:1/x",  # never connected
        pool_size=cfg.db_pool_size,
        max_overflow=cfg.db_max_overflow,
        pool_timeout_s=2.5,
    )
    assert eng.pool.size() == 3 and eng.pool._max_overflow == 0  # type: ignore[attr-defined]
    assert eng.pool._timeout == 2.5  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="pool_size"):
        make_engine("postgresql+psycopg://u@127.0.0.1:1/x", pool_size=0)


def test_sites_near_a_point_nearest_first(api: Api) -> None:
    near = f"{LON0},{LAT0}"
    one = api.get("/api/sites", "ana", params={"near": near, "radius_m": 1000}).json()["sites"]
    assert len(one) == 1 and one[0]["distance_m"] < 50
    both = api.get("/api/sites", "ana", params={"near": near, "radius_m": 9000}).json()["sites"]
    assert len(both) == 2 and both[0]["distance_m"] < both[1]["distance_m"]
    assert 7900 < both[1]["distance_m"] < 8100  # the second site is 8 km east
    none = api.get("/api/sites", "ana", params={"near": near, "radius_m": 7000, "status": "x"})
    assert none.json()["sites"] == []
    for bad in ({"near": "1,2,3"}, {"near": "nan,1"}, {"near": near, "bbox": "0,0,1,1"}):
        r = api.get("/api/sites", "ana", params=bad)
        assert r.status_code == 422, (bad, r.text)
    assert api.get("/api/sites", "ana", params={"near": near, "radius_m": 0}).status_code == 422


def test_present_matches_to_jsonable() -> None:
    t = datetime(2026, 5, 1, 17, 0, tzinfo=UTC)
    doc: dict[str, Any] = {
        "s": "x",
        "i": 3,
        "b": True,
        "none": None,
        "f": 1.5,
        "nan": math.nan,
        "inf": -math.inf,
        "t": t,
        "t_naive": datetime(2026, 1, 1),
        "np": np.float32(2.5),
        "arr": np.arange(3),
        "rows": [{"id": "site-1", "last_seen": t + timedelta(hours=1), "v": [1, 2.0]}],
        "tup": (1, "a"),
        "set": {"b", "a"},
        "path": Path("/x"),
        "int_keys": {1: "a"},
    }
    assert present(doc) == to_jsonable(doc)
    assert present(doc)["t"] == "2026-05-01T17:00:00Z" and present(doc)["nan"] is None


@pytest.fixture
def tight(tmp_path: Path) -> Iterator[tuple[TestClient, str, list[str]]]:
    """An app on PostgreSQL with 2 route threads and a single pooled connection."""
    url = next(urls := _pg_schema_url())
    engine = make_engine(url)
    upgrade(engine)
    tokens = []
    with session_scope(engine, write=True) as s:
        people = add_people(s)
        for name in ("ana", "bob", "sue"):
            tokens.append(issue_token(s, people[name][0], timedelta(hours=1))[0])
    site = seed_sites(engine)[0]
    cfg = Settings(
        home=tmp_path,
        database_url=url,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_s=5,
        api_threads=2,
    )
    from plumetrace.api import create_app

    with TestClient(create_app(cfg)) as client:
        yield client, site, tokens
    engine.dispose()
    for _ in urls:
        pass


def test_many_writers_on_a_tiny_pool_do_not_deadlock(
    tight: tuple[TestClient, str, list[str]],
) -> None:
    """More concurrent requests than threads and connections: each route commits on its
    own thread before it waits for another, so they queue instead of holding the only
    connection (and the audit chain's lock) while waiting for a thread (before: 503s
    after the pool's timeout)."""
    client, site, tokens = tight

    def note(k: int) -> int:
        auth = {"Authorization": f"Bearer {tokens[k % len(tokens)]}"}
        if k % 3 == 0:
            return client.get(f"/api/sites/{site}", headers=auth).status_code
        body = {"decision": "note", "note": f"n{k}"}
        return client.post(f"/api/sites/{site}/reviews", json=body, headers=auth).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(note, range(48)))
    assert codes == [200] * 48
    auth = {"Authorization": f"Bearer {tokens[0]}"}
    assert len(client.get(f"/api/sites/{site}", headers=auth).json()["reviews"]) == 32
