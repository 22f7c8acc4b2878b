"""The map of a track audit: authorized airspace, the track, incursions, deepest points.

Drawn with Pillow (which loads in a few milliseconds, where a plotting library takes most
of a second): the map is drawn at twice the size and reduced, so lines are smooth; the
frame, graticule labels, title, legend and scale bar are drawn at the final size. The
map keeps true proportions at its mid latitude (a degree of longitude is drawn
cos(latitude) as wide as a degree of latitude).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from plumetrace.flight.audit import Incursion
from plumetrace.io._atomic import atomic_path

__all__ = ["AuditMap", "write_audit_png"]

_PLOT_POINTS = 50_000  # long tracks are drawn decimated to at most this many points
_SIZE = (825, 715)  # px
_MARGIN = (80, 44, 20, 62)  # left, top, right, bottom, px
_SS = 2  # the map is drawn this many times larger, then reduced (anti-aliasing)
_M_PER_DEG = 111_320.0  # length of a degree of latitude (and of longitude at the equator)

_BLUE = (31, 119, 180)
_RED = (214, 39, 40)
_GREEN = (44, 160, 44)
_GRID = (222, 222, 222)
_INK = (30, 30, 30)
_FILL_ALPHA = 0.15  # the authorized area's tint
_LINE_H = 18  # legend line height, px

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class _View:
    """Lon/lat window and its placement on the map image (``scale`` px per degree)."""

    x0: float
    y0: float
    x1: float
    y1: float
    kx: float  # cos(mid latitude): a degree of longitude is kx degrees of latitude long
    scale: float  # px per degree of latitude (final size)

    @property
    def size(self) -> tuple[int, int]:
        """Map width and height, px (final size)."""
        return (
            max(1, round((self.x1 - self.x0) * self.kx * self.scale)),
            max(1, round((self.y1 - self.y0) * self.scale)),
        )

    def px(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], ss: float = 1.0
    ) -> NDArray[np.float64]:
        """Return (n, 2) pixel positions of ``lon, lat`` (times ``ss``)."""
        out = np.empty((np.shape(lon)[0], 2))
        out[:, 0] = (np.asarray(lon) - self.x0) * (self.kx * self.scale * ss)
        out[:, 1] = (self.y1 - np.asarray(lat)) * (self.scale * ss)
        return out


def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _nice_step(span: float, target: int) -> float:
    """Return a 1, 2 or 5 x 10^k step giving about ``target`` intervals over ``span``."""
    raw = span / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * mag:
            return m * mag
    return 10.0 * mag


def _ticks(lo: float, hi: float, target: int) -> tuple[list[float], int]:
    """Nice tick values within [lo, hi] and the decimals that label them."""
    step = _nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    return [k * step for k in range(first, last + 1)], decimals


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    """Return the non-empty polygons in ``geom`` (any other parts are left out)."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon" and not part.is_empty:
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygons(part))
    return out


def _lines(geom: shapely.Geometry) -> list[NDArray[np.float64]]:
    """Coordinates (lon/lat) of every line in ``geom``."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type in ("LineString", "LinearRing"):
            out.append(np.asarray(part.coords))
        elif part.geom_type in ("MultiLineString", "GeometryCollection"):
            out.extend(_lines(part))
    return out


def _polyline(
    draw: ImageDraw.ImageDraw, xy: NDArray[np.float64], color: tuple[int, int, int], width: int
) -> None:
    if xy.shape[0] == 1:
        r = width / 2
        draw.ellipse([xy[0, 0] - r, xy[0, 1] - r, xy[0, 0] + r, xy[0, 1] + r], fill=color)
    elif xy.shape[0] > 1:
        draw.line(xy.ravel().tolist(), fill=color, width=width)


def _scale(view: _View, most_px: float) -> tuple[float, str]:
    """Return the longest 1, 2 or 5 x 10^k m bar fitting ``most_px``: its px and label.

    True at the mid latitude.
    """
    m_per_px = _M_PER_DEG / view.scale
    most = most_px * m_per_px
    metres = 10.0 ** math.floor(math.log10(most))
    for m in (5.0, 2.0):
        if m * metres <= most:
            metres *= m
            break
    text = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    return metres / m_per_px, text


def _legend_entries(incursions: Sequence[Incursion], scale_text: str) -> list[tuple[str, str]]:
    entries = [("area", "authorized airspace"), ("track", "track")]
    if incursions:
        entries += [("incursion", "incursion"), ("deepest", "deepest point of each")]
    return [*entries, ("scale", scale_text)]


def _draw_legend(
    draw: ImageDraw.ImageDraw,
    origin: tuple[float, float],
    entries: list[tuple[str, str]],
    font: Font,
    size: tuple[int, int],
    bar_px: float,
) -> None:
    x, y = origin
    draw.rectangle([x, y, x + size[0], y + size[1]], fill="white", outline=(180, 180, 180))
    for k, (kind, text) in enumerate(entries):
        cy = y + 6 + k * _LINE_H + _LINE_H / 2
        sx = x + 8
        if kind == "area":
            draw.rectangle([sx, cy - 5, sx + 22, cy + 5], fill=(223, 241, 223), outline=_GREEN)
        elif kind == "track":
            draw.line([(sx, cy), (sx + 22, cy)], fill=_BLUE, width=2)
        elif kind == "incursion":
            draw.line([(sx, cy), (sx + 22, cy)], fill=_RED, width=3)
        elif kind == "deepest":
            draw.line([(sx + 7, cy - 4), (sx + 15, cy + 4)], fill=_INK, width=2)
            draw.line([(sx + 7, cy + 4), (sx + 15, cy - 4)], fill=_INK, width=2)
        else:  # scale bar: two halves, black and white, then its length
            draw.rectangle([sx, cy - 2, sx + bar_px, cy + 2], fill="white", outline=_INK)
            draw.rectangle([sx, cy - 2, sx + bar_px / 2, cy + 2], fill=_INK)
            draw.text((sx + bar_px + 8, cy), text, fill=_INK, font=font, anchor="lm")
            continue
        draw.text((sx + 30, cy), text, fill=_INK, font=font, anchor="lm")


def _legend_corner(
    box: tuple[int, int, int, int], size: tuple[int, int], pts: NDArray[np.float64]
) -> tuple[float, float]:
    """Top-left of the legend: the map corner covering the fewest track points."""
    left, top, right, bottom = box
    pad = 8
    corners = [
        (right - pad - size[0], top + pad),
        (left + pad, top + pad),
        (left + pad, bottom - pad - size[1]),
        (right - pad - size[0], bottom - pad - size[1]),
    ]

    def covered(c: tuple[float, float]) -> int:
        inside = (
            (pts[:, 0] >= c[0])
            & (pts[:, 0] <= c[0] + size[0])
            & (pts[:, 1] >= c[1])
            & (pts[:, 1] <= c[1] + size[1])
        )
        return int(np.count_nonzero(inside))

    return min(corners, key=covered)


class AuditMap:
    """An audit map, drawn in two steps.

    The map (graticule, authorized area, track, and the stretches outside when already
    known) is drawn and framed with its graticule labels as soon as the track and the area
    are known; :meth:`write` adds the incursions not drawn yet, their deepest points, the
    title, labels and legend, and writes the file.

    Parameters
    ----------
    lon, lat : (n,) ndarray, degrees
        The track (kept, not copied: do not modify until :meth:`write`).
    authorized : shapely geometry
        Authorized airspace, lon/lat (tinted green).
    stretches : sequence of (int, int), optional
        First and last sample of each stretch outside authorized airspace, drawn in red.
    """

    def __init__(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        authorized: shapely.Geometry,
        stretches: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.lon, self.lat = lon, lat
        pad = 0.05 + 0.1 * max(float(np.ptp(lon)), float(np.ptp(lat)))
        x0, x1 = float(lon.min()) - pad, float(lon.max()) + pad
        y0, y1 = float(lat.min()) - pad, float(lat.max()) + pad
        kx = max(math.cos(math.radians(0.5 * (y0 + y1))), 0.05)
        left, top, right, bottom = _MARGIN
        avail_w, avail_h = _SIZE[0] - left - right, _SIZE[1] - top - bottom
        scale = min(avail_w / ((x1 - x0) * kx), avail_h / (y1 - y0))
        self.view = _View(x0, y0, x1, y1, kx, scale)
        w, h = self.view.size
        self.origin = (left + (avail_w - w) // 2, top + (avail_h - h) // 2)
        self.step = max(1, lon.shape[0] // _PLOT_POINTS)
        self.small, self.normal = _font(11), _font(12)  # fonts of this map's own
        self.map = self._base(authorized)
        self.drawn: set[tuple[int, int]] = set()
        self._stretches(ImageDraw.Draw(self.map), stretches)
        self.figure = self._compose()

    def _stretches(self, draw: ImageDraw.ImageDraw, stretches: Sequence[tuple[int, int]]) -> None:
        """Draw stretches (first, last sample) in red, unless drawn already."""
        view, lon, lat, step = self.view, self.lon, self.lat, self.step
        for first, last in stretches:
            if (first, last) in self.drawn:
                continue
            # all stretches together are drawn with at most ~_PLOT_POINTS points, each
            # with its last sample
            part = np.arange(first, last + 1, step)
            if part[-1] != last:
                part = np.append(part, last)
            _polyline(draw, view.px(lon[part], lat[part], _SS), _RED, 3 * _SS)
            self.drawn.add((first, last))

    def _base(self, authorized: shapely.Geometry) -> Image.Image:
        """Draw graticule, authorized area and track on the map (at _SS times the size)."""
        view, lon, lat = self.view, self.lon, self.lat
        w, h = view.size
        big = Image.new("RGB", (w * _SS, h * _SS), "white")
        draw = ImageDraw.Draw(big)
        for x in _ticks(view.x0, view.x1, 5)[0]:
            px = view.px(np.array([x]), np.array([view.y0]), _SS)[0, 0]
            draw.line([(px, 0), (px, h * _SS)], fill=_GRID, width=_SS)
        for y in _ticks(view.y0, view.y1, 5)[0]:
            py = view.px(np.array([view.x0]), np.array([y]), _SS)[0, 1]
            draw.line([(0, py), (w * _SS, py)], fill=_GRID, width=_SS)
        box = shapely.box(view.x0, view.y0, view.x1, view.y1)
        shown = _polygons(shapely.intersection(authorized, box))
        if shown:
            # a tint of the area: holes cleared, islands in holes (smaller) drawn after
            mask = Image.new("L", big.size, 0)
            mdraw = ImageDraw.Draw(mask)
            for poly in sorted(shown, key=lambda g: -g.area):
                for k, ring in enumerate([poly.exterior, *poly.interiors]):
                    xy = np.asarray(ring.coords)
                    mdraw.polygon(
                        view.px(xy[:, 0], xy[:, 1], _SS).ravel().tolist(), fill=255 if k == 0 else 0
                    )
            big.paste(_GREEN, mask=mask.point(lambda v: round(v * _FILL_ALPHA)))
            # the outline is the area's own boundary (not the window's edge where it is cut)
            edges = shapely.boundary(np.array(_polygons(authorized), dtype=object))
            for xy in _lines(shapely.intersection(edges, box)):
                _polyline(draw, view.px(xy[:, 0], xy[:, 1], _SS), _GREEN, _SS)
        step = self.step
        _polyline(draw, view.px(lon[::step], lat[::step], _SS), _BLUE, 2 * _SS)
        return big

    def write(self, path: str | Path, incursions: Sequence[Incursion], *, title: str) -> Path:
        """Draw the incursions, labels and legend and write the PNG (atomically, once).

        Parameters
        ----------
        path : str or Path
            Output PNG, 825 x 715 px.
        incursions : sequence of Incursion
            Stretches outside authorized airspace (sample indices into the track); each is
            drawn in red, its deepest sample marked with a cross, the deepest of all
            labelled with its depth.
        title : str
            Title above the map.

        Returns
        -------
        Path
            ``path``.
        """
        view, lon, lat, step = self.view, self.lon, self.lat, self.step
        w, h = view.size
        bx, by = self.origin
        todo = [(inc.first, inc.last) for inc in incursions]
        if not self.drawn.issuperset(todo):
            self._stretches(ImageDraw.Draw(self.map), todo)
            self.figure = self._compose()
        fig = self.figure
        draw = ImageDraw.Draw(fig)
        small = self.small
        if incursions:
            deep = np.array([inc.deepest for inc in incursions])
            r = 4.5
            for x, y in view.px(lon[deep], lat[deep]) + np.array([bx, by]):
                draw.line([(x - r, y - r), (x + r, y + r)], fill=_INK, width=2)
                draw.line([(x - r, y + r), (x + r, y - r)], fill=_INK, width=2)

        # title, shrunk to fit
        for size in (14, 13, 12, 11, 10):
            tfont = _font(size)
            if draw.textlength(title, font=tfont) <= _SIZE[0] - 20:
                break
        draw.text((_SIZE[0] / 2, by - 10), title, fill=_INK, font=tfont, anchor="mb")

        # the deepest point of all, labelled beneath (or above, near the bottom)
        if incursions:
            worst = max(incursions, key=lambda inc: inc.max_depth_m)
            px, py = view.px(lon[[worst.deepest]], lat[[worst.deepest]])[0]
            depth = worst.max_depth_m
            text = f"{depth / 1000:.1f} km deep" if depth >= 1000 else f"{depth:.0f} m deep"
            below = py < h - 30
            draw.text(
                (bx + px, by + py + (9 if below else -9)),
                text,
                fill=_RED,
                font=small,
                anchor="mt" if below else "mb",
                stroke_width=2,
                stroke_fill="white",
            )

        # legend (with a scale bar) in the map corner covering the least of the track
        bar_px, scale_text = _scale(view, min(120.0, 0.4 * w))
        entries = _legend_entries(incursions, scale_text)
        text_w = max(draw.textlength(t, font=small) for k, t in entries if k != "scale")
        lw = int(max(38 + text_w, 8 + bar_px + 8 + draw.textlength(scale_text, font=small)))
        lsize = (lw + 10, 12 + _LINE_H * len(entries))
        pts = view.px(lon[::step], lat[::step]) + np.array([bx, by])
        corner = _legend_corner((bx, by, bx + w, by + h), lsize, pts)
        _draw_legend(draw, corner, entries, small, lsize, bar_px)

        out = Path(path)
        with atomic_path(out, suffix=".png") as tmp:
            fig.save(tmp, format="PNG", compress_level=3)
        return out

    def _compose(self) -> Image.Image:
        """Return the figure: the map reduced to its size, framed, with graticule labels."""
        w, h = self.view.size
        bx, by = self.origin
        fig = Image.new("RGB", _SIZE, "white")
        fig.paste(self.map.resize((w, h), Image.Resampling.BOX), (bx, by))
        draw = ImageDraw.Draw(fig)
        draw.rectangle([bx - 1, by - 1, bx + w, by + h], outline=_INK)
        self._axes(draw, fig, self.small, self.normal)
        return fig

    def _axes(self, draw: ImageDraw.ImageDraw, fig: Image.Image, small: Font, normal: Font) -> None:
        """Graticule ticks and labels, axis names."""
        view = self.view
        w, h = view.size
        bx, by = self.origin
        xt, xd = _ticks(view.x0, view.x1, 5)
        for x in xt:
            px = bx + (x - view.x0) * view.kx * view.scale
            draw.line([(px, by + h), (px, by + h + 4)], fill=_INK)
            draw.text((px, by + h + 6), f"{x:.{xd}f}", fill=_INK, font=small, anchor="mt")
        yt, yd = _ticks(view.y0, view.y1, 5)
        for y in yt:
            py = by + (view.y1 - y) * view.scale
            draw.line([(bx - 5, py), (bx - 1, py)], fill=_INK)
            draw.text((bx - 7, py), f"{y:.{yd}f}", fill=_INK, font=small, anchor="rm")
        draw.text((bx + w / 2, by + h + 24), "longitude (°)", fill=_INK, font=normal, anchor="mt")
        ylab = Image.new("RGB", (120, 18), "white")
        ImageDraw.Draw(ylab).text((60, 9), "latitude (°)", fill=_INK, font=normal, anchor="mm")
        fig.paste(ylab.rotate(90, expand=True), (max(0, bx - 70), int(by + h / 2 - 60)))


def write_audit_png(
    path: str | Path,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    incursions: Sequence[Incursion],
    authorized: shapely.Geometry,
    *,
    title: str,
) -> Path:
    """Write the audit map PNG (atomically).

    Parameters
    ----------
    path : str or Path
        Output PNG, 825 x 715 px.
    lon, lat : (n,) ndarray, degrees
        The track.
    incursions : sequence of Incursion
        Stretches outside authorized airspace (sample indices into the track); each is
        drawn in red, its deepest sample marked with a cross, the deepest of all labelled
        with its depth.
    authorized : shapely geometry
        Authorized airspace, lon/lat (tinted green).
    title : str
        Title above the map.

    Returns
    -------
    Path
        ``path``.
    """
    return AuditMap(lon, lat, authorized).write(path, incursions, title=title)
