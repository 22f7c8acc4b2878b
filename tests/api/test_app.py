from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pydantic_core
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from plumetrace.api import create_app
from plumetrace.api.deps import PUBLIC, SessionRoute, allow
from plumetrace.api.errors import install_error_handlers
from plumetrace.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    DataSourceError,
    InvalidParameterError,
    NotFoundError,
    PlumetraceError,
)
from plumetrace.io.tables import to_jsonable
from plumetrace.settings import Settings

from .conftest import Api, TestClient  # starlette's, imported without its httpx warning

CASES: list[tuple[Exception, int]] = [
    (AuthError("who are you", status=401), 401),
    (AuthError("not you"), 403),
    (NotFoundError("no site 'x'"), 404),
    (ConflictError("changed"), 409),
    (InvalidParameterError("bad"), 422),
    (ConfigurationError("taken"), 400),
    (PlumetraceError("other"), 400),
    (DataSourceError("/secret/path", "cannot read"), 500),
    (StaleDataError("UPDATE statement on table expected to update 1 row(s)"), 409),
    (IntegrityError("INSERT …", {}, Exception("duplicate key")), 409),
]


def test_one_handler_maps_errors_to_statuses() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom/{i}")
    def boom(i: int) -> None:
        raise CASES[i][0]

    client = TestClient(app, raise_server_exceptions=False)
    for i, (exc, status) in enumerate(CASES):
        r = client.get(f"/boom/{i}")
        assert r.status_code == status, (exc, r.status_code)
        detail = r.json()["detail"]
        assert isinstance(detail, str) and detail
        if isinstance(exc, NotFoundError | ConflictError | InvalidParameterError):
            assert detail == str(exc)
    assert "/secret" not in client.get("/boom/7").json()["detail"]  # no server paths leak
    assert "reload" in client.get("/boom/8").json()["detail"]
    assert client.get("/boom/0").headers["www-authenticate"] == "Bearer"


def test_the_engine_is_made_at_startup_and_needs_a_migrated_database(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    assert app.state.engine is None  # nothing connects before the app starts
    assert not (tmp_path / "empty.db").exists()
    with pytest.raises(ConfigurationError, match="db upgrade"), TestClient(app):
        pass


def test_api_without_startup_says_so(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    client = TestClient(app)  # no `with`: the lifespan does not run
    r = client.post("/api/auth/login", json={"name": "a", "password": "b"})
    assert r.status_code == 400 and "not started" in r.json()["detail"]


def test_a_route_answers_in_one_trip_to_the_thread_pool(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FastAPI would check a returned dict against the route's annotation on a second
    # trip to the thread pool; the unit of work encodes it on its own thread instead
    import fastapi.routing

    async def no_second_trip(**kwargs: Any) -> Any:
        raise AssertionError("serialize_response called")

    monkeypatch.setattr(fastapi.routing, "serialize_response", no_second_trip)
    r = api.get("/api/sites/queue", "ana")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert {s["id"] for s in r.json()["sites"]} == set(api.sites)
    created = api.post("/api/organizations", "sue", json={"name": "Cartel del Norte"})
    assert created.status_code == 201, created.text  # the route's own status
    assert created.json()["name"] == "Cartel del Norte"
    # a route answering 204 (no body) still has none
    assert api.post("/api/auth/logout", "bob").status_code == 204


class Public(BaseModel):
    """A response model that leaves fields out."""

    name: str


def test_a_route_with_a_response_model_still_leaves_fields_out() -> None:
    router = APIRouter(route_class=SessionRoute)

    @router.get("/annotated", **allow(PUBLIC))
    def annotated() -> Public:
        return {"name": "x", "secret": "s"}  # type: ignore[return-value]

    @router.get("/declared", response_model=Public, **allow(PUBLIC))
    def declared() -> dict[str, Any]:
        return {"name": "y", "secret": "s"}

    @router.get("/plain", **allow(PUBLIC))
    def plain() -> dict[str, Any]:
        return {"name": "z", "extra": 1}

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/annotated").json() == {"name": "x"}
        assert client.get("/declared").json() == {"name": "y"}
        assert client.get("/plain").json() == {"name": "z", "extra": 1}


def _presented_doc() -> dict[str, Any]:
    """Values of every kind a route hands to ``present``."""
    t = datetime(2026, 5, 1, 17, 0, 0, 250_000, tzinfo=UTC)
    return {
        "t": t,
        "t_whole_second": t.replace(microsecond=0),
        "nan": math.nan,
        "inf": -math.inf,
        "np": np.float32(2.5),
        "np_nan": np.float64("nan"),
        "arr": np.arange(3),
        "path": Path("/x"),
        "rows": [{"id": "site-1", "seen": t, "v": (1, 2.0), "props": {"k": [None, True]}}],
        "int_keys": {1: "a"},
    }


@pytest.mark.parametrize(
    ("zoned", "fast"),
    [
        (datetime(2026, 5, 1, 12, 0, tzinfo=UTC), True),
        (datetime(2026, 5, 1, 12, 0), True),  # naive: written as it is, as before
        (datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-7))), False),
        ("a note that quotes 2026-05-01T19:00:00+02:00", False),  # looks like one
    ],
    ids=["utc", "naive", "offset", "offset-in-text"],
)
def test_the_one_pass_encoding_writes_what_present_did(
    zoned: Any, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the unit of work encodes a route's result in one pydantic pass; the JSON must be
    # the one present() + pydantic gave: times in UTC with Z (whatever zone they came
    # in), NaN and infinities as null, NumPy values and paths as plain values
    from plumetrace.api import deps

    def doc() -> dict[str, Any]:
        return {**_presented_doc(), "zoned": zoned}

    expected = pydantic_core.to_json(deps._plain(doc()))
    walked: list[object] = []
    plain = deps._plain

    def counted(obj: Any) -> Any:
        walked.append(obj)
        return plain(obj)

    monkeypatch.setattr(deps, "_plain", counted)
    router = APIRouter(route_class=SessionRoute)

    @router.get("/doc", **allow(PUBLIC))
    def route() -> dict[str, Any]:
        return deps.present(doc())

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        r = client.get("/doc")
    assert r.status_code == 200
    assert r.content == expected
    assert (not walked) is fast  # the slow walk only for a time with a zone offset
    assert json.loads(r.content) == to_jsonable(doc()) == deps.present(doc())
    assert r.json()["t"] == "2026-05-01T17:00:00.250000Z" and r.json()["nan"] is None


def test_a_presented_mapping_that_is_not_a_dict_is_still_converted() -> None:
    # a row mapping (or any Mapping but a dict) is not encoded by the unit of work:
    # present() converts it itself, as before
    from types import MappingProxyType

    from plumetrace.api import deps

    router = APIRouter(route_class=SessionRoute)

    @router.get("/row", **allow(PUBLIC))
    def route() -> dict[str, Any]:
        return deps.present(MappingProxyType(_presented_doc()))

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        r = client.get("/row")
    assert r.status_code == 200
    assert r.json() == to_jsonable(_presented_doc())
    assert r.json()["t"] == "2026-05-01T17:00:00.250000Z"
