"""``plumetrace detect``: gas enhancement retrieval from a radiance scene."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from plumetrace.cli._progress import console, progress_bar
from plumetrace.errors import InvalidParameterError

if TYPE_CHECKING:
    from plumetrace.detect import Shrinkage

Method = Literal["iterative", "mf", "ace"]
"""The methods of :func:`plumetrace.detect.retrieve` (a literal here keeps start-up light)."""

__all__ = ["parse_shrinkage", "register"]


def parse_shrinkage(text: str) -> Shrinkage:
    """Parse ``auto``, ``none`` or a weight in [0, 1]."""
    if text in ("auto", "none"):
        return text  # type: ignore[return-value]
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameterError(
            f"--shrinkage {text!r}: use auto, none or a number in [0, 1]"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise InvalidParameterError(f"--shrinkage {text!r} must lie in [0, 1]")
    return value


def detect(
    radiance: Annotated[
        Path, typer.Argument(help="Radiance file: ENVI (.hdr or data file) or EMIT-like .nc.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    gas: Annotated[
        str,
        typer.Option(
            help="'ch4' (built in) or PATH.csv with columns wavelength_nm, absorption_per_ppm_m."
        ),
    ] = "ch4",
    method: Annotated[
        Method,
        typer.Option(help="iterative (sparse MAG1C-like), mf (columnwise matched filter), ace."),
    ] = "iterative",
    window: Annotated[
        str | None, typer.Option(help="Retrieval window MIN:MAX in nm (CH4: 2122:2488).")
    ] = None,
    group_cols: Annotated[
        int, typer.Option(help="Neighbouring columns pooled per background estimate.")
    ] = 1,
    shrinkage: Annotated[
        str | None,
        typer.Option(
            help="Covariance shrinkage towards its diagonal: auto (Ledoit-Wolf), none, or "
            "a weight 0-1. Default: 1e-4 for mf/ace, none for iterative."
        ),
    ] = None,
    max_iter: Annotated[int, typer.Option(help="Iterations of the sparse filter at most.")] = 30,
    threads: Annotated[
        int | None, typer.Option(help="BLAS threads (default: the library's).")
    ] = None,
    saturation: Annotated[
        float | None,
        typer.Option(help="Detector clipping radiance, µW cm⁻² sr⁻¹ nm⁻¹ (default: detect)."),
    ] = None,
    block_mb: Annotated[
        int, typer.Option(help="Window radiance held in memory per block, MiB.")
    ] = 512,
    quicklook: Annotated[bool, typer.Option(help="Write quicklook.png.")] = True,
) -> None:
    """Retrieve a gas column enhancement map (ppm·m) from a radiance scene.

    Writes enhancement.tif, uncertainty.tif, mask.tif, detect.json and quicklook.png.
    """
    if block_mb < 1:
        raise InvalidParameterError("--block-mb must be at least 1")
    if threads is not None and threads < 1:
        raise InvalidParameterError("--threads must be at least 1")
    from plumetrace.pipeline.detect import DetectOptions, run_detect
    from plumetrace.pipeline.gas import parse_window

    options = DetectOptions(
        gas=gas,
        method=method,
        window_nm=None if window is None else parse_window(window),
        group_cols=group_cols,
        shrinkage=None if shrinkage is None else parse_shrinkage(shrinkage),
        max_iter=max_iter,
        threads=threads,
        block_bytes=block_mb * 2**20,
        quicklook=quicklook,
        saturation_radiance=saturation,
    )
    with progress_bar("retrieving") as update:
        summary = run_detect(radiance, out, options, progress=update)
    console.print(
        f"[bold green]{summary.gas.upper()}[/] {summary.method}: {summary.rows} x {summary.cols} "
        f"pixels, {summary.bands_used} bands {summary.window_nm[0]:g}-{summary.window_nm[1]:g} nm, "
        f"max {summary.max_ppm_m:,.0f} ppm·m, median 1σ {summary.median_uncertainty_ppm_m:,.0f} "
        f"ppm·m, {summary.seconds:.2f} s -> {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``detect`` to ``app``."""
    app.command("detect")(detect)
