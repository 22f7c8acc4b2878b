"""benchmarks/bench_audit_append.py, small: concurrent notes land and the chain verifies."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.test_bench_load import _postgres_or_skip, run_bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_audit_append.py"


def test_the_append_script_runs_small(tmp_path: Path) -> None:
    _postgres_or_skip()
    out = tmp_path / "append.json"
    run_bench(SCRIPT, ["--threads", "3", "--notes", "8", "--rounds", "2", "--out", str(out)])
    doc = json.loads(out.read_text())
    assert doc["audit_verifies"] is True and len(doc["rounds"]) == 2
    for r in doc["rounds"]:
        assert r["notes_per_s"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"]
