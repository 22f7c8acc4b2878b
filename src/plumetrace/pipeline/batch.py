"""The ``process`` batch: many scenes, detect + plumes each, on Dask or in a plain loop.

Per scene the client plans the retrieval (bands, target, column blocks; the file's
header only), then submits one task per column block (:func:`retrieve_block`) and one
task that assembles the blocks, writes the Cloud-Optimized GeoTIFFs and finds the plumes
(:func:`finish_scene`). Workers need the radiance files and the output directory at the
same paths as the client (one machine, or a shared file system); they never touch the
database. As each scene finishes, the client records it (``process.json`` in the
scene's folder), ingests its footprint and plumes into the store (idempotent, one
transaction per file) and moves on; a failed task is retried, then the scene is
reported as failed and the rest go on. A scene whose ``process.json`` matches the
input file and the options is skipped on a re-run (and only ingested if it was not).
At the end ``catalog.json`` (STAC) describes every finished scene in the directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from plumetrace.errors import PlumetraceError, UnavailableError
from plumetrace.io.geojson import read_geojson
from plumetrace.io.stac import CatalogScene, write_products_catalog
from plumetrace.io.tables import read_json, write_json
from plumetrace.pipeline.detect import (
    BlockResult,
    DetectOptions,
    ScenePlan,
    plan_scene,
    retrieve_block,
    write_detect_products,
)
from plumetrace.pipeline.plumes import PlumesInputs, run_plumes
from plumetrace.pipeline.scenes import SceneInput
from plumetrace.plumes import PlumeOptions
from plumetrace.spectra import GasTarget

__all__ = [
    "MARKER",
    "BatchIngest",
    "BatchOptions",
    "BatchProgress",
    "BatchResult",
    "SceneOutcome",
    "finish_scene",
    "open_client",
    "run_batch",
]

log = logging.getLogger(__name__)

MARKER = "process.json"
"""The file a finished scene's folder holds: what was done, with which options."""

Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs.

    Attributes
    ----------
    detect, plumes : DetectOptions, PlumeOptions
        The same for every scene.
    retries : int
        Extra attempts of a failed task (a scene's block or its finishing step).
    per_scene_dirs : bool
        Each scene's outputs in ``OUT/<scene name>`` (always with more than one scene);
        False writes a single scene's outputs into ``OUT`` itself.
    catalog : bool
        Write ``OUT/catalog.json`` (STAC) at the end.
    """

    detect: DetectOptions = field(default_factory=DetectOptions)
    plumes: PlumeOptions = field(default_factory=PlumeOptions)
    retries: int = 1
    per_scene_dirs: bool = True
    catalog: bool = True

    def digest(self) -> str:
        """Return a short fingerprint of the options that change the products."""
        text = json.dumps(
            {"detect": _plain(self.detect), "plumes": _plain(self.plumes)}, sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(obj: Any) -> Any:
    d = asdict(obj)
    d.pop("threads", None)  # threads change the numbers by float rounding at most
    d.pop("block_bytes", None)  # nor does the block size (blocks are independent)
    return json.loads(json.dumps(d, default=str))


@dataclass(frozen=True)
class BatchIngest:
    """Where and how finished scenes are ingested (each scene = one pass).

    Attributes
    ----------
    engine : sqlalchemy.Engine
    evidence_dir : Path
        Plume overlays for the map are stored here.
    actor : str
        Who the audit log names.
    operator, platform, sensor : str or None
        Recorded on each new flight.
    """

    engine: Any
    evidence_dir: Path
    actor: str
    operator: str | None = None
    platform: str | None = None
    sensor: str | None = None


@dataclass
class SceneOutcome:
    """What happened to one scene."""

    scene: SceneInput
    out_dir: Path
    status: Status
    error: str | None = None
    plumes: int = 0
    cube_bytes: int = 0
    seconds: float = 0.0
    ingested: bool = False
    ingest_note: str | None = None


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch is: scenes finished (done, skipped or failed) of the total."""

    total: int
    finished: int
    failed: int
    plumes: int
    cube_bytes: int
    elapsed_s: float

    @property
    def scenes_per_min(self) -> float:
        """Scenes finished per minute so far."""
        return 60.0 * self.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        """Radiance (whole cubes as stored) processed per second, MB/s."""
        return self.cube_bytes / 1e6 / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class BatchResult:
    """The outcome of a batch."""

    outcomes: list[SceneOutcome]
    seconds: float
    executor: str
    workers: int
    catalog: Path | None = None

    @property
    def failed(self) -> list[SceneOutcome]:
        """The scenes that failed."""
        return [o for o in self.outcomes if o.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary (``batch.json``)."""
        return {
            "executor": self.executor,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "scenes": len(self.outcomes),
            "done": sum(o.status == "done" for o in self.outcomes),
            "skipped": sum(o.status == "skipped" for o in self.outcomes),
            "failed": len(self.failed),
            "plumes": sum(o.plumes for o in self.outcomes),
            "catalog": None if self.catalog is None else str(self.catalog),
            "outcomes": [
                {
                    "scene": o.scene.name,
                    "input": str(o.scene.path),
                    "out": str(o.out_dir),
                    "status": o.status,
                    "error": o.error,
                    "plumes": o.plumes,
                    "seconds": round(o.seconds, 3),
                    "ingested": o.ingested,
                    "ingest_note": o.ingest_note,
                }
                for o in self.outcomes
            ],
        }


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class FinishedScene:
    """What :func:`finish_scene` returns to the client (small: summaries only)."""

    detect: dict[str, Any]
    plumes: dict[str, Any]
    seconds: float


def finish_scene(
    plan: ScenePlan,
    out_dir: str,
    detect_options: DetectOptions,
    plume_options: PlumeOptions,
    *blocks: BlockResult,
) -> FinishedScene:
    """Assemble a scene's blocks, write the retrieval products, then find its plumes.

    Runs on a worker; its inputs are the plan and the block results (moved to it by the
    scheduler), its outputs files in ``out_dir`` and small summaries.
    """
    t0 = time.perf_counter()
    work = sum(b.seconds_compute for b in blocks)
    det = write_detect_products(plan, blocks, out_dir, detect_options, seconds_before=work)
    plumes = run_plumes(PlumesInputs(Path(out_dir) / "enhancement.tif"), out_dir, plume_options)
    return FinishedScene(det.to_dict(), plumes.to_dict(), work + time.perf_counter() - t0)


def _run_scene_here(plan: ScenePlan, out_dir: str, opts: BatchOptions) -> FinishedScene:
    blocks = [retrieve_block(plan, c0, c1, opts.detect) for c0, c1 in plan.blocks]
    return finish_scene(plan, out_dir, opts.detect, opts.plumes, *blocks)


# --------------------------------------------------------------------------- client


@contextlib.contextmanager
def open_client(
    executor: Literal["dask", "local"], *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Any]:
    """Yield a Dask client (an existing scheduler, or a local cluster), or None for ``local``.

    A local cluster has ``workers`` single-threaded worker processes (default: one per
    core); Dask's nanny starts them with one BLAS thread each.
    """
    if executor == "local":
        yield None
        return
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="5s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise UnavailableError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}"
            ) from exc
        with client:
            yield client
        return
    import os

    import dask

    n = workers or os.cpu_count() or 1
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also turns
    # off glibc's adaptive mmap threshold: every large numpy array is then mmapped and
    # unmapped afresh, page-faulting its pages on each use (a scene's retrieval ran ~40 %
    # slower on a worker than in a plain process). BLAS stays at one thread per worker.
    unset_trim = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with (
        dask.config.set(unset_trim),
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def _identity(path: Path) -> dict[str, Any]:
    from plumetrace.io.envi_files import find_envi_pair

    files = [path]
    if path.suffix.lower() not in (".nc", ".nc4"):
        files = list(find_envi_pair(path))
    stats = [f.stat() for f in files]
    return {
        "input": str(path.resolve()),
        "bytes": sum(s.st_size for s in stats),
        "mtime_ns": max(s.st_mtime_ns for s in stats),
    }


def _finished_before(out: Path, ident: dict[str, Any], digest: str) -> dict[str, Any] | None:
    marker = out / MARKER
    if not marker.is_file():
        return None
    try:
        doc = read_json(marker)
    except PlumetraceError:
        return None
    if not isinstance(doc, dict):
        return None
    same = doc.get("identity") == ident and doc.get("options") == digest
    return doc if same else None


def _scene_dir(out: Path, scene: SceneInput, opts: BatchOptions) -> Path:
    return out / scene.name if opts.per_scene_dirs else out


def run_batch(
    scenes: Sequence[SceneInput],
    out_dir: str | Path,
    options: BatchOptions,
    *,
    client: Any = None,
    ingest: BatchIngest | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
) -> BatchResult:
    """Process ``scenes`` into ``out_dir``: per scene detect + plumes, then ingest.

    Parameters
    ----------
    scenes : sequence of SceneInput
    out_dir : str or Path
    options : BatchOptions
    client : distributed.Client or None
        Run on this Dask cluster; None runs the scenes one after another here.
    ingest : BatchIngest or None
        Ingest each finished scene with a known acquisition time (footprint, then
        plumes with their overlays); scenes without a time are noted, not ingested.
    progress : callable, optional
        Called after each scene with a :class:`BatchProgress`.

    Returns
    -------
    BatchResult
        Failed scenes are listed there, not raised.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digest = options.digest()
    t0 = time.perf_counter()
    outcomes: list[SceneOutcome] = []
    plumes = failed = nbytes = 0

    def finished(o: SceneOutcome) -> None:
        nonlocal plumes, failed, nbytes
        if o.status != "failed" and ingest is not None and not o.ingested:
            _ingest(o, ingest)
        outcomes.append(o)
        plumes += o.plumes
        nbytes += o.cube_bytes if o.status == "done" else 0
        failed += o.status == "failed"
        if o.status == "failed":
            log.warning("scene %s failed: %s", o.scene.name, o.error)
        if progress is not None:
            progress(
                BatchProgress(
                    len(scenes), len(outcomes), failed, plumes, nbytes, time.perf_counter() - t0
                )
            )

    todo: list[tuple[SceneInput, Path, ScenePlan, dict[str, Any]]] = []
    targets: dict[bytes, GasTarget] = {}
    for scene in scenes:
        sdir = _scene_dir(out, scene, options)
        try:
            ident = _identity(scene.path)
            before = _finished_before(sdir, ident, digest)
            if before is not None:
                o = SceneOutcome(scene, sdir, "skipped", plumes=int(before.get("plumes", 0)))
                o.ingested = bool(before.get("ingested", False))
                finished(o)
                continue
            plan = plan_scene(scene.path, options.detect, target_cache=targets)
        except (PlumetraceError, OSError) as exc:
            finished(SceneOutcome(scene, sdir, "failed", error=_one_line(exc)))
            continue
        todo.append((scene, sdir, plan, ident))

    def record(
        scene: SceneInput, sdir: Path, plan: ScenePlan, ident: dict[str, Any], r: FinishedScene
    ) -> None:
        n = int(r.plumes.get("plumes", 0))
        write_json(
            sdir / MARKER,
            {
                "scene": scene.name,
                "identity": ident,
                "options": digest,
                "time": None if scene.time is None else scene.time.isoformat(),
                "time_source": scene.time_source,
                "stac_item": scene.stac_item,
                "processed": datetime.now(UTC).isoformat(),
                "plumes": n,
                "cube_bytes": plan.cube_bytes,
                "seconds": round(r.seconds, 3),
                "detect": r.detect,
                "plumes_summary": r.plumes,
                "ingested": False,
            },
        )
        finished(
            SceneOutcome(
                scene, sdir, "done", plumes=n, cube_bytes=plan.cube_bytes, seconds=r.seconds
            )
        )

    if client is None:
        for scene, sdir, plan, ident in todo:
            error: str | None = None
            for _attempt in range(options.retries + 1):
                try:
                    r = _run_scene_here(plan, str(sdir), options)
                except Exception as exc:
                    error = _one_line(exc)
                    continue
                record(scene, sdir, plan, ident, r)
                error = None
                break
            if error is not None:
                finished(SceneOutcome(scene, sdir, "failed", error=error))
        workers = 1
    else:
        from distributed import as_completed

        futures: dict[Any, tuple[SceneInput, Path, ScenePlan, dict[str, Any]]] = {}
        for item in todo:
            scene, sdir, plan, _ident = item
            blocks = [
                client.submit(
                    retrieve_block,
                    plan,
                    c0,
                    c1,
                    options.detect,
                    retries=options.retries,
                    pure=False,
                )
                for c0, c1 in plan.blocks
            ]
            fut = client.submit(
                finish_scene,
                plan,
                str(sdir),
                options.detect,
                options.plumes,
                *blocks,
                retries=options.retries,
                pure=False,
            )
            futures[fut] = item
        for fut in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            scene, sdir, plan, ident = futures.pop(fut)
            try:
                r = fut.result()
            except Exception as exc:
                finished(SceneOutcome(scene, sdir, "failed", error=_one_line(exc)))
                continue
            finally:
                fut.release()
            record(scene, sdir, plan, ident, r)
        workers = len(client.scheduler_info().get("workers", {}))

    result = BatchResult(
        outcomes=outcomes,
        seconds=time.perf_counter() - t0,
        executor="local" if client is None else "dask",
        workers=workers,
    )
    if options.catalog:
        result.catalog = write_catalog(out, options)
    return result


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _ingest(o: SceneOutcome, target: BatchIngest) -> None:
    from plumetrace.pipeline.ingest import ingest_coverage_file, ingest_detections_file
    from plumetrace.store.ingest import FlightSpec

    if o.scene.time is None:
        o.ingest_note = "not ingested: no acquisition time (give --time)"
        return
    flight = FlightSpec(o.scene.name, target.operator, target.platform, target.sensor)
    try:
        footprint = o.out_dir / "footprint.geojson"
        if footprint.is_file():
            ingest_coverage_file(
                target.engine,
                footprint,
                time=o.scene.time,
                flight=flight,
                actor=target.actor,
                name=f"{o.scene.name}/footprint.geojson",
            )
        ingest_detections_file(
            target.engine,
            o.out_dir / "plumes.geojson",
            time=o.scene.time,
            flight=flight,
            actor=target.actor,
            name=f"{o.scene.name}/plumes.geojson",
            enhancement=o.out_dir / "enhancement.tif",
            evidence_dir=target.evidence_dir,
        )
    except PlumetraceError as exc:
        o.status, o.error = "failed", f"ingest: {_one_line(exc)}"
        return
    o.ingested = True
    _mark_ingested(o.out_dir)


def _mark_ingested(sdir: Path) -> None:
    doc = read_json(sdir / MARKER)
    if isinstance(doc, dict):
        doc["ingested"] = True
        write_json(sdir / MARKER, doc)


def write_catalog(out: Path, options: BatchOptions) -> Path:
    """(Re)write ``OUT/catalog.json`` from every finished scene's ``process.json``."""
    markers = sorted(out.glob(f"*/{MARKER}")) if options.per_scene_dirs else [out / MARKER]
    scenes: list[CatalogScene] = []
    for marker in markers:
        if not marker.is_file():
            continue
        try:
            doc = read_json(marker)
            identity = doc["identity"]["input"]
        except (PlumetraceError, KeyError, TypeError):
            log.warning("%s: not a readable process.json; left out of the catalog", marker)
            continue
        sdir = marker.parent
        footprint = sdir / "footprint.geojson"
        if not footprint.is_file():
            continue
        features = read_geojson(footprint).get("features") or []
        if not features:
            continue
        det = doc.get("detect") or {}
        pl = doc.get("plumes_summary") or {}
        scenes.append(
            CatalogScene(
                name=str(doc["scene"]),
                radiance=Path(identity),
                out_dir=sdir,
                time=None if doc.get("time") is None else datetime.fromisoformat(doc["time"]),
                processed=datetime.fromisoformat(doc["processed"]),
                geometry=features[0]["geometry"],
                properties={
                    "plumetrace:gas": det.get("gas"),
                    "plumetrace:method": det.get("method"),
                    "plumetrace:max_ppm_m": det.get("max_ppm_m"),
                    "plumetrace:plumes": pl.get("plumes"),
                    "plumetrace:total_flux_kg_h": pl.get("total_flux_kg_h"),
                },
                source_item=doc.get("stac_item"),
            )
        )
    return write_products_catalog(out, scenes)
