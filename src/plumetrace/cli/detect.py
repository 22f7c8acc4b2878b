"""``plumetrace detect``: gas enhancement retrieval from a radiance scene."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from plumetrace.cli._progress import console, progress_bar
from plumetrace.errors import InvalidParameterError

if TYPE_CHECKING:
    from plumetrace.detect import Shrinkage
    from plumetrace.pipeline.detect import DetectOptions, DetectSummary

Method = Literal["iterative", "mf", "ace"]
"""The methods of :func:`plumetrace.detect.retrieve` (a literal here keeps start-up light)."""
Weighting = Literal["radiance", "absorption"]
"""The target conventions of :data:`plumetrace.spectra.Weighting` (likewise)."""

__all__ = ["detect_options", "parse_shrinkage", "register", "report"]


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


GasOpt = Annotated[
    str,
    typer.Option(
        help="'ch4' (built in) or PATH.csv with columns wavelength_nm, absorption_per_ppm_m."
    ),
]
TargetWeightingOpt = Annotated[
    Weighting | None,
    typer.Option(
        help="How the built-in gas's target is formed from its lookup table: radiance "
        "(default; the EMIT and MAG1C convention) or absorption (JPL's AVIRIS-NG "
        "convention). A CSV target is always absorption.",
        show_default=False,
    ),
]
MethodOpt = Annotated[
    Method,
    typer.Option(
        help="iterative (sparse MAG1C-like), mf (columnwise matched filter), ace (mf plus "
        "the adaptive cosine estimator's cos², written to score.tif)."
    ),
]
WindowOpt = Annotated[
    str | None, typer.Option(help="Retrieval window MIN:MAX in nm (CH4: 2122:2488).")
]
GroupColsOpt = Annotated[
    int, typer.Option(help="Neighbouring columns pooled per background estimate.")
]
ShrinkageOpt = Annotated[
    str | None,
    typer.Option(
        help="Covariance shrinkage towards its diagonal: auto (Ledoit-Wolf), none, or "
        "a weight 0-1. Default: 1e-4 for mf/ace, none for iterative."
    ),
]
MaxIterOpt = Annotated[int, typer.Option(help="Iterations of the sparse filter at most.")]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(help="Compute threads (default: as many as BLAS may use, normally the cores)."),
]
SaturationOpt = Annotated[
    float | None,
    typer.Option(help="Detector clipping radiance, µW cm⁻² sr⁻¹ nm⁻¹ (default: detect)."),
]
BlockMbOpt = Annotated[int, typer.Option(help="Window radiance held in memory per block, MiB.")]
SpatialOpt = Annotated[
    bool | None,
    typer.Option(
        "--spatial/--no-spatial",
        help="iterative: end with a step that penalises less the pixels with three "
        "enhanced neighbours, so plume edges and faint plume pixels are kept (lower "
        "ppm·m error). Default: on for iterative; --no-spatial gives the per-pixel "
        "MAG1C result.",
        show_default=False,
    ),
]


def detect_options(
    *,
    gas: str,
    method: Method,
    window: str | None,
    group_cols: int,
    shrinkage: str | None,
    max_iter: int,
    threads: int | None,
    saturation: float | None,
    block_mb: int,
    quicklook: bool,
    spatial: bool | None = None,
    target_weighting: Weighting | None = None,
) -> DetectOptions:
    """Validate the command-line retrieval options and build :class:`DetectOptions`."""
    if block_mb < 1:
        raise InvalidParameterError("--block-mb must be at least 1")
    if threads is not None and threads < 1:
        raise InvalidParameterError("--threads must be at least 1")
    if spatial is True and method != "iterative":
        raise InvalidParameterError(f"--spatial applies to --method iterative, not {method}")
    from plumetrace.pipeline.detect import DetectOptions
    from plumetrace.pipeline.gas import parse_window

    return DetectOptions(
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
        # on unless refused; DetectOptions.neighbourhood_step leaves it out for mf and ace
        spatial=spatial is not False,
        target_weighting=target_weighting,
    )


def detect(
    radiance: Annotated[
        Path, typer.Argument(help="Radiance file: ENVI (.hdr or data file) or EMIT-like .nc.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    gas: GasOpt = "ch4",
    target_weighting: TargetWeightingOpt = None,
    method: MethodOpt = "iterative",
    window: WindowOpt = None,
    group_cols: GroupColsOpt = 1,
    shrinkage: ShrinkageOpt = None,
    max_iter: MaxIterOpt = 30,
    threads: ThreadsOpt = None,
    saturation: SaturationOpt = None,
    block_mb: BlockMbOpt = 512,
    quicklook: Annotated[bool, typer.Option(help="Write quicklook.png.")] = True,
    spatial: SpatialOpt = None,
) -> None:
    """Retrieve a gas column enhancement map (ppm·m) from a radiance scene.

    Writes enhancement.tif, uncertainty.tif, mask.tif, albedo.tif, residual.tif,
    detect.json and quicklook.png.
    """
    from plumetrace.pipeline.detect import run_detect

    options = detect_options(
        gas=gas,
        method=method,
        window=window,
        group_cols=group_cols,
        shrinkage=shrinkage,
        max_iter=max_iter,
        threads=threads,
        saturation=saturation,
        block_mb=block_mb,
        quicklook=quicklook,
        spatial=spatial,
        target_weighting=target_weighting,
    )
    with progress_bar("retrieving") as update:
        summary = run_detect(radiance, out, options, progress=update)
    report(summary, out)


def report(summary: DetectSummary, out: Path) -> None:
    """Print the one-line summary of a retrieval."""
    console.print(
        f"[bold green]{summary.gas.upper()}[/] {summary.method}: {summary.rows} x {summary.cols} "
        f"pixels, {summary.bands_used} bands {summary.window_nm[0]:g}-{summary.window_nm[1]:g} nm, "
        f"max {summary.max_ppm_m:,.0f} ppm·m, median 1σ {summary.median_uncertainty_ppm_m:,.0f} "
        f"ppm·m, {summary.seconds:.2f} s -> {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``detect`` to ``app``."""
    app.command("detect")(detect)
