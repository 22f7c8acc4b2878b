from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.plumes import PlumeOptions, find_plumes, north_up_jacobian, segment

from .conftest import NOISE, SyntheticMap, make_map


def _run(m: SyntheticMap, **kw: object) -> list:
    opts = PlumeOptions(wind_speed_m_s=3.0, wind_speed_sigma_m_s=0.0, sensor="aviris-ng", **kw)
    return find_plumes(
        m.enhancement, jacobian=north_up_jacobian(5.0), uncertainty=m.uncertainty, options=opts
    )


def test_noise_only_map_gives_no_plume() -> None:
    m = make_map([])
    seg = segment(m.enhancement, m.uncertainty, np.ones(m.enhancement.shape, bool))
    assert seg.count == 0
    assert not [p for p in _run(m, wind_dir_deg=270.0) if p.accepted]


def _at_sources(plumes: list, m: SyntheticMap) -> list:
    # The confidence model is fitted on the default (sparse, non-negative) retrieval; on
    # this Gaussian-noise map the candidates are scored, not necessarily accepted.
    found = []
    for r, c, _ in m.sources:
        best = min(plumes, key=lambda p: np.hypot(p.source.row - r, p.source.col - c))
        assert np.hypot(best.source.row - r, best.source.col - c) <= 2.0
        found.append(best)
    assert found[0] is not found[1]
    return found


def test_two_neighbouring_plumes_are_split_and_located(two_plumes: SyntheticMap) -> None:
    plumes = _at_sources(_run(two_plumes, wind_dir_deg=270.0), two_plumes)
    for p in plumes:
        assert p.n_pixels > 100
        assert 0.0 <= p.confidence <= 1.0
        assert p.source.radius_px > 0


def test_rate_is_close_to_truth_and_interval_is_ordered(two_plumes: SyntheticMap) -> None:
    for p in _at_sources(_run(two_plumes, wind_dir_deg=270.0), two_plumes):
        f = p.flux
        assert 600.0 * 0.75 <= f.flux_kg_h <= 600.0 / 0.75
        assert f.flux_kg_h_ci68[0] < f.flux_kg_h < f.flux_kg_h_ci68[1]
        assert f.flux_kg_h_sigma > 0
        assert set(f.relative_errors) == {"background", "wind", "calibration", "masking"}


def test_direction_without_wind_comes_from_the_plumes(two_plumes: SyntheticMap) -> None:
    for p in _at_sources(_run(two_plumes), two_plumes):
        assert not p.wind_known
        np.testing.assert_allclose(p.source.direction, (0.0, 1.0), atol=0.3)


def test_same_seed_same_numbers(two_plumes: SyntheticMap) -> None:
    a = _run(two_plumes, wind_dir_deg=270.0)
    b = _run(two_plumes, wind_dir_deg=270.0)
    assert [p.flux.flux_kg_h_ci68 for p in a] == [p.flux.flux_kg_h_ci68 for p in b]


def test_no_wind_speed_leaves_rates_unknown(two_plumes: SyntheticMap) -> None:
    plumes = find_plumes(
        two_plumes.enhancement,
        jacobian=north_up_jacobian(5.0),
        uncertainty=two_plumes.uncertainty,
        options=PlumeOptions(wind_dir_deg=270.0),
    )
    assert plumes and all(np.isnan(p.flux.flux_kg_h) and p.flux.ime_kg > 0 for p in plumes)


def test_thresholds_are_in_noise_units() -> None:
    # The same scene in other units (x 1000) finds the same plumes.
    m = make_map([(100.5, 30.5, 800.0)], seed=3)
    scaled = SyntheticMap(m.enhancement * 1000.0, m.uncertainty * 1000.0, m.sources)
    a = segment(m.enhancement, m.uncertainty, np.ones(m.enhancement.shape, bool))
    b = segment(scaled.enhancement, scaled.uncertainty, np.ones(m.enhancement.shape, bool))
    assert a.count == b.count >= 1
    np.testing.assert_array_equal(a.labels, b.labels)


def _hard_sparse(m: SyntheticMap) -> np.ndarray:
    # A sparse retrieval (mag1c's) zeroes almost every noise pixel and keeps the rest
    # nearly unshrunk, as in real mag1c maps: here ~0.6 % of the noise is left.
    return np.where(m.enhancement > 2.5 * m.uncertainty, m.enhancement, 0.0)


def test_a_very_sparse_map_ranks_its_noise_as_noise() -> None:
    # Standardised by the smoothed map's own collapsed spread (its median and 84th
    # percentile are ~0), each surviving noise pixel would be a many-sigma "plume"; the
    # white-noise floor keeps them noise and the plume a plume.
    noise = make_map([], shape=(300, 300), seed=5)
    sparse = _hard_sparse(noise)
    assert np.count_nonzero(sparse) > 300
    assert segment(sparse, None, np.ones(sparse.shape, bool)).count == 0
    m = make_map([(100.5, 30.5, 800.0)], shape=(300, 300), seed=5)
    truth = m.enhancement - noise.enhancement  # same seed: the same noise draws first
    seg = segment(_hard_sparse(m), None, np.ones(sparse.shape, bool))
    assert seg.count >= 1
    for row, col in seg.markers:
        assert truth[int(row), int(col)] > NOISE  # every candidate is on the plume


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"wind_speed_m_s": -1.0}, "--wind-speed"),
        ({"wind_dir_deg": 400.0}, "--wind-dir"),
        ({"min_confidence": 2.0}, "--min-confidence"),
        ({"max_fetch_px": 1.0}, "--fetch"),
    ],
)
def test_bad_options(kw: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        PlumeOptions(**kw)


def test_shape_mismatch_is_an_error(two_plumes: SyntheticMap) -> None:
    with pytest.raises(InvalidParameterError, match="uncertainty"):
        find_plumes(
            two_plumes.enhancement,
            jacobian=north_up_jacobian(5.0),
            uncertainty=two_plumes.uncertainty[:10],
        )


def test_spectral_residual_feature_is_the_log_median_over_the_candidate(
    two_plumes: SyntheticMap,
) -> None:
    shape = two_plumes.enhancement.shape
    without = _at_sources(_run(two_plumes, wind_dir_deg=270.0), two_plumes)
    assert all(np.isnan(p.features["spectral_residual"]) for p in without)
    # residual 1.0 on the left half, 3.0 on the right; NaN where not computed
    residual = np.full(shape, 1.0)
    residual[:, shape[1] // 2 :] = 3.0
    residual[::2] = np.nan
    opts = PlumeOptions(
        wind_speed_m_s=3.0, wind_speed_sigma_m_s=0.0, sensor="aviris-ng", wind_dir_deg=270.0
    )
    plumes = find_plumes(
        two_plumes.enhancement,
        jacobian=north_up_jacobian(5.0),
        uncertainty=two_plumes.uncertainty,
        residual=residual,
        options=opts,
    )
    for p in _at_sources(plumes, two_plumes):
        rows, cols = p.pixels[:, 0], p.pixels[:, 1]
        want = np.nanmedian(residual[rows, cols])
        assert p.features["spectral_residual"] == pytest.approx(np.log(want))
    with pytest.raises(InvalidParameterError, match="residual"):
        find_plumes(two_plumes.enhancement, jacobian=north_up_jacobian(5.0), residual=residual[:10])
