from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect import flags, screen_pixels
from plumetrace.detect.masks import PixelSummary, pixel_summary
from plumetrace.errors import InvalidParameterError
from tests.detect.conftest import make_scene


def _awkward_cube() -> tuple[np.ndarray, np.ndarray]:
    sc = make_scene(rows=120, cols=40, seed=2)
    cube = sc.cube.copy()
    cube[5, 3] = np.nan  # no data
    cube[7, 30, :4] = -9999.0  # an undeclared fill value in one spectrum
    cube[9, 12] = 0.0  # an all-zero spectrum
    # two bright pixels clipped at the same level in one band: a plateau
    cube[20, 25] *= 1.5
    cube[21, 36] *= 1.5
    cube[20, 25, 10] = cube[21, 36, 10] = 2 * np.nanmax(cube[..., 10])
    return cube, sc.wavelength


@pytest.mark.parametrize("saturation", [None, 2.0])
def test_span_summaries_joined_give_the_whole_cube_flags(saturation: float | None) -> None:
    cube, wl = _awkward_cube()
    if saturation is not None:
        saturation = float(np.nanmax(cube[cube > -1000])) * 0.99
    whole = screen_pixels(cube, wl, saturation_radiance=saturation)
    with_max = saturation is not None
    # strided column spans, as retrieve's threads summarise them
    parts = [pixel_summary(cube[:, a:b], with_max=with_max) for a, b in ((0, 13), (13, 40))]
    joined = screen_pixels(
        cube, wl, saturation_radiance=saturation, summary=PixelSummary.join(parts)
    )
    np.testing.assert_array_equal(joined, whole)
    assert whole[5, 3] & flags.NO_DATA and whole[7, 30] & flags.NO_DATA
    assert whole[9, 12] & flags.NO_DATA
    assert whole[20, 25] & flags.SATURATED and whole[21, 36] & flags.SATURATED


def test_summary_must_fit_the_cube_and_the_saturation_level() -> None:
    cube, wl = _awkward_cube()
    with pytest.raises(InvalidParameterError, match="pixels"):
        screen_pixels(cube, wl, summary=pixel_summary(cube[:, :10]))
    with pytest.raises(InvalidParameterError, match="maxima"):
        screen_pixels(cube, wl, saturation_radiance=5.0, summary=pixel_summary(cube))
