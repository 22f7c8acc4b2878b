"""The map of a track audit: authorized airspace, the track, incursions, deepest points."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from plumetrace.flight.audit import Incursion
from plumetrace.io._atomic import atomic_path

__all__ = ["write_audit_png"]

_PLOT_POINTS = 50_000  # long tracks are drawn decimated to at most this many points


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
        Output PNG.
    lon, lat : (n,) ndarray, degrees
        The track.
    incursions : sequence of Incursion
        Stretches outside authorized airspace (sample indices into the track).
    authorized : shapely geometry
        Authorized airspace, lon/lat (drawn in green).
    title : str
        Figure title.
    """
    fig = Figure(figsize=(7.5, 6.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    pad = 0.05 + 0.1 * max(np.ptp(lon), np.ptp(lat))
    x0, x1 = lon.min() - pad, lon.max() + pad
    y0, y1 = lat.min() - pad, lat.max() + pad
    view = shapely.box(x0, y0, x1, y1)
    for poly in shapely.get_parts(shapely.intersection(authorized, view)):
        if poly.geom_type != "Polygon":
            continue
        xs, ys = poly.exterior.xy
        ax.fill(xs, ys, color="tab:green", alpha=0.15, lw=0)
        ax.plot(xs, ys, color="tab:green", lw=0.6)
    step = max(1, lon.shape[0] // _PLOT_POINTS)
    ax.plot(lon[::step], lat[::step], color="tab:blue", lw=1.2, label="track")
    for k, inc in enumerate(incursions):
        # all incursions together are drawn with at most ~_PLOT_POINTS points, each with its
        # last sample
        part = np.arange(inc.first, inc.last + 1, step)
        if part[-1] != inc.last:
            part = np.append(part, inc.last)
        ax.plot(
            lon[part], lat[part], color="tab:red", lw=2.5, label="incursion" if k == 0 else None
        )
        ax.plot(lon[inc.deepest], lat[inc.deepest], "x", color="tab:red", ms=9)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / max(np.cos(np.deg2rad(0.5 * (y0 + y1))), 0.05))
    ax.locator_params(axis="x", nbins=4)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title, fontsize=10)
    if incursions:
        ax.legend(loc="best", fontsize=8)
    out = Path(path)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return out
