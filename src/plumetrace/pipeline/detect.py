"""The ``detect`` job: radiance file -> enhancement, uncertainty, mask, report, quicklook.

Streams the scene from disk in blocks of whole column groups (the background is
estimated per column, so blocks are independent; the iterative filter's neighbourhood
step reads one column group more on each side): peak memory is bounded by the block
budget, not by the scene size.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from plumetrace import __version__
from plumetrace.detect import Method, Shrinkage, blas_threads, flags, retrieve
from plumetrace.errors import InvalidParameterError, InvalidRadianceError
from plumetrace.geo import Georef
from plumetrace.io.cube import RadianceCube
from plumetrace.io.geotiff import write_geotiff
from plumetrace.io.quicklook import write_enhancement_png
from plumetrace.io.radiance import open_radiance
from plumetrace.io.tables import write_json
from plumetrace.pipeline.gas import build_target, resolve_weighting, window_bands
from plumetrace.spectra import GasTarget, Weighting

__all__ = [
    "NODATA",
    "BlockResult",
    "DetectOptions",
    "DetectSummary",
    "ScenePlan",
    "plan_scene",
    "retrieve_block",
    "run_detect",
    "write_detect_products",
]

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
        Compute threads: the retrieval splits the column groups over them, each thread
        with a one-thread BLAS. None: as many as BLAS may use (its environment variables,
        else the cores).
    block_bytes : int
        Budget of window radiance held in memory at once, bytes.
    quicklook : bool
        Write ``quicklook.png``.
    saturation_radiance : float or None
        Detector clipping level, µW cm⁻² sr⁻¹ nm⁻¹.
    spatial : bool
        ``iterative`` only (default True): end with the step weighted by each pixel's
        neighbours (:func:`plumetrace.detect.retrieve`). Each block is then retrieved
        with one column group more on either side, so that its edge pixels see their
        neighbours. False gives the per-pixel (MAG1C) result.
    target_weighting : {"radiance", "absorption"} or None
        How the built-in gas's target is formed from its lookup table
        (:data:`plumetrace.spectra.Weighting`): ``"radiance"`` (None: the default; the
        EMIT and MAG1C convention, r = 0.993 with EMIT's operational target) or
        ``"absorption"`` (JPL's AVIRIS-NG convention, r = 0.998 with its operational
        target). A CSV target is band-averaged absorption; ``"radiance"`` is refused.
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
    spatial: bool = True
    target_weighting: Weighting | None = None

    @property
    def neighbourhood_step(self) -> bool:
        """Whether the retrieval takes the neighbourhood step (``spatial``, ``iterative``)."""
        return self.spatial and self.method == "iterative"

    @property
    def effective_target_weighting(self) -> Weighting:
        """The weighting the target is built with (see ``gas.resolve_weighting``)."""
        return resolve_weighting(self.gas, self.target_weighting)


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
    spatial: bool = False
    target_weighting: str = "radiance"
    version: str = __version__

    def to_dict(self) -> dict[str, object]:
        """Return the JSON document of ``detect.json``."""
        return asdict(self)


def _block_columns(rows: int, cols: int, bands: int, group_cols: int, budget: int) -> int:
    per_col = rows * bands * 4
    n = max(group_cols, (budget // max(per_col, 1)) // group_cols * group_cols)
    return min(n, cols + (-cols) % group_cols)


@dataclass(frozen=True, eq=False)
class ScenePlan:
    """How one scene is retrieved: its bands, target and column blocks.

    Blocks hold whole column groups, and the background is estimated per column group,
    so blocks are independent: they can run in any order, on any worker (the iterative
    filter's neighbourhood step reads one group more on each side of its block).

    Attributes
    ----------
    path : str
        The radiance file.
    rows, cols : int
    idx : (nwin,) ndarray of intp
        Bands used by the retrieval.
    unit_absorption : (nwin,) ndarray, (ppm·m)⁻¹
        The target at those bands.
    wavelength_nm : (nwin,) ndarray, nm
    window_nm : (float, float)
    gas : str
        The target's gas name.
    blocks : tuple of (int, int)
        Column ranges ``[c0, c1)``.
    cube_bytes : int
        Size of the whole cube as stored (all bands), bytes.
    """

    path: str
    rows: int
    cols: int
    idx: NDArray[np.intp]
    unit_absorption: NDArray[np.float64]
    wavelength_nm: NDArray[np.float64]
    window_nm: tuple[float, float]
    gas: str
    blocks: tuple[tuple[int, int], ...]
    cube_bytes: int = 0

    @property
    def window_bytes(self) -> int:
        """Bytes of window radiance (float32) the retrieval reads."""
        return self.rows * self.cols * int(self.idx.size) * 4


@dataclass(frozen=True, eq=False)
class BlockResult:
    """The retrieval of columns ``[c0, c1)`` of a scene; arrays are (rows, c1 - c0)."""

    c0: int
    c1: int
    enhancement: NDArray[np.float32]
    uncertainty: NDArray[np.float32]
    flags: NDArray[np.uint8]
    albedo: NDArray[np.float32]
    grey: NDArray[np.float32]
    iterations: int
    seconds_compute: float
    score: NDArray[np.float32] | None = None
    """The method's detection statistic (``ace``: cos² of the angle to the target)."""
    residual: NDArray[np.float32] | None = None
    """Whitened residual of the target fit on enhanced pixels (NaN elsewhere)."""


def plan_scene(
    radiance_path: str | Path,
    options: DetectOptions | None = None,
    *,
    scene: RadianceCube | None = None,
    target_cache: dict[bytes, GasTarget] | None = None,
) -> ScenePlan:
    """Plan the retrieval of a scene: bands, target, column blocks of ``block_bytes``.

    ``scene`` is the already-open cube of ``radiance_path`` (else it is opened and
    closed here). ``target_cache`` reuses targets across scenes with the same bands.
    """
    opts = options or DetectOptions()
    if opts.group_cols < 1:
        raise InvalidParameterError("--group-cols must be at least 1")
    if opts.max_iter < 1:
        raise InvalidParameterError("--max-iter must be at least 1")
    if scene is None:
        with open_radiance(radiance_path) as opened:
            return plan_scene(radiance_path, opts, scene=opened, target_cache=target_cache)
    rows, cols, bands = scene.shape
    key = (
        f"{opts.gas}|{opts.effective_target_weighting}".encode()
        + scene.wavelength_nm.tobytes()
        + scene.fwhm_nm.tobytes()
    )
    target = target_cache.get(key) if target_cache is not None else None
    if target is None:
        target = build_target(
            opts.gas, scene.wavelength_nm, scene.fwhm_nm, weighting=opts.target_weighting
        )
        if target_cache is not None:
            target_cache[key] = target
    idx, window = window_bands(str(radiance_path), scene.wavelength_nm, target, opts.window_nm)
    step = _block_columns(rows, cols, idx.size, opts.group_cols, opts.block_bytes)
    blocks = tuple((c0, min(cols, c0 + step)) for c0 in range(0, cols, step))
    return ScenePlan(
        path=str(radiance_path),
        rows=rows,
        cols=cols,
        idx=idx,
        unit_absorption=target.absorption_per_ppm_m[idx],
        wavelength_nm=scene.wavelength_nm[idx],
        window_nm=window,
        gas=target.gas,
        blocks=blocks,
        cube_bytes=rows * cols * bands * scene.dtype_on_disk.itemsize,
    )


def _retrieve_columns(
    scene: RadianceCube, plan: ScenePlan, c0: int, c1: int, opts: DetectOptions
) -> BlockResult:
    # The neighbourhood step looks one pixel across the block's edges: read one column
    # group more on each side (groups are independent, so the halo's own retrieval is
    # the same as in its block) and keep only the block's columns.
    halo = opts.group_cols if opts.neighbourhood_step else 0
    h0, h1 = max(0, c0 - halo), min(plan.cols, c1 + halo)
    cube = scene.read(bands=plan.idx, cols=slice(h0, h1))
    keep = slice(c0 - h0, c0 - h0 + (c1 - c0))
    grey = cube.mean(axis=2)
    _check_columns(plan.path, grey, h0)
    t0 = time.perf_counter()
    res = retrieve(
        cube,
        plan.unit_absorption,
        method=opts.method,
        wavelength_nm=plan.wavelength_nm,
        group_cols=opts.group_cols,
        shrinkage=opts.shrinkage,
        max_iter=opts.max_iter,
        saturation_radiance=opts.saturation_radiance,
        spatial=opts.neighbourhood_step,
    )
    seconds = time.perf_counter() - t0
    del cube

    def block(a: NDArray[Any], dtype: type[np.generic]) -> NDArray[Any]:
        return np.ascontiguousarray(a[:, keep], dtype=dtype)

    return BlockResult(
        c0=c0,
        c1=c1,
        enhancement=block(res.enhancement, np.float32),
        uncertainty=block(res.uncertainty, np.float32),
        flags=block(res.flags, np.uint8),
        albedo=block(res.albedo, np.float32),
        grey=block(grey, np.float32),
        iterations=int(res.iterations),
        seconds_compute=seconds,
        score=None if res.score is None else block(res.score, np.float32),
        residual=None if res.residual is None else block(res.residual, np.float32),
    )


def retrieve_block(plan: ScenePlan, c0: int, c1: int, options: DetectOptions) -> BlockResult:
    """Retrieve columns ``[c0, c1)`` of a planned scene (opens and closes the file).

    This is the unit of work of a distributed run: it needs only the file and the plan.
    """
    limits = threadpool_limits(options.threads) if options.threads else None
    try:
        with open_radiance(plan.path) as scene:
            return _retrieve_columns(scene, plan, c0, c1, options)
    finally:
        if limits is not None:
            limits.unregister()


class _Maps:
    """The scene's output layers, filled block by block."""

    def __init__(self, rows: int, cols: int) -> None:
        self.enh = np.full((rows, cols), np.nan, dtype=np.float32)
        self.unc = np.full((rows, cols), np.nan, dtype=np.float32)
        self.mask = np.zeros((rows, cols), dtype=np.uint8)
        self.grey = np.zeros((rows, cols), dtype=np.float32)
        self.albedo = np.full((rows, cols), np.nan, dtype=np.float32)
        self.residual: NDArray[np.float32] | None = None
        self.score: NDArray[np.float32] | None = None
        self.compute = 0.0
        self.iterations = 0
        self.blocks = 0

    def _paste(
        self, layer: NDArray[np.float32] | None, block: NDArray[np.float32] | None, c0: int, c1: int
    ) -> NDArray[np.float32] | None:
        """Put a block of an optional layer in place (the layer made on its first block)."""
        if block is None:
            return layer
        if layer is None:
            layer = np.full(self.enh.shape, np.nan, dtype=np.float32)
        layer[:, c0:c1] = block
        return layer

    def add(self, b: BlockResult) -> None:
        self.enh[:, b.c0 : b.c1] = b.enhancement
        self.unc[:, b.c0 : b.c1] = b.uncertainty
        self.mask[:, b.c0 : b.c1] = b.flags
        self.grey[:, b.c0 : b.c1] = b.grey
        self.albedo[:, b.c0 : b.c1] = b.albedo
        self.residual = self._paste(self.residual, b.residual, b.c0, b.c1)
        self.score = self._paste(self.score, b.score, b.c0, b.c1)
        self.compute += b.seconds_compute
        self.iterations = max(self.iterations, b.iterations)
        self.blocks += 1


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
        ``plumes`` to reject surface features), ``residual.tif`` (not with ``mf``: the
        whitened residual of the target fit on enhanced pixels, ~1 for gas, larger on
        surfaces the background does not describe; also used by ``plumes``), with
        ``--method ace`` ``score.tif`` (ACE's cos² of the angle to the target, 0-1; all
        Cloud-Optimized GeoTIFFs),
        ``detect.json`` and ``quicklook.png``.
    options : DetectOptions, optional
    progress : callable, optional
        Called with ``(columns_done, columns_total)`` after each block.

    Returns
    -------
    DetectSummary
    """
    opts = options or DetectOptions()
    t_start = time.perf_counter()
    limits = threadpool_limits(opts.threads) if opts.threads else None
    try:
        with open_radiance(radiance_path) as scene:
            plan = plan_scene(radiance_path, opts, scene=scene)
            maps = _Maps(plan.rows, plan.cols)
            for c0, c1 in plan.blocks:
                maps.add(_retrieve_columns(scene, plan, c0, c1, opts))
                if progress is not None:
                    progress(c1, plan.cols)
            georef = scene.georef
    finally:
        if limits is not None:
            limits.unregister()
    return _write_products(plan, maps, georef, Path(out_dir), opts, t_start)


def write_detect_products(
    plan: ScenePlan,
    blocks: Sequence[BlockResult],
    out_dir: str | Path,
    options: DetectOptions,
    seconds_before: float = 0.0,
) -> DetectSummary:
    """Assemble a scene's retrieved blocks and write the ``detect`` products.

    ``seconds_before`` is the work already spent on the blocks (elsewhere), s; the
    summary's ``seconds`` adds the writing to it.
    """
    t_start = time.perf_counter() - seconds_before
    maps = _Maps(plan.rows, plan.cols)
    for b in blocks:
        maps.add(b)
    if maps.blocks != len(plan.blocks):
        raise InvalidParameterError(
            f"{plan.path}: {maps.blocks} retrieved blocks for {len(plan.blocks)} planned"
        )
    with open_radiance(plan.path) as scene:
        georef = scene.georef
    return _write_products(plan, maps, georef, Path(out_dir), options, t_start)


def _write_products(
    plan: ScenePlan,
    maps: _Maps,
    georef: Georef,
    out: Path,
    opts: DetectOptions,
    t_start: float,
) -> DetectSummary:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "enhancement": out / "enhancement.tif",
        "uncertainty": out / "uncertainty.tif",
        "mask": out / "mask.tif",
        "albedo": out / "albedo.tif",
        "detect": out / "detect.json",
    }
    enh, unc, mask = maps.enh, maps.unc, maps.mask
    # DEFLATE level 1 on GDAL's threads: the maps are written in ~40 % of the time of
    # level 6 on one thread, for ~4 % more bytes (benchmarks/RESULTS.md)
    cog = functools.partial(
        write_geotiff,
        georef=georef,
        cog=True,
        threads=opts.threads or blas_threads(),
        deflate_level=1,
    )
    tags = {"units": "ppm m", "gas": plan.gas, "method": opts.method}
    cog(files["enhancement"], _fill(enh), nodata=NODATA, tags=tags)
    cog(files["uncertainty"], _fill(unc), nodata=NODATA, tags=tags)
    cog(files["mask"], mask, tags={name: str(bit) for bit, name in flags.FLAG_DESCRIPTIONS.items()})
    cog(
        files["albedo"],
        _fill(maps.albedo),
        nodata=NODATA,
        band_descriptions=["window radiance relative to the column mean"],
        tags={"units": "1"},
    )
    optional = (
        (
            "residual",
            maps.residual,
            "whitened residual of the target fit per degree of freedom",
            {"units": "1", "pixels": "enhanced (iterative: > 0; ace: > 2 sigma)"},
        ),
        (
            "score",
            maps.score,
            f"{opts.method}: cos² of the angle to the target",
            {"units": "1", "method": opts.method},
        ),
    )
    for name, layer, description, layer_tags in optional:
        path = out / f"{name}.tif"
        if layer is None:
            path.unlink(missing_ok=True)  # an earlier run's, not this method's
            continue
        files[name] = path
        cog(path, _fill(layer), nodata=NODATA, band_descriptions=[description], tags=layer_tags)
    if opts.quicklook:
        files["quicklook"] = out / "quicklook.png"
        write_enhancement_png(
            files["quicklook"],
            maps.grey,
            enh,
            title=f"{plan.gas.upper()} enhancement ({opts.method}) - {Path(plan.path).name}",
            units="ppm·m",
        )
    counts = {
        name: int(np.count_nonzero(mask & bit)) for bit, name in flags.FLAG_DESCRIPTIONS.items()
    }
    summary = DetectSummary(
        method=opts.method,
        gas=plan.gas,
        bands_used=int(plan.idx.size),
        window_nm=plan.window_nm,
        seconds=round(time.perf_counter() - t_start, 3),
        rows=plan.rows,
        cols=plan.cols,
        input=plan.path,
        outputs={k: str(v) for k, v in files.items()},
        seconds_compute=round(maps.compute, 3),
        blocks=maps.blocks,
        max_ppm_m=float(np.nanmax(enh)) if np.isfinite(enh).any() else 0.0,
        median_uncertainty_ppm_m=float(np.nanmedian(unc)) if np.isfinite(unc).any() else 0.0,
        flagged_pixels=counts,
        iterations=maps.iterations,
        group_cols=opts.group_cols,
        threads=opts.threads,
        mask_bits={name: bit for bit, name in flags.FLAG_DESCRIPTIONS.items()},
        spatial=opts.neighbourhood_step,
        target_weighting=opts.effective_target_weighting,
    )
    write_json(files["detect"], summary.to_dict())
    log.info("retrieved %s x %s pixels in %.2f s", plan.rows, plan.cols, summary.seconds)
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
