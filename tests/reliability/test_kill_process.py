"""``plumetrace process`` killed at random points, then re-run: the same files as a clean run.

Compared: every file of the output directory, byte for byte, except ``detect.json``,
``plumes.json``, ``process.json`` and the STAC items, whose run timings and time stamps
(``seconds``, ``seconds_compute``, ``processed``, ``created``, ``datetime``) are left out
of their parsed content, and ``batch.json``, the report of the last run; no other file or
field is excluded. Leftover temporary files of the killed run would show up as extra
files.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability._harness import (
    diff_report,
    json_without,
    run_killed,
    run_ok,
    tree_snapshot,
)

TIMINGS = frozenset({"seconds", "seconds_compute"})
# when the products were made (the simulated scene has no acquisition time, so its STAC
# items carry the processing time as their datetime)
STAMPS = TIMINGS | {"processed", "created", "datetime"}
NORMALISE = {
    "detect.json": json_without(TIMINGS),
    "plumes.json": json_without(TIMINGS),
    "process.json": json_without(STAMPS),
    **{f"radiance-{k}.json": json_without(STAMPS) for k in ("radiance", "retrieval", "plumes")},
}
SKIP_RUN_REPORT = "batch.json"  # what the last run did (a re-run skips what was done)
ARGS = [
    "process",
    "scene/radiance.hdr",
    "--out",
    "out",
    "--group-cols",
    "4",
    "--wind-speed",
    "3",
    "--wind-dir",
    "270",
]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scene")
    run_ok(["sim", "scene", "scene", "--rows", "64", "--cols", "64", "--sources", "1"], root)
    return root / "scene"


def _workdir(base: Path, name: str, scene: Path) -> Path:
    d = base / name
    d.mkdir()
    (d / "scene").symlink_to(scene, target_is_directory=True)
    return d


def _kill_and_finish(
    tmp_path: Path, scene: Path, kills: int, seed: int, per_trial: int, figures: list[str]
) -> None:
    ref = _workdir(tmp_path, "ref", scene)
    duration = run_ok(ARGS, ref)
    expected = tree_snapshot(ref / "out", NORMALISE, lambda rel: rel == SKIP_RUN_REPORT)
    assert "plumes.geojson" in expected and "enhancement.tif" in expected
    rng = random.Random(seed)
    landed = 0
    for k in range(kills):
        work = _workdir(tmp_path, f"trial{k}", scene)
        for _ in range(per_trial):  # kill, (kill the re-run again), then finish
            landed += not run_killed(ARGS, work, rng.uniform(0.2, duration)).finished_first
        run_ok(ARGS, work)
        got = tree_snapshot(work / "out", NORMALISE, lambda rel: rel == SKIP_RUN_REPORT)
        assert got == expected, f"trial {k}:\n{diff_report(expected, got)}"
    figures.append(
        f"process: {landed} kills landed ({kills * per_trial} tried, clean run {duration:.1f} s), "
        f"{kills} re-runs identical"
    )


def test_process_killed_then_rerun_matches(tmp_path: Path, scene: Path, figures: list[str]) -> None:
    _kill_and_finish(tmp_path, scene, kills=5, seed=1, per_trial=1, figures=figures)


@pytest.mark.slow
def test_process_killed_many_times(tmp_path: Path, scene: Path, figures: list[str]) -> None:
    _kill_and_finish(tmp_path, scene, kills=20, seed=2, per_trial=2, figures=figures)
