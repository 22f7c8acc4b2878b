"""People within a radius of each site, from a population raster (persons per pixel).

The integral of the persons-per-pixel field over a disk, with fractional pixel overlap:
the disk is mapped to raster pixels through the raster's local Jacobian at the site and
cut by scan lines; along each line the covered length of every pixel is exact (row
prefix sums), across lines the midpoint rule, rescaled so the lines' area equals the
disk's (see :mod:`plumetrace.sites.context` for the full method and its accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import numba
import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer

if TYPE_CHECKING:
    from plumetrace.sites.context import PopulationGrid

__all__ = ["MIN_COVERAGE", "MIN_LINES", "people_in_disks"]

MIN_LINES = 40
"""At least this many scan lines cross each disk."""
MIN_COVERAGE = 0.5
"""Fraction of a disk on the raster below which a count is None (NaN)."""
_JACOBIAN_STEP_M = 50.0


def _pixel_coords(
    grid: PopulationGrid, to_grid: Transformer, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return continuous (col, row) of lon/lat points (pixel (r, c) spans [r, r+1) x [c, c+1))."""
    gx, gy = to_grid.transform(lon, lat)
    a, b, c, d, e, f = grid.transform
    det = a * e - b * d
    dx, dy = np.asarray(gx) - c, np.asarray(gy) - f
    return (e * dx - b * dy) / det, (a * dy - d * dx) / det


@numba.njit(cache=True)
def _row_integral(prefix: NDArray[np.float64], row: int, col: float) -> float:
    """Integrate row ``row`` of the raster from column 0 to continuous column ``col``."""
    ncols = prefix.shape[1] - 1
    ci = math.floor(col)
    if ci >= ncols:
        return float(prefix[row, ncols])
    return float(prefix[row, ci] + (col - ci) * (prefix[row, ci + 1] - prefix[row, ci]))


@numba.njit(cache=True)
def _disk_counts_kernel(
    prefix: NDArray[np.float64],
    c0: NDArray[np.float64],
    r0: NDArray[np.float64],
    jac: NDArray[np.float64],
    radius: float,
    counts: NDArray[np.float64],
    coverage: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    nrows = prefix.shape[0]
    ncols = prefix.shape[1] - 1
    for s in range(c0.size):
        j00, j01, j10, j11 = jac[s, 0], jac[s, 1], jac[s, 2], jac[s, 3]
        det = j00 * j11 - j01 * j10
        # metres from pixel offsets: u = K @ [dc, dr], K = J⁻¹; |u| <= R is quadratic in dc
        k00, k01, k10, k11 = j11 / det, -j01 / det, -j10 / det, j00 / det
        qa = k00 * k00 + k10 * k10
        qb = k00 * k01 + k10 * k11
        qc = k01 * k01 + k11 * k11
        dr_max = radius * math.sqrt(j10 * j10 + j11 * j11)
        sub = max(1, math.ceil(MIN_LINES / (2.0 * dr_max)))
        first = math.floor((r0[s] - dr_max) * sub)
        last = math.ceil((r0[s] + dr_max) * sub)
        acc = 0.0
        chords = 0.0
        covered = 0.0
        for line in range(first, last):
            rl = (line + 0.5) / sub
            dr = rl - r0[s]
            disc = (qb * dr) ** 2 - qa * (qc * dr * dr - radius * radius)
            if disc <= 0.0:
                continue
            half = math.sqrt(disc) / qa
            mid = c0[s] - qb * dr / qa
            chords += 2.0 * half
            ri = math.floor(rl)
            if ri < 0 or ri >= nrows:
                continue
            lo = max(mid - half, 0.0)
            hi = min(mid + half, float(ncols))
            if hi > lo:
                covered += hi - lo
                acc += _row_integral(prefix, ri, hi) - _row_integral(prefix, ri, lo)
        if chords > 0.0 and covered > 0.0:
            # people = acc / sub; area correction: the lines' chords / sub become the
            # ellipse's exact area πR²|det J| (pixels²)
            counts[s] = acc * math.pi * radius * radius * abs(det) / chords
            coverage[s] = covered / chords
        else:
            counts[s] = 0.0
            coverage[s] = 0.0


# numba dispatcher, typed for mypy: people in each disk and the disk's covered fraction
_disk_counts = cast(Callable[..., None], _disk_counts_kernel)


def people_in_disks(
    grid: PopulationGrid,
    to_grid: Transformer,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    inv: Transformer,
    radii: tuple[float, ...],
) -> list[NDArray[np.float64]]:
    """Count people within each radius of points on a local projection.

    Parameters
    ----------
    grid : PopulationGrid
        Persons per pixel.
    to_grid : Transformer
        WGS84 lon/lat -> the raster's CRS.
    x, y : (n,) ndarray, m
        Points on the local projection ``inv`` maps back to lon/lat.
    inv : Transformer
        Local projection -> WGS84 lon/lat.
    radii : tuple of float, m

    Returns
    -------
    list of (n,) ndarray, persons
        One array per radius; NaN where less than :data:`MIN_COVERAGE` of the disk lies
        on the raster.
    """
    n = x.size
    h = _JACOBIAN_STEP_M
    lon, lat = inv.transform(np.concatenate([x, x + h, x]), np.concatenate([y, y, y + h]))
    col, row = _pixel_coords(grid, to_grid, np.asarray(lon), np.asarray(lat))
    c0, r0 = col[:n], row[:n]
    # pixels per metre, [dcol, drow] = J @ [dx, dy], as rows (dc/dx, dc/dy, dr/dx, dr/dy)
    jac = (
        np.column_stack(
            [col[n : 2 * n] - c0, col[2 * n :] - c0, row[n : 2 * n] - r0, row[2 * n :] - r0]
        )
        / h
    )
    filled = np.nan_to_num(np.asarray(grid.values, dtype=np.float64), nan=0.0)
    prefix = np.zeros((filled.shape[0], filled.shape[1] + 1))
    np.cumsum(filled, axis=1, out=prefix[:, 1:])
    out = []
    for radius in radii:
        counts = np.empty(n)
        coverage = np.empty(n)
        _disk_counts(prefix, c0, r0, jac, float(radius), counts, coverage)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(np.where(coverage >= MIN_COVERAGE, counts / coverage, np.nan))
    return out
