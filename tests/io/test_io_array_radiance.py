from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, InvalidRadianceError
from plumetrace.io import ArrayRadiance, RadianceCube

Bands = tuple[NDArray[np.float64], NDArray[np.float64]]


def test_array_radiance_behaves_like_a_file(cube: NDArray[np.float32], bands12: Bands) -> None:
    wl, fw = bands12
    with ArrayRadiance(cube.astype(np.float64), wl, fw) as rc:
        assert isinstance(rc, RadianceCube)
        assert rc.shape == (9, 7, 12)
        out = rc.read(bands=[5, 1], cols=slice(2, 4))
        assert out.dtype == np.float32 and out.flags.c_contiguous
        np.testing.assert_array_equal(out, cube[:, 2:4][:, :, [5, 1]])
    with pytest.raises(DataSourceError, match=r"<memory>: the radiance file is closed"):
        rc.read()


def test_array_radiance_validates(cube: NDArray[np.float32], bands12: Bands) -> None:
    wl, _ = bands12
    with pytest.raises(InvalidRadianceError, match="must be"):
        ArrayRadiance(cube[0], wl)
    with pytest.raises(InvalidRadianceError, match="increase strictly"):
        ArrayRadiance(cube, wl[::-1])
