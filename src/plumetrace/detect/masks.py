"""Pixel screening before a retrieval: no-data, saturation and flares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.detect import flags
from plumetrace.errors import InvalidParameterError

__all__ = ["PixelSummary", "pixel_summary", "screen_pixels"]

_FLARE_RATIO = 1.6
_FILL_BELOW = -1000.0
_FLARE_BRIGHTNESS_Z = 6.0


def screen_pixels(
    cube: NDArray[np.floating],
    wavelength_nm: NDArray[np.floating],
    *,
    saturation_radiance: float | None = None,
    buffer_px: int = 1,
    summary: PixelSummary | None = None,
) -> NDArray[np.uint8]:
    """Flag pixels that must not enter a retrieval.

    Parameters
    ----------
    cube : (rows, cols, bands) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        Radiance in the retrieval window (NaN for no data).
    wavelength_nm : (bands,) ndarray, nm
        Band centres of ``cube``.
    saturation_radiance : float, optional
        Clipping level of the detector, µW cm⁻² sr⁻¹ nm⁻¹. Without it, a band is taken as
        clipped where at least two pixels share its maximum exactly (a plateau).
    buffer_px : int
        Pixels within this distance of a saturated or flare pixel are flagged
        :data:`~plumetrace.detect.flags.EXCLUDED_FROM_STATS` (their spectra are often
        contaminated by the detector's response to the bright neighbour).
    summary : PixelSummary, optional
        :func:`pixel_summary` of ``cube`` (taken with the maxima when
        ``saturation_radiance`` is given), e.g. joined from column spans summarised in
        parallel; computed here when absent.

    Returns
    -------
    (rows, cols) ndarray of uint8
        Bit flags from :mod:`plumetrace.detect.flags`.

    Notes
    -----
    Flares are found where the ratio of the window's long-wavelength to short-wavelength
    radiance exceeds 1.6 times its scene median while the pixel is also more than six
    robust standard deviations brighter than its column: sunlit surfaces get darker
    towards 2.5 µm, a 1000-1500 K emitter gets brighter.
    """
    rows, cols, bands = cube.shape
    out = np.zeros((rows, cols), dtype=np.uint8)
    if summary is None:
        summary = pixel_summary(cube, with_max=saturation_radiance is not None)
    if summary.means.shape != (rows, cols, 3):
        raise InvalidParameterError(
            f"the pixel summary is {summary.means.shape[0]} x {summary.means.shape[1]} "
            f"pixels, the cube {rows} x {cols}"
        )
    if saturation_radiance is not None and summary.highest is None:
        raise InvalidParameterError("a saturation level needs the summary's maxima")
    bright, short, long_ = (summary.means[..., i] for i in range(3))
    nodata = ~np.isfinite(bright)
    # Small negative values in deep absorption bands are noise, not missing data; a
    # spectrum that is zero everywhere, or holds an undeclared fill value such as -9999,
    # is missing.
    if nodata.all():
        out[:] = flags.NO_DATA
        return out
    if summary.lowest <= _FILL_BELOW or not np.all(np.abs(bright[~nodata]) > 0):
        with np.errstate(invalid="ignore"):
            nodata |= cube.min(axis=2) <= _FILL_BELOW
            nodata |= np.abs(cube).max(axis=2) == 0
    out[nodata] |= flags.NO_DATA
    valid = ~nodata
    if not valid.any():
        return out

    if saturation_radiance is not None and summary.highest is not None:
        with np.errstate(invalid="ignore"):
            sat = (summary.highest >= saturation_radiance) & valid
    else:
        # A clipped band shows a plateau: two or more pixels share its maximum exactly.
        # Clipping happens in the brightest pixels, so only the top 1 % are examined.
        sat = np.zeros((rows, cols), dtype=bool)
        vb = np.where(valid, bright, -np.inf).ravel()
        top = min(vb.size, max(16, vb.size // 100))
        cand = np.argpartition(vb, vb.size - top)[vb.size - top :]
        cand = cand[np.isfinite(vb[cand])]
        if cand.size:
            # a band's clipping level is the largest value any bright pixel reaches
            sub = cube[cand // cols, cand % cols]  # (top, bands), without reshaping
            at_max = sub == sub.max(axis=0)
            plateau = at_max.sum(axis=0) >= 2
            if plateau.any():
                hit = cand[at_max[:, plateau].any(axis=1)]
                sat.ravel()[hit] = True
    out[sat] |= flags.SATURATED

    if bands >= 4:
        ok = valid & ~sat
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = long_ / short
        med_ratio = float(np.median(ratio[ok]))
        with np.errstate(invalid="ignore"):
            flare = ok & (ratio > _FLARE_RATIO * med_ratio)
        hit_cols = np.flatnonzero(flare.any(axis=0))
        if hit_cols.size:
            # the brightness test needs the robust statistics of the columns with a
            # spectral candidate only (usually none: sunlit surfaces redden the other way)
            fill = float(np.median(bright[ok]))
            b = np.where(ok[:, hit_cols], bright[:, hit_cols], fill).T  # (hit cols, rows)
            col_med = np.median(b, axis=1)
            col_mad = np.median(np.abs(b - col_med[:, None]), axis=1)
            z = (bright[:, hit_cols] - col_med) / (1.4826 * np.maximum(col_mad, 1e-12))
            with np.errstate(invalid="ignore"):
                flare[:, hit_cols] &= z > _FLARE_BRIGHTNESS_Z
            out[flare] |= flags.FLARE

    hot = (out & (flags.SATURATED | flags.FLARE)) != 0
    if buffer_px > 0 and hot.any():
        from scipy import ndimage  # only here: its import costs ~0.3 s of a command

        grown = ndimage.binary_dilation(hot, iterations=buffer_px)
        out[grown & ~hot & ((out & flags.NO_DATA) == 0)] |= flags.EXCLUDED_FROM_STATS
    return out


@dataclass(frozen=True)
class PixelSummary:
    """What :func:`screen_pixels` needs of a cube, taken in one pass over it.

    Attributes
    ----------
    means : (rows, cols, 3) ndarray
        Each spectrum's mean over the bands and over its first and its last
        ``bands // 8`` bands, µW cm⁻² sr⁻¹ nm⁻¹ (NaN where the spectrum holds a NaN).
    lowest : float
        The smallest radiance anywhere, NaN ignored (NaN if there is none).
    highest : (rows, cols) ndarray or None
        Each spectrum's maximum (taken only when a saturation level is given).
    """

    means: NDArray[np.floating]
    lowest: float
    highest: NDArray[np.floating] | None

    @classmethod
    def join(cls, parts: Sequence[PixelSummary]) -> PixelSummary:
        """Join the summaries of neighbouring column spans, left to right."""
        lows = [p.lowest for p in parts if np.isfinite(p.lowest)]
        highs = [p.highest for p in parts if p.highest is not None]
        return cls(
            means=np.concatenate([p.means for p in parts], axis=1),
            lowest=min(lows) if lows else float("nan"),
            highest=np.concatenate(highs, axis=1) if len(highs) == len(parts) else None,
        )


def pixel_summary(cube: NDArray[np.floating], *, with_max: bool = False) -> PixelSummary:
    """Summarise a cube (or a column span of one) for :func:`screen_pixels`.

    Parameters
    ----------
    cube : (rows, cols, bands) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        May be a strided column span: it is read as it is (reshaping it would copy it).
    with_max : bool
        Also take each spectrum's maximum (needed with a saturation level).

    Returns
    -------
    PixelSummary
    """
    bands = cube.shape[2]
    dtype = np.result_type(cube.dtype, np.float32)
    # One BLAS pass gives the mean, the short-end and the long-end radiance of each
    # pixel; NaN anywhere in a spectrum propagates into all three. A reduction over the
    # whole array is several times faster than one per spectrum (the band axis is short),
    # so only the scene's lowest value is taken here.
    k = max(1, bands // 8)
    weights = np.zeros((bands, 3), dtype=dtype)
    weights[:, 0] = 1.0 / bands
    weights[:k, 1] = 1.0 / k
    weights[-k:, 2] = 1.0 / k
    with np.errstate(invalid="ignore"):
        lowest = float(np.fmin.reduce(cube, axis=None)) if cube.size else float("nan")
        highest = cube.max(axis=2) if with_max else None
    return PixelSummary(np.matmul(cube, weights), lowest, highest)
