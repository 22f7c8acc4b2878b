"""``plumetrace plumes`` and ``plumetrace process``: plumes from a map or a radiance scene."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from plumetrace.cli import detect as detect_cli
from plumetrace.cli._progress import batch_progress, console

if TYPE_CHECKING:
    from plumetrace.pipeline.batch import BatchResult
    from plumetrace.pipeline.plumes import PlumesSummary
    from plumetrace.plumes import PlumeOptions

__all__ = ["register"]

Sensor = Literal["aviris-ng", "emit", "generic"]

WindSpeedOpt = Annotated[
    float | None,
    typer.Option(help="10 m wind speed, m/s (without it rates are not estimated)."),
]
WindDirOpt = Annotated[
    float | None,
    typer.Option(
        help="Wind direction, degrees clockwise from north the wind blows FROM "
        "(without it each plume's direction comes from its shape)."
    ),
]
WindSigmaOpt = Annotated[
    float | None,
    typer.Option(help="One-sigma error of the wind speed, m/s (default max(0.5, 0.2 x speed))."),
]
SensorOpt = Annotated[
    Sensor, typer.Option(help="Effective-wind calibration: aviris-ng, emit or generic.")
]
MinPixelsOpt = Annotated[int, typer.Option(help="Smallest plume kept, pixels.")]
MinConfidenceOpt = Annotated[
    float, typer.Option(help="Candidates at or above this confidence (0-1) are plumes.")
]
FetchOpt = Annotated[
    float,
    typer.Option(help="Rates use the plume within this many pixels of the source (0: all)."),
]
SeedOpt = Annotated[int, typer.Option(help="Seed of the Monte Carlo error budget.")]


def _plume_options(
    *,
    wind_speed: float | None,
    wind_dir: float | None,
    wind_speed_sigma: float | None,
    sensor: Sensor,
    min_pixels: int,
    min_confidence: float,
    fetch: float,
    seed: int,
    gas: str = "ch4",
) -> PlumeOptions:
    from plumetrace.plumes import PlumeOptions, SegmentOptions

    return PlumeOptions(
        segment=SegmentOptions(min_pixels=min_pixels),
        wind_speed_m_s=wind_speed,
        wind_dir_deg=wind_dir,
        wind_speed_sigma_m_s=wind_speed_sigma,
        sensor=sensor,
        gas=gas,
        min_confidence=min_confidence,
        max_fetch_px=fetch if fetch > 0 else None,
        seed=seed,
    )


def _report(summary: PlumesSummary, out: Path) -> None:
    _plume_table(out)
    if summary.wind_speed_m_s is None:
        console.print("[yellow]no --wind-speed: emission rates were not estimated[/]")
    console.print(
        f"[bold green]{summary.plumes}[/] plume(s) of {summary.candidates} candidate(s), "
        f"{summary.seconds:.2f} s -> {out}"
    )


def _plume_table(out: Path) -> None:
    from rich.table import Table

    from plumetrace.io.geojson import read_geojson

    doc = read_geojson(out / "plumes.geojson")
    if doc["features"]:
        table = Table(title=f"{len(doc['features'])} plume(s)", title_justify="left")
        for col in ("id", "lat", "lon", "±m", "kg/h", "68% interval", "conf"):
            table.add_column(col, justify="right")
        for f in doc["features"]:
            p = f["properties"]
            rate = "-" if p["flux_kg_h"] is None else f"{p['flux_kg_h']:,.0f}"
            ci = p["flux_kg_h_ci68"]
            interval = "-" if ci[0] is None else f"{ci[0]:,.0f}-{ci[1]:,.0f}"
            lat = "-" if p["source_lat"] is None else f"{p['source_lat']:.5f}"
            lon = "-" if p["source_lon"] is None else f"{p['source_lon']:.5f}"
            table.add_row(
                str(p["id"]),
                lat,
                lon,
                f"{p['source_uncertainty_m']:.0f}",
                rate,
                interval,
                f"{p['confidence']:.2f}",
            )
        console.print(table)


def _report_batch(result: BatchResult, out: Path) -> None:
    """Print what a batch did; exit 1 if any scene failed (after reporting every one)."""
    from rich.table import Table

    from plumetrace.io.tables import write_json

    write_json(out / "batch.json", result.to_dict())
    doc = result.to_dict()
    if len(result.outcomes) == 1 and result.outcomes[0].status != "failed":
        _plume_table(result.outcomes[0].out_dir)
    else:
        shown = [o for o in result.outcomes if o.status == "failed"] + [
            o for o in result.outcomes if o.status != "failed"
        ]
        table = Table(title=f"{len(result.outcomes)} scene(s)", title_justify="left")
        for col in ("scene", "status", "plumes", "s", "ingested"):
            table.add_column(col, justify="left" if col in ("scene", "status") else "right")
        for o in shown[:40]:
            status = f"[red]failed[/]: {o.error}" if o.status == "failed" else o.status
            table.add_row(
                o.scene.name,
                status,
                str(o.plumes),
                f"{o.seconds:.1f}",
                "yes" if o.ingested else "-",
            )
        console.print(table)
        if len(shown) > 40:
            console.print(f"... and {len(shown) - 40} more (all in {out / 'batch.json'})")
    notes = sorted({o.ingest_note for o in result.outcomes if o.ingest_note})
    for note in notes:
        n = sum(o.ingest_note == note for o in result.outcomes)
        console.print(f"[yellow]{n} scene(s) {note}[/]")
    minutes = result.seconds / 60
    rate = doc["done"] / minutes if minutes > 0 else 0.0
    console.print(
        f"[bold green]{doc['done']}[/] processed, {doc['skipped']} skipped (done before), "
        f"[{'red' if doc['failed'] else 'green'}]{doc['failed']} failed[/]; "
        f"{doc['plumes']} plume(s); {result.seconds:.1f} s ({rate:.1f} scenes/min, "
        f"{result.executor}, {result.workers} worker(s)) -> {out}"
    )
    if result.catalog is not None:
        console.print(f"STAC catalog: {result.catalog}")
    if result.failed:
        raise typer.Exit(1)


def plumes(
    enhancement: Annotated[Path, typer.Argument(help="enhancement.tif from detect (ppm·m).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    uncertainty: Annotated[
        Path | None,
        typer.Option(help="One-sigma layer (default: uncertainty.tif beside the map, if any)."),
    ] = None,
    albedo: Annotated[
        Path | None, typer.Option(help="Albedo layer (default: albedo.tif beside the map).")
    ] = None,
    mask: Annotated[
        Path | None, typer.Option(help="Flag layer (default: mask.tif beside the map).")
    ] = None,
    residual: Annotated[
        Path | None,
        typer.Option(help="Target-fit residual layer (default: residual.tif beside the map)."),
    ] = None,
    wind_speed: WindSpeedOpt = None,
    wind_dir: WindDirOpt = None,
    wind_speed_sigma: WindSigmaOpt = None,
    sensor: SensorOpt = "generic",
    min_pixels: MinPixelsOpt = 10,
    min_confidence: MinConfidenceOpt = 0.5,
    fetch: FetchOpt = 30.0,
    pixel_size: Annotated[
        float | None, typer.Option(help="Pixel size, m, for maps without georeferencing.")
    ] = None,
    seed: SeedOpt = 0,
) -> None:
    """Find plumes in an enhancement map: source, emission rate with uncertainty, pictures.

    Writes plumes.geojson, candidates.geojson (every candidate with its features),
    plumes.json, plumes.png and plume_<id>.png.
    """
    from plumetrace.pipeline.plumes import PlumesInputs, run_plumes

    opts = _plume_options(
        wind_speed=wind_speed,
        wind_dir=wind_dir,
        wind_speed_sigma=wind_speed_sigma,
        sensor=sensor,
        min_pixels=min_pixels,
        min_confidence=min_confidence,
        fetch=fetch,
        seed=seed,
    )
    inputs = PlumesInputs(
        enhancement, uncertainty, albedo, mask, pixel_size_m=pixel_size, residual=residual
    )
    with console.status("finding plumes"):
        summary = run_plumes(inputs, out, opts)
    _report(summary, out)


ExecutorOpt = Annotated[
    Literal["dask", "local"],
    typer.Option(help="dask: a Dask cluster (local unless --scheduler); local: one plain loop."),
]


def process(
    radiance: Annotated[
        list[str],
        typer.Argument(
            help="Radiance scenes: ENVI (.hdr or data file) or EMIT-like .nc files, glob "
            "patterns, directories, or STAC catalog/collection/item JSON files."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    gas: detect_cli.GasOpt = "ch4",
    target_weighting: detect_cli.TargetWeightingOpt = None,
    method: detect_cli.MethodOpt = "iterative",
    window: detect_cli.WindowOpt = None,
    group_cols: detect_cli.GroupColsOpt = 1,
    shrinkage: detect_cli.ShrinkageOpt = None,
    max_iter: detect_cli.MaxIterOpt = 30,
    threads: detect_cli.ThreadsOpt = None,
    saturation: detect_cli.SaturationOpt = None,
    block_mb: detect_cli.BlockMbOpt = 512,
    spatial: detect_cli.SpatialOpt = None,
    wind_speed: WindSpeedOpt = None,
    wind_dir: WindDirOpt = None,
    wind_speed_sigma: WindSigmaOpt = None,
    sensor: SensorOpt = "generic",
    min_pixels: MinPixelsOpt = 10,
    min_confidence: MinConfidenceOpt = 0.5,
    fetch: FetchOpt = 30.0,
    seed: SeedOpt = 0,
    executor: ExecutorOpt = "dask",
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Workers of the local Dask cluster (default: one per core)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Use a running Dask cluster, e.g. tcp://HOST:8786 (not --workers)."),
    ] = None,
    retries: Annotated[
        int, typer.Option(min=0, help="Extra attempts of a failed task before the scene fails.")
    ] = 1,
    ingest: Annotated[
        bool | None,
        typer.Option(
            "--ingest/--no-ingest",
            help="Ingest each finished scene into the store (default: the scenes whose "
            "acquisition time is known; --ingest requires it of every scene).",
        ),
    ] = None,
    time: Annotated[
        str | None,
        typer.Option("--time", help="Acquisition time (ISO 8601, UTC) of scenes that carry none."),
    ] = None,
    operator: Annotated[str | None, typer.Option(help="Operator of new flights.")] = None,
    platform: Annotated[str | None, typer.Option(help="Platform of new flights.")] = None,
    catalog: Annotated[
        bool, typer.Option("--catalog/--no-catalog", help="Write OUT/catalog.json (STAC).")
    ] = True,
) -> None:
    """Retrieve and find plumes in many scenes: detect, then plumes, per scene, on Dask.

    With more than one scene each scene's outputs go to OUT/<scene name>. Finished
    scenes are ingested as passes (flight id = scene name) as they finish; a failed
    scene is retried, then reported, and the rest go on; a re-run skips finished scenes.
    Products are Cloud-Optimized GeoTIFFs, described in OUT/catalog.json (STAC).
    """
    from plumetrace.errors import InvalidParameterError
    from plumetrace.io.evidence import parse_time_option
    from plumetrace.pipeline.batch import BatchIngest, BatchOptions, open_client, run_batch
    from plumetrace.pipeline.scenes import resolve_scenes

    if scheduler is not None and workers is not None:
        raise InvalidParameterError("give --scheduler or --workers, not both")
    if executor == "local" and (scheduler is not None or workers is not None):
        raise InvalidParameterError("--executor local takes neither --scheduler nor --workers")
    detect_opts = detect_cli.detect_options(
        gas=gas,
        method=method,
        window=window,
        group_cols=group_cols,
        shrinkage=shrinkage,
        max_iter=max_iter,
        threads=threads,
        saturation=saturation,
        block_mb=block_mb,
        quicklook=True,
        spatial=spatial,
        target_weighting=target_weighting,
    )
    plume_opts = _plume_options(
        wind_speed=wind_speed,
        wind_dir=wind_dir,
        wind_speed_sigma=wind_speed_sigma,
        sensor=sensor,
        min_pixels=min_pixels,
        min_confidence=min_confidence,
        fetch=fetch,
        seed=seed,
    )
    when = None if time is None else parse_time_option(time, "--time")
    with console.status("finding scenes"):
        scenes = resolve_scenes(radiance, time=when)
    if ingest and (operator is None or platform is None):
        raise InvalidParameterError("--ingest: give --operator and --platform of the flights")
    if ingest:
        unknown = [s.name for s in scenes if s.time is None]
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise InvalidParameterError(
                f"--ingest: no acquisition time for {', '.join(unknown[:5])}{more}; "
                "give --time, or --no-ingest"
            )
    target = None
    if ingest is None and (operator is None or platform is None):
        console.print(
            "[yellow]scenes are not ingested: give --operator and --platform "
            "(or --no-ingest to silence this)[/]"
        )
    elif ingest is not False:
        from plumetrace.cli._store import actor, open_store, settings

        target = BatchIngest(
            engine=open_store(),
            evidence_dir=settings().evidence_dir,
            actor=actor(),
            operator=operator,
            platform=platform,
            sensor=sensor,
        )
    opts = BatchOptions(
        detect=detect_opts,
        plumes=plume_opts,
        retries=retries,
        per_scene_dirs=len(scenes) > 1,
        catalog=catalog,
    )
    with (
        open_client(executor, workers=workers, scheduler=scheduler) as client,
        batch_progress(len(scenes)) as update,
    ):
        result = run_batch(scenes, out, opts, client=client, ingest=target, progress=update)
    _report_batch(result, out)


def register(app: typer.Typer) -> None:
    """Add ``plumes`` and ``process`` to ``app``."""
    app.command("plumes")(plumes)
    app.command("process")(process)
