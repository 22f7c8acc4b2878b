from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect import estimate_background, group_columns
from plumetrace.detect.background import ColumnBackground, Shrinkage, _spd_inverse


def _background(dtype: type[np.floating], shrinkage: Shrinkage = "none") -> ColumnBackground:
    rng = np.random.default_rng(3)
    mixing = rng.normal(size=(12, 12))
    cube = (rng.normal(size=(80, 5, 12)) @ mixing + 50.0).astype(dtype)
    stacks = group_columns(cube, 1)
    return estimate_background(stacks, np.ones(stacks.shape[:2], bool), shrinkage=shrinkage)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_precision_is_the_symmetric_inverse_of_the_covariance(dtype: type) -> None:
    bg = _background(dtype)
    p = bg.precision
    cov = bg.covariance
    assert p.dtype == np.float64
    assert np.array_equal(p, np.swapaxes(p, 1, 2))
    np.testing.assert_allclose(p, np.linalg.inv(cov), rtol=1e-9, atol=1e-12 * np.abs(p).max())
    eye = np.broadcast_to(np.eye(cov.shape[-1]), cov.shape)
    np.testing.assert_allclose(np.matmul(cov, p), eye, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_precision_in_the_working_dtype(dtype: type) -> None:
    bg = _background(dtype, shrinkage="auto")
    work = bg.precision_work
    assert work.dtype == dtype
    np.testing.assert_allclose(work, bg.precision, rtol=1e-6)
    if dtype is np.float64:
        assert work is bg.precision


def test_spd_inverse_falls_back_where_a_factor_is_singular() -> None:
    spd = np.array([[4.0, 1.0], [1.0, 3.0]])
    other = np.array([[1.0, 2.0], [2.0, 1.0]])
    factors = np.stack([np.linalg.cholesky(spd), np.zeros((2, 2))])  # potri fails on 0
    out = _spd_inverse(factors, np.stack([spd, other]))
    np.testing.assert_allclose(out[0], np.linalg.inv(spd), rtol=1e-12)
    np.testing.assert_allclose(out[1], np.linalg.inv(other), rtol=1e-12)
    assert np.array_equal(out[0], out[0].T)


def test_cholesky_factor_reproduces_the_covariance() -> None:
    bg = _background(np.float32, shrinkage="auto")
    chol = bg.cholesky
    assert np.all(np.triu(chol, 1) == 0)
    np.testing.assert_allclose(chol @ np.swapaxes(chol, 1, 2), bg.covariance, rtol=1e-10)
