"""``plumetrace process`` over many scenes: local loop, a local Dask cluster, a scheduler."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plumetrace.cli.app import main
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.sim import SceneSpec

FAST = ["--method", "mf", "--group-cols", "4", "--wind-speed", "3", "--wind-dir", "270"]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("process")
    for i in range(3):
        spec = SceneSpec(
            rows=80,
            cols=48,
            sources=1,
            seed=20 + i,
            rate_min_kg_h=700.0,
            origin_lat=31.70 + 0.03 * i,
            origin_lon=-106.40,
        )
        run_sim_scene(root / f"ang2025040{i + 1}t170000", spec)
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLUMETRACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLUMETRACE_DATABASE_URL", raising=False)
    return tmp_path / "home"


def _batch(out: Path) -> dict[str, object]:
    return json.loads((out / "batch.json").read_text())


def test_glob_local_loop_ingests_and_reruns(
    scenes: Path, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = [
        "process",
        str(scenes / "*" / "*.hdr"),
        "-o",
        str(out),
        "--executor",
        "local",
        "--operator",
        "partner-program",
        "--platform",
        "ac-1",
        "--sensor",
        "aviris-ng",
        *FAST,
    ]
    assert main(args) == 0
    doc = _batch(out)
    assert doc["done"] == 3 and doc["failed"] == 0 and doc["executor"] == "local"
    names = sorted(o["scene"] for o in doc["outcomes"])  # type: ignore[union-attr]
    # same file name in three folders: each scene is named after its folder too
    assert names == [f"ang2025040{i}t170000_radiance" for i in (1, 2, 3)]
    assert all(o["ingested"] for o in doc["outcomes"])  # type: ignore[union-attr]
    assert (out / "catalog.json").is_file()
    printed = capsys.readouterr().out
    assert "3 processed" in printed and "scenes/min" in printed
    assert main(["sites", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)  # the plumes became sites
    assert main(args) == 0
    assert _batch(out)["skipped"] == 3


def test_one_scene_keeps_the_single_layout(
    scenes: Path, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = scenes / "ang20250401t170000" / "radiance.hdr"
    assert main(["process", str(scene), "-o", str(tmp_path), "--executor", "local", *FAST]) == 0
    assert (tmp_path / "plumes.geojson").is_file() and (tmp_path / "enhancement.tif").is_file()
    printed = capsys.readouterr().out
    assert "plume(s)" in printed and "not ingested: give --operator and --platform" in printed


def test_target_weighting_reaches_each_scene(scenes: Path, tmp_path: Path, home: Path) -> None:
    scene = scenes / "ang20250401t170000" / "radiance.hdr"
    args = ["process", str(scene), "-o", str(tmp_path), "--executor", "local", *FAST]
    assert main([*args, "--target-weighting", "absorption"]) == 0
    assert json.loads((tmp_path / "detect.json").read_text())["target_weighting"] == "absorption"


def test_a_failed_scene_exits_1_after_the_others(
    scenes: Path, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "radiance.hdr").write_text((scenes / "ang20250401t170000" / "radiance.hdr").read_text())
    (bad / "radiance").write_bytes(b"\0" * 64)
    rc = main(
        [
            "process",
            str(bad / "radiance.hdr"),
            str(scenes / "ang20250401t170000"),
            "-o",
            str(tmp_path / "out"),
            "--executor",
            "local",
            "--no-ingest",
            *FAST,
        ]
    )
    assert rc == 1
    doc = _batch(tmp_path / "out")
    assert doc["done"] == 1 and doc["failed"] == 1
    assert "truncated" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ingest"], "give --operator and --platform"),
        (["--ingest", "--operator", "o", "--platform", "p"], "no acquisition time"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--executor", "local", "--workers", "2"], "neither"),
        (["--time", "yesterday"], "--time"),
    ],
)
def test_bad_options_one_line(
    scenes: Path,
    tmp_path: Path,
    home: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    untimed = tmp_path / "scene.hdr"
    src = scenes / "ang20250401t170000"
    untimed.write_text((src / "radiance.hdr").read_text())
    (tmp_path / "scene").write_bytes((src / "radiance").read_bytes())
    rc = main(["process", str(untimed), "-o", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unreachable_scheduler_is_one_line(
    scenes: Path, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "process",
            str(scenes / "ang20250401t170000"),
            "-o",
            str(tmp_path),
            "--scheduler",
            f"tcp://127.0.0.1:{_free_port()}",
            "--no-ingest",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "cannot reach the Dask scheduler" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and one worker, started as `dask scheduler` / `dask worker` would be."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker"]
    logs = (tmp_path / "scheduler.log").open("w"), (tmp_path / "worker.log").open("w")
    procs = [
        subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    pytest.fail(
                        f"scheduler did not start: {(tmp_path / 'scheduler.log').read_text()}"
                    )
                time.sleep(0.2)
        procs.append(
            subprocess.Popen(
                [*worker, address, "--nthreads", "1", "--no-dashboard"],
                stdout=logs[1],
                stderr=subprocess.STDOUT,
            )
        )
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in logs:
            f.close()


def test_existing_scheduler(scenes: Path, tmp_path: Path, home: Path, dask_cluster: str) -> None:
    out = tmp_path / "out"
    rc = main(
        [
            "process",
            str(scenes / "*" / "*.hdr"),
            "-o",
            str(out),
            "--scheduler",
            dask_cluster,
            "--no-ingest",
            *FAST,
        ]
    )
    assert rc == 0
    doc = _batch(out)
    assert doc["executor"] == "dask" and doc["workers"] == 1 and doc["done"] == 3
    assert all((out / o["scene"] / "plumes.geojson").is_file() for o in doc["outcomes"])  # type: ignore[union-attr]
