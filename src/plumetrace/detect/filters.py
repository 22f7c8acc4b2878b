"""Matched-filter retrievals of a gas column enhancement: classic, ACE and sparse iterative.

All filters share the linearised model of a pixel spectrum ``x`` in a column group with
background mean ``μ`` and covariance ``C``::

    x = μ + α · r · t + noise,    t = s ⊙ μ

where ``s`` is the gas's unit absorption (per ppm·m, :mod:`plumetrace.spectra`), ``α``
the column enhancement (ppm·m) and ``r`` the pixel's albedo relative to the column mean.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_info, threadpool_limits

from plumetrace.detect import flags as fl
from plumetrace.detect.background import (
    ColumnBackground,
    Shrinkage,
    estimate_background,
    group_columns,
    ungroup_columns,
)
from plumetrace.detect.masks import PixelSummary, pixel_summary, screen_pixels
from plumetrace.detect.residual import fit_residual
from plumetrace.detect.result import Retrieval
from plumetrace.detect.sparse import SparseRun, neighbourhood_pass, sparse_iterations
from plumetrace.errors import InvalidParameterError, InvalidRadianceError, RetrievalError

__all__ = [
    "DEFAULT_EPSILON_PPM_M",
    "DEFAULT_MF_SHRINKAGE",
    "Method",
    "Penalty",
    "blas_threads",
    "retrieve",
]

Method = Literal["mf", "iterative", "ace"]
Penalty = Literal["empirical", "model"]

DEFAULT_EPSILON_PPM_M = 1e-4
"""Reweighting floor of the iterative filter, ppm·m (MAG1C's 1e-9 in units of 1e5 ppm·m)."""

DEFAULT_MF_SHRINKAGE = 1e-4
"""Weight of ``diag(C)`` in the classic filters' covariance.

A small ridge keeps the inverse stable without blurring the low-variance clutter
directions a matched filter must null. The Ledoit-Wolf weight (``shrinkage="auto"``)
minimises the covariance's Frobenius error, not the filter's: on simulated scenes it picks
~0.004 and raises the background standard deviation by ~30 % (benchmarks/RESULTS.md)."""

_DARK_ALBEDO = 0.1
_MIN_GROUPS_PER_THREAD = 32


def retrieve(
    cube: NDArray[np.floating],
    absorption_per_ppm_m: NDArray[np.floating],
    *,
    method: Method = "iterative",
    wavelength_nm: NDArray[np.floating] | None = None,
    group_cols: int = 1,
    shrinkage: Shrinkage | None = None,
    albedo_correction: bool | None = None,
    max_iter: int = 30,
    tol_ppm_m: float = 0.2,
    epsilon_ppm_m: float = DEFAULT_EPSILON_PPM_M,
    penalty: Penalty = "model",
    sparsity: float = 1.0,
    precision: Literal["single", "double"] | None = None,
    pixel_flags: NDArray[np.uint8] | None = None,
    saturation_radiance: float | None = None,
    threads: int | None = None,
    spatial: bool = True,
) -> Retrieval:
    """Retrieve a gas column enhancement from a radiance cube.

    Parameters
    ----------
    cube : (rows, cols, bands) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        Radiance in the retrieval window; NaN for no data.
    absorption_per_ppm_m : (bands,) ndarray, (ppm·m)⁻¹
        Unit absorption of the gas at the same bands (negative where it absorbs).
    method : {"iterative", "mf", "ace"}
        ``"mf"``: columnwise matched filter (Thompson et al. 2015, AMT 8, 4383) with a
        shrinkage covariance. ``"ace"``: adaptive cosine estimator (Kraut, Scharf &
        McWhorter 2001): the enhancement is the matched-filter estimate and the
        detection statistic ``cos² θ`` (0-1, scale-invariant) is returned as ``score``.
        ``"iterative"``: albedo-corrected, non-negative, reweighted-l1 sparse matched
        filter in the manner of MAG1C (Foote et al. 2020, IEEE TGRS 58, 6480), with an
        exact rank-2 background update and work only on the shrinking support.
    wavelength_nm : (bands,) ndarray, nm, optional
        Band centres, used only to screen flares.
    group_cols : int
        Neighbouring columns pooled per background estimate.
    shrinkage : "auto", "none", float or None
        Covariance shrinkage towards the diagonal
        (:func:`~plumetrace.detect.background.estimate_background`). Default:
        :data:`DEFAULT_MF_SHRINKAGE` for ``"mf"`` and ``"ace"``; ``"none"`` for
        ``"iterative"`` (as MAG1C), whose background update removes the plume's
        contamination of the covariance exactly only without shrinkage.
    albedo_correction : bool, optional
        Scale the target by each pixel's albedo; default True for ``"iterative"``,
        False otherwise (the classic filters).
    max_iter : int
        Iterations of the sparse filter at most (MAG1C's default is 30).
    tol_ppm_m : float, ppm·m
        The sparse filter stops when the mean change over its support falls to this.
    epsilon_ppm_m : float, ppm·m
        Floor of the reweighting ``1 / (α + ε)``.
    penalty : {"empirical", "model"}
        Scale of the sparse filter's reweighted-l1 step ``σ² / (α + ε)``: ``"model"``
        (default) takes ``σ² = 1 / (r² tᵀC⁻¹t)`` exactly as MAG1C; ``"empirical"``
        scales it by the ratio of the filter's measured to modelled background variance,
        which stays calibrated when the covariance is shrunk.
    sparsity : float
        Multiplies the l1 step's variance scale (MAG1C: 1). Pixels are kept above about
        ``2 sqrt(sparsity)`` standard deviations: lower values keep fainter plume pixels
        and more background speckle.
    precision : {"single", "double"}, optional
        Arithmetic of the covariance and filter passes. Default: ``"double"`` for the
        classic filters with an unshrunk covariance (its inverse is then ill-conditioned
        and float32 rounding shows as tens of ppm·m pixel by pixel), ``"single"``
        otherwise: the ridge bounds the condition number, and the sparse filter's output
        is thresholded at two sigma, far above that rounding (benchmarks/RESULTS.md).
    pixel_flags : (rows, cols) ndarray of uint8, optional
        Precomputed flags (:func:`~plumetrace.detect.masks.screen_pixels`).
    saturation_radiance : float, optional
        Detector clipping level for screening, µW cm⁻² sr⁻¹ nm⁻¹.
    threads : int, optional
        Threads to split the column groups over (each with a one-thread BLAS while they
        run). Default: the thread count BLAS is allowed at the call (threadpoolctl limits,
        ``OPENBLAS_NUM_THREADS``, ...; one inside a Dask worker). Groups are independent
        and the sparse filter's stopping test is taken over all of them together, so the
        result does not depend on this (up to float rounding in the stopping test).
    spatial : bool
        ``"iterative"`` only: after the per-pixel iterations, take one more reweighted-l1
        step whose weight is ``1 / (max(α, m) + ε)``, ``m`` the third-largest
        enhancement among the pixel's 8 neighbours
        (:meth:`plumetrace.detect.sparse.SparseRun.neighbourhood_step`). A plume
        is spatially contiguous and the noise is not: a pixel with three enhanced
        neighbours (as on a plume's edge) is penalised less, so plume edges and faint
        plume pixels that the per-pixel filter set to 0 are kept, while pixels beside one
        or two noise pixels are not: lower plume-pixel error than MAG1C's at the same
        background spread (benchmarks/RESULTS.md). Spatially coherent surface artefacts
        grow too; ``plumes`` weighs them with the spectral residual (``residual``).
        False gives the per-pixel (MAG1C) result.

    Returns
    -------
    Retrieval
    """
    if cube.ndim != 3:
        raise InvalidRadianceError(f"a radiance cube needs 3 dimensions, got {cube.ndim}")
    rows, cols, bands = cube.shape
    s = np.asarray(absorption_per_ppm_m, dtype=np.float64)
    if s.shape != (bands,):
        raise InvalidParameterError(f"the target has {s.size} bands but the cube has {bands}")
    if not np.any(s != 0):
        raise InvalidParameterError("the target is zero in every band of the window")
    if method not in ("mf", "iterative", "ace"):
        raise InvalidParameterError(f"unknown method {method!r}; choose mf, iterative or ace")
    if albedo_correction is None:
        albedo_correction = method == "iterative"
    if shrinkage is None:
        shrinkage = "none" if method == "iterative" else DEFAULT_MF_SHRINKAGE

    if precision is None:
        precision = "double" if shrinkage == "none" and method != "iterative" else "single"
    if precision not in ("single", "double"):
        raise InvalidParameterError(f"unknown precision {precision!r}; use single or double")
    if method == "iterative":
        if penalty not in ("empirical", "model"):
            raise InvalidParameterError(f"unknown penalty {penalty!r}")
        if sparsity <= 0:
            raise InvalidParameterError(f"sparsity must be positive, got {sparsity}")
    if group_cols < 1:
        raise InvalidParameterError("group_cols must be at least 1")
    if threads is not None and threads < 1:
        raise InvalidParameterError(f"threads must be at least 1, got {threads}")
    if pixel_flags is not None and pixel_flags.shape != (rows, cols):
        raise InvalidParameterError(
            f"pixel_flags has shape {pixel_flags.shape}, the cube {rows} x {cols} pixels"
        )
    work: type[np.floating[Any]] = np.float64 if precision == "double" else np.float32
    groups = -(-cols // group_cols)
    n_chunks = max(1, min(threads or blas_threads(), groups // _MIN_GROUPS_PER_THREAD))
    edges = np.linspace(0, groups, n_chunks + 1).round().astype(int)
    spans = [
        (int(a) * group_cols, min(int(b) * group_cols, cols)) for a, b in itertools.pairwise(edges)
    ]
    wl = np.arange(bands, dtype=np.float64) if wavelength_nm is None else wavelength_nm
    with _parallel(n_chunks) as run:
        if pixel_flags is None:
            # the per-pixel passes over the cube run per span; the scene-wide decisions
            # (plateaus, flare ratios) are taken on the joined summary
            with_max = saturation_radiance is not None
            parts = run(lambda sp: pixel_summary(cube[:, sp[0] : sp[1]], with_max=with_max), spans)
            pf = screen_pixels(
                cube,
                np.asarray(wl),
                saturation_radiance=saturation_radiance,
                summary=PixelSummary.join(parts),
            )
        else:
            pf = pixel_flags.astype(np.uint8, copy=True)
        if not np.any((pf & fl.INVALID) == 0):
            raise InvalidRadianceError("no pixel has valid radiance in every band of the window")
        _check_group_sizes(pf, group_cols, bands)

        def front(span: tuple[int, int]) -> _Front:
            c0, c1 = span
            return _front(
                cube[:, c0:c1],
                pf[:, c0:c1],
                s,
                work,
                group_cols,
                shrinkage,
                albedo_correction=bool(albedo_correction),
                ace=method == "ace",
                invert=method != "mf",
            )

        iterations = 0
        fronts = run(front, spans)
        if method == "iterative":
            runs, iterations = sparse_iterations(
                fronts,
                run,
                penalty=penalty,
                sparsity=sparsity,
                max_iter=max_iter,
                tol=tol_ppm_m,
                eps=epsilon_ppm_m,
            )
            alphas = run(SparseRun.alpha, runs)
            if spatial:
                alphas = neighbourhood_pass(runs, alphas, run, rows, cols, group_cols)
        else:
            alphas = [f.p / (f.gain * f.norm[:, None]) for f in fronts]
        # the residual needs the inverse covariance, which iterative and ace have; the
        # classic filter only solves with it, and one inversion per group would cost it
        # ~25 % of its time
        residuals = (
            None
            if method == "mf"
            else run(
                functools.partial(_fit_residual, floor_sigma=0.0 if method == "iterative" else 2.0),
                list(zip(fronts, alphas, strict=True)),
            )
        )

    def joined(values: Iterable[NDArray[Any]]) -> NDArray[Any]:
        return np.concatenate(list(values), axis=0)

    usable = joined(f.usable for f in fronts)
    dark = joined(f.dark for f in fronts)
    alpha = np.where(usable, joined(alphas), np.nan)
    sigma = np.where(usable, joined(f.spread[:, None] / f.gain for f in fronts), np.nan)
    r = joined(f.r for f in fronts)
    score: NDArray[np.float64] | None = None
    if method == "ace":
        score = np.where(usable, joined(f.cos2 for f in fronts if f.cos2 is not None), np.nan)
    extra: dict[str, float] = {
        "mean_shrinkage": float(np.mean(joined(f.bg.shrinkage for f in fronts))),
        "median_sigma_ppm_m": float(np.median(joined(f.spread for f in fronts))),
    }
    pf |= np.where(ungroup_columns(dark, rows, cols), fl.DARK, 0).astype(np.uint8)
    residual = (
        None
        if residuals is None
        else ungroup_columns(joined(residuals), rows, cols).astype(np.float32)
    )
    return Retrieval(
        enhancement=ungroup_columns(alpha, rows, cols).astype(np.float32),
        uncertainty=ungroup_columns(np.asarray(sigma), rows, cols).astype(np.float32),
        flags=pf,
        albedo=ungroup_columns(r, rows, cols).astype(np.float32),
        score=None if score is None else ungroup_columns(score, rows, cols).astype(np.float32),
        residual=residual,
        iterations=iterations,
        extra=extra,
    )


T = TypeVar("T")
R = TypeVar("R")
Runner = Callable[[Callable[[T], R], Iterable[T]], list[R]]


def blas_threads() -> int:
    """Threads BLAS may use now (threadpoolctl's view; 1 when it finds no BLAS).

    The retrieval's default thread count, and the pipeline's for writing its products.
    """
    counts = [int(d["num_threads"]) for d in threadpool_info() if d.get("user_api") == "blas"]
    return max(1, min(counts)) if counts else 1


@contextmanager
def _parallel(n: int) -> Iterator[Runner[Any, Any]]:
    """Yield a ``map`` over ``n`` threads, each with a one-thread BLAS (plain for 1)."""
    if n <= 1:
        yield lambda fn, items: [fn(x) for x in items]
        return
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n) as pool:
        yield lambda fn, items: list(pool.map(fn, items))


def _check_group_sizes(pf: NDArray[np.uint8], group_cols: int, bands: int) -> None:
    """Raise before any work if a column group has too few pixels for its background."""
    ok = group_columns(pf, group_cols, fill=fl.NO_DATA)
    n = ((ok == 0) | (ok == fl.DARK)).sum(axis=1)
    need = bands + 1
    if np.any(n < need):
        bad = np.flatnonzero(n < need)
        raise RetrievalError(
            f"{bad.size} column group(s) (first: {int(bad[0])}) have fewer than {need} valid "
            f"pixels for a {bands}-band background; pool columns (group_cols) or widen the scene"
        )


@dataclass
class _Front:
    """The single-pass filter of a run of column groups (pure per-group arrays).

    Shapes: ``(g, bands)`` for ``tau``/``z``, ``(g,)`` for ``norm``/``spread``, ``(g, pixels)``
    for the per-pixel arrays.
    """

    bg: ColumnBackground
    tau: NDArray[np.float64]
    z: NDArray[np.float64]
    norm: NDArray[np.float64]
    p: NDArray[np.float64]
    r: NDArray[np.float64]
    usable: NDArray[np.bool_]
    dark: NDArray[np.bool_]
    gain: NDArray[np.float64]
    spread: NDArray[np.float64]
    cos2: NDArray[np.float64] | None


def _front(
    cube: NDArray[np.floating],
    pf: NDArray[np.uint8],
    s: NDArray[np.float64],
    work: type[np.floating[Any]],
    group_cols: int,
    shrinkage: Shrinkage,
    *,
    albedo_correction: bool,
    ace: bool,
    invert: bool,
) -> _Front:
    """Background, albedo and the single-pass filter of a column span of the cube.

    ``invert``: the caller will need the inverse covariance (the sparse iterations, the
    residual, ACE); it is then computed first and every solve is a mat-vec with it.
    """
    stacks: NDArray[np.floating[Any]] = group_columns(cube.astype(work, copy=False), group_cols)
    gflags = group_columns(pf, group_cols, fill=fl.NO_DATA)
    usable = (gflags & fl.INVALID) == 0
    stats_ok = gflags == 0
    stats_ok |= usable & (gflags == fl.DARK)

    bg = _background(stacks, usable, stats_ok, shrinkage)
    del stacks
    if invert:
        _ = bg.precision
    tau = s[None, :] * bg.mean  # (groups, bands)
    z = bg.solve(tau)
    norm = np.einsum("gb,gb->g", tau, z)
    p = np.matmul(bg.centered, z.astype(work)[..., None])[..., 0].astype(np.float64)
    mu = bg.mean
    r = 1.0 + np.matmul(bg.centered, (mu / np.sum(mu**2, axis=1)[:, None]).astype(work)[..., None])[
        ..., 0
    ].astype(np.float64)
    r = np.where(usable, r, np.nan)
    dark = usable & (r < _DARK_ALBEDO)
    gain = np.where(dark, np.maximum(r, _DARK_ALBEDO), r) if albedo_correction else np.ones_like(p)
    # One-sigma noise of the filter: the robust spread of its output over each group's
    # background (equals 1/sqrt(tᵀC⁻¹t) for an unshrunk covariance and Gaussian noise;
    # stays honest when shrinkage or non-Gaussian clutter make that formula optimistic).
    spread = _robust_std(p / norm[:, None], stats_ok)
    cos2 = None
    if ace:
        mahal = np.einsum(
            "gnb,gnb->gn",
            np.matmul(bg.centered, bg.precision_work),
            bg.centered,
            dtype=np.float64,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            cos2 = np.clip(p**2 / (norm[:, None] * mahal), 0.0, 1.0)
    return _Front(bg, tau, z, norm, p, r, usable, dark, gain, spread, cos2)


def _fit_residual(
    item: tuple[_Front, NDArray[np.float64]], floor_sigma: float
) -> NDArray[np.float64]:
    """Target-fit residual of a front's pixels enhanced above ``floor_sigma`` sigma."""
    f, alpha = item
    floor = floor_sigma * f.spread[:, None] / f.gain if floor_sigma > 0 else 0.0
    with np.errstate(invalid="ignore"):
        select = f.usable & (alpha > floor)
    return fit_residual(f.bg.centered, f.bg.precision_work, f.p, f.norm, select)


def _background(
    stacks: NDArray[np.floating[Any]],
    usable: NDArray[np.bool_],
    stats_ok: NDArray[np.bool_],
    shrinkage: Shrinkage,
) -> ColumnBackground:
    """Background from ``stats_ok`` pixels; ``centered`` also filled for usable ones."""
    extra = usable & ~stats_ok
    gi, pi = np.nonzero(extra)
    raw = stacks[gi, pi].copy()
    bg = estimate_background(stacks, stats_ok, shrinkage=shrinkage)
    if gi.size:
        bg.centered[gi, pi] = raw - bg.mean[gi]
    return bg


def _robust_std(values: NDArray[np.float64], ok: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per-group 1.4826 x median absolute deviation of ``values`` over ``ok`` pixels.

    Parameters
    ----------
    values : (groups, pixels) ndarray
    ok : (groups, pixels) ndarray of bool

    Returns
    -------
    (groups,) ndarray
    """
    # Sorting with the excluded values pushed to +inf gives exact order statistics
    # without nanmedian's slow per-row path.
    k = ok.sum(axis=1)
    lo, hi = np.maximum((k - 1) // 2, 0)[:, None], np.maximum(k // 2, 0)[:, None]

    def _median(v: NDArray[np.float64]) -> NDArray[np.float64]:
        srt = np.sort(np.where(ok, v, np.inf), axis=1)
        return np.asarray(
            0.5 * (np.take_along_axis(srt, lo, 1) + np.take_along_axis(srt, hi, 1))[:, 0]
        )

    med = _median(values)
    return 1.4826 * _median(np.abs(values - med[:, None]))
