"""``plumetrace context``: civilian-context layers (population, buildings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plumetrace.cli._progress import console, progress_bar
from plumetrace.cli._store import actor, open_store, settings
from plumetrace.errors import InvalidParameterError

__all__ = ["app"]

app = typer.Typer(
    help="Civilian context of sites: who lives and works around them.", no_args_is_help=True
)


@app.command("load")
def load(
    population: Annotated[
        Path | None, typer.Option(help="Population raster GeoTIFF (persons per pixel).")
    ] = None,
    buildings: Annotated[
        Path | None,
        typer.Option(
            help="Building footprints GeoJSON (optional boolean `residential`; `kind` "
            "school/hospital marks facilities)."
        ),
    ] = None,
) -> None:
    """Load context layers (each replaces the previous one) and recompute every site."""
    from plumetrace.pipeline.context import load_context

    if population is None and buildings is None:
        raise InvalidParameterError("give --population and/or --buildings")
    cfg = settings()
    with progress_bar("context") as progress:
        r = load_context(
            open_store(cfg),
            cfg.context_dir,
            population=population,
            buildings=buildings,
            actor=actor(),
            progress=progress,
        )
    parts = []
    if r.population:
        parts.append(f"population {r.population}")
    if r.buildings is not None:
        parts.append(f"{r.buildings} buildings")
    console.print(f"loaded {', '.join(parts)}; context recomputed for {r.sites} sites")
