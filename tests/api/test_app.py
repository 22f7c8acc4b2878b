from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from plumetrace.api import create_app
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
from plumetrace.settings import Settings

from .conftest import TestClient  # starlette's, imported without its httpx warning

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
