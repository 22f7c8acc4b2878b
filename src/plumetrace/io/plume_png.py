"""PNG pictures of detected plumes: outlines, source markers and numbers on a quick-look.

:func:`write_plumes_png` draws the whole scene as :func:`~plumetrace.io.write_enhancement_png`
does (same size rules, grey stretch, colour scale, title and colour bar) and overlays,
for every plume, its outline, a ring at its source and its number. :func:`write_plume_chip`
draws a close-up of one plume, enlarged by an integer nearest-neighbour factor.

Outlines are cyan with a dark edge, markers white rings with a dark edge and numbers
white with a dark stroke, so they read on the black of missing data, on bright ground
and on every colour of the colour scale. Vector coordinates are ``(row, col)`` in the
pixel grid (pixel ``(r, c)`` spans ``[r, r + 1) x [c, c + 1)``, its centre is
``(r + 0.5, c + 0.5)``) and are scaled exactly as the raster; overlays are clipped to
the raster. The pictures are RGB PNGs (the quick-look palette has no free entries).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import InvalidParameterError
from plumetrace.io._atomic import atomic_write_bytes
from plumetrace.io.quicklook import (
    _MAX_SIDE_PX,
    _check_pair,
    _colour_range,
    _font,
    _palette,
    _png_bytes,
    _printable,
    _render,
    _scale,
    display_threshold,
)

if TYPE_CHECKING:  # Pillow is imported on first use, to keep package import fast
    from PIL import Image, ImageDraw

__all__ = ["OUTLINE_RGB", "write_plume_chip", "write_plumes_png"]

logger = logging.getLogger(__name__)

OUTLINE_RGB = (0, 255, 255)
"""Colour of plume outlines: cyan, in neither the grey ramp nor the plasma colormap."""
_MARKER_RGB = (255, 255, 255)
_EDGE_RGB = (20, 20, 20)  # dark edge around outlines and markers, stroke around numbers
_CMAP = "plasma"
_CHIP_DPI = 100


@dataclass(frozen=True)
class _Plume:
    """One plume's checked overlay: rings ``(N, 2)`` and source, ``(row, col)`` grid units."""

    rings: tuple[NDArray[np.float64], ...]
    source: tuple[float, float]
    label: str


# --------------------------------------------------------------------------- checks


def _check_plume(outline: Sequence[ArrayLike], source: ArrayLike, label: str, i: int) -> _Plume:
    """Return plume ``i``'s overlay as arrays, checking shapes and finiteness."""
    if isinstance(outline, np.ndarray) and outline.ndim == 2:
        raise InvalidParameterError(
            f"outline of plume {i} must be a sequence of rings, got one (N, 2) array; "
            "wrap it in a list"
        )
    rings: list[NDArray[np.float64]] = []
    for j, ring in enumerate(outline):
        vertices = np.asarray(ring, dtype=np.float64)
        if vertices.ndim != 2 or vertices.shape[1] != 2 or vertices.shape[0] < 2:
            raise InvalidParameterError(
                f"ring {j} of plume {i} must be an (N, 2) array of (row, col) vertices "
                f"with N >= 2, got shape {vertices.shape}"
            )
        if not np.isfinite(vertices).all():
            raise InvalidParameterError(f"ring {j} of plume {i} has non-finite vertices")
        rings.append(vertices)
    point = np.asarray(source, dtype=np.float64)
    if point.shape != (2,) or not np.isfinite(point).all():
        raise InvalidParameterError(
            f"source of plume {i} must be a finite (row, col) pair, got {point.tolist()}"
        )
    if not isinstance(label, str):
        raise InvalidParameterError(f"label of plume {i} must be a str, got {type(label).__name__}")
    return _Plume(tuple(rings), (float(point[0]), float(point[1])), label)


# --------------------------------------------------------------------------- drawing


def _closed_polyline(
    draw: ImageDraw.ImageDraw,
    points: Sequence[tuple[float, float]],
    width: int,
    colour: tuple[int, int, int],
) -> None:
    """Draw the closed polyline through ``points`` (Pillow pixel-centre coordinates).

    Each segment is a rectangle ``width`` pixels wide, extended by half the width at
    both ends so corners are square. Unlike ``ImageDraw.line``, whose wide lines shift
    by a pixel with the drawing direction, a line along a pixel boundary of the raster
    covers the same number of pixels on either side of it, whichever way it runs.
    """
    half = (width - 1) / 2.0  # Pillow fills polygons including their edge pixels
    closed = [*points, points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(closed):
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0.0:
            continue
        dx, dy = (x1 - x0) / length * half, (y1 - y0) / length * half
        draw.polygon(
            [
                (x0 - dx + dy, y0 - dy - dx),
                (x1 + dx + dy, y1 + dy - dx),
                (x1 + dx - dy, y1 + dy + dx),
                (x0 - dx - dy, y0 - dy + dx),
            ],
            fill=colour,
        )


def _draw_plumes(
    picture: Image.Image,
    box: tuple[int, int, int, int],
    plumes: Sequence[_Plume],
    *,
    scale: float,
    origin: tuple[float, float],
    dpi: int,
) -> Image.Image:
    """Return ``picture`` in RGB with the plumes drawn inside the raster ``box``.

    Grid point ``(row, col)`` is drawn at ``((col - c0) * scale, (row - r0) * scale)``
    from the box's top-left corner, with ``(r0, c0) = origin``.
    """
    from PIL import ImageDraw

    rgb = picture.convert("RGB")
    region = rgb.crop(box)  # drawing on the crop clips the overlays to the raster
    draw = ImageDraw.Draw(region)
    s = dpi / 100.0
    line_w = max(2, round(2 * s))
    edge = max(1, round(s))
    radius = max(3, round(6 * s))
    font = _font(max(11, round(16 * s)))
    stroke = max(1, round(2 * s))
    r0, c0 = origin

    def xy(rows: NDArray[np.float64], cols: NDArray[np.float64]) -> list[tuple[float, float]]:
        # Pillow puts pixel i's centre at i: grid coordinate u lies at u * scale - 0.5
        xs = (cols - c0) * scale - 0.5
        ys = (rows - r0) * scale - 0.5
        return list(zip(xs.tolist(), ys.tolist(), strict=True))

    paths = [xy(ring[:, 0], ring[:, 1]) for p in plumes for ring in p.rings]
    for width, colour in ((line_w + 2 * edge, _EDGE_RGB), (line_w, OUTLINE_RGB)):
        for points in paths:
            _closed_polyline(draw, points, width, colour)
    for plume in plumes:
        ((x, y),) = xy(np.array([plume.source[0]]), np.array([plume.source[1]]))
        outer = radius + edge
        draw.ellipse(
            (x - outer, y - outer, x + outer, y + outer), outline=_EDGE_RGB, width=line_w + 2 * edge
        )
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), outline=_MARKER_RGB, width=line_w
        )
        text = _printable(plume.label, font).strip()
        if not text:
            continue
        gap = outer + 2
        left, top, right, bottom = draw.textbbox(
            (x + gap, y), text, font=font, anchor="lm", stroke_width=stroke
        )
        tx = x + gap if right <= region.width else x - gap - (right - left)  # else: left side
        ty = min(max(y, (bottom - top) / 2), region.height - (bottom - top) / 2)
        draw.text(
            (tx, ty),
            text,
            font=font,
            anchor="lm",
            fill=_MARKER_RGB,
            stroke_width=stroke,
            stroke_fill=_EDGE_RGB,
        )
    rgb.paste(region, box[:2])
    return rgb


# --------------------------------------------------------------------------- public


def write_plumes_png(
    path: str | Path,
    grey: ArrayLike,
    enhancement: ArrayLike,
    outlines: Sequence[Sequence[ArrayLike]],
    sources: Sequence[ArrayLike] | ArrayLike,
    labels: Sequence[str],
    *,
    title: str,
    units: str = "ppm·m",
    dpi: int = 100,
) -> None:
    """Write a quick-look PNG of a scene with every plume outlined, marked and numbered.

    The raster, its size, colour scale (from :func:`~plumetrace.io.display_threshold`
    to the 99.5th percentile of the displayed pixels), title and colour bar are those of
    :func:`~plumetrace.io.write_enhancement_png` with the same ``dpi``. Over it, plume
    ``i`` gets its outline as closed cyan polylines, a white ring centred on
    ``sources[i]`` and ``labels[i]`` beside the ring. Writing is atomic.

    Parameters
    ----------
    path : str or Path
        Output ``.png``.
    grey : (rows, cols) array_like
        Background, e.g. radiance of one band (2-98 percentile grey stretch; NaN black).
    enhancement : (rows, cols) array_like, ``units``
        E.g. column enhancement, ppm·m; NaN where not retrieved.
    outlines : sequence of sequence of (N, 2) array_like, pixel-grid units
        ``outlines[i]``: the rings of plume ``i``, vertices ``(row, col)`` with pixel
        ``(r, c)`` spanning ``[r, r + 1) x [c, c + 1)``; each ring is drawn closed.
    sources : (n, 2) array_like, pixel-grid units
        ``(row, col)`` of each plume's source; a pixel's centre is ``(r + 0.5, c + 0.5)``.
    labels : sequence of str
        Short text per plume, e.g. its number ``"1"``.
    title : str
        Title line.
    units : str
        Colour bar label.
    dpi : int
        Pixels per inch of a 10-inch image (see ``write_enhancement_png``).

    Raises
    ------
    InvalidParameterError
        If ``grey`` and ``enhancement`` are not 2-D of one shape, the plume sequences
        differ in length, a ring is not ``(N, 2)`` or a vertex or source not finite, or
        ``dpi`` is not positive. Nothing is written.
    DataSourceError
        If the file cannot be written; an existing file at ``path`` is left untouched.
    """
    bg, enh = _check_pair(grey, enhancement, "grey")
    if dpi <= 0:
        raise InvalidParameterError(f"dpi must be positive, got {dpi}")
    try:
        points = np.asarray(sources, dtype=np.float64)
    except (TypeError, ValueError):
        points = np.empty(0)  # ragged or not numeric: reported below
    if points.size == 0 and len(labels) == 0:
        points = points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise InvalidParameterError(
            f"sources must be an (n, 2) array of (row, col) pairs, got {sources!r:.80}"
        )
    if not (len(outlines) == len(points) == len(labels)):
        raise InvalidParameterError(
            f"outlines, sources and labels must have one entry per plume, got "
            f"{len(outlines)}, {len(points)} and {len(labels)}"
        )
    plumes = [
        _check_plume(outline, point, label, i)
        for i, (outline, point, label) in enumerate(zip(outlines, points, labels, strict=True))
    ]
    thr, vmax = _colour_range(enh, None, None)
    up, down = _scale(bg.shape[0], bg.shape[1], dpi)
    picture, box = _render(
        bg,
        enh,
        thr=thr,
        vmax=vmax,
        up=up,
        down=down,
        title=title,
        units=units,
        palette=_palette(_CMAP),
        dpi=dpi,
    )
    picture = _draw_plumes(picture, box, plumes, scale=up / down, origin=(0.0, 0.0), dpi=dpi)
    atomic_write_bytes(path, _png_bytes(picture, dpi))
    logger.debug("wrote plume quick-look %s (%d plumes)", path, len(plumes))


def write_plume_chip(
    path: str | Path,
    grey: ArrayLike,
    enhancement: ArrayLike,
    outline: Sequence[ArrayLike],
    source: ArrayLike,
    label: str,
    *,
    window: tuple[int, int, int, int],
    title: str,
    units: str = "ppm·m",
    min_size: int = 256,
) -> None:
    """Write a close-up PNG of one plume: a window of the scene, enlarged, with overlays.

    The window ``grey[r0:r1, c0:c1]`` (and the same of ``enhancement``) is enlarged by
    the smallest integer nearest-neighbour factor that makes its shorter side at least
    ``min_size`` pixels, unless that would make the longer side exceed 2000 pixels. The
    grey stretch and the top of the colour scale (99.5th percentile of the displayed
    pixels) come from the window; the display threshold, the noise level, from the
    whole ``enhancement``, so weak plume edges show as in the scene's quick-look. The
    outline, source ring and label are drawn as by :func:`write_plumes_png`, in
    scene coordinates, clipped to the window. Writing is atomic.

    Parameters
    ----------
    path : str or Path
        Output ``.png``.
    grey, enhancement : (rows, cols) array_like
        The whole scene, as for :func:`write_plumes_png`; enhancement in ``units``.
    outline : sequence of (N, 2) array_like, pixel-grid units
        The plume's rings, ``(row, col)`` vertices in scene coordinates.
    source : (2,) array_like, pixel-grid units
        ``(row, col)`` of the source in scene coordinates.
    label : str
        Text beside the source ring, e.g. ``"1"``.
    window : (r0, r1, c0, c1) tuple of int
        Rows ``r0:r1`` and columns ``c0:c1`` of the scene, non-empty and inside it.
    title : str
        Title line.
    units : str
        Colour bar label.
    min_size : int
        Minimum length of the enlarged window's shorter side, pixels.

    Raises
    ------
    InvalidParameterError
        If the rasters are not 2-D of one shape, the window is empty or outside the
        scene, ``min_size`` is not positive, or the outline or source is malformed.
    DataSourceError
        If the file cannot be written; an existing file at ``path`` is left untouched.
    """
    bg, enh = _check_pair(grey, enhancement, "grey")
    rows, cols = bg.shape
    if len(window) != 4 or not all(isinstance(v, int | np.integer) for v in window):
        raise InvalidParameterError(f"window must be 4 integers (r0, r1, c0, c1), got {window}")
    r0, r1, c0, c1 = (int(v) for v in window)
    if not (0 <= r0 < r1 <= rows and 0 <= c0 < c1 <= cols):
        raise InvalidParameterError(
            f"window (r0, r1, c0, c1) = {(r0, r1, c0, c1)} must be non-empty and inside "
            f"the {rows} x {cols} scene"
        )
    if min_size <= 0:
        raise InvalidParameterError(f"min_size must be positive, got {min_size}")
    plume = _check_plume(outline, source, label, 0)
    thr = display_threshold(enh)
    bg, enh = bg[r0:r1, c0:c1], enh[r0:r1, c0:c1]
    thr, vmax = _colour_range(enh, thr, None)
    short, long = min(r1 - r0, c1 - c0), max(r1 - r0, c1 - c0)
    up = max(1, min(math.ceil(min_size / short), _MAX_SIDE_PX // long))
    picture, box = _render(
        bg,
        enh,
        thr=thr,
        vmax=vmax,
        up=up,
        down=1,
        title=title,
        units=units,
        palette=_palette(_CMAP),
        dpi=_CHIP_DPI,
    )
    picture = _draw_plumes(
        picture, box, [plume], scale=float(up), origin=(float(r0), float(c0)), dpi=_CHIP_DPI
    )
    atomic_write_bytes(path, _png_bytes(picture, _CHIP_DPI))
    logger.debug("wrote plume chip %s (window %s, x%d)", path, window, up)
