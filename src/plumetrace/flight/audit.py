"""Track audit: when, where, how long and how deep a flown track left authorized airspace.

Works in projected metres (the zones' local projection). A point is in an incursion when
it is outside the authorized area. Entry and exit are where the straight segment between
the last inside and first outside sample (and back) crosses the boundary, with the time
interpolated linearly along the segment. The depth of a sample is its distance to the
authorized area; an incursion's depth is the largest over its samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from plumetrace.errors import InvalidParameterError

__all__ = ["Incursion", "find_incursions"]


@dataclass(frozen=True)
class Incursion:
    """One stretch of the track outside authorized airspace (projected coordinates).

    Attributes
    ----------
    first, last : int
        Indices of the first and last samples outside.
    entry_time_s, exit_time_s : float
        Interpolated boundary crossings (the first/last sample's time if the track starts
        or ends outside).
    entry_xy, exit_xy : tuple of 2 floats
        Crossing points, m.
    max_depth_m : float
        Greatest distance of a sample to the authorized area, m.
    deepest : int
        Index of that sample.
    """

    first: int
    last: int
    entry_time_s: float
    exit_time_s: float
    entry_xy: tuple[float, float]
    exit_xy: tuple[float, float]
    max_depth_m: float
    deepest: int

    @property
    def duration_s(self) -> float:
        """Exit minus entry time, s."""
        return self.exit_time_s - self.entry_time_s


def _crossing(
    a: NDArray[np.float64], b: NDArray[np.float64], boundary: BaseGeometry, from_a: bool
) -> float:
    """Fraction along a->b of the last (a inside) or first (a outside) boundary crossing."""
    seg = shapely.LineString([a, b])
    hit = shapely.intersection(seg, boundary)
    pts = shapely.get_coordinates(hit)
    if pts.shape[0] == 0:
        return 0.5
    d = b - a
    length2 = float(d @ d)
    if length2 == 0.0:
        return 0.0
    t = np.clip(((pts - a) @ d) / length2, 0.0, 1.0)
    return float(np.max(t) if from_a else np.min(t))


_DEPTH_SAMPLES = 50_000

Projector = Callable[[NDArray[np.intp]], tuple[NDArray[np.float64], NDArray[np.float64]]]


class _Coords:
    """Projected sample positions, projected on first use when a projector is given."""

    def __init__(
        self, x: NDArray[np.float64], y: NDArray[np.float64], project: Projector | None
    ) -> None:
        self.x = np.array(x, dtype=np.float64)
        self.y = np.array(y, dtype=np.float64)
        self.project = project

    def take(self, idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return ``x[idx], y[idx]`` (projecting those not known yet)."""
        idx = np.asarray(idx, dtype=np.intp)
        if self.project is not None:
            todo = np.unique(idx[np.isnan(self.x[idx]) | np.isnan(self.y[idx])])
            if todo.size:
                self.x[todo], self.y[todo] = self.project(todo)
        return self.x[idx], self.y[idx]

    def xy(self, k: int) -> NDArray[np.float64]:
        """Position of sample ``k`` as a (2,) array."""
        x, y = self.take(np.array([k]))
        return np.array([x[0], y[0]])


def _depths(
    coords: _Coords,
    outside: NDArray[np.bool_],
    authorized: BaseGeometry,
) -> NDArray[np.float64]:
    """Distance of outside samples to the authorized area (0 inside).

    Long tracks are measured on every k-th outside sample (at most 50,000), then exactly
    around each stretch's deepest sample: depth varies smoothly along a track, so the
    maximum is found exactly while most of the 10⁶ distances are skipped. The samples
    not measured keep 0 (only the maxima are reported).
    """
    n = outside.shape[0]
    depth = np.zeros(n)
    idx = np.flatnonzero(outside)
    stride = max(1, idx.size // _DEPTH_SAMPLES)
    probe = idx[::stride]
    depth[probe] = shapely.distance(shapely.points(*coords.take(probe)), authorized)
    if stride == 1:
        return depth
    # refine: every sample within a stride of a probe deeper than its neighbours
    d = depth[probe]
    peak = np.ones(d.size, dtype=bool)
    peak[1:] &= d[1:] >= d[:-1]
    peak[:-1] &= d[:-1] >= d[1:]
    wins = []
    for k in probe[peak]:
        lo, hi = max(0, k - stride), min(n, k + stride + 1)
        win = np.arange(lo, hi)
        wins.append(win[outside[win]])
    if wins:
        win = np.concatenate(wins)
        depth[win] = shapely.distance(shapely.points(*coords.take(win)), authorized)
    return depth


def find_incursions(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    time_s: NDArray[np.float64],
    authorized: BaseGeometry,
    *,
    inside: NDArray[np.bool_] | None = None,
    project: Projector | None = None,
) -> list[Incursion]:
    """Find every stretch of a track outside ``authorized``.

    Parameters
    ----------
    x, y : (n,) ndarray, m
        Projected track positions, in time order.
    time_s : (n,) ndarray, s
        Strictly increasing sample times.
    authorized : shapely geometry
        Authorized area in the same projection.
    inside : (n,) ndarray of bool, optional
        Which samples are inside, when already known; then ``x`` and ``y`` are only read
        at outside samples and their neighbours (the rest may be NaN).
    project : callable, optional
        ``project(idx) -> (x, y)`` gives the projected positions of samples ``idx`` (m);
        with it, ``x`` and ``y`` may be NaN wherever not known yet, and only the samples
        that are measured (depth probes, crossings) get projected.

    Returns
    -------
    list of Incursion
        In time order.
    """
    n = x.shape[0]
    if n == 0:
        return []
    if np.any(np.diff(time_s) <= 0.0):
        raise InvalidParameterError("track times must be strictly increasing")
    if inside is None:
        shapely.prepare(authorized)
        inside = shapely.contains_xy(authorized, x, y)
    outside = ~inside
    if not np.any(outside):
        return []
    coords = _Coords(x, y, project)
    depth = _depths(coords, outside, authorized)
    boundary = shapely.boundary(authorized)
    edges = np.diff(outside.astype(np.int8))
    starts = [int(v) for v in np.flatnonzero(edges == 1) + 1]
    ends = [int(v) for v in np.flatnonzero(edges == -1)]
    if outside[0]:
        starts.insert(0, 0)
    if outside[-1]:
        ends.append(n - 1)
    xy = coords.xy
    out = []
    for s, e in zip(starts, ends, strict=True):
        if s > 0:
            a, b = xy(s - 1), xy(s)
            f = _crossing(a, b, boundary, from_a=True)
            t_in = time_s[s - 1] + f * (time_s[s] - time_s[s - 1])
            p_in = a + f * (b - a)
        else:
            t_in, p_in = time_s[0], xy(0)
        if e < n - 1:
            a, b = xy(e), xy(e + 1)
            f = _crossing(a, b, boundary, from_a=False)
            t_out = time_s[e] + f * (time_s[e + 1] - time_s[e])
            p_out = a + f * (b - a)
        else:
            t_out, p_out = time_s[-1], xy(n - 1)
        k = int(s + int(np.argmax(depth[s : e + 1])))
        out.append(
            Incursion(
                first=int(s),
                last=int(e),
                entry_time_s=float(t_in),
                exit_time_s=float(t_out),
                entry_xy=(float(p_in[0]), float(p_in[1])),
                exit_xy=(float(p_out[0]), float(p_out[1])),
                max_depth_m=float(depth[k]),
                deepest=k,
            )
        )
    return out
