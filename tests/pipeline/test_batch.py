"""The ``process`` batch: per-scene products, COGs, STAC, retries, skips, ingest, Dask."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from sqlalchemy import Engine, func, select

from plumetrace.pipeline import batch
from plumetrace.pipeline.batch import BatchIngest, BatchOptions, open_client, run_batch
from plumetrace.pipeline.detect import DetectOptions
from plumetrace.pipeline.scenes import resolve_scenes
from plumetrace.pipeline.sim import run_sim_scene
from plumetrace.plumes import PlumeOptions
from plumetrace.sim import SceneSpec
from tests.pipeline import _flaky

WHEN = datetime(2025, 4, 2, 17, tzinfo=UTC)
OPTS = BatchOptions(
    detect=DetectOptions(method="mf", group_cols=4, threads=1, quicklook=False),
    plumes=PlumeOptions(wind_speed_m_s=3.0, wind_dir_deg=270.0),
)


@pytest.fixture(scope="module")
def scene_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    for i, name in enumerate(("north", "south")):
        spec = SceneSpec(
            rows=96,
            cols=64,
            sources=1,
            seed=10 + i,
            rate_min_kg_h=800.0,
            rate_max_kg_h=900.0,
            origin_lat=31.7 + 0.05 * i,
            origin_lon=-106.4,
        )
        run_sim_scene(root / name, spec)
    return root


def _scenes(root: Path, pattern: str = "*/radiance.hdr") -> list:  # type: ignore[type-arg]
    return resolve_scenes([str(root / pattern)], time=WHEN)


def test_local_batch_products_catalog_and_rerun(scene_root: Path, tmp_path: Path) -> None:
    seen: list[batch.BatchProgress] = []
    r = run_batch(_scenes(scene_root), tmp_path, OPTS, progress=seen.append)
    assert [o.status for o in r.outcomes] == ["done", "done"] and not r.failed
    assert [p.finished for p in seen] == [1, 2] and seen[-1].mb_per_s > 0
    for name in ("north_radiance", "south_radiance"):
        d = tmp_path / name
        marker = json.loads((d / "process.json").read_text())
        assert marker["plumes"] >= 1 and marker["time"] == WHEN.isoformat()
        with rasterio.open(d / "enhancement.tif") as src:
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert json.loads((d / "plumes.geojson").read_text())["features"]
    cat = pystac.Catalog.from_file(str(r.catalog))
    assert len(list(cat.get_items(recursive=True))) == 6
    before = (tmp_path / "north_radiance" / "enhancement.tif").stat().st_mtime_ns
    again = run_batch(_scenes(scene_root), tmp_path, OPTS)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert (tmp_path / "north_radiance" / "enhancement.tif").stat().st_mtime_ns == before
    # other options: not the same products, so done again
    other = BatchOptions(detect=OPTS.detect, plumes=PlumeOptions(wind_speed_m_s=5.0))
    assert [o.status for o in run_batch(_scenes(scene_root), tmp_path, other).outcomes] == [
        "done",
        "done",
    ]


def test_one_scene_writes_into_out(scene_root: Path, tmp_path: Path) -> None:
    one = BatchOptions(detect=OPTS.detect, plumes=OPTS.plumes, per_scene_dirs=False)
    r = run_batch(_scenes(scene_root, "north/radiance.hdr"), tmp_path, one)
    assert r.outcomes[0].status == "done"
    assert (tmp_path / "plumes.geojson").is_file() and (tmp_path / "process.json").is_file()
    assert (tmp_path / "stac" / "radiance-plumes.json").is_file()


def test_transient_failure_is_retried(
    scene_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for f in scene_root.glob("*/radiance.failed-once"):
        f.unlink()
    monkeypatch.setattr(batch, "retrieve_block", _flaky.fail_once)
    r = run_batch(_scenes(scene_root), tmp_path, OPTS)
    assert [o.status for o in r.outcomes] == ["done", "done"]
    for f in scene_root.glob("*/radiance.failed-once"):
        f.unlink()
    no_retry = BatchOptions(detect=OPTS.detect, plumes=OPTS.plumes, retries=0)
    r = run_batch(_scenes(scene_root), tmp_path / "again", no_retry)
    assert [o.status for o in r.outcomes] == ["failed", "failed"]
    assert "transient" in (r.outcomes[0].error or "")
    for f in scene_root.glob("*/radiance.failed-once"):
        f.unlink()


def test_a_broken_scene_is_reported_and_the_rest_go_on(scene_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "in" / "bad"
    bad.mkdir(parents=True)
    (bad / "radiance.hdr").write_text((scene_root / "north" / "radiance.hdr").read_text())
    (bad / "radiance").write_bytes((scene_root / "north" / "radiance").read_bytes()[:1000])
    scenes = resolve_scenes([str(bad / "radiance.hdr"), str(scene_root / "north" / "radiance.hdr")])
    r = run_batch(scenes, tmp_path / "out", OPTS)
    by = {o.scene.name: o for o in r.outcomes}
    assert by["bad_radiance"].status == "failed" and "truncated" in (by["bad_radiance"].error or "")
    assert by["north_radiance"].status == "done"
    assert r.to_dict()["failed"] == 1
    cat = pystac.Catalog.from_file(str(r.catalog))
    assert {i.id.split("-")[0] for i in cat.get_items(recursive=True)} == {"north_radiance"}


def test_finished_scenes_are_ingested_once(
    scene_root: Path, tmp_path: Path, engine: Engine
) -> None:
    from plumetrace.store.models import Detection, Flight

    target = BatchIngest(
        engine, tmp_path / "evidence", "analyst", "partner-program", "ac-1", "aviris-ng"
    )
    scenes = _scenes(scene_root)
    r = run_batch(scenes, tmp_path / "out", OPTS, ingest=target)
    assert all(o.ingested for o in r.outcomes)
    plumes = sum(o.plumes for o in r.outcomes)
    with engine.connect() as c:
        flights = set(c.execute(select(Flight.id)).scalars())
        n = c.execute(select(func.count()).select_from(Detection)).scalar_one()
    assert {"north_radiance", "south_radiance"} <= flights and n == plumes
    again = run_batch(scenes, tmp_path / "out", OPTS, ingest=target)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Detection)).scalar_one() == n
    # a scene without an acquisition time is processed, noted, not ingested
    (untimed,) = resolve_scenes([str(scene_root / "north" / "radiance.hdr")])
    r = run_batch([untimed], tmp_path / "untimed", OPTS, ingest=target)
    assert r.outcomes[0].status == "done" and not r.outcomes[0].ingested
    assert "no acquisition time" in (r.outcomes[0].ingest_note or "")


def test_dask_blocks_match_the_plain_loop(scene_root: Path, tmp_path: Path) -> None:
    """Column blocks as tasks on two workers give the plain loop's numbers exactly."""
    small = BatchOptions(
        detect=DetectOptions(
            method="mf", group_cols=4, threads=1, quicklook=False, block_bytes=96 * 16 * 72 * 4
        ),
        plumes=OPTS.plumes,
    )
    local = run_batch(_scenes(scene_root), tmp_path / "local", OPTS)
    with open_client("dask", workers=2) as client:
        r = run_batch(_scenes(scene_root), tmp_path / "dask", small, client=client)
    assert r.executor == "dask" and r.workers == 2 and not r.failed
    det = json.loads((tmp_path / "dask" / "north_radiance" / "detect.json").read_text())
    assert det["blocks"] > 1  # several column-block tasks per scene
    for o in local.outcomes:
        a = rasterio.open(tmp_path / "local" / o.scene.name / "enhancement.tif").read(1)
        b = rasterio.open(tmp_path / "dask" / o.scene.name / "enhancement.tif").read(1)
        np.testing.assert_array_equal(a, b)


def test_local_workers_keep_glibc_adaptive_mmap() -> None:
    """Workers start without MALLOC_TRIM_THRESHOLD_ (it made large arrays page-fault)."""
    import os

    with open_client("dask", workers=1) as client:
        env = client.run(lambda: dict(os.environ))
    (worker_env,) = env.values()
    assert "MALLOC_TRIM_THRESHOLD_" not in worker_env
    assert worker_env.get("OPENBLAS_NUM_THREADS") == "1"  # one BLAS thread per worker


def test_a_damaged_marker_is_redone_and_left_out_of_the_catalog(
    scene_root: Path, tmp_path: Path
) -> None:
    run_batch(_scenes(scene_root), tmp_path, OPTS)
    (tmp_path / "north_radiance" / "process.json").write_text("{not json")
    r = run_batch(_scenes(scene_root), tmp_path, OPTS)
    by = {o.scene.name: o.status for o in r.outcomes}
    assert by == {"north_radiance": "done", "south_radiance": "skipped"}  # north is redone
    (tmp_path / "south_radiance" / "process.json").write_text("[]")
    assert batch.write_catalog(tmp_path, OPTS).is_file()
    cat = pystac.Catalog.from_file(str(tmp_path / "catalog.json"))
    assert {i.id.split("-")[0] for i in cat.get_items(recursive=True)} == {"north_radiance"}
