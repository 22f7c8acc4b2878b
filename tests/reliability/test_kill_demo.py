"""``plumetrace demo --no-serve`` killed at random points, then re-run: the same outputs.

One kill in the default set; three with ``-m slow`` (a clean run takes about a minute).

Two clean runs of the demo already differ in what the run's clock and random generators
write, so the comparison leaves out exactly these, and nothing else:

- files: ``detect.json``, ``plumes.json``, ``locate.json`` and ``result.json`` without
  their timing keys (``seconds``, ``seconds_compute``); ``track.csv`` without its
  ``update_ms`` and ``plan_ms`` columns (planner timings); in ``share/`` (the lead's
  partner exports) and in the database, wall-clock timestamps (at or after the test
  started; the simulated 2025 data times are compared), the lead's random identifier
  and the STIX identifiers derived from it are masked;
- database: ``users.password_hash`` (random one-time passwords, salted hashes) and the
  audit chain's ``hash`` / ``prev_hash`` (they hash the times; the chain is verified with
  ``plumetrace audit-log verify`` instead); identifiers the workflow draws at random
  (``attr-``, ``creq-``, ``des-``, ``lev-``, ``lead-``, ``rev-``) are masked.

Every other file byte and every other column of every table is compared.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reliability._harness import (
    audit_chain_ok,
    csv_without,
    db_snapshot,
    diff_report,
    json_without,
    mask_wall_clock,
    run_killed,
    run_ok,
    tree_snapshot,
)

ARGS = ["demo", "--no-serve", "--rows", "200", "--cols", "64", "--out", "out"]
TIMINGS = frozenset({"seconds", "seconds_compute"})
_RANDOM_ID = re.compile(r"\b(attr|creq|des|lev|lead|rev)-[0-9a-f]{12,16}\b")
# the sniffer's locate.json records its run time ("seconds"); the demo ingests it, so the
# detection's properties carry that timing and the audit log the file's digest
_TIMING = re.compile(r'"seconds(_compute)?": [0-9.eE+-]+')
_TIMED_DIGEST = re.compile(r"(locate\.json sha256:)[0-9a-f]{64}")
_UUID = re.compile(r"--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EXCLUDE = {
    "users": frozenset({"password_hash"}),
    "audit_events": frozenset({"hash", "prev_hash"}),
}


def _masker(since: datetime) -> Callable[[str], str]:
    clock = mask_wall_clock(since)

    def mask(text: str) -> str:
        text = _TIMED_DIGEST.sub(r"\1<digest>", _TIMING.sub(r'"seconds\1": "<timing>"', text))
        return _UUID.sub("--<uuid>", _RANDOM_ID.sub(r"\1-<random>", clock(text)))

    return mask


def _normalisers(mask: Callable[[str], str]) -> dict[str, Callable[[bytes], Any]]:
    out: dict[str, Callable[[bytes], Any]] = {
        name: json_without(TIMINGS)
        for name in ("detect.json", "plumes.json", "locate.json", "result.json")
    }
    out["track.csv"] = csv_without(frozenset({"update_ms", "plan_ms"}))
    return out


def _snapshot(work: Path, since: datetime) -> dict[str, Any]:
    mask = _masker(since)
    out = work / "out"
    files = tree_snapshot(
        out, _normalisers(mask), skip=lambda rel: rel.startswith(("home/plumetrace.db", "share/"))
    )
    share = {
        mask(p.name): mask(p.read_text()) for p in sorted((out / "share").iterdir()) if p.is_file()
    }
    db = db_snapshot(out / "home" / "plumetrace.db", EXCLUDE, mask)
    return {"files": files, "share": share, **{f"db:{k}": v for k, v in db.items()}}


def _trials(tmp_path: Path, figures: list[str], kills: int, seed: int) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    ref = tmp_path / "ref"
    ref.mkdir()
    duration = run_ok(ARGS, ref)
    expected = _snapshot(ref, since)
    rng = random.Random(seed)
    landed = 0
    for k in range(kills):
        work = tmp_path / f"trial{k}"
        work.mkdir()
        landed += not run_killed(ARGS, work, rng.uniform(0.1 * duration, duration)).finished_first
        run_ok(ARGS, work)
        got = _snapshot(work, since)
        assert got == expected, f"trial {k}:\n{diff_report(expected, got)}"
        audit_chain_ok(work / "out" / "home")
    figures.append(
        f"demo: {landed} kills landed ({kills} tried, clean run {duration:.0f} s), "
        f"{kills} re-runs identical"
    )


def test_demo_killed_then_rerun_matches(tmp_path: Path, figures: list[str]) -> None:
    """In the default set: one kill (a clean run, a killed one, its re-run: ~2-3 min)."""
    _trials(tmp_path, figures, kills=1, seed=11)


@pytest.mark.slow
def test_demo_killed_repeatedly_then_rerun_matches(tmp_path: Path, figures: list[str]) -> None:
    """Three kills at seeded random points."""
    _trials(tmp_path, figures, kills=3, seed=5)
