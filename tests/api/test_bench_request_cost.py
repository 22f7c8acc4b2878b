"""benchmarks/bench_request_cost.py, small: every kind of request measured, none failing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.test_bench_load import run_bench, scratch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_request_cost.py"


def test_the_cost_script_runs_small(tmp_path: Path) -> None:
    db, port = scratch("plumetrace_cost")
    out = tmp_path / "cost.json"
    args = [
        "--seed", "--detections", "2000", "--sites", "200", "--requests", "10", "--rounds", "2",
        "--database", db, "--drop", "--port", str(port), "--out", str(out),
    ]  # fmt: skip
    run_bench(SCRIPT, args)
    doc = json.loads(out.read_text())
    assert set(doc["per_request"]) == {"me", "queue", "site", "note"}
    for cost in doc["per_request"].values():
        assert 0 < cost["cpu_ms"] < 1000 and cost["wall_ms"] > 0
