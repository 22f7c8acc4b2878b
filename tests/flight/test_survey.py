from __future__ import annotations

import itertools

import pytest
import shapely

from plumetrace.errors import InvalidParameterError
from plumetrace.flight.survey import best_heading, plan_survey


def _inside(plan, authorized) -> None:  # type: ignore[no-untyped-def]
    wp = plan.waypoints
    area = authorized  # strictly inside: waypoints keep a margin from every border
    assert shapely.contains_xy(area, wp[:, 0], wp[:, 1]).all()
    for a, b in itertools.pairwise(wp):
        assert shapely.covers(area, shapely.LineString([a, b]))


def test_lines_cover_the_authorized_part_and_stay_inside() -> None:
    aoi = shapely.box(0, 0, 10_000, 6_000)
    authorized = shapely.box(-5_000, -5_000, 6_000, 15_000)  # the east part is not allowed
    plan = plan_survey(aoi, authorized, swath_m=400, side_overlap=0.2)
    _inside(plan, authorized)
    assert plan.coverage_fraction >= 0.99
    assert plan.target.area == pytest.approx(6_000 * 6_000)
    assert plan.spacing_m == pytest.approx(320.0)


def test_a_concave_boundary_is_followed_not_crossed() -> None:
    # a U-shaped authorized area: lines across both arms, connections must go round
    authorized = shapely.difference(
        shapely.box(0, 0, 10_000, 10_000), shapely.box(3_000, 3_000, 7_000, 10_001)
    )
    aoi = shapely.box(0, 0, 10_000, 10_000)
    plan = plan_survey(aoi, authorized, swath_m=500, heading_deg=0.0, turn_radius_m=0.0)
    _inside(plan, authorized)
    assert plan.coverage_fraction >= 0.99
    # with a turn radius the lines stop short of the boundary: still inside, less coverage
    wide = plan_survey(aoi, authorized, swath_m=500, heading_deg=0.0, turn_radius_m=50)
    _inside(wide, shapely.buffer(authorized, 0.0))
    assert shapely.contains(authorized, shapely.buffer(shapely.LineString(wide.waypoints), 49.0))


def test_best_heading_follows_the_long_side() -> None:
    assert best_heading(shapely.box(0, 0, 10_000, 1_000)) == pytest.approx(90.0)
    assert best_heading(shapely.box(0, 0, 1_000, 10_000)) % 180 == pytest.approx(0.0, abs=1e-6)


def test_nothing_authorized_is_an_error() -> None:
    with pytest.raises(InvalidParameterError, match="no part of the AOI"):
        plan_survey(shapely.box(0, 0, 10, 10), shapely.box(100, 100, 200, 200), swath_m=5)
    with pytest.raises(InvalidParameterError, match="side overlap"):
        plan_survey(
            shapely.box(0, 0, 10, 10), shapely.box(0, 0, 10, 10), swath_m=5, side_overlap=0.95
        )
