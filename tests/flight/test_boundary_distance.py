"""Point-to-boundary distances over segment arrays against shapely (GEOS)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from plumetrace.flight.boundary_distance import boundary_segments, distance_to_segments


def _random_area(seed: int) -> shapely.Geometry:
    """A multipolygon with holes: buffered random points minus a few disks."""
    rng = np.random.default_rng(seed)
    blobs = shapely.buffer(
        shapely.points(rng.uniform(0, 1e5, 12), rng.uniform(0, 1e5, 12)),
        rng.uniform(3e3, 15e3, 12),
        quad_segs=int(rng.integers(2, 9)),
    )
    holes = shapely.buffer(
        shapely.points(rng.uniform(0, 1e5, 4), rng.uniform(0, 1e5, 4)), rng.uniform(5e2, 4e3, 4)
    )
    return shapely.difference(shapely.union_all(blobs), shapely.union_all(holes))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_shapely_on_multipolygons_with_holes(seed: int) -> None:
    area = _random_area(seed)
    seg = boundary_segments(area)
    assert seg.shape[1] == 4 and seg.shape[0] == shapely.get_num_coordinates(area) - len(
        shapely.get_parts(shapely.get_parts(area.boundary))
    )
    rng = np.random.default_rng(100 + seed)
    x = rng.uniform(-3e4, 1.3e5, 20_000)
    y = rng.uniform(-3e4, 1.3e5, 20_000)
    got = distance_to_segments(x, y, seg)
    want = shapely.distance(shapely.points(x, y), area.boundary)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    # the distance to the area: 0 on it, else to its boundary
    on = shapely.intersects_xy(area, x, y)
    np.testing.assert_allclose(
        np.where(on, 0.0, got), shapely.distance(shapely.points(x, y), area), rtol=1e-12, atol=1e-9
    )


def test_max_distance_gives_inf_beyond() -> None:
    area = _random_area(5)
    rng = np.random.default_rng(7)
    x = rng.uniform(-2e5, 3e5, 5_000)
    y = rng.uniform(-2e5, 3e5, 5_000)
    want = shapely.distance(shapely.points(x, y), area.boundary)
    got = distance_to_segments(x, y, boundary_segments(area), max_distance=20_000.0)
    np.testing.assert_allclose(got[want <= 20_000.0], want[want <= 20_000.0], rtol=1e-12)
    assert np.all(np.isinf(got[want > 20_000.0 + 1e-6]))


def test_empty_inputs_and_degenerate_segments() -> None:
    assert distance_to_segments(np.zeros(0), np.zeros(0), np.zeros((1, 4))).shape == (0,)
    assert np.all(np.isinf(distance_to_segments(np.zeros(3), np.zeros(3), np.zeros((0, 4)))))
    assert boundary_segments(shapely.Polygon()).shape == (0, 4)
    # a zero-length segment is a point; one point everywhere (all in one cell)
    seg = np.array([[3.0, 4.0, 3.0, 4.0], [10.0, 0.0, 10.0, 10.0]])
    d = distance_to_segments(np.array([0.0, 0.0]), np.array([0.0, 0.0]), seg)
    np.testing.assert_allclose(d, [5.0, 5.0])


@settings(max_examples=60, deadline=None)
@given(
    coords=st.lists(
        st.tuples(
            st.integers(-(10**5), 10**5).map(lambda v: v / 10.0),
            st.integers(-(10**5), 10**5).map(lambda v: v / 10.0),
        ),
        min_size=3,
        max_size=12,
    ),
    points=st.lists(
        st.tuples(
            st.floats(-3e4, 3e4, allow_nan=False),
            st.floats(-3e4, 3e4, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_matches_shapely_on_random_lines(
    coords: list[tuple[float, float]], points: list[tuple[float, float]]
) -> None:
    line = shapely.LineString(coords)
    p = np.array(points)
    got = distance_to_segments(p[:, 0], p[:, 1], boundary_segments(line))
    want = shapely.distance(shapely.points(p), line)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
