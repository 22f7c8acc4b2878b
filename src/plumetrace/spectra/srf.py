"""Gaussian spectral response functions: high-resolution spectra -> sensor bands."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import InvalidParameterError

__all__ = ["FWHM_TO_SIGMA", "convolve_to_bands", "response_matrix"]

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
"""Factor from a Gaussian's full width at half maximum to its standard deviation."""

_CUTOFF_SIGMAS = 4.0


def response_matrix(grid_nm: ArrayLike, centers_nm: ArrayLike, fwhm_nm: ArrayLike) -> sp.csr_array:
    """Build the normalised Gaussian response of each band on a fine wavelength grid.

    Parameters
    ----------
    grid_nm : (n,) array_like, nm
        Increasing high-resolution wavelength grid (may be non-uniform).
    centers_nm, fwhm_nm : (bands,) array_like, nm
        Band centres and full widths at half maximum.

    Returns
    -------
    (bands, n) scipy.sparse.csr_array
        Row ``b`` holds the trapezoid-weighted Gaussian response of band ``b``,
        normalised to sum to 1. Bands whose response (within 4 sigma) is not fully
        covered by the grid get an all-zero row; :func:`convolve_to_bands` returns NaN
        for them.
    """
    grid = np.asarray(grid_nm, dtype=np.float64)
    centers = np.atleast_1d(np.asarray(centers_nm, dtype=np.float64))
    fwhm = np.broadcast_to(np.asarray(fwhm_nm, dtype=np.float64), centers.shape)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise InvalidParameterError("wavelength grid must be 1-D and strictly increasing")
    if np.any(~np.isfinite(fwhm)) or np.any(fwhm <= 0):
        raise InvalidParameterError("every band needs a positive, finite FWHM")
    # trapezoid weights of the (possibly non-uniform) grid
    dw = np.empty_like(grid)
    dw[1:-1] = 0.5 * (grid[2:] - grid[:-2])
    dw[0] = 0.5 * (grid[1] - grid[0])
    dw[-1] = 0.5 * (grid[-1] - grid[-2])
    sigma = fwhm * FWHM_TO_SIGMA
    lo = np.searchsorted(grid, centers - _CUTOFF_SIGMAS * sigma)
    hi = np.searchsorted(grid, centers + _CUTOFF_SIGMAS * sigma, side="right")
    covered = (centers - _CUTOFF_SIGMAS * sigma >= grid[0]) & (
        centers + _CUTOFF_SIGMAS * sigma <= grid[-1]
    )
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    for b in np.flatnonzero(covered):
        idx = np.arange(lo[b], hi[b])
        w = np.exp(-0.5 * ((grid[idx] - centers[b]) / sigma[b]) ** 2) * dw[idx]
        rows.append(np.full(idx.size, b))
        cols.append(idx)
        vals.append(w / w.sum())
    if not rows:
        return sp.csr_array((centers.size, grid.size))
    return sp.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(centers.size, grid.size),
    )


def convolve_to_bands(
    grid_nm: ArrayLike, spectra: ArrayLike, centers_nm: ArrayLike, fwhm_nm: ArrayLike
) -> NDArray[np.float64]:
    """Convolve high-resolution spectra with Gaussian band responses.

    Parameters
    ----------
    grid_nm : (n,) array_like, nm
        High-resolution wavelength grid.
    spectra : (..., n) array_like
        Spectra on that grid (any units).
    centers_nm, fwhm_nm : (bands,) array_like, nm
        Band centres and FWHM.

    Returns
    -------
    (..., bands) ndarray
        Band-averaged values; NaN for bands the grid does not cover.
    """
    s = np.asarray(spectra, dtype=np.float64)
    grid = np.asarray(grid_nm, dtype=np.float64)
    if s.shape[-1] != grid.size:
        raise InvalidParameterError(
            f"spectra have {s.shape[-1]} samples but the grid has {grid.size}"
        )
    m = response_matrix(grid, centers_nm, fwhm_nm)
    flat = s.reshape(-1, grid.size)
    out = (m @ flat.T).T
    empty = np.diff(m.indptr) == 0
    out[:, empty] = np.nan
    return np.asarray(out.reshape(*s.shape[:-1], m.shape[0]), dtype=np.float64)
