"""``plumetrace plumes`` and ``plumetrace process``: plumes from a map or a radiance scene."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from plumetrace.cli import detect as detect_cli
from plumetrace.cli._progress import console

if TYPE_CHECKING:
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
    from rich.table import Table

    from plumetrace.io.geojson import read_geojson

    doc = read_geojson(out / "plumes.geojson")
    if doc["features"]:
        table = Table(title=f"{summary.plumes} plume(s)", title_justify="left")
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
    if summary.wind_speed_m_s is None:
        console.print("[yellow]no --wind-speed: emission rates were not estimated[/]")
    console.print(
        f"[bold green]{summary.plumes}[/] plume(s) of {summary.candidates} candidate(s), "
        f"{summary.seconds:.2f} s -> {out}"
    )


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
    inputs = PlumesInputs(enhancement, uncertainty, albedo, mask, pixel_size_m=pixel_size)
    with console.status("finding plumes"):
        summary = run_plumes(inputs, out, opts)
    _report(summary, out)


def process(
    radiance: Annotated[
        Path, typer.Argument(help="Radiance file: ENVI (.hdr or data file) or EMIT-like .nc.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    gas: detect_cli.GasOpt = "ch4",
    method: detect_cli.MethodOpt = "iterative",
    window: detect_cli.WindowOpt = None,
    group_cols: detect_cli.GroupColsOpt = 1,
    shrinkage: detect_cli.ShrinkageOpt = None,
    max_iter: detect_cli.MaxIterOpt = 30,
    threads: detect_cli.ThreadsOpt = None,
    saturation: detect_cli.SaturationOpt = None,
    block_mb: detect_cli.BlockMbOpt = 512,
    wind_speed: WindSpeedOpt = None,
    wind_dir: WindDirOpt = None,
    wind_speed_sigma: WindSigmaOpt = None,
    sensor: SensorOpt = "generic",
    min_pixels: MinPixelsOpt = 10,
    min_confidence: MinConfidenceOpt = 0.5,
    fetch: FetchOpt = 30.0,
    seed: SeedOpt = 0,
) -> None:
    """Retrieve and find plumes in one go: detect, then plumes, into one directory."""
    from plumetrace.cli._progress import progress_bar
    from plumetrace.pipeline.detect import run_detect
    from plumetrace.pipeline.plumes import PlumesInputs, run_plumes

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
    with progress_bar("retrieving") as update:
        det = run_detect(radiance, out, detect_opts, progress=update)
    detect_cli.report(det, out)
    with console.status("finding plumes"):
        summary = run_plumes(PlumesInputs(out / "enhancement.tif"), out, plume_opts)
    _report(summary, out)


def register(app: typer.Typer) -> None:
    """Add ``plumes`` and ``process`` to ``app``."""
    app.command("plumes")(plumes)
    app.command("process")(process)
