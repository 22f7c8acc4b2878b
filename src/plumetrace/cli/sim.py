"""``plumetrace sim``: scenario simulation commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from plumetrace.cli._options import parse_numbers
from plumetrace.errors import InvalidParameterError

if TYPE_CHECKING:
    from plumetrace.pipeline.campaign import CampaignSummary
    from plumetrace.pipeline.sim import SimSummary

__all__ = ["app", "parse_origin"]

app = typer.Typer(help="Simulate scenes and scenarios.", no_args_is_help=True)

_STAGES = {
    "surface": "surface reflectance",
    "plumes": "plumes",
    "radiance": "radiance and noise",
    "writing": "writing files",
}


def parse_origin(text: str) -> tuple[float, float]:
    """Parse ``"LAT,LON"`` (degrees) into a pair of floats.

    Raises
    ------
    InvalidParameterError
        If the text is not two comma-separated numbers.
    """
    lat, lon = parse_numbers(text, 2, "--origin", "LAT,LON in degrees (e.g. 31.9,-102.2)")
    return lat, lon


def _size(path: Path) -> str:
    n = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def _present(summary: SimSummary, console: Console) -> None:
    rows, cols, bands = summary.shape
    console.print(
        f"[bold]Simulated {summary.sensor} scene[/bold] {rows} x {cols} x {bands} "
        f"in {summary.seconds:.1f} s -> {summary.out_dir}"
    )
    files = Table(title="Files", title_justify="left", show_edge=False)
    files.add_column("file")
    files.add_column("size", justify="right")
    for path in summary.files:
        files.add_row(path.name, _size(path))
    console.print(files)
    if summary.sources:
        first = summary.sources[0]
        table = Table(
            title=f"Sources (wind {first.wind_speed_m_s:g} m/s from {first.wind_dir_deg:g}°)",
            title_justify="left",
            show_edge=False,
        )
        for name in ("id", "row", "col", "lat", "lon", "kg/h", "mass kg"):
            table.add_column(name, justify="left" if name == "id" else "right", no_wrap=True)
        for s in summary.sources:
            table.add_row(
                s.id,
                str(s.row),
                str(s.col),
                f"{s.lat:.5f}",
                f"{s.lon:.5f}",
                f"{s.rate_kg_h:.0f}",
                f"{s.mass_in_scene_kg:.1f}",
            )
        console.print(table)
    else:
        console.print("no sources (plume-free background)")
    if summary.flares or summary.saturated_pixels:
        console.print(
            f"flares: {len(summary.flares)}, saturated pixels: {summary.saturated_pixels}"
        )


@app.command("scene")
def scene(
    out_dir: Annotated[Path, typer.Argument(help="Output directory (created if missing).")],
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 0,
    rows: Annotated[int, typer.Option(help="Rows (down-track, north to south).")] = 1000,
    cols: Annotated[int, typer.Option(help="Columns (cross-track, west to east).")] = 598,
    sensor: Annotated[str, typer.Option(help="Band set and noise: aviris-ng or emit.")] = (
        "aviris-ng"
    ),
    sources: Annotated[int, typer.Option(help="Number of CH4 sources.")] = 3,
    rate_min: Annotated[float, typer.Option(help="Smallest emission rate, kg/h.")] = 100.0,
    rate_max: Annotated[float, typer.Option(help="Largest emission rate, kg/h.")] = 1000.0,
    wind_speed: Annotated[float, typer.Option(help="Wind speed, m/s.")] = 3.0,
    wind_dir: Annotated[
        float,
        typer.Option(
            help="Wind direction, degrees clockwise from north the wind blows FROM "
            "(270 = from the west, plumes extend east)."
        ),
    ] = 270.0,
    pixel_size: Annotated[float, typer.Option(help="Pixel size, m.")] = 5.0,
    file_format: Annotated[
        str, typer.Option("--format", help="Radiance file format: envi or netcdf.")
    ] = "envi",
    origin: Annotated[
        str, typer.Option(help="Scene centre LAT,LON in degrees (WGS84).")
    ] = "31.9,-102.2",
    saturated_fraction: Annotated[
        float, typer.Option(help="Fraction of pixels made saturating specular glints.")
    ] = 0.0,
    flares: Annotated[int, typer.Option(help="Number of gas-flare (hot) pixels.")] = 0,
    noise: Annotated[bool, typer.Option("--noise/--no-noise", help="Add instrument noise.")] = (
        True
    ),
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="A source at LAT,LON with RATE kg/h (repeatable), besides the --sources "
            "placed at random.",
        ),
    ] = None,
) -> None:
    """Simulate a radiance scene with methane plumes and write it with its truth."""
    lat, lon = parse_origin(origin)
    numbers = [
        parse_numbers(text, 3, "--source", "LAT,LON,RATE (degrees, kg/h; e.g. 31.9,-102.2,250)")
        for text in source or []
    ]
    placed = tuple((v[0], v[1], v[2]) for v in numbers)
    # heavy imports (scipy, rasterio) only when the command runs: keeps --help fast
    from plumetrace.pipeline.sim import run_sim_scene
    from plumetrace.sim import SceneSpec

    spec = SceneSpec(
        seed=seed,
        rows=rows,
        cols=cols,
        sensor=sensor.lower(),
        sources=sources,
        rate_min_kg_h=rate_min,
        rate_max_kg_h=rate_max,
        wind_speed_m_s=wind_speed,
        wind_dir_deg=wind_dir,
        pixel_size_m=pixel_size,
        origin_lat=lat,
        origin_lon=lon,
        file_format=file_format.lower(),
        saturated_fraction=saturated_fraction,
        flares=flares,
        noise=noise,
        placed=placed,
    )
    err = Console(stderr=True)
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        summary = run_sim_scene(out_dir, spec, progress=progress)
    _present(summary, Console())


@app.command("sniff")
def sniff(
    out_dir: Annotated[Path, typer.Argument(help="Output directory (created if missing).")],
    seed: Annotated[int, typer.Option(help="Random seed (source, wind, noise).")] = 0,
    readings: Annotated[int, typer.Option(help="Number of readings (waypoints).")] = 50,
    adaptive: Annotated[
        bool,
        typer.Option(
            "--adaptive/--lawnmower",
            help="Next waypoint by expected information gain, or crosswind lanes.",
        ),
    ] = True,
    particles: Annotated[int, typer.Option(help="Estimator particles.")] = 5000,
    area: Annotated[float, typer.Option(help="Side of the allowed square area, m.")] = 100.0,
    rate: Annotated[
        float | None, typer.Option(help="True rate, kg/h (default: random 1-20).")
    ] = None,
    wind_speed: Annotated[float, typer.Option(help="Mean wind speed, m/s.")] = 3.0,
    wind_dir: Annotated[
        float | None, typer.Option(help="Mean wind direction (from), degrees (default: random).")
    ] = None,
    step: Annotated[float, typer.Option(help="Longest move between readings, m.")] = 10.0,
    dwell: Annotated[float, typer.Option(help="Hover time per reading, s.")] = 10.0,
    allowed: Annotated[
        Path | None,
        typer.Option(
            help="GeoJSON Polygon in local metres (x east, y north) the drone must stay in "
            "(default: the --area square)."
        ),
    ] = None,
) -> None:
    """Fly a simulated sniffer sortie around a hidden source (filament-model truth).

    Writes track.csv (with the estimate after every reading), readings.csv (locate's
    format), truth.json, result.json and result.png.
    """
    from plumetrace.cli._progress import progress_bar
    from plumetrace.pipeline.sniff import SortieOptions, run_sim_sniff

    ring = None
    if allowed is not None:
        from plumetrace.io.geojson import read_geojson

        feats = read_geojson(allowed)["features"]
        polys = [f["geometry"] for f in feats if f["geometry"]["type"] == "Polygon"]
        if not polys:
            raise InvalidParameterError(f"{allowed}: no Polygon feature")
        ring = tuple((float(x), float(y)) for x, y, *_ in polys[0]["coordinates"][0])
    options = SortieOptions(
        allowed=ring,
        seed=seed,
        readings=readings,
        strategy="adaptive" if adaptive else "lawnmower",
        area_m=area,
        rate_kg_h=rate,
        wind_speed_m_s=wind_speed,
        wind_from_deg=wind_dir,
        step_m=step,
        dwell_s=dwell,
        particles=particles,
    )
    with progress_bar("flying") as update:
        res = run_sim_sniff(out_dir, options, progress=update)
    last = res.rows[-1]
    console = Console()
    console.print(
        f"truth ({res.truth['x_m']:.1f}, {res.truth['y_m']:.1f}) m, "
        f"{res.truth['rate_kg_h']:.3g} kg/h; estimate ({res.summary.x_m:.1f}, "
        f"{res.summary.y_m:.1f}) m ± {res.summary.position_ci68_m:.1f} m, "
        f"{res.summary.rate_kg_h:.3g} kg/h"
    )
    console.print(
        f"error {last['position_error_m']:.1f} m, rate error "
        f"{100 * last['rate_error_frac']:.0f} % after {len(res.rows)} readings -> {out_dir}"
    )


def _present_campaign(summary: CampaignSummary, console: Console) -> None:
    det = summary.detections
    console.print(
        f"[bold]Simulated campaign[/bold] in {summary.seconds:.1f} s -> {summary.out_dir}"
    )
    table = Table(show_header=False, show_edge=False, box=None)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("detail")
    table.add_row("passes", str(summary.passes), "")
    table.add_row(
        "detections",
        str(sum(det.values())),
        f"{det['real']} real, {det['false']} false, {det['clutter']} clutter",
    )
    fake = summary.reports - summary.true_reports
    table.add_row("reports", str(summary.reports), f"{summary.true_reports} true, {fake} false")
    table.add_row(
        "sources",
        str(summary.sources),
        f"{summary.intermittent} intermittent, {summary.sources_detected} detected",
    )
    table.add_row("clutter", str(summary.clutter), "persistent false-detection locations")
    table.add_row("files", str(summary.files), summary.manifest.name + " lists them")
    console.print(table)


@app.command("campaign")
def campaign(
    out_dir: Annotated[Path, typer.Argument(help="Output directory (created if missing).")],
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 0,
    sources: Annotated[int, typer.Option(help="Number of true emission sources.")] = 40,
    passes: Annotated[int, typer.Option(help="Number of passes (flights).")] = 12,
    days: Annotated[int, typer.Option(help="Length of the campaign, days.")] = 30,
    origin: Annotated[
        str, typer.Option(help="Centre of the area LAT,LON in degrees (WGS84).")
    ] = "31.75,-106.45",
    area_km: Annotated[float, typer.Option(help="Side of the square area, km.")] = 20.0,
    reports: Annotated[int, typer.Option(help="Number of reports from other sources.")] = 30,
    false_rate: Annotated[
        float, typer.Option(help="Random false detections per km² of footprint per pass.")
    ] = 0.01,
) -> None:
    """Simulate a survey campaign: passes with detections, reports, and the truth.

    Writes campaign.json (manifest), passes/<flight>/plumes.geojson and coverage.geojson,
    reports/<id>.json and truth.json, to validate the fusion of detections into sites.
    """
    lat, lon = parse_origin(origin)
    from plumetrace.pipeline.campaign import run_campaign
    from plumetrace.sim.campaign import CampaignSpec

    spec = CampaignSpec(
        seed=seed,
        sources=sources,
        passes=passes,
        days=days,
        origin_lat=lat,
        origin_lon=lon,
        area_km=area_km,
        reports=reports,
        false_rate=false_rate,
    )
    _present_campaign(run_campaign(out_dir, spec), Console())
