"""``plumetrace demo``: the end-to-end demonstration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from plumetrace.cli._progress import console, err_console

__all__ = ["register"]


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 7,
    rows: Annotated[int, typer.Option(help="Scene rows (down-track).")] = 1000,
    cols: Annotated[int, typer.Option(help="Scene columns (cross-track).")] = 598,
) -> None:
    """Run the whole chain on a simulated scene and summarise it.

    Simulates an AVIRIS-NG-like radiance scene with three CH4 sources (SQLite and the
    local executor are the defaults of later stages), retrieves the enhancement map and
    writes a PNG quicklook.
    """
    from plumetrace.pipeline.demo import run_demo

    with err_console.status("starting") as status:
        summary = run_demo(out, seed=seed, rows=rows, cols=cols, step=status.update)
    d = summary.detect
    console.print(
        f"[bold]Scene[/] {d.rows} x {d.cols} pixels -> {summary.scene_dir}\n"
        f"[bold]Retrieval[/] {d.method}, {d.bands_used} bands, {d.seconds:.2f} s "
        f"(compute {d.seconds_compute:.2f} s); background RMSE "
        f"{summary.background_rmse_ppm_m:.0f} ppm·m, median 1σ "
        f"{d.median_uncertainty_ppm_m:.0f} ppm·m -> {summary.detect_dir}"
    )
    table = Table(
        title=f"CH4 sources (within {summary.sources[0].radius_m:.0f} m)"
        if summary.sources
        else "CH4 sources"
    )
    for col in ("source", "rate kg/h", "true mass kg", "retrieved mass kg", "peak ppm·m"):
        table.add_column(col, justify="right")
    for s in summary.sources:
        table.add_row(
            s.id,
            f"{s.rate_kg_h:,.0f}",
            f"{s.true_mass_kg:.2f}",
            f"{s.retrieved_mass_kg:.2f}",
            f"{s.peak_ppm_m:,.0f}",
        )
    console.print(table)
    console.print(f"Quicklook: {d.outputs.get('quicklook', '-')}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
