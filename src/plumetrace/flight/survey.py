"""Survey planning: parallel lines over an area, inside authorized airspace only.

Everything is in projected metres. The flyable area is the authorized airspace shrunk by
the turn radius plus a safety margin (5 m by default), so that turns at the line ends
stay inside and no waypoint sits on a border; lines run at ``heading`` across
the area to cover (the authorized part of the AOI, reached up to half a swath beyond its
edge where that is still flyable), spaced ``swath · (1 - side_overlap)`` apart, and are
flown back and forth. A connection between two lines that would leave authorized airspace
follows the flyable area's boundary instead. When lines ending obliquely at a boundary they
may not cross leave wedges uncovered (coverage below 99.5 %), a perimeter pass half a swath
inside the flyable target covers them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from plumetrace.errors import InvalidParameterError

__all__ = ["SurveyPlan", "best_heading", "plan_survey"]

_PERIMETER_BELOW = 0.995  # fly a perimeter pass when the lines cover less than this


@dataclass(frozen=True)
class SurveyPlan:
    """A planned survey (projected metres).

    Attributes
    ----------
    waypoints : (n, 2) ndarray, m
        The route in order: line starts and ends, with boundary-following points between.
    lines : list of (k, 2) ndarray
        Survey lines (start, end), in flight order, then any perimeter pass (a ring).
    heading_deg : float
        Line direction, degrees clockwise from north.
    spacing_m : float
        Distance between lines.
    covered : shapely geometry
        What the swath covers.
    target : shapely geometry
        The authorized part of the AOI.
    """

    waypoints: NDArray[np.float64]
    lines: list[NDArray[np.float64]]
    heading_deg: float
    spacing_m: float
    covered: BaseGeometry
    target: BaseGeometry

    @property
    def length_m(self) -> float:
        """Route length, m."""
        return float(np.sum(np.hypot(*np.diff(self.waypoints, axis=0).T)))

    @property
    def coverage_fraction(self) -> float:
        """Share of the target area the swath covers."""
        if self.target.area <= 0:
            return 0.0
        return float(shapely.intersection(self.covered, self.target).area / self.target.area)


def _rotate(
    xy: NDArray[np.float64], heading_deg: float, inverse: bool = False
) -> NDArray[np.float64]:
    """To a frame whose +v axis runs along ``heading`` (clockwise from north)."""
    a = math.radians(heading_deg)
    # unit vectors: along-track (sin a, cos a), cross-track (cos a, -sin a)
    m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])  # rows: u, v
    out: NDArray[np.float64] = xy @ (m if inverse else m.T)
    return out


def _lines(area: BaseGeometry, heading_deg: float, spacing: float) -> list[NDArray[np.float64]]:
    if area.is_empty:
        return []
    coords = shapely.get_coordinates(area)
    uv = _rotate(coords, heading_deg)
    u0, u1 = uv[:, 0].min(), uv[:, 0].max()
    v0, v1 = uv[:, 1].min() - 1.0, uv[:, 1].max() + 1.0
    # n lines, evenly spread, no farther apart than the spacing
    n = max(1, math.ceil((u1 - u0) / spacing))
    offsets = u0 + (np.arange(n) + 0.5) * (u1 - u0) / n
    out: list[NDArray[np.float64]] = []
    for k, u in enumerate(offsets):
        ends = _rotate(np.array([[u, v0], [u, v1]]), heading_deg, inverse=True)
        pieces = shapely.get_parts(shapely.intersection(shapely.LineString(ends), area))
        segs = [
            np.asarray(p.coords) for p in pieces if p.geom_type == "LineString" and p.length > 1.0
        ]
        segs.sort(key=lambda s: float(_rotate(s[:1], heading_deg)[0, 1]))
        if k % 2 == 1:  # back and forth
            segs = [s[::-1] for s in segs[::-1]]
        out.extend(segs)
    return out


def best_heading(area: BaseGeometry) -> float:
    """Heading (deg) along the longest side of the area's minimum rotated rectangle.

    Lines along the long side need the fewest turns.
    """
    rect = shapely.minimum_rotated_rectangle(area)
    xy = np.asarray(shapely.get_coordinates(rect))[:4]
    sides = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    longest = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    return float(math.degrees(math.atan2(longest[0], longest[1])) % 180.0)


def _connect(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    authorized: BaseGeometry,
    flyable: BaseGeometry,
    turn_radius: float,
) -> list[NDArray[np.float64]]:
    """Intermediate points from a to b that keep the connection inside authorized airspace."""
    seg = shapely.LineString([a, b])
    if shapely.contains(authorized, shapely.buffer(seg, turn_radius)):
        return []
    # follow the boundary of the flyable part both points lie in, the shorter way round
    parts = shapely.get_parts(flyable)
    pa, pb = shapely.Point(a), shapely.Point(b)
    for part in parts:
        if part.distance(pa) < 1.0 and part.distance(pb) < 1.0:
            ring = part.exterior
            da, db = ring.project(pa), ring.project(pb)
            lo, hi = sorted((da, db))
            inner = shapely.ops.substring(ring, lo, hi)
            outer_len = ring.length - (hi - lo)
            if inner.length <= outer_len:
                path = np.asarray(inner.coords)
                return list(path if da <= db else path[::-1])
            first = shapely.ops.substring(ring, hi, ring.length)
            second = shapely.ops.substring(ring, 0.0, lo)
            path = np.vstack([np.asarray(first.coords), np.asarray(second.coords)])
            return list(path if da >= db else path[::-1])
    return []


def plan_survey(
    aoi: BaseGeometry,
    authorized: BaseGeometry,
    *,
    swath_m: float,
    side_overlap: float = 0.2,
    heading_deg: float | None = None,
    turn_radius_m: float = 0.0,
    boundary_margin_m: float = 5.0,
) -> SurveyPlan:
    """Plan parallel survey lines over the authorized part of an AOI (projected metres).

    Raises
    ------
    InvalidParameterError
        On a bad swath/overlap/turn radius, or when no part of the AOI is flyable.
    """
    if not swath_m > 0.0:
        raise InvalidParameterError("swath must be > 0 m")
    if not 0.0 <= side_overlap <= 0.9:
        raise InvalidParameterError("side overlap must be in [0, 0.9]")
    if not turn_radius_m >= 0.0 or not boundary_margin_m >= 0.0:
        raise InvalidParameterError("turn radius and boundary margin must be >= 0 m")
    target = shapely.intersection(aoi, authorized)
    if target.is_empty or target.area <= 0.0:
        raise InvalidParameterError("no part of the AOI is in the operator's authorized airspace")
    # stay clear of forbidden airspace by the turn radius plus a safety margin: a waypoint
    # exactly on a border is on it for one GPS fix and across it for the next
    flyable = shapely.buffer(authorized, -(turn_radius_m + boundary_margin_m))
    reach = shapely.intersection(shapely.buffer(target, 0.5 * swath_m), flyable)
    if reach.is_empty:
        raise InvalidParameterError(
            "the AOI's authorized part is narrower than the turn radius allows"
        )
    spacing = swath_m * (1.0 - side_overlap)
    heading = best_heading(target) if heading_deg is None else float(heading_deg) % 360.0
    lines = _lines(reach, heading, spacing)
    if not lines:
        raise InvalidParameterError("no survey line fits in the AOI's authorized part")
    route: list[NDArray[np.float64]] = []
    for k, line in enumerate(lines):
        if k > 0:
            route.extend(_connect(route[-1], line[0], authorized, flyable, turn_radius_m))
        route.extend([line[0], line[-1]])
    covered = shapely.union_all(
        [shapely.buffer(shapely.LineString(s), 0.5 * swath_m, cap_style="flat") for s in lines]
    )
    if shapely.intersection(covered, target).area < _PERIMETER_BELOW * target.area:
        # lines ending obliquely at a boundary they may not cross leave wedges: fly the
        # perimeter of the flyable target half a swath inside to cover them
        inner = shapely.buffer(shapely.intersection(target, flyable), -0.5 * swath_m)
        for part in shapely.get_parts(inner):
            if part.geom_type != "Polygon" or part.area <= 0:
                continue
            ring = np.asarray(shapely.simplify(part.exterior, 5.0).coords)
            route.extend(_connect(route[-1], ring[0], authorized, flyable, turn_radius_m))
            route.extend(list(ring))
            lines.append(ring)
            covered = shapely.union(
                covered, shapely.buffer(shapely.LineString(ring), 0.5 * swath_m, cap_style="flat")
            )
    return SurveyPlan(
        waypoints=np.asarray(route, dtype=np.float64),
        lines=lines,
        heading_deg=heading,
        spacing_m=spacing,
        covered=covered,
        target=target,
    )
