from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.insitu.dispersion import sigmas, stability_from_sigma_theta


def test_briggs_rural_class_c_matches_the_published_formula() -> None:
    x = np.array([10.0, 100.0, 1000.0])
    sy, sz = sigmas(x, np.full(3, 2.0), "briggs-rural")
    np.testing.assert_allclose(sy, 0.11 * x / np.sqrt(1 + 1e-4 * x))
    np.testing.assert_allclose(sz, 0.08 * x / np.sqrt(1 + 2e-4 * x))


def test_briggs_urban_and_stable_rural_classes() -> None:
    x = np.array([200.0])
    _, sz_f = sigmas(x, np.array([5.0]), "briggs-rural")
    np.testing.assert_allclose(sz_f, 0.016 * x / (1 + 3e-4 * x))
    sy_a, sz_a = sigmas(x, np.array([0.0]), "briggs-urban")
    np.testing.assert_allclose(sy_a, 0.32 * x / np.sqrt(1 + 4e-4 * x))
    np.testing.assert_allclose(sz_a, 0.24 * x * np.sqrt(1 + 1e-3 * x))


def test_pasquill_gifford_class_d_matches_isc3() -> None:
    x = np.array([500.0])
    sy, sz = sigmas(x, np.array([3.0]), "pasquill-gifford")
    theta = 0.017453293 * (8.3330 - 0.72382 * np.log(0.5))
    np.testing.assert_allclose(sy, 465.11628 * 0.5 * np.tan(theta))
    np.testing.assert_allclose(sz, 32.093 * 0.5**0.81066)


@pytest.mark.parametrize("scheme", ["briggs-rural", "briggs-urban", "pasquill-gifford"])
def test_spread_narrows_from_unstable_to_stable_and_blends_between(scheme: str) -> None:
    x = np.full(11, 80.0)
    k = np.linspace(0.0, 5.0, 11)
    sy, sz = sigmas(x, k, scheme)  # type: ignore[arg-type]
    assert np.all(np.diff(sy) <= 1e-12) and np.all(np.diff(sz) <= 1e-12)
    # halfway between two classes lies between them (geometric blend)
    assert sy[-1] <= sy[5] <= sy[0]


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(InvalidParameterError, match="unknown dispersion scheme"):
        sigmas(np.array([1.0]), np.array([1.0]), "gaussian")  # type: ignore[arg-type]


def test_stability_from_sigma_theta() -> None:
    k = stability_from_sigma_theta(np.array([30.0, 25.0, 15.0, 10.0, 2.5, 1.0, np.nan]))
    np.testing.assert_allclose(k[:6], [0.0, 0.0, 2.0, 3.0, 5.0, 5.0])
    assert np.isnan(k[6])
    assert np.all(np.diff(stability_from_sigma_theta(np.linspace(1, 30, 50))) <= 0)
