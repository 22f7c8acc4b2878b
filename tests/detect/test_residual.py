from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect import estimate_background, group_columns, retrieve
from plumetrace.detect.residual import fit_residual
from tests.detect.conftest import Scene, make_scene


def _dense_residual(x: np.ndarray, mu: np.ndarray, cov: np.ndarray, t: np.ndarray) -> float:
    """Textbook: residual energy after the least-squares target fit in whitened space."""
    w = np.linalg.cholesky(np.linalg.inv(cov))  # P = W Wᵀ
    xe, te = w.T @ (x - mu), w.T @ t
    amp = (te @ xe) / (te @ te)
    return float(np.sum((xe - amp * te) ** 2) / (x.size - 1))


def test_fit_residual_equals_the_whitened_least_squares_residual() -> None:
    rng = np.random.default_rng(3)
    groups, n, bands = 3, 400, 12
    mix = rng.standard_normal((bands, bands))
    cube = (rng.standard_normal((n, groups, bands)) @ mix).astype(np.float64)
    stacks = group_columns(cube, 1)
    raw = stacks.copy()  # estimate_background centres the stacks in place
    bg = estimate_background(stacks, np.ones(stacks.shape[:2], bool), shrinkage="none")
    tau = rng.standard_normal((groups, bands))
    z = bg.solve(tau)
    norm = np.einsum("gb,gb->g", tau, z)
    p = np.einsum("gnb,gb->gn", bg.centered, z)
    select = np.zeros((groups, n), bool)
    select[0, [5, 17]] = select[2, [0, 399]] = True
    rho = fit_residual(bg.centered, bg.precision, p, norm, select)
    assert np.isnan(rho[~select]).all()
    for g, i in zip(*np.nonzero(select), strict=True):
        cov = np.linalg.inv(bg.precision[g])
        want = _dense_residual(raw[g, i], bg.mean[g], cov, tau[g])
        assert rho[g, i] == pytest.approx(want, rel=1e-9)


def test_fit_residual_of_background_pixels_averages_one() -> None:
    rng = np.random.default_rng(4)
    groups, n, bands = 2, 3000, 20
    stacks = rng.standard_normal((groups, n, bands)) @ rng.standard_normal((bands, bands))
    bg = estimate_background(stacks, np.ones((groups, n), bool), shrinkage="none")
    tau = rng.standard_normal((groups, bands))
    z = bg.solve(tau)
    p = np.einsum("gnb,gb->gn", bg.centered, z)
    norm = np.einsum("gb,gb->g", tau, z)
    rho = fit_residual(bg.centered, bg.precision, p, norm, np.ones((groups, n), bool))
    assert np.mean(rho) == pytest.approx(1.0, abs=0.02)


def test_retrieval_residual_is_one_for_gas_and_large_for_a_foreign_surface() -> None:
    sc: Scene = make_scene(rows=400, cols=16, peak=1500.0, linear=False)
    cube = sc.cube.copy()
    # a foreign material that absorbs like the gas and also has a band of its own at
    # 2200 nm (as a mineral does), on a 3x3 patch away from the plume
    band = 0.2 * np.exp(-0.5 * ((sc.wavelength - 2200.0) / 10.0) ** 2)
    foreign = np.exp(3000.0 * sc.s) * (1.0 - band)
    cube[40:43, 3:6] *= foreign.astype(np.float32)
    res = retrieve(cube, sc.s, method="iterative", wavelength_nm=sc.wavelength)
    assert res.residual is not None
    rho, enh = res.residual, res.enhancement
    # computed exactly on the enhanced pixels
    assert np.array_equal(np.isfinite(rho), np.nan_to_num(enh) > 0)
    plume = sc.truth > 800
    assert np.nanmedian(rho[plume]) < 1.5
    patch = rho[40:43, 3:6]
    assert np.isfinite(patch).any()  # the filter projects the patch onto the target
    # 3 such pixels in a column of 400 bound their Mahalanobis distance to ~400/3
    # (they enter the column covariance), so ρ ≲ 133/71 ≈ 1.9 for a perfect mismatch
    assert np.nanmedian(patch) > 1.5 * np.nanmedian(rho[plume])


def test_ace_residual_only_above_two_sigma_and_none_for_mf() -> None:
    sc = make_scene(rows=300, cols=8)
    res = retrieve(sc.cube, sc.s, method="ace")
    assert res.residual is not None
    above = np.nan_to_num(res.enhancement) > 2 * np.nan_to_num(res.uncertainty)
    assert np.array_equal(np.isfinite(res.residual), above)
    assert retrieve(sc.cube, sc.s, method="mf").residual is None
