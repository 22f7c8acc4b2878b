"""PNG quick-looks of an enhancement map over a greyscale background (matplotlib, Agg).

matplotlib is imported inside the function so that importing :mod:`plumetrace.io` (and
starting the CLI) stays fast. No pyplot state is used, so this is safe in threads.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import InvalidParameterError
from plumetrace.io._atomic import atomic_write_bytes

__all__ = ["display_threshold", "write_enhancement_png"]

logger = logging.getLogger(__name__)

_LONG_SIDE_IN = 10.0
_MIN_SIDE_IN = 1.0
_LEFT_IN, _RIGHT_IN, _BOTTOM_IN = 0.2, 1.4, 0.2
_MAD_TO_SIGMA = 1.4826


def display_threshold(enhancement: ArrayLike) -> float:
    """Default display threshold: ``max(0, 2 σ)`` with σ the robust noise level.

    σ is 1.4826 times the median absolute deviation of the finite values, which a
    sparse plume barely moves (units of the input, e.g. ppm·m).
    """
    values = np.asarray(enhancement, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0
    mad = float(np.median(np.abs(values - np.median(values))))
    return max(0.0, 2.0 * _MAD_TO_SIGMA * mad)


def _figure_size(rows: int, cols: int, title: str) -> tuple[float, float, float, float]:
    """``(fig_w, fig_h, img_w, img_h)`` in inches; the image's long side is 10 in."""
    if cols >= rows:
        img_w, img_h = _LONG_SIDE_IN, max(_MIN_SIDE_IN, _LONG_SIDE_IN * rows / cols)
    else:
        img_w, img_h = max(_MIN_SIDE_IN, _LONG_SIDE_IN * cols / rows), _LONG_SIDE_IN
    top = 0.5 if title else 0.2
    return img_w + _LEFT_IN + _RIGHT_IN, img_h + _BOTTOM_IN + top, img_w, img_h


def _stretch(background: NDArray[np.float64]) -> tuple[float, float]:
    finite = background[np.isfinite(background)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [2.0, 98.0]))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def write_enhancement_png(
    path: str | Path,
    background: ArrayLike,
    enhancement: ArrayLike,
    *,
    title: str = "",
    units: str = "ppm·m",
    vmax: float | None = None,
    threshold: float | None = None,
    cmap: str = "plasma",
    dpi: int = 100,
) -> None:
    """Write a PNG of ``enhancement`` over a greyscale ``background`` (atomically).

    Parameters
    ----------
    path : str or Path
        Output ``.png``.
    background : (rows, cols) array_like
        E.g. radiance of one band; shown with a 2-98 percentile grey stretch.
    enhancement : (rows, cols) array_like, ``units``
        E.g. column enhancement, ppm·m; NaN where not retrieved. Pixels at or below
        the display threshold are transparent.
    title : str
        Figure title.
    units : str
        Colour bar label.
    vmax : float or None
        Top of the colour scale (default: 99.5th percentile of displayed pixels).
    threshold : float or None
        Display threshold (default: :func:`display_threshold`).
    cmap : str
        Perceptually uniform matplotlib colormap.
    dpi : int
        Pixels per inch; the image's long side is 10 inches.

    Raises
    ------
    InvalidParameterError
        If the arrays are not 2-D of the same shape, or dpi/vmax are invalid.
    DataSourceError
        If the file cannot be written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    bg = np.asarray(background, dtype=np.float64)
    enh = np.asarray(enhancement, dtype=np.float64)
    if bg.ndim != 2 or bg.shape != enh.shape or 0 in bg.shape:
        raise InvalidParameterError(
            f"background and enhancement must be 2-D of one shape, got {bg.shape} and {enh.shape}"
        )
    if dpi <= 0:
        raise InvalidParameterError(f"dpi must be positive, got {dpi}")
    thr = display_threshold(enh) if threshold is None else float(threshold)
    shown = np.isfinite(enh) & (enh > thr)
    if vmax is None:
        top = float(np.percentile(enh[shown], 99.5)) if shown.any() else thr + 1.0
        vmax = top if top > thr else thr + 1.0
    elif not vmax > thr:
        raise InvalidParameterError(f"vmax {vmax} must exceed the display threshold {thr}")

    rows, cols = bg.shape
    fig_w, fig_h, img_w, img_h = _figure_size(rows, cols, title)
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((_LEFT_IN / fig_w, _BOTTOM_IN / fig_h, img_w / fig_w, img_h / fig_h))
    lo, hi = _stretch(bg)
    ax.imshow(
        np.where(np.isfinite(bg), bg, lo), cmap="gray", vmin=lo, vmax=hi, interpolation="nearest"
    )
    overlay = np.ma.masked_array(enh, mask=~shown)
    image = ax.imshow(
        overlay, cmap=cmap, norm=Normalize(vmin=thr, vmax=vmax), interpolation="nearest"
    )
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    cax = fig.add_axes(
        ((_LEFT_IN + img_w + 0.15) / fig_w, _BOTTOM_IN / fig_h, 0.2 / fig_w, img_h / fig_h)
    )
    fig.colorbar(image, cax=cax, label=units)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    logger.debug("wrote quick-look %s (threshold %.3g, vmax %.3g %s)", path, thr, vmax, units)
