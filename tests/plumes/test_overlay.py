from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.plumes.overlay import MAX_SIDE_PX, overlay_grid


def _grid(step: float = 5e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(-106.0 + step * np.arange(40), 31.0 + step * np.arange(30))
    values = np.arange(lon.size, dtype=np.float64).reshape(lon.shape)
    return values, lon, lat


def test_a_regular_scene_grid_is_kept_pixel_for_pixel() -> None:
    values, lon, lat = _grid()
    step = 5e-5
    # bounds on pixel edges, the scene's pixel size: one overlay cell per scene pixel
    bounds = (-106.0 - step / 2, 31.0 - step / 2, -106.0 + 39.5 * step, 31.0 + 29.5 * step)
    coslat = np.cos(np.radians(31.0 + 14.5 * step))
    g = overlay_grid(values.ravel(), lon.ravel(), lat.ravel(), bounds, step * 111_320.0)
    assert g.shape[0] == 30
    # row 0 is the north edge; along a row, values rise eastwards
    assert g[0, 0] == values[-1, 0] and g[-1, 0] == values[0, 0]
    assert np.all(np.diff(g[5][np.isfinite(g[5])]) >= 0)
    assert g.shape[1] == pytest.approx(40 * coslat, abs=1.5)


def test_cells_far_from_every_pixel_are_nan_and_sizes_are_capped() -> None:
    values, lon, lat = _grid()
    g = overlay_grid(
        values.ravel(), lon.ravel(), lat.ravel(), (-106.01, 30.99, -105.99, 31.01), 5.0
    )
    assert np.isnan(g[0, 0]) and np.isfinite(g).any()
    assert max(g.shape) <= MAX_SIDE_PX
    empty = overlay_grid(np.array([]), np.array([]), np.array([]), (0, 0, 0.001, 0.001), 5.0)
    assert np.isnan(empty).all()


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError):
        overlay_grid(np.ones(2), np.ones(2), np.ones(2), (1, 0, 0, 1), 5.0)
    with pytest.raises(InvalidParameterError):
        overlay_grid(np.ones(2), np.ones(3), np.ones(2), (0, 0, 1, 1), 5.0)
    with pytest.raises(InvalidParameterError):
        overlay_grid(np.ones(2), np.ones(2), np.ones(2), (0, 0, 1, 1), 0.0)
