"""Exact distances from many points to an area's boundary, over arrays of segments.

The distance of a point to a set of straight segments is the smallest point-to-segment
distance, computed with the same formula as GEOS (``Distance::pointToSegment``), so the
results equal ``shapely.distance`` to the last bits. Instead of a tree search per point,
points are binned on a grid: for each occupied cell, the segments that can be nearest to
any point of the cell are found once (those within the centre's nearest distance plus a
cell diagonal of the centre), and each point is measured against its cell's few
candidates only, column-wise in numpy.

Pure: arrays in, arrays out (projected coordinates, metres).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

__all__ = ["boundary_segments", "distance_to_segments"]

_MAX_CELLS_PER_AXIS = 512
_POINTS_PER_CELL = 16.0
_POINTS_PER_CHUNK = 131_072
_PAIRS_PER_CHUNK = 2_000_000


def boundary_segments(area: BaseGeometry) -> NDArray[np.float64]:
    """Straight segments of an area's boundary (or of a lineal geometry).

    Parameters
    ----------
    area : shapely geometry
        Polygonal or lineal, projected (m).

    Returns
    -------
    (k, 4) ndarray, m
        ``x0, y0, x1, y1`` of each segment; empty when the geometry is.
    """
    if area.is_empty:
        return np.zeros((0, 4))
    lines = area if area.geom_type in ("LineString", "MultiLineString") else area.boundary
    parts = shapely.get_parts(shapely.get_parts(lines))
    xy, index = shapely.get_coordinates(parts, return_index=True)
    if xy.shape[0] < 2:
        return np.zeros((0, 4))
    same = index[1:] == index[:-1]
    return np.ascontiguousarray(np.column_stack([xy[:-1][same], xy[1:][same]]))


def _pair_distance(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Point-to-segment distances, broadcast (GEOS ``Distance::pointToSegment``)."""
    ux = bx - ax
    uy = by - ay
    len2 = ux * ux + uy * uy
    dax = px - ax
    day = py - ay
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = (dax * ux + day * uy) / len2
        s = ((ay - py) * ux - (ax - px) * uy) / len2
        across = np.abs(s) * np.sqrt(len2)
    to_a = np.sqrt(dax * dax + day * day)
    dbx = px - bx
    dby = py - by
    to_b = np.sqrt(dbx * dbx + dby * dby)
    out = np.where(r >= 1.0, to_b, across)
    return np.where((len2 == 0.0) | (r <= 0.0), to_a, out)


def distance_to_segments(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    segments: NDArray[np.float64],
    max_distance: float = math.inf,
) -> NDArray[np.float64]:
    """Distance of each point to the nearest segment.

    Parameters
    ----------
    x, y : (n,) ndarray, m
        Points (finite).
    segments : (k, 4) ndarray, m
        ``x0, y0, x1, y1`` (:func:`boundary_segments`).
    max_distance : float, m
        Points farther than this from every segment get ``inf`` (like
        ``STRtree.query_nearest(max_distance=...)`` finding nothing).

    Returns
    -------
    (n,) ndarray, m
        ``inf`` where there are no segments or none within ``max_distance``.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    seg = np.asarray(segments, dtype=np.float64).reshape(-1, 4)
    n = xa.shape[0]
    out = np.full(n, np.inf)
    if n == 0 or seg.shape[0] == 0:
        return out
    x0, x1 = float(xa.min()), float(xa.max())
    y0, y1 = float(ya.min()), float(ya.max())
    per_axis = min(_MAX_CELLS_PER_AXIS, max(1, int(math.sqrt(n / _POINTS_PER_CELL))))
    cell = max(x1 - x0, y1 - y0) / per_axis
    if cell <= 0.0:
        cell = 1.0
    nx = min(per_axis, int((x1 - x0) / cell) + 1)
    ny = min(per_axis, int((y1 - y0) / cell) + 1)
    ix = np.minimum(((xa - x0) / cell).astype(np.int64), nx - 1)
    iy = np.minimum(((ya - y0) / cell).astype(np.int64), ny - 1)
    cell_of = iy * nx + ix
    occupied = np.flatnonzero(np.bincount(cell_of, minlength=nx * ny))
    lookup = np.zeros(nx * ny, dtype=np.intp)
    lookup[occupied] = np.arange(occupied.shape[0])
    point_cell = lookup[cell_of]
    # each occupied cell: centre, nearest distance, and the segments that can be nearest
    # to any of its points (a cell corner is at most half a diagonal from the centre)
    cx = x0 + (occupied % nx + 0.5) * cell
    cy = y0 + (occupied // nx + 0.5) * cell
    half_diag = 0.5 * math.sqrt(2.0) * cell
    # the centres' nearest distances and candidate segments come from a tree of segments
    tree = shapely.STRtree(shapely.linestrings(seg.reshape(-1, 2, 2)))
    centres = shapely.points(cx, cy)
    _, near = tree.query_nearest(centres, return_distance=True, all_matches=False)
    far_cell = near - half_diag > max_distance
    reach = np.where(far_cell, 0.0, near + 2.0 * half_diag * (1.0 + 1e-9) + 1e-6)
    c_cell, c_seg = tree.query(centres, predicate="dwithin", distance=reach)
    keep = ~far_cell[c_cell]
    c_cell, c_seg = c_cell[keep], c_seg[keep]
    by_cell = np.argsort(c_cell, kind="stable")
    c_cell, c_seg = c_cell[by_cell], c_seg[by_cell]
    count = np.bincount(c_cell, minlength=occupied.shape[0])
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    todo = np.flatnonzero(~far_cell[point_cell])
    ax, ay = seg[:, 0], seg[:, 1]
    ux, uy = seg[:, 2] - ax, seg[:, 3] - ay
    len2 = ux * ux + uy * uy
    len2[len2 == 0.0] = 1.0  # a point: t = 0 below (its ux, uy are 0)

    def measure(pts: NDArray[np.intp]) -> None:
        pc = point_cell[pts]
        k = count[pc]
        first = np.concatenate([[0], np.cumsum(k)[:-1]])
        pair_pt = np.repeat(np.arange(pts.shape[0]), k)
        within = np.arange(pair_pt.shape[0]) - np.repeat(first, k)
        pair_seg = c_seg[np.repeat(start[pc], k) + within]
        # squared distances to pick each point's nearest candidate (clamped projection)
        px = xa[pts][pair_pt]
        py = ya[pts][pair_pt]
        dx = px - ax[pair_seg]
        dy = py - ay[pair_seg]
        sx = ux[pair_seg]
        sy = uy[pair_seg]
        with np.errstate(over="ignore"):
            t = (dx * sx + dy * sy) / len2[pair_seg]
        np.clip(t, 0.0, 1.0, out=t)
        dx -= t * sx
        dy -= t * sy
        dx *= dx
        dy *= dy
        dx += dy
        best = np.minimum.reduceat(dx, first)
        pos = np.where(dx == np.repeat(best, k), np.arange(dx.shape[0]), -1)
        win = pair_seg[np.maximum.reduceat(pos, first)]
        # the nearest candidate's distance, exactly as GEOS computes it
        out[pts] = _pair_distance(
            xa[pts], ya[pts], seg[win, 0], seg[win, 1], seg[win, 2], seg[win, 3]
        )

    chunks = [todo[a : a + _POINTS_PER_CHUNK] for a in range(0, todo.shape[0], _POINTS_PER_CHUNK)]
    if len(chunks) > 1:
        # numpy releases the GIL in these loops: two threads use both cores
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(measure, chunks))
    elif chunks:
        measure(chunks[0])
    out[out > max_distance] = np.inf
    return out
