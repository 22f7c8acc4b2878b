"""Pixel screening before a retrieval: no-data, saturation and flares."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from plumetrace.detect import flags
from plumetrace.errors import InvalidParameterError

__all__ = ["pixel_summary", "screen_pixels"]

_FLARE_RATIO = 1.6
_FILL_BELOW = -1000.0
_FLARE_BRIGHTNESS_Z = 6.0


def screen_pixels(
    cube: NDArray[np.floating],
    wavelength_nm: NDArray[np.floating],
    *,
    saturation_radiance: float | None = None,
    buffer_px: int = 1,
    summary: NDArray[np.floating] | None = None,
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
    summary : (rows, cols, 5) ndarray, optional
        :func:`pixel_summary` of ``cube`` (with the same ``saturation_radiance``), e.g.
        computed over column spans in parallel; computed here when absent.

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
    flat = cube.reshape(-1, bands)
    if summary is None:
        summary = pixel_summary(cube, with_max=saturation_radiance is not None)
    if summary.shape != (rows, cols, 5):
        raise InvalidParameterError(
            f"the pixel summary has shape {summary.shape}, expected {(rows, cols, 5)}"
        )
    bright, short, long_ = summary[..., 0], summary[..., 1], summary[..., 2]
    low, high = summary[..., 3], summary[..., 4]
    nodata = ~np.isfinite(bright)
    # Small negative values in deep absorption bands are noise, not missing data; a
    # spectrum that is zero everywhere, or holds an undeclared fill value such as -9999,
    # is missing.
    if nodata.all():
        out[:] = flags.NO_DATA
        return out
    lowest = float(np.nanmin(low))
    if lowest <= _FILL_BELOW or not np.all(np.abs(bright[~nodata]) > 0):
        with np.errstate(invalid="ignore"):
            nodata |= low <= _FILL_BELOW
            nodata |= np.abs(flat).max(axis=1).reshape(rows, cols) == 0
    out[nodata] |= flags.NO_DATA
    valid = ~nodata
    if not valid.any():
        return out

    if saturation_radiance is not None:
        with np.errstate(invalid="ignore"):
            sat = (high >= saturation_radiance) & valid
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
            sub = flat[cand]
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
        fill = float(np.median(bright[ok]))
        b = np.where(ok, bright, fill)
        col_med = np.median(b, axis=0)
        col_mad = np.median(np.abs(b - col_med), axis=0)
        z = (bright - col_med) / (1.4826 * np.maximum(col_mad, 1e-12))
        with np.errstate(invalid="ignore"):
            flare = ok & (ratio > _FLARE_RATIO * med_ratio) & (z > _FLARE_BRIGHTNESS_Z)
        out[flare] |= flags.FLARE

    hot = (out & (flags.SATURATED | flags.FLARE)) != 0
    if buffer_px > 0 and hot.any():
        from scipy import ndimage  # only here: its import costs ~0.3 s of a command

        grown = ndimage.binary_dilation(hot, iterations=buffer_px)
        out[grown & ~hot & ((out & flags.NO_DATA) == 0)] |= flags.EXCLUDED_FROM_STATS
    return out


def pixel_summary(cube: NDArray[np.floating], *, with_max: bool = False) -> NDArray[np.floating]:
    """Per-pixel radiance summary that :func:`screen_pixels` decides from.

    Parameters
    ----------
    cube : (rows, cols, bands) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
    with_max : bool
        Also take each spectrum's maximum (needed with a saturation level).

    Returns
    -------
    (rows, cols, 5) ndarray, same float type as ``cube``
        Mean over the bands, mean of the first and of the last ``bands // 8`` bands (NaN
        where the spectrum holds a NaN), minimum ignoring NaN, maximum (NaN unless
        ``with_max``). Pixel by pixel, so column spans can be summarised separately.
    """
    rows, cols, bands = cube.shape
    dtype = np.result_type(cube.dtype, np.float32)
    out = np.empty((rows, cols, 5), dtype=dtype)
    # One BLAS pass gives the mean, the short-end and the long-end radiance of each
    # pixel; NaN anywhere in a spectrum propagates into all three. The passes work on
    # the (strided) column span as it is: reshaping it would copy it.
    k = max(1, bands // 8)
    weights = np.zeros((bands, 3), dtype=dtype)
    weights[:, 0] = 1.0 / bands
    weights[:k, 1] = 1.0 / k
    weights[-k:, 2] = 1.0 / k
    out[..., :3] = np.matmul(cube, weights)
    with np.errstate(invalid="ignore"):
        out[..., 3] = np.fmin.reduce(cube, axis=2)
        out[..., 4] = cube.max(axis=2) if with_max else np.nan
    return out
