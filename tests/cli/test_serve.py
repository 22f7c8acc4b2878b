"""``plumetrace serve``: one worker in-process; several workers against one PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from plumetrace import security
from plumetrace.cli.app import main
from plumetrace.cli.serve import APP_FACTORY
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import upgrade
from plumetrace.store.users import add_user, issue_token
from tests.api.conftest import seed_sites
from tests.conftest import _pg_schema_url


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[Any, dict[str, Any]]]:
    """Capture ``uvicorn.run`` instead of serving (embedded SQLite under a fresh home)."""
    import uvicorn

    monkeypatch.setenv("PLUMETRACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLUMETRACE_DATABASE_URL", raising=False)
    seen: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append((app, kw)))
    return seen


def test_one_worker_serves_the_app_built_here(calls: list[tuple[Any, dict[str, Any]]]) -> None:
    from fastapi import FastAPI

    assert main(["serve", "--port", "8123"]) == 0
    ((app, kw),) = calls
    assert isinstance(app, FastAPI)
    assert kw["port"] == 8123 and kw["access_log"] is True and "workers" not in kw
    assert kw["proxy_headers"] is True and kw["forwarded_allow_ips"] == "127.0.0.1"


def test_workers_build_the_app_from_the_environment(
    calls: list[tuple[Any, dict[str, Any]]],
) -> None:
    assert (
        main(["serve", "--workers", "3", "--no-access-log", "--forwarded-allow-ips", "10.0.0.2"])
        == 0
    )
    ((app, kw),) = calls
    assert app == APP_FACTORY == "plumetrace.api:create_app"
    assert kw["factory"] is True and kw["workers"] == 3 and kw["access_log"] is False
    assert kw["forwarded_allow_ips"] == "10.0.0.2"


def test_a_bad_pool_setting_is_one_line(
    calls: list[tuple[Any, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PLUMETRACE_DB_POOL_SIZE", "0")
    assert main(["serve"]) == 2
    assert "PLUMETRACE_DB_POOL_SIZE" in capsys.readouterr().err
    assert calls == []


# ------------------------------------------------------------------ two real workers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_schema_url()


def _workers(pid: int) -> list[psutil.Process]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    kids = psutil.Process(pid).children()
    return [k for k in kids if "spawn_main" in " ".join(k.cmdline())]


def _clients_of(proc: psutil.Process, port: int) -> int:
    """Established connections of a worker on the API port (clients it serves)."""
    conns = proc.net_connections(kind="tcp")
    return sum(1 for c in conns if c.status == "ESTABLISHED" and c.laddr.port == port)


def test_two_workers_serve_one_database(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))
    engine = make_engine(pg_url)
    upgrade(engine)
    (site, _other) = seed_sites(engine)
    tokens = {}
    with session_scope(engine, write=True) as s:
        for name in ("ana", "bob"):
            user, _pw = add_user(s, name, "analyst", actor="test")
            user.must_change_password = False
            tokens[name], _ = issue_token(s, user, timedelta(hours=1))
    port = _free_port()
    env = {**os.environ, "PLUMETRACE_DATABASE_URL": pg_url, "PLUMETRACE_HOME": str(tmp_path)}
    env["PLUMETRACE_DB_POOL_SIZE"] = "2"
    cmd = [sys.executable, "-m", "plumetrace", "serve", "--port", str(port), "--workers", "2"]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    auth = {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}
    clients: list[httpx.Client] = []
    try:
        workers: list[psutil.Process] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, log_path.read_text()
            workers = _workers(server.pid)
            try:
                ok = httpx.get(f"{base}/api/sites/queue", headers=auth["ana"]).status_code
            except httpx.TransportError:
                ok = 0
            pg = [
                w for w in workers
                if any(c.raddr and c.raddr.port == 5432 for c in w.net_connections(kind="tcp"))
            ]  # fmt: skip
            if ok == 200 and len(workers) == 2 and len(pg) == 2:
                break  # both started: each checked the schema and the audit log
            time.sleep(0.3)
        else:
            pytest.fail(
                f"two workers did not come up with their database connections:\n"
                f"{log_path.read_text()}"
            )
        # keep-alive clients until each worker holds some (the kernel spreads accepts)
        for _ in range(64):
            c = httpx.Client(base_url=base, headers=auth["ana"])
            assert c.get("/api/sites/queue").status_code == 200
            clients.append(c)
            if len(clients) >= 4 and all(_clients_of(w, port) for w in workers):
                break
        assert all(_clients_of(w, port) for w in workers), "one worker served everything"
        # two analysts decide on the version they both read: one wins, one gets 409
        version = clients[0].get(f"/api/sites/{site}").json()["version"]
        codes = []
        for c, name in ((clients[0], "ana"), (clients[-1], "bob")):
            body = {"decision": "confirm", "version": version}
            r = c.post(f"/api/sites/{site}/reviews", json=body, headers=auth[name])
            codes.append(r.status_code)
        assert codes == [200, 409]
        assert clients[-1].get(f"/api/sites/{site}").json()["status"] == "confirmed"
    finally:
        for c in clients:
            c.close()
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        engine.dispose()
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM reviews")).scalar()
    engine.dispose()
    assert n == 1
