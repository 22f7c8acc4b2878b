"""Matched-filter retrievals of a gas column enhancement: classic, ACE and sparse iterative.

All filters share the linearised model of a pixel spectrum ``x`` in a column group with
background mean ``μ`` and covariance ``C``::

    x = μ + α · r · t + noise,    t = s ⊙ μ

where ``s`` is the gas's unit absorption (per ppm·m, :mod:`plumetrace.spectra`), ``α``
the column enhancement (ppm·m) and ``r`` the pixel's albedo relative to the column mean.
"""

from __future__ import annotations

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
from plumetrace.detect.masks import screen_pixels
from plumetrace.detect.result import Retrieval
from plumetrace.errors import InvalidParameterError, InvalidRadianceError, RetrievalError

__all__ = ["DEFAULT_EPSILON_PPM_M", "DEFAULT_MF_SHRINKAGE", "Method", "Penalty", "retrieve"]

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
_COMPACT = 0.6
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
    spatial: bool = False,
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
        enhancement among the pixel's 8 neighbours (:func:`_neighbourhood_step`). A plume
        is spatially contiguous and the noise is not: a pixel with three enhanced
        neighbours (as on a plume's edge) is penalised less, so plume edges and faint
        plume pixels that the per-pixel filter set to 0 are kept, while pixels beside one
        or two noise pixels are not. Lower plume-pixel error (benchmarks/RESULTS.md), but
        spatially coherent surface artefacts grow too, and with them false plumes, so it
        is off by default: False gives the per-pixel (MAG1C) result.

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

    wl = np.arange(bands, dtype=np.float64) if wavelength_nm is None else wavelength_nm
    pf = (
        screen_pixels(cube, np.asarray(wl), saturation_radiance=saturation_radiance)
        if pixel_flags is None
        else pixel_flags.astype(np.uint8, copy=True)
    )
    if not np.any((pf & fl.INVALID) == 0):
        raise InvalidRadianceError("no pixel has valid radiance in every band of the window")

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
    work: type[np.floating[Any]] = np.float64 if precision == "double" else np.float32
    groups = -(-cols // group_cols)
    _check_group_sizes(pf, group_cols, bands)
    n_chunks = max(1, min(threads or _blas_threads(), groups // _MIN_GROUPS_PER_THREAD))
    edges = np.linspace(0, groups, n_chunks + 1).round().astype(int)
    spans = [
        (int(a) * group_cols, min(int(b) * group_cols, cols)) for a, b in itertools.pairwise(edges)
    ]

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
        )

    def joined(values: Iterable[NDArray[Any]]) -> NDArray[Any]:
        return np.concatenate(list(values), axis=0)

    iterations = 0
    with _parallel(n_chunks) as run:
        fronts = run(front, spans)
        if method == "iterative":
            runs, iterations = _sparse_iterations(
                fronts,
                run,
                penalty=penalty,
                sparsity=sparsity,
                max_iter=max_iter,
                tol=tol_ppm_m,
                eps=epsilon_ppm_m,
            )
            alphas = run(_SparseRun.alpha, runs)
            if spatial:
                # The 8-neighbourhood is symmetric under transposition, and single
                # columns are stacked as the transposed image: no regrouping needed.
                m_grouped = (
                    _third_largest_neighbour(joined(alphas))
                    if group_cols == 1
                    else group_columns(
                        _third_largest_neighbour(ungroup_columns(joined(alphas), rows, cols)),
                        group_cols,
                        fill=0.0,
                    )
                )
                cuts = np.cumsum([a.shape[0] for a in alphas])[:-1]
                alphas = run(
                    _neighbourhood_step,
                    list(zip(runs, alphas, np.split(m_grouped, cuts), strict=True)),
                )
        else:
            alphas = [f.p / (f.gain * f.norm[:, None]) for f in fronts]

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
    return Retrieval(
        enhancement=ungroup_columns(alpha, rows, cols).astype(np.float32),
        uncertainty=ungroup_columns(np.asarray(sigma), rows, cols).astype(np.float32),
        flags=pf,
        albedo=ungroup_columns(r, rows, cols).astype(np.float32),
        score=None if score is None else ungroup_columns(score, rows, cols).astype(np.float32),
        iterations=iterations,
        extra=extra,
    )


T = TypeVar("T")
R = TypeVar("R")
Runner = Callable[[Callable[[T], R], Iterable[T]], list[R]]


def _blas_threads() -> int:
    """Threads BLAS may use now (threadpoolctl's view; 1 when it finds no BLAS)."""
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
) -> _Front:
    """Background, albedo and the single-pass filter of a column span of the cube."""
    stacks: NDArray[np.floating[Any]] = group_columns(cube.astype(work, copy=False), group_cols)
    gflags = group_columns(pf, group_cols, fill=fl.NO_DATA)
    usable = (gflags & fl.INVALID) == 0
    stats_ok = gflags == 0
    stats_ok |= usable & (gflags == fl.DARK)

    bg = _background(stacks, usable, stats_ok, shrinkage)
    del stacks
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
            np.matmul(bg.centered, bg.precision.astype(work)),
            bg.centered,
            dtype=np.float64,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            cos2 = np.clip(p**2 / (norm[:, None] * mahal), 0.0, 1.0)
    return _Front(bg, tau, z, norm, p, r, usable, dark, gain, spread, cos2)


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


def _sparse_iterations(
    fronts: list[_Front],
    run: Runner[Any, Any],
    *,
    penalty: Penalty,
    sparsity: float,
    max_iter: int,
    tol: float,
    eps: float,
) -> tuple[list[_SparseRun], int]:
    """Reweighted-l1, non-negative matched filter with an exact rank-2 background update.

    The background of each group is re-estimated from ``x - α r t`` at every iteration.
    Its covariance is a rank-2 change of the base covariance ``C0``:
    ``C = C0 - a tᵀ - t aᵀ + β t tᵀ`` with ``a = cov(x, α r)`` and ``β = var(α r)``,
    inverted with the Woodbury identity in O(bands²) per group.

    MAG1C's reweighted-l1 step is ``α ← max(0, α̂ - v / (α_prev + ε))``, with ``α̂`` the
    albedo-corrected matched-filter estimate under the current background and
    ``v = κ / (r² tᵀC⁻¹t)`` its variance (MAG1C: ``κ = 1``). The first iteration takes that
    step; later ones jump to its fixed point for the current background,
    ``α = (α̂ + sqrt(α̂² - 4v)) / 2`` where ``α̂ ≥ 2 sqrt(v)`` and 0 elsewhere, the value
    MAG1C's step approaches as its iterations go on (pixels between one and two sigma
    decay towards 0 only slowly there). The support never grows, so all but the first
    iteration touch only the active pixels.

    Each front (a run of column groups) iterates on its own; ``run`` maps over them
    (possibly in threads). The stopping test, the mean change over the support, is taken
    over all fronts together, so the result does not depend on how the groups are split.

    Returns
    -------
    runs : list of _SparseRun
        One per front, in their final state (:meth:`_SparseRun.alpha` gives the result).
    iterations : int
    """

    def start(f: _Front) -> _SparseRun:
        # calibration of the l1 step: measured / modelled variance of the filter
        scale = f.spread**2 * f.norm if penalty == "empirical" else np.ones_like(f.norm)
        return _SparseRun(f, sparsity * scale, eps)

    runs: list[_SparseRun] = run(start, fronts)
    iterations = 1
    while iterations < max_iter and any(r.pack.alive.any() for r in runs):
        iterations += 1
        changes: list[tuple[float, int]] = run(_SparseRun.step, runs)
        change = sum(c for c, _ in changes) / sum(n for _, n in changes)
        if change <= tol:
            break
    return runs, iterations


_NEIGHBOURS = tuple(
    (dr, dc) for dr, dc in itertools.product(range(3), range(3)) if (dr, dc) != (1, 1)
)


def _third_largest_neighbour(img: NDArray[np.float64]) -> NDArray[np.float64]:
    """Third-largest value among each pixel's 8 neighbours (0 beyond the edges).

    Parameters
    ----------
    img : (rows, cols) ndarray, non-negative
        Mostly zero (a sparse enhancement map): only pixels with at least three positive
        neighbours can have a positive result, and only those are sorted.

    Returns
    -------
    (rows, cols) ndarray
    """
    rows, cols = img.shape
    padded = np.pad(img, 1)
    positive = padded > 0
    count = np.zeros((rows, cols), dtype=np.uint8)
    for dr, dc in _NEIGHBOURS:
        count += positive[dr : dr + rows, dc : dc + cols]
    r, c = np.nonzero(count >= 3)
    around = np.stack([padded[r + dr, c + dc] for dr, dc in _NEIGHBOURS], axis=1)
    out = np.zeros_like(img)
    out[r, c] = np.partition(around, 5, axis=1)[:, 5]  # 6th smallest of 8 = 3rd largest
    return out


def _neighbourhood_step(
    state: tuple[_SparseRun, NDArray[np.float64], NDArray[np.float64]],
) -> NDArray[np.float64]:
    """One reweighted-l1 step weighted by the pixel's neighbourhood, for one front.

    Where ``m``, the third-largest of a pixel's 8 neighbours, exceeds its own converged
    ``α``, the pixel takes
    ``α = max(0, α̂ - v / (m + ε))`` with ``α̂`` the albedo-corrected matched-filter
    estimate under the background cleaned of the converged plume, and ``v`` as in the
    per-pixel step. Elsewhere ``α`` stays: for a pixel at least as enhanced as its
    neighbours the weight is its own, whose fixed point ``α`` already is. Taking the
    third-largest neighbour asks for three enhanced neighbours: a pixel on a straight
    plume edge has them, one beside one or two noise pixels does not. On simulated scenes
    (benchmarks/RESULTS.md) the largest neighbour kept 3 times as many non-zero
    background pixels as the per-pixel filter and the second-largest 1.5 times (and,
    with the plume model refitted on its maps, more false plumes); the third-largest
    keeps 1.1 times as many.

    Parameters
    ----------
    state : (_SparseRun, (groups, pixels) ndarray, (groups, pixels) ndarray)
        The front's final state, its converged ``α`` (ppm·m) and ``m`` (ppm·m).

    Returns
    -------
    (groups, pixels) ndarray, ppm·m
    """
    run, alpha, m = state
    f = run.front
    gi, pi = np.nonzero(f.usable & (m > alpha))
    if gi.size == 0:
        return alpha
    pack = run.pack
    work = pack.u.dtype
    d = pack.r * pack.alpha
    a = np.matmul(d.astype(work)[:, None, :], pack.u)[:, 0, :].astype(np.float64)
    c1, c2, q, norm, dbar = run._update(d, a)
    # a few per cent of the pixels: gather their spectra
    uq = np.einsum("kb,kb->k", run.bg.centered[gi, pi], q.astype(work)[gi], dtype=np.float64)
    gain = f.gain[gi, pi]
    hat = (c1[gi] * f.p[gi, pi] + c2[gi] * uq + (dbar * norm)[gi]) / (gain * norm[gi])
    v = run.kappa[gi] / (norm[gi] * gain**2)
    out = alpha.copy()
    out[gi, pi] = np.maximum(hat - v / (m[gi, pi] + run.eps), 0.0)
    return out


class _SparseRun:
    """The sparse filter's state on one front: its first iteration, then ``step``s."""

    def __init__(self, f: _Front, kappa: NDArray[np.float64], eps: float) -> None:
        bg = self.bg = f.bg
        self.front, self.eps = f, eps
        self.z, self.kappa = f.z, kappa
        self.npix = f.p.shape[1]
        work = bg.centered.dtype
        self.n = bg.n_valid.astype(np.float64)
        _ = bg.precision  # one inversion, then every iteration's solve is a mat-vec
        # The shrunk covariance keeps (1 - λ) of the sample covariance, so the rank-2
        # change of the sample covariance enters scaled by (1 - λ).
        self.keep_frac = 1.0 - bg.shrinkage
        tz = self.tz = np.einsum("gb,gb->g", f.tau, f.z)
        gain, p = f.gain, f.p
        alpha0 = np.where(f.usable, p / (gain * tz[:, None]), 0.0)
        # First iteration over all pixels (full BLAS passes): the background is cleaned
        # with the single-pass estimate, then MAG1C's reweighted step is taken from it.
        alpha0 = np.maximum(alpha0, 0.0)
        d = gain * alpha0
        d[alpha0 == 0] = 0.0
        a = np.matmul(d.astype(work)[:, None, :], bg.centered)[:, 0, :].astype(np.float64)
        c1, c2, q, norm, dbar = self._update(d, a)
        uq = np.matmul(bg.centered, q.astype(work)[..., None])[..., 0].astype(np.float64)
        hat = (c1[:, None] * p + c2[:, None] * uq + (dbar * norm)[:, None]) / (gain * norm[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = hat - (kappa / norm)[:, None] / (gain**2 * (alpha0 + eps))
        alpha = np.where(alpha0 > 0, np.maximum(step, 0.0), 0.0)
        # Later iterations work on the support only, packed per group into a padded
        # (groups, width, bands) block so that every pass is a batched BLAS product.
        self.pack = _pack(alpha > 0, bg.centered, alpha, gain, p)

    def _update(
        self, d: NDArray[np.float64], a_sum: NDArray[np.float64]
    ) -> tuple[
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.float64],
    ]:
        """Woodbury terms of the background cleaned of ``d`` (= α r per pixel)."""
        n = self.n
        a = a_sum / n[:, None]
        dbar = d.sum(axis=1) / n
        beta = (d**2).sum(axis=1) / n - dbar**2
        kf = self.keep_frac
        c1, c2, q, norm = _woodbury(self.bg, kf[:, None] * a, kf * beta, self.z, self.tz)
        return c1, c2, q, norm, dbar

    def step(self) -> tuple[float, int]:
        """One iteration on the support; returns the summed change (ppm·m) and its size."""
        pack = self.pack
        work = pack.u.dtype
        d = pack.r * pack.alpha  # zero on padding and on pixels that left the support
        a = np.matmul(d.astype(work)[:, None, :], pack.u)[:, 0, :].astype(np.float64)
        c1, c2, q, norm, dbar = self._update(d, a)
        uq = np.matmul(pack.u, q.astype(work)[..., None])[..., 0].astype(np.float64)
        numer = c1[:, None] * pack.p + c2[:, None] * uq + (dbar * norm)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            hat = numer / (pack.r * norm[:, None])
            v = (self.kappa / norm)[:, None] / pack.r**2
            disc = hat**2 - 4.0 * v
            new = np.where((hat > 0) & (disc >= 0), 0.5 * (hat + np.sqrt(np.abs(disc))), 0.0)
        new[~pack.alive] = 0.0  # pixels that left the support stay out
        moved = np.abs(new - pack.alpha)[pack.alive]
        pack.alpha = new
        pack.alive = new > 0
        if pack.alive.sum() < _COMPACT * pack.packed:
            self.pack = pack.repacked()
        return float(moved.sum()), int(moved.size)

    def alpha(self) -> NDArray[np.float64]:
        """Return the enhancement of every pixel of the front, (groups, pixels), ppm·m."""
        pack = self.pack
        out = np.zeros((pack.alive.shape[0], self.npix))
        gi, slot = np.nonzero(pack.alive)
        out[gi, pack.pixel[gi, slot]] = pack.alpha[gi, slot]
        return out


@dataclass
class _Pack:
    """Active pixels of every group, left-aligned in padded ``(groups, width)`` arrays."""

    alive: NDArray[np.bool_]
    pixel: NDArray[np.intp]
    u: NDArray[np.floating[Any]]
    alpha: NDArray[np.float64]
    r: NDArray[np.float64]
    p: NDArray[np.float64]
    packed: int

    def repacked(self) -> _Pack:
        """Drop the pixels that left the support and shrink the width."""
        return _pack(self.alive, self.u, self.alpha, self.r, self.p, self.pixel)


def _pack(
    alive: NDArray[np.bool_],
    u: NDArray[np.floating[Any]],
    alpha: NDArray[np.float64],
    r: NDArray[np.float64],
    p: NDArray[np.float64],
    pixel: NDArray[np.intp] | None = None,
) -> _Pack:
    """Gather the ``alive`` entries of (groups, k) arrays into padded (groups, width)."""
    groups = alive.shape[0]
    gi, src = np.nonzero(alive)
    counts = np.bincount(gi, minlength=groups)
    width = max(int(counts.max()) if gi.size else 0, 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(gi.size) - starts[gi]
    out_alive = np.zeros((groups, width), dtype=bool)
    out_alive[gi, slot] = True
    out_pixel = np.zeros((groups, width), dtype=np.intp)
    out_pixel[gi, slot] = src if pixel is None else pixel[gi, src]
    out_u = np.zeros((groups, width, u.shape[2]), dtype=u.dtype)
    out_u[gi, slot] = u[gi, src]

    def take(x: NDArray[np.float64], fill: float) -> NDArray[np.float64]:
        y = np.full((groups, width), fill)
        y[gi, slot] = x[gi, src]
        return y

    return _Pack(
        alive=out_alive,
        pixel=out_pixel,
        u=out_u,
        alpha=take(alpha, 0.0),
        r=take(r, 1.0),
        p=take(p, 0.0),
        packed=int(gi.size),
    )


def _woodbury(
    bg: ColumnBackground,
    a: NDArray[np.float64],
    beta: NDArray[np.float64],
    z: NDArray[np.float64],
    tz: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``C⁻¹ t = c1 z + c2 q`` for ``C = C0 - a tᵀ - t aᵀ + β t tᵀ`` (Woodbury, rank 2).

    With ``V = [a, t]`` and ``M = [[0, -1], [-1, β]]``, ``C = C0 + V M Vᵀ`` and
    ``C⁻¹ t = z - [q, z] K⁻¹ [aᵀz, tᵀz]`` where ``z = C0⁻¹ t``, ``q = C0⁻¹ a`` and
    ``K = M⁻¹ + Vᵀ C0⁻¹ V``, ``M⁻¹ = [[-β, -1], [-1, 0]]``.

    Returns
    -------
    c1, c2 : (groups,) ndarray
    q : (groups, bands) ndarray
    norm : (groups,) ndarray
        ``tᵀ C⁻¹ t``.
    """
    q = bg.solve(a)
    aq = np.einsum("gb,gb->g", a, q)
    az = np.einsum("gb,gb->g", a, z)
    k00 = aq - beta
    k01 = az - 1.0
    det = k00 * tz - k01 * k01
    safe = np.abs(det) > 1e-300
    det = np.where(safe, det, 1.0)
    y0 = np.where(safe, (tz * az - k01 * tz) / det, 0.0)
    y1 = np.where(safe, (k00 * tz - k01 * az) / det, 0.0)
    c1 = 1.0 - y1
    c2 = -y0
    return c1, c2, q, c1 * tz + c2 * az
