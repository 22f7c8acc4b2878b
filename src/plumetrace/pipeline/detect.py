"""The ``detect`` job: radiance file -> enhancement, uncertainty, mask, report, quicklook.

Streams the scene from disk in blocks of whole column groups (the background is
estimated per column, so blocks are independent): peak memory is bounded by the block
budget, not by the scene size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from plumetrace import __version__
from plumetrace.detect import Method, Shrinkage, flags, retrieve
from plumetrace.errors import InvalidParameterError, InvalidRadianceError
from plumetrace.io.geotiff import write_geotiff
from plumetrace.io.quicklook import write_enhancement_png
from plumetrace.io.radiance import open_radiance
from plumetrace.io.tables import write_json
from plumetrace.pipeline.gas import build_target, window_bands

__all__ = ["NODATA", "DetectOptions", "DetectSummary", "run_detect"]

log = logging.getLogger(__name__)

NODATA = -9999.0
"""No-data value of ``enhancement.tif`` and ``uncertainty.tif``."""

Progress = Callable[[int, int], None]
"""Callback ``(columns_done, columns_total)``."""


@dataclass(frozen=True)
class DetectOptions:
    """Options of a retrieval run (see ``plumetrace detect --help``).

    Attributes
    ----------
    gas : str
        ``"ch4"`` or the path of a CSV target (``wavelength_nm``, ``absorption_per_ppm_m``).
    method : {"iterative", "mf", "ace"}
    window_nm : (float, float) or None
        Retrieval window, nm; None for the gas's default.
    group_cols : int
        Neighbouring columns pooled per background estimate.
    shrinkage : "auto", "none", float or None
        None: the method's default (see :func:`plumetrace.detect.retrieve`).
    max_iter : int
    threads : int or None
        BLAS threads; None leaves the library default.
    block_bytes : int
        Budget of window radiance held in memory at once, bytes.
    quicklook : bool
        Write ``quicklook.png``.
    saturation_radiance : float or None
        Detector clipping level, µW cm⁻² sr⁻¹ nm⁻¹.
    """

    gas: str = "ch4"
    method: Method = "iterative"
    window_nm: tuple[float, float] | None = None
    group_cols: int = 1
    shrinkage: Shrinkage | None = None
    max_iter: int = 30
    threads: int | None = None
    block_bytes: int = 512 * 2**20
    quicklook: bool = True
    saturation_radiance: float | None = None


@dataclass(frozen=True)
class DetectSummary:
    """What a retrieval run wrote and found (also written as ``detect.json``)."""

    method: str
    gas: str
    bands_used: int
    window_nm: tuple[float, float]
    seconds: float
    rows: int
    cols: int
    input: str
    outputs: dict[str, str]
    seconds_compute: float
    blocks: int
    max_ppm_m: float
    median_uncertainty_ppm_m: float
    flagged_pixels: dict[str, int]
    iterations: int
    group_cols: int
    threads: int | None
    mask_bits: dict[str, int] = field(default_factory=dict)
    version: str = __version__

    def to_dict(self) -> dict[str, object]:
        """Return the JSON document of ``detect.json``."""
        return asdict(self)


def _block_columns(rows: int, cols: int, bands: int, group_cols: int, budget: int) -> int:
    per_col = rows * bands * 4
    n = max(group_cols, (budget // max(per_col, 1)) // group_cols * group_cols)
    return min(n, cols + (-cols) % group_cols)


def run_detect(
    radiance_path: str | Path,
    out_dir: str | Path,
    options: DetectOptions | None = None,
    progress: Progress | None = None,
) -> DetectSummary:
    """Retrieve a gas enhancement map from a radiance file and write the products.

    Parameters
    ----------
    radiance_path : str or Path
        ENVI (header or data file) or EMIT-like netCDF radiance.
    out_dir : str or Path
        Created if missing; receives ``enhancement.tif``, ``uncertainty.tif``,
        ``mask.tif``, ``albedo.tif`` (brightness relative to the column mean, used by
        ``plumes`` to reject surface features), ``detect.json`` and ``quicklook.png``.
    options : DetectOptions, optional
    progress : callable, optional
        Called with ``(columns_done, columns_total)`` after each block.

    Returns
    -------
    DetectSummary
    """
    opts = options or DetectOptions()
    if opts.group_cols < 1:
        raise InvalidParameterError("--group-cols must be at least 1")
    if opts.max_iter < 1:
        raise InvalidParameterError("--max-iter must be at least 1")
    t_start = time.perf_counter()
    out = Path(out_dir)
    limits = threadpool_limits(opts.threads) if opts.threads else None
    try:
        with open_radiance(radiance_path) as scene:
            rows, cols, _ = scene.shape
            target = build_target(opts.gas, scene.wavelength_nm, scene.fwhm_nm)
            idx, window = window_bands(
                str(radiance_path), scene.wavelength_nm, target, opts.window_nm
            )
            s = target.absorption_per_ppm_m[idx]
            enh = np.full((rows, cols), np.nan, dtype=np.float32)
            unc = np.full((rows, cols), np.nan, dtype=np.float32)
            mask = np.zeros((rows, cols), dtype=np.uint8)
            grey = np.zeros((rows, cols), dtype=np.float32)
            albedo = np.full((rows, cols), np.nan, dtype=np.float32)
            step = _block_columns(rows, cols, idx.size, opts.group_cols, opts.block_bytes)
            compute = 0.0
            iterations = 0
            blocks = 0
            for c0 in range(0, cols, step):
                c1 = min(cols, c0 + step)
                cube = scene.read(bands=idx, cols=slice(c0, c1))
                grey[:, c0:c1] = cube.mean(axis=2)
                _check_columns(str(radiance_path), grey[:, c0:c1], c0)
                t0 = time.perf_counter()
                res = retrieve(
                    cube,
                    s,
                    method=opts.method,
                    wavelength_nm=scene.wavelength_nm[idx],
                    group_cols=opts.group_cols,
                    shrinkage=opts.shrinkage,
                    max_iter=opts.max_iter,
                    saturation_radiance=opts.saturation_radiance,
                )
                compute += time.perf_counter() - t0
                del cube
                enh[:, c0:c1] = res.enhancement
                unc[:, c0:c1] = res.uncertainty
                mask[:, c0:c1] = res.flags
                albedo[:, c0:c1] = res.albedo
                iterations = max(iterations, res.iterations)
                blocks += 1
                if progress is not None:
                    progress(c1, cols)
            georef = scene.georef
    finally:
        if limits is not None:
            limits.unregister()

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "enhancement": out / "enhancement.tif",
        "uncertainty": out / "uncertainty.tif",
        "mask": out / "mask.tif",
        "albedo": out / "albedo.tif",
        "detect": out / "detect.json",
    }
    tags = {"units": "ppm m", "gas": target.gas, "method": opts.method}
    write_geotiff(files["enhancement"], _fill(enh), georef, nodata=NODATA, tags=tags)
    write_geotiff(files["uncertainty"], _fill(unc), georef, nodata=NODATA, tags=tags)
    write_geotiff(
        files["mask"],
        mask,
        georef,
        tags={name: str(bit) for bit, name in flags.FLAG_DESCRIPTIONS.items()},
    )
    write_geotiff(
        files["albedo"],
        _fill(albedo),
        georef,
        nodata=NODATA,
        band_descriptions=["window radiance relative to the column mean"],
        tags={"units": "1"},
    )
    if opts.quicklook:
        files["quicklook"] = out / "quicklook.png"
        write_enhancement_png(
            files["quicklook"],
            grey,
            enh,
            title=f"{target.gas.upper()} enhancement ({opts.method}) - {Path(radiance_path).name}",
            units="ppm·m",
        )
    counts = {
        name: int(np.count_nonzero(mask & bit)) for bit, name in flags.FLAG_DESCRIPTIONS.items()
    }
    summary = DetectSummary(
        method=opts.method,
        gas=target.gas,
        bands_used=int(idx.size),
        window_nm=window,
        seconds=round(time.perf_counter() - t_start, 3),
        rows=rows,
        cols=cols,
        input=str(radiance_path),
        outputs={k: str(v) for k, v in files.items()},
        seconds_compute=round(compute, 3),
        blocks=blocks,
        max_ppm_m=float(np.nanmax(enh)) if np.isfinite(enh).any() else 0.0,
        median_uncertainty_ppm_m=float(np.nanmedian(unc)) if np.isfinite(unc).any() else 0.0,
        flagged_pixels=counts,
        iterations=iterations,
        group_cols=opts.group_cols,
        threads=opts.threads,
        mask_bits={name: bit for bit, name in flags.FLAG_DESCRIPTIONS.items()},
    )
    write_json(files["detect"], summary.to_dict())
    log.info("retrieved %s x %s pixels in %.2f s", rows, cols, summary.seconds)
    return summary


def _check_columns(source: str, grey: NDArray[np.float32], offset: int) -> None:
    """Raise if a column has no pixel with a finite spectrum in the window."""
    empty = np.flatnonzero(np.isnan(grey).all(axis=0))
    if empty.size:
        cols = ", ".join(str(int(c) + offset) for c in empty[:5])
        more = f" and {empty.size - 5} more" if empty.size > 5 else ""
        raise InvalidRadianceError(
            f"{source}: column(s) {cols}{more} have no valid pixel in the retrieval window "
            "(all no-data); crop the scene to its valid columns"
        )


def _fill(a: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.where(np.isfinite(a), a, np.float32(NODATA)).astype(np.float32)
