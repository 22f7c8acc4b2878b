from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.plumes.geometry import downwind_unit_vector, mask_outline, north_up_jacobian


@pytest.mark.parametrize(
    ("wind_from", "expected"),
    [(270.0, (0.0, 1.0)), (0.0, (1.0, 0.0)), (90.0, (0.0, -1.0)), (180.0, (-1.0, 0.0))],
)
def test_downwind_vector_north_up(wind_from: float, expected: tuple[float, float]) -> None:
    v = downwind_unit_vector(wind_from, north_up_jacobian(5.0))
    np.testing.assert_allclose(v, expected, atol=1e-12)


def test_downwind_vector_rotated_grid() -> None:
    # Columns point north-east: a wind from the south-west blows along +col.
    a = np.deg2rad(45.0)
    jac = 5.0 * np.array([[np.cos(a), np.sin(a)], [np.sin(a), -np.cos(a)]])
    np.testing.assert_allclose(downwind_unit_vector(225.0, jac), (0.0, 1.0), atol=1e-12)


def test_outline_encloses_mask_and_bridges_parts() -> None:
    mask = np.zeros((20, 30), dtype=bool)
    mask[5:8, 2:10] = True
    mask[5:8, 13:20] = True  # a 3-pixel gap
    ring = mask_outline(mask)
    assert np.allclose(ring[0], ring[-1])
    assert ring[:, 0].min() == 5 and ring[:, 0].max() == 8
    assert ring[:, 1].min() == 2 and ring[:, 1].max() == 20


def test_outline_of_empty_mask_is_an_error() -> None:
    with pytest.raises(InvalidParameterError):
        mask_outline(np.zeros((4, 4), dtype=bool))
