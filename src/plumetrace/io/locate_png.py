"""The posterior map of ``plumetrace locate``: where the source may be, and the readings.

The picture shows the posterior density of the source position (weighted particles,
binned on the prior box), the readings (points coloured by enhancement, beams drawn
from sensor to reflector with width by their mean enhancement), the estimate with its
68 % credible circle, and the mean wind as an arrow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from numpy.typing import NDArray

from plumetrace.io._atomic import atomic_path

__all__ = ["write_posterior_png"]


def write_posterior_png(
    path: str | Path,
    *,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: NDArray[np.float64],
    box: tuple[float, float, float, float],
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    enhancement_ppm: NDArray[np.float64],
    estimate: tuple[float, float],
    radius68_m: float,
    wind_from_deg: float,
    title: str,
    truth: tuple[float, float] | None = None,
) -> Path:
    """Write the posterior map PNG (atomically).

    Parameters
    ----------
    path : str or Path
        Output PNG.
    x, y, weights : (N,) ndarray
        Particle positions (m) and normalised weights.
    box : tuple of 4 floats, m
        Prior box ``(xmin, ymin, xmax, ymax)``: the map extent.
    start, end : (M, 3) ndarray, m
        Reading geometry (equal for point readings).
    enhancement_ppm : (M,) ndarray
        Observed enhancements.
    estimate : tuple of 2 floats, m
        Posterior mean position.
    radius68_m : float
        68 % credible radius.
    wind_from_deg : float
        Mean wind direction (from, clockwise from north).
    title : str
        Figure title.
    truth : tuple of 2 floats, optional
        True source position (simulations), drawn as a star.
    """
    x0, y0, x1, y1 = box
    fig = Figure(figsize=(7.0, 6.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    span = max(x1 - x0, y1 - y0)
    bins = 120
    hist, xe, ye = np.histogram2d(x, y, bins=bins, range=[[x0, x1], [y0, y1]], weights=weights)
    hist = np.ma.masked_less_equal(hist.T, 0.0)
    mesh = ax.pcolormesh(xe, ye, hist, cmap="magma_r", shading="flat")
    fig.colorbar(mesh, ax=ax, label="posterior mass per cell", shrink=0.8)
    path_mask = np.linalg.norm(end - start, axis=1) > 1e-9
    if np.any(path_mask):
        seen: dict[tuple[float, ...], list[float]] = {}
        for s, e, v in zip(
            start[path_mask], end[path_mask], enhancement_ppm[path_mask], strict=True
        ):
            seen.setdefault((*s[:2], *e[:2]), []).append(float(v))
        top = max(max(float(np.mean(v)) for v in seen.values()), 1e-9)
        for (sx, sy, ex, ey), vals in seen.items():
            width = 0.8 + 4.0 * max(float(np.mean(vals)), 0.0) / top
            ax.plot([sx, ex], [sy, ey], color="tab:blue", lw=width, alpha=0.7)
    if np.any(~path_mask):
        pts = start[~path_mask]
        sc = ax.scatter(
            pts[:, 0],
            pts[:, 1],
            c=enhancement_ppm[~path_mask],
            s=14,
            cmap="viridis",
            edgecolors="k",
            linewidths=0.3,
            zorder=3,
        )
        fig.colorbar(sc, ax=ax, label="enhancement, ppm", shrink=0.8)
    ex, ey = estimate
    ax.plot([ex], [ey], marker="+", color="tab:cyan", ms=14, mew=2.5, zorder=4)
    ax.add_patch(Circle((ex, ey), radius68_m, fill=False, color="tab:cyan", lw=1.5, zorder=4))
    if truth is not None:
        ax.plot([truth[0]], [truth[1]], marker="*", color="tab:green", ms=14, zorder=5)
    to = np.deg2rad(wind_from_deg + 180.0)
    length = 0.12 * span
    ax.annotate(
        "wind",
        xy=(
            x0 + 0.12 * span + 0.5 * length * np.sin(to),
            y1 - 0.12 * span + 0.5 * length * np.cos(to),
        ),
        xytext=(
            x0 + 0.12 * span - 0.5 * length * np.sin(to),
            y1 - 0.12 * span - 0.5 * length * np.cos(to),
        ),
        arrowprops={"arrowstyle": "->", "lw": 2.0},
        ha="center",
        va="center",
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x (east), m")
    ax.set_ylabel("y (north), m")
    ax.set_title(title, fontsize=10)
    out = Path(path)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return out
