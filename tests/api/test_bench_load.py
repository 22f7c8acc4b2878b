"""benchmarks/bench_load.py, small: seeds, serves with two workers, loads, checks the store.

The same script as the recorded 1 M-detection run, at a size CI affords: 3,000
detections, 300 sites, 6 analysts, at most 250 requests. What must hold at any size:
no error, no lost update, every 2xx review stored, the audit log verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_load.py"


def _postgres_or_skip() -> None:
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        if os.environ.get("PLUMETRACE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {PG_URL} is required and unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable")
    finally:
        engine.dispose()


def scratch(prefix: str) -> tuple[str, int]:
    """Return a fresh database name and a free-ish port for a benchmark run (or skip)."""
    _postgres_or_skip()
    return f"{prefix}_t{uuid.uuid4().hex[:8]}", 20000 + uuid.uuid4().int % 20000


def run_bench(script: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a benchmark script against the test PostgreSQL; fail with its output."""
    env = {**os.environ, "PLUMETRACE_TEST_POSTGRES_URL": PG_URL}
    done = subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_load_script_runs_small(tmp_path: Path) -> None:
    db, port = scratch("plumetrace_load")
    out = tmp_path / "load.json"
    args = [
        "--detections", "3000", "--sites", "300", "--analysts", "6", "--requests", "250",
        "--duration", "20", "--think-ms", "20", "--workers", "2", "--pool-size", "3",
        "--port", str(port), "--database", db, "--drop", "--out", str(out),
    ]  # fmt: skip
    done = run_bench(SCRIPT, args)
    doc = json.loads(out.read_text())
    (run,) = doc["runs"]
    assert run["workers"] == 2 and run["analysts"] == 6
    assert 0 < run["requests"] <= 250
    assert run["errors"] == 0, run["error_samples"]
    assert run["lost_updates"] == 0 and run["consistent"], run["problems"]
    assert run["audit_ok"] and run["audit_events"] >= 1 + run["accepted_reviews"]
    assert run["accepted_reviews"] + run["accepted_notes"] > 0
    assert {"queue", "site"} <= set(run["by_kind"])
    assert run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"]
    assert doc["database"]["detections"] == 3000 and doc["database"]["sites"] == 300
    engine = sa.create_engine(PG_URL)
    with engine.connect() as conn:  # --drop removed the database
        names = conn.execute(sa.text("SELECT datname FROM pg_database")).scalars().all()
    engine.dispose()
    assert db not in names
    assert "workers" in done.stdout and "results:" in done.stdout
