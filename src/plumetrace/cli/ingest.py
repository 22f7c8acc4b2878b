"""``plumetrace ingest``: detections, coverage and reports into the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plumetrace.cli._progress import console, progress_bar
from plumetrace.cli._store import actor, open_store, settings

if TYPE_CHECKING:
    from plumetrace.store.ingest import IngestResult

__all__ = ["app"]

app = typer.Typer(help="Ingest evidence into the store; fused into sites.", no_args_is_help=True)

TimeOpt = Annotated[str, typer.Option("--time", help="When the pass observed (ISO 8601, UTC).")]
FlightOpt = Annotated[str, typer.Option("--flight", help="Flight (pass) id.")]
PlatformOpt = Annotated[str | None, typer.Option(help="Platform, when the flight is new.")]
SensorOpt = Annotated[str | None, typer.Option(help="Sensor, when the flight is new.")]
OperatorOpt = Annotated[str | None, typer.Option(help="Operator, when the flight is new.")]


def _summary(what: str, r: IngestResult) -> None:
    if r.new == 0 and r.skipped:
        console.print(f"{what}: already ingested, nothing changed ({r.skipped} known)")
        return
    parts = [f"{r.new} new"]
    if r.skipped:
        parts.append(f"{r.skipped} already known")
    parts.append(f"{len(r.sites_created)} sites created, {len(r.sites_updated)} updated")
    if r.merged:
        parts.append(f"{len(r.merged)} merged")
    if r.split:
        parts.append(f"{len(r.split)} split")
    console.print(f"{what}: " + ", ".join(parts))


def _run_pass(
    job: Callable[..., IngestResult],
    path: Path,
    time: str,
    flight: str,
    operator: str | None,
    platform: str | None,
    sensor: str | None,
    **extra: Any,
) -> None:
    """Run one pass's ingest job on a file and print what it changed."""
    from plumetrace.io.evidence import parse_time_option
    from plumetrace.store.ingest import FlightSpec

    spec = FlightSpec(flight, operator, platform, sensor)
    t = parse_time_option(time, "--time")
    r = job(open_store(), path, time=t, flight=spec, actor=actor(), **extra)
    _summary(str(path), r)


@app.command("detections")
def detections(
    file: Annotated[Path, typer.Argument(help="plumes.geojson or a locate RESULT.json.")],
    time: TimeOpt,
    flight: FlightOpt,
    platform: PlatformOpt = None,
    sensor: SensorOpt = None,
    operator: OperatorOpt = None,
    enhancement: Annotated[
        Path | None,
        typer.Option(help="The enhancement.tif the plumes were found in: map overlays."),
    ] = None,
) -> None:
    """Ingest one pass's detections (idempotent: the same file twice changes nothing)."""
    from plumetrace.pipeline.ingest import ingest_detections_file

    extra = (
        {}
        if enhancement is None
        else {"enhancement": enhancement, "evidence_dir": settings().evidence_dir}
    )
    _run_pass(ingest_detections_file, file, time, flight, operator, platform, sensor, **extra)


@app.command("coverage")
def coverage(
    footprint: Annotated[Path, typer.Argument(help="FOOTPRINT.geojson: what the pass observed.")],
    time: TimeOpt,
    flight: FlightOpt,
    platform: PlatformOpt = None,
    sensor: SensorOpt = None,
    operator: OperatorOpt = None,
) -> None:
    """Ingest what a pass looked at: sites inside without a detection gain an empty pass."""
    from plumetrace.pipeline.ingest import ingest_coverage_file

    _run_pass(ingest_coverage_file, footprint, time, flight, operator, platform, sensor)


@app.command("audit")
def audit(
    report_file: Annotated[
        Path, typer.Argument(help="REPORT.json of `plumetrace audit` (its .geojson beside it).")
    ],
    flight: FlightOpt,
    platform: PlatformOpt = None,
    sensor: SensorOpt = None,
) -> None:
    """Keep a flown track's audit (track, incursions) with its flight, for the map."""
    from plumetrace.pipeline.ingest import ingest_audit_file
    from plumetrace.store.ingest import FlightSpec

    new, n = ingest_audit_file(
        open_store(), report_file, FlightSpec(flight, None, platform, sensor), actor=actor()
    )
    console.print(
        f"{report_file}: audit of flight {flight} "
        + (f"stored, {n} incursion(s)" if new else "already stored")
    )


@app.command("report")
def report(
    file: Annotated[Path, typer.Argument(help="REPORT.json from another source.")],
) -> None:
    """Ingest a report (Admiralty-graded tip) and fuse it into a site."""
    from plumetrace.pipeline.ingest import ingest_report_file

    _summary(str(file), ingest_report_file(open_store(), file, actor=actor()))


@app.command("campaign")
def campaign(
    directory: Annotated[Path, typer.Argument(help="A `sim campaign` OUT_DIR.")],
) -> None:
    """Ingest a whole campaign directory (campaign.json): coverage, detections, reports."""
    from plumetrace.pipeline.ingest import ingest_campaign

    with progress_bar("ingesting") as progress:
        c = ingest_campaign(open_store(), directory, actor=actor(), progress=progress)
    console.print(
        f"{directory}: {c.passes} passes, {c.detections} detections, {c.reports} reports; "
        f"{c.sites_created} sites created, {c.merged} merged, {c.split} split"
        + (f", {c.skipped} already known" if c.skipped else "")
    )
