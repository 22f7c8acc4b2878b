from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from plumetrace.detect import flags, retrieve
from plumetrace.errors import InvalidParameterError, InvalidRadianceError, RetrievalError

from .conftest import Scene, make_scene


def _reference_mf(cube: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Textbook columnwise matched filter, one column at a time, float64."""
    rows, cols, _ = cube.shape
    out = np.empty((rows, cols))
    for c in range(cols):
        x = cube[:, c, :].astype(np.float64)
        mu = x.mean(axis=0)
        cov = np.cov(x, rowvar=False, bias=True)
        t = s * mu
        w = np.linalg.solve(cov, t)
        out[:, c] = (x - mu) @ w / (t @ w)
    return out


def _reference_sparse(cube: np.ndarray, s: np.ndarray, iters: int, eps: float = 1e-4) -> np.ndarray:
    """The sparse filter recomputing mean and covariance from scratch (dense, float64).

    First MAG1C's reweighted-l1 step (background cleaned with the single-pass estimate),
    then the step's fixed point under each updated background.
    """
    rows, cols, _ = cube.shape
    out = np.empty((rows, cols))
    for c in range(cols):
        x = cube[:, c, :].astype(np.float64)
        mu0 = x.mean(axis=0)
        t = s * mu0
        r = x @ mu0 / (mu0 @ mu0)
        cov = np.cov(x, rowvar=False, bias=True)
        w = np.linalg.solve(cov, t)
        norm = t @ w
        a0 = np.maximum((x - mu0) @ w / (r * norm), 0.0)
        alpha = a0
        for it in range(iters):
            y = x - (r * alpha)[:, None] * t
            mu = y.mean(axis=0)
            cov = np.cov(y, rowvar=False, bias=True)
            w = np.linalg.solve(cov, t)
            norm = t @ w
            hat = (x - mu) @ w / (r * norm)
            if it == 0:  # MAG1C's step from the single-pass estimate
                new = np.maximum(hat - 1.0 / (r**2 * norm * (a0 + eps)), 0.0)
            else:  # the step's fixed point under the current background
                disc = hat**2 - 4.0 / (r**2 * norm)
                new = np.where((hat > 0) & (disc >= 0), 0.5 * (hat + np.sqrt(np.abs(disc))), 0.0)
            alpha = np.where(alpha > 0, new, 0.0)
        out[:, c] = alpha
    return out


def _neighbours(img: np.ndarray) -> np.ndarray:
    """(8, rows, cols): each pixel's 8 neighbours, 0 beyond the edges."""
    rows, cols = img.shape
    padded = np.pad(img, 1)
    return np.stack(
        [
            padded[dr : dr + rows, dc : dc + cols]
            for dr in range(3)
            for dc in range(3)
            if (dr, dc) != (1, 1)
        ]
    )


def _third_largest(img: np.ndarray) -> np.ndarray:
    third: np.ndarray = np.sort(_neighbours(img), axis=0)[-3]
    return third


def _reference_neighbourhood_step(
    cube: np.ndarray, s: np.ndarray, alpha: np.ndarray, eps: float = 1e-4
) -> np.ndarray:
    """The final step weighted by the 8 neighbours, dense float64, from a converged α."""
    cols = cube.shape[1]
    m = _third_largest(alpha)
    out = alpha.copy()
    for c in range(cols):
        x = cube[:, c, :].astype(np.float64)
        mu0 = x.mean(axis=0)
        t = s * mu0
        r = x @ mu0 / (mu0 @ mu0)
        y = x - (r * alpha[:, c])[:, None] * t
        mu = y.mean(axis=0)
        w = np.linalg.solve(np.cov(y, rowvar=False, bias=True), t)
        norm = t @ w
        hat = (x - mu) @ w / (r * norm)
        lifted = m[:, c] > alpha[:, c]
        step = np.maximum(hat - 1.0 / (r**2 * norm * (m[:, c] + eps)), 0.0)
        out[:, c] = np.where(lifted, step, alpha[:, c])
    return out


def test_mf_without_shrinkage_equals_textbook_filter(scene: Scene) -> None:
    res = retrieve(scene.cube, scene.s, method="mf", shrinkage="none")
    ref = _reference_mf(scene.cube, scene.s)
    np.testing.assert_allclose(res.enhancement, ref, rtol=1e-3, atol=0.5)


def test_mf_recovers_linear_plume_and_reports_honest_sigma(scene: Scene) -> None:
    res = retrieve(scene.cube, scene.s, method="mf")
    core = scene.truth > 800
    bg = scene.truth < 1
    ratio = np.mean(res.enhancement[core]) / np.mean(scene.truth[core])
    assert 0.7 < ratio < 1.1  # the plume inflates the covariance: classic MF under-reads
    assert abs(np.mean(res.enhancement[bg])) < 0.2 * np.std(res.enhancement[bg]) + 5
    empirical = np.std(res.enhancement[bg])
    assert 0.8 < np.median(res.uncertainty) / empirical < 1.25


def test_iterative_matches_dense_mag1c_reference() -> None:
    sc = make_scene(rows=200, cols=6, seed=3)
    kw = {"shrinkage": "none", "penalty": "model", "max_iter": 5, "tol_ppm_m": 0}
    res = retrieve(sc.cube, sc.s, method="iterative", spatial=False, **kw)  # type: ignore[arg-type]
    ref = _reference_sparse(sc.cube, sc.s, iters=5)
    assert res.iterations == 5
    # float32 data vs a float64 reference: pixels near the l1 threshold differ by a few ppm·m
    np.testing.assert_allclose(res.enhancement, ref, rtol=5e-3, atol=5.0)
    # spatial=True adds one step weighted by each pixel's neighbourhood
    spatial = retrieve(sc.cube, sc.s, method="iterative", spatial=True, **kw)  # type: ignore[arg-type]
    ref_spatial = _reference_neighbourhood_step(sc.cube, sc.s, ref)
    np.testing.assert_allclose(spatial.enhancement, ref_spatial, rtol=5e-3, atol=5.0)
    assert np.sum(ref_spatial != ref) > 10  # the step did change the map


def test_third_largest_neighbour() -> None:
    from plumetrace.detect.sparse import third_largest_neighbour

    img = np.maximum(np.random.default_rng(0).standard_normal((7, 9)), 0.0)
    img[3, 3] = img[3, 4] = img[3, 5] = 2.5  # ties count once each
    np.testing.assert_array_equal(third_largest_neighbour(img), _third_largest(img))
    assert third_largest_neighbour(img)[2, 4] == 2.5


@pytest.mark.parametrize("group", [1, 2])
def test_neighbourhood_step_lifts_only_pixels_beside_three_larger_ones(
    scene: Scene, group: int
) -> None:
    pixelwise = retrieve(scene.cube, scene.s, group_cols=group, spatial=False).enhancement
    spatial = retrieve(scene.cube, scene.s, group_cols=group, spatial=True).enhancement
    a = np.nan_to_num(pixelwise)
    changed = np.nan_to_num(spatial) != a
    assert changed.sum() > 20
    # in the image's own layout, whatever the column grouping
    assert np.all(_third_largest(a)[changed] > a[changed])
    assert np.nanmin(spatial) >= 0


def test_neighbourhood_step_keeps_more_of_a_plume_at_little_background_cost() -> None:
    scene = make_scene(rows=400, cols=40, seed=11, peak=1200.0)
    pixelwise = retrieve(scene.cube, scene.s, spatial=False).enhancement
    spatial = retrieve(scene.cube, scene.s, spatial=True).enhancement
    plume, bg = scene.truth > 300, scene.truth < 1

    def rmse(e: np.ndarray) -> float:
        return float(np.sqrt(np.mean((e[plume] - scene.truth[plume]) ** 2)))

    assert np.mean(spatial[plume] > 0) > np.mean(pixelwise[plume] > 0) + 0.05
    assert rmse(spatial) < 0.95 * rmse(pixelwise)
    assert np.std(spatial[bg]) < 1.25 * np.std(pixelwise[bg])
    assert np.mean(spatial[bg] > 0) < 3 * np.mean(pixelwise[bg] > 0)


def test_iterative_is_sparse_nonnegative_and_accurate() -> None:
    # peak 3000 ppm·m against ~400 ppm·m noise: the core lies well above the 2-sigma
    # threshold of the sparse estimator
    scene = make_scene(peak=3000.0)
    res = retrieve(scene.cube, scene.s, method="iterative", spatial=False)
    e = res.enhancement
    assert np.nanmin(e) >= 0
    bg = scene.truth < 1
    assert np.mean(e[bg] == 0) > 0.8
    # the neighbourhood step keeps some noise pixels that have three enhanced neighbours
    spatial = retrieve(scene.cube, scene.s, method="iterative", spatial=True).enhancement
    assert np.mean(spatial[bg] == 0) > 0.7
    assert np.std(spatial[bg]) < 1.1 * np.std(e[bg])
    core = scene.truth > 1600
    assert 0.9 < np.mean(e[core]) / np.mean(scene.truth[core]) < 1.1
    mf = retrieve(scene.cube, scene.s, method="mf")
    assert np.mean(np.abs(e[bg])) < 0.5 * np.mean(np.abs(mf.enhancement[bg]))


def test_ace_score_is_a_cosine_and_peaks_in_plume(scene: Scene) -> None:
    res = retrieve(scene.cube, scene.s, method="ace")
    assert res.score is not None
    assert np.nanmin(res.score) >= 0 and np.nanmax(res.score) <= 1
    core = scene.truth > 800
    bg = scene.truth < 1
    assert np.median(res.score[core]) > 5 * np.median(res.score[bg])


@pytest.mark.parametrize("group", [2, 5])
def test_group_cols_keeps_shape_and_signal(scene: Scene, group: int) -> None:
    res = retrieve(scene.cube, scene.s, method="mf", group_cols=group)
    assert res.enhancement.shape == scene.cube.shape[:2]
    core = scene.truth > 800
    assert 0.85 < np.mean(res.enhancement[core]) / np.mean(scene.truth[core]) < 1.15


def test_no_data_pixels_are_flagged_and_not_retrieved(scene: Scene) -> None:
    cube = scene.cube.copy()
    cube[5, 3, 7] = np.nan
    cube[9, 4, :] = -9999.0
    res = retrieve(cube, scene.s, method="iterative")
    assert res.flags[5, 3] & flags.NO_DATA and res.flags[9, 4] & flags.NO_DATA
    assert np.isnan(res.enhancement[5, 3]) and np.isnan(res.uncertainty[9, 4])
    assert np.isfinite(res.enhancement[6, 3])


def test_saturation_plateau_and_flare_are_flagged(scene: Scene) -> None:
    cube = scene.cube.copy()
    top = float(cube.max()) * 1.5
    cube[10, 2, -5:] = top
    cube[11, 2, -5:] = top
    # a hot emitter: radiance rising steeply towards long wavelengths
    ramp = np.linspace(1.0, 6.0, cube.shape[2]).astype(np.float32)
    cube[40, 7, :] = cube[40, 7, :] * 4 * ramp
    res = retrieve(cube, scene.s, method="mf", wavelength_nm=scene.wavelength)
    assert res.flags[10, 2] & flags.SATURATED and res.flags[11, 2] & flags.SATURATED
    assert res.flags[40, 7] & flags.FLARE
    assert res.flags[40, 8] & flags.EXCLUDED_FROM_STATS
    assert np.isfinite(res.enhancement[40, 8])
    assert np.count_nonzero(res.flags & (flags.SATURATED | flags.FLARE)) == 3


def test_bad_inputs_raise_clear_errors(scene: Scene) -> None:
    with pytest.raises(InvalidParameterError, match="bands"):
        retrieve(scene.cube, scene.s[:-1])
    with pytest.raises(InvalidRadianceError, match="no pixel"):
        retrieve(np.full((30, 4, 10), np.nan, np.float32), np.ones(10))
    with pytest.raises(RetrievalError, match="group_cols"):
        retrieve(scene.cube[:20], scene.s)
    with pytest.raises(InvalidParameterError, match="method"):
        retrieve(scene.cube, scene.s, method="nope")  # type: ignore[arg-type]


def test_float64_input_gives_same_result_as_float32(scene: Scene) -> None:
    a = retrieve(scene.cube, scene.s, method="mf")
    b = retrieve(scene.cube.astype(np.float64), scene.s, method="mf")
    np.testing.assert_allclose(a.enhancement, b.enhancement, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("method", ["iterative", "mf", "ace"])
def test_threads_split_the_groups_without_changing_the_result(method: str) -> None:
    # 96 columns: two or three runs of at least 32 groups; the plume straddles the
    # boundary of the two-thread split (column 48)
    sc = make_scene(rows=150, cols=96, seed=5, peak=3000.0)
    # each thread runs a one-thread BLAS: so does the reference (a two-thread BLAS sums
    # the covariance in another order, which float32 rounding shows)
    with threadpool_limits(1):
        one = retrieve(sc.cube, sc.s, method=method, threads=1)  # type: ignore[arg-type]
    for threads in (2, 3):
        many = retrieve(sc.cube, sc.s, method=method, threads=threads)  # type: ignore[arg-type]
        assert many.iterations == one.iterations
        np.testing.assert_array_equal(many.flags, one.flags)
        np.testing.assert_array_equal(many.uncertainty, one.uncertainty)
        np.testing.assert_array_equal(many.albedo, one.albedo)
        if method == "iterative":
            # the same support; values up to float32 rounding of the packed products
            np.testing.assert_array_equal(many.enhancement > 0, one.enhancement > 0)
            np.testing.assert_allclose(many.enhancement, one.enhancement, rtol=1e-4, atol=0.05)
        else:
            np.testing.assert_array_equal(many.enhancement, one.enhancement)
        if method == "ace":
            assert many.score is not None and one.score is not None
            np.testing.assert_array_equal(many.score, one.score)
    assert (one.enhancement[:, 40:56] > 0).any()
    # by default, as many threads as BLAS is allowed
    with threadpool_limits(2):
        two = retrieve(sc.cube, sc.s, method=method, threads=2)  # type: ignore[arg-type]
        default = retrieve(sc.cube, sc.s, method=method)  # type: ignore[arg-type]
    np.testing.assert_array_equal(default.enhancement, two.enhancement)
    with threadpool_limits(1):
        default = retrieve(sc.cube, sc.s, method=method)  # type: ignore[arg-type]
    np.testing.assert_array_equal(default.enhancement, one.enhancement)


def test_threads_leave_the_neighbourhood_step_unchanged() -> None:
    # the step needs each pixel's neighbours across the threads' column runs
    sc = make_scene(rows=150, cols=96, seed=5, peak=3000.0)
    with threadpool_limits(1):
        one = retrieve(sc.cube, sc.s, spatial=True, threads=1)
        per_pixel = retrieve(sc.cube, sc.s, spatial=False, threads=1)
        default = retrieve(sc.cube, sc.s, threads=1)
    assert np.any(one.enhancement != per_pixel.enhancement)
    np.testing.assert_array_equal(default.enhancement, one.enhancement)  # on by default
    for threads in (2, 3):
        many = retrieve(sc.cube, sc.s, spatial=True, threads=threads)
        np.testing.assert_array_equal(many.enhancement > 0, one.enhancement > 0)
        np.testing.assert_allclose(many.enhancement, one.enhancement, rtol=1e-4, atol=0.05)


def test_iterative_without_albedo_correction_runs(scene: Scene) -> None:
    res = retrieve(scene.cube, scene.s, method="iterative", albedo_correction=False)
    assert np.nanmin(res.enhancement) >= 0
    assert res.enhancement[150, 12] > 500  # the plume's centre (peak 1500 ppm·m)


def test_threads_must_be_positive(scene: Scene) -> None:
    with pytest.raises(InvalidParameterError, match="threads"):
        retrieve(scene.cube, scene.s, threads=0)
