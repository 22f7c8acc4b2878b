from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumetrace.errors import InvalidParameterError
from plumetrace.spectra import FWHM_TO_SIGMA, convolve_to_bands, response_matrix


def test_rows_are_normalised_and_centred() -> None:
    grid = np.linspace(2000, 2200, 4001)
    m = response_matrix(grid, [2050.0, 2100.0], [6.0, 10.0])
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    centroid = (m @ grid) / m.sum(axis=1)
    np.testing.assert_allclose(centroid, [2050.0, 2100.0], atol=1e-6)
    width = np.sqrt(m @ grid**2 - centroid**2)
    np.testing.assert_allclose(width, np.array([6.0, 10.0]) * FWHM_TO_SIGMA, rtol=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    slope=st.floats(-1, 1),
    offset=st.floats(-5, 5),
    center=st.floats(2050, 2150),
    fwhm=st.floats(3, 15),
)
def test_linear_spectra_are_reproduced_exactly(
    slope: float, offset: float, center: float, fwhm: float
) -> None:
    grid = np.linspace(2000, 2200, 2001)
    spec = offset + slope * (grid - 2100) / 100
    out = convolve_to_bands(grid, spec, [center], [fwhm])
    # exact up to the asymmetry of the grid points inside the truncated window
    assert out[0] == pytest.approx(offset + slope * (center - 2100) / 100, abs=1e-5)


def test_uncovered_bands_are_nan_and_batches_work() -> None:
    grid = np.linspace(1400, 2500, 1101)
    spectra = np.ones((3, 2, grid.size))
    out = convolve_to_bands(grid, spectra, [500.0, 2000.0, 2499.0], [6.0, 6.0, 6.0])
    assert out.shape == (3, 2, 3)
    assert np.isnan(out[..., 0]).all() and np.isnan(out[..., 2]).all()
    np.testing.assert_allclose(out[..., 1], 1.0)


def test_bad_grids_are_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="increasing"):
        response_matrix([1.0, 1.0, 2.0], [1.5], [0.5])
    with pytest.raises(InvalidParameterError, match="FWHM"):
        response_matrix([1.0, 2.0, 3.0], [2.0], [0.0])
    with pytest.raises(InvalidParameterError, match="samples"):
        convolve_to_bands([1.0, 2.0, 3.0], np.ones(4), [2.0], [1.0])
