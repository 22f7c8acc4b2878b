"""``plumetrace ingest campaign`` killed at random points, then re-run: the same store.

The store of a killed-then-finished ingest must equal the store of one clean ingest:
every table's rows, with only these columns left out, all of them wall-clock times of
when the row was written (not data), or derived from them:

- ``sites.created``, ``sites.updated``, ``evidence_links.time``: written with the
  ingest's clock;
- ``audit_events.time`` and the chain's ``hash`` / ``prev_hash`` (they hash the time);
  the re-run's chain is instead checked with ``plumetrace audit-log verify``.

Every other column of every table is compared, and the files under ``PLUMETRACE_HOME``
besides the database (none expected: leftovers of the killed run would show).
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from tests.reliability._harness import (
    audit_chain_ok,
    db_snapshot,
    diff_report,
    run_killed,
    run_ok,
    tree_snapshot,
)

EXCLUDE = {
    "sites": frozenset({"created", "updated"}),
    "evidence_links": frozenset({"time"}),
    "audit_events": frozenset({"time", "hash", "prev_hash"}),
}
ARGS = ["ingest", "campaign", "camp"]


def _is_db(rel: str) -> bool:
    return rel.startswith("plumetrace.db")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("campaign")
    run_ok(
        ["sim", "campaign", "camp", "--sources", "40", "--passes", "30", "--reports", "30"],
        root,
    )
    return root / "camp"


def _workdir(base: Path, name: str, campaign: Path) -> Path:
    d = base / name
    d.mkdir()
    (d / "camp").symlink_to(campaign, target_is_directory=True)
    return d


def _events(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1  # the schema was not there yet (the first migration was killed)


def _kill_and_finish(
    tmp_path: Path, campaign: Path, kills: int, seed: int, per_trial: int, figures: list[str]
) -> None:
    ref = _workdir(tmp_path, "ref", campaign)
    duration = run_ok(ARGS, ref, home=ref / "home")
    expected_db = db_snapshot(ref / "home" / "plumetrace.db", EXCLUDE)
    expected_files = tree_snapshot(ref / "home", skip=_is_db)
    total = len(expected_db["audit_events"])
    assert total > 20 and len(expected_db["sites"]) > 10
    rng = random.Random(seed)
    progress = []
    for k in range(kills):
        work = _workdir(tmp_path, f"trial{k}", campaign)
        home = work / "home"
        for _ in range(per_trial):
            # about half the clean run is start-up: every other kill aims at the ingest
            lo = 0.55 if k % 2 else 0.3
            kill = run_killed(ARGS, work, rng.uniform(lo * duration, duration), home=home)
            if not kill.finished_first:
                progress.append(_events(home / "plumetrace.db"))
        run_ok(ARGS, work, home=home)
        got_db = db_snapshot(home / "plumetrace.db", EXCLUDE)
        assert got_db == expected_db, f"trial {k}:\n{diff_report(expected_db, got_db)}"
        got_files = tree_snapshot(home, skip=_is_db)
        assert got_files == expected_files, diff_report(expected_files, got_files)
        audit_chain_ok(home)
    mid = sum(1 for e in progress if 0 < e < total)
    figures.append(
        f"ingest campaign: {len(progress)} kills landed ({kills * per_trial} tried, clean run "
        f"{duration:.1f} s, {total} audit events), {mid} of them mid-ingest "
        f"(events at the kill: {sorted(progress)}), {kills} re-runs identical"
    )


def test_ingest_killed_then_rerun_matches(
    tmp_path: Path, campaign: Path, figures: list[str]
) -> None:
    _kill_and_finish(tmp_path, campaign, kills=6, seed=3, per_trial=1, figures=figures)


@pytest.mark.slow
def test_ingest_killed_many_times(tmp_path: Path, campaign: Path, figures: list[str]) -> None:
    _kill_and_finish(tmp_path, campaign, kills=20, seed=4, per_trial=2, figures=figures)
