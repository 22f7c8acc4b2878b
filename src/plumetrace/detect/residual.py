"""How well the gas target explains a pixel: the whitened residual of the target fit.

A pixel that holds gas departs from its column's background along the target; a surface
the background does not describe (a metal tank, a caliche pad, plastic) departs in
other directions too, and the matched filter projects part of that departure onto the
target. The residual energy left after the best target fit, in the background's
whitened space, per degree of freedom,

    ρ = ((x - μ)ᵀ C⁻¹ (x - μ) - p² / tᵀC⁻¹t) / (bands - 1),   p = (x - μ)ᵀ C⁻¹ t,

is ~1 where the background and the target explain the pixel (over a column's
background pixels its mean is ~1 by construction of the sample covariance) and larger
where they do not. ``plumes`` uses its median over a candidate as a confidence feature.

The background covariance is the column's own, so a surface that fills ``k`` of the
column's ``n`` pixels enters it: their squared Mahalanobis distance cannot exceed about
``n / k`` (the leverage bound), and ``ρ`` of a wide or long surface stays within a few
times 1. The feature separates by degree, not by orders of magnitude.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["fit_residual"]


def fit_residual(
    centered: NDArray[np.floating[Any]],
    precision: NDArray[np.floating[Any]],
    p: NDArray[np.float64],
    norm: NDArray[np.float64],
    select: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Whitened residual of the target fit per degree of freedom, on selected pixels.

    Parameters
    ----------
    centered : (groups, pixels, bands) ndarray
        Spectra minus their group's background mean, µW cm⁻² sr⁻¹ nm⁻¹.
    precision : (groups, bands, bands) ndarray
        Inverse background covariance of each group (cast to ``centered``'s dtype).
    p : (groups, pixels) ndarray
        Matched-filter projection ``(x - μ)ᵀ C⁻¹ t`` of each pixel.
    norm : (groups,) ndarray
        ``tᵀ C⁻¹ t`` of each group.
    select : (groups, pixels) ndarray of bool
        Pixels to compute (the work is one ``bands x bands`` product per pixel, so only
        the pixels that matter, e.g. the enhanced ones, are selected).

    Returns
    -------
    (groups, pixels) ndarray, dimensionless
        ``ρ`` on selected pixels, NaN elsewhere.
    """
    groups, _, bands = centered.shape
    out = np.full(select.shape, np.nan)
    gi, pi = np.nonzero(select)
    if gi.size == 0:
        return out
    prec = precision.astype(centered.dtype, copy=False)
    bounds = np.searchsorted(gi, np.arange(groups + 1))
    for g in np.flatnonzero(np.diff(bounds)):
        lo, hi = bounds[g], bounds[g + 1]
        x = centered[g, pi[lo:hi]]
        mahal = np.einsum("kb,kb->k", x @ prec[g], x, dtype=np.float64)
        out[g, pi[lo:hi]] = mahal - p[g, pi[lo:hi]] ** 2 / norm[g]
    out[gi, pi] /= max(bands - 1, 1)
    return out
