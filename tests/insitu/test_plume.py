from __future__ import annotations

import numpy as np
import pytest

from plumetrace.constants import kg_m3_per_ppm
from plumetrace.insitu.dispersion import sigmas
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume import DEFAULT_STABILITY, ForwardModel, SourceParams


def _closed_form(
    model: ForwardModel, src: SourceParams, pts: np.ndarray, speed: float, wind_from: float
) -> np.ndarray:
    """Textbook Gaussian plume with ground reflection, in numpy (one source)."""
    to = np.deg2rad(wind_from + 180.0 + np.rad2deg(src.wind_bias_rad[0]))
    e = np.array([np.sin(to), np.cos(to)])
    rel = pts[:, :2] - np.array([src.x[0], src.y[0]])
    d = rel @ e
    c = rel @ np.array([e[1], -e[0]])
    sy, sz = sigmas(
        np.maximum(d, 0.1), np.full(d.shape, DEFAULT_STABILITY + src.stability[0]), model.scheme
    )
    s0 = model.initial_sigma_m**2
    sy = np.sqrt((src.scale[0] * sy) ** 2 + s0)
    sz = np.sqrt((src.scale[0] * sz) ** 2 + s0)
    h, z = src.z[0], pts[:, 2]
    conc = (
        src.rate_kg_s[0]
        / (2 * np.pi * speed * sy * sz)
        * np.exp(-0.5 * (c / sy) ** 2)
        * (np.exp(-0.5 * ((z - h) / sz) ** 2) + np.exp(-0.5 * ((z + h) / sz) ** 2))
    )
    conc[d < 0.1] = 0.0
    rho = kg_m3_per_ppm(
        model.molar_mass_kg_mol, pressure_pa=model.pressure_pa, temperature_k=model.temperature_k
    )
    return conc / rho


@pytest.mark.parametrize("scheme", ["briggs-rural", "briggs-urban", "pasquill-gifford"])
def test_point_readings_match_the_closed_form(scheme: str) -> None:
    rng = np.random.default_rng(3)
    model = ForwardModel(scheme=scheme)  # type: ignore[arg-type]
    for _ in range(5):
        src = SourceParams.single(
            *rng.uniform(0, 50, 2),
            rng.uniform(0, 3),
            1e-3,
            wind_bias_rad=rng.normal(0, 0.2),
            scale=rng.uniform(0.5, 2),
            stability=rng.uniform(-2, 2),
        )
        pts = np.column_stack(
            [rng.uniform(-50, 100, 200), rng.uniform(-50, 100, 200), rng.uniform(0, 5, 200)]
        )
        wind_from = rng.uniform(0, 360)
        obs = Observations.create(pts, np.zeros(200), 2.5, wind_from)
        got = model.predict_ppm(src, obs)[0]
        want = _closed_form(model, src, pts, 2.5, wind_from)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_upwind_is_zero_and_rate_is_linear() -> None:
    model = ForwardModel()
    pts = np.array([[0.0, 20.0, 1.0], [0.0, -20.0, 1.0]])  # wind from north blows south
    obs = Observations.create(pts, np.zeros(2), 3.0, 0.0)
    one = model.predict_ppm(SourceParams.single(0, 0, 1, 1e-3), obs)[0]
    two = model.predict_ppm(SourceParams.single(0, 0, 1, 2e-3), obs)[0]
    assert one[0] == 0.0 and one[1] > 0.0
    np.testing.assert_allclose(two, 2 * one)


def test_mass_flux_through_a_crosswind_plane_equals_the_rate() -> None:
    model = ForwardModel()
    q = 1e-3
    y = np.linspace(-40, 40, 401)
    z = np.linspace(0, 40, 401)
    yy, zz = np.meshgrid(y, z)
    pts = np.column_stack([yy.ravel(), np.full(yy.size, -60.0), zz.ravel()])
    obs = Observations.create(pts, np.zeros(len(pts)), 3.0, 0.0)
    ppm = model.predict_ppm(SourceParams.single(0, 0, 1.0, q), obs)[0].reshape(yy.shape)
    kg = ppm * kg_m3_per_ppm(model.molar_mass_kg_mol)
    flux = np.trapezoid(np.trapezoid(kg * 3.0, y, axis=1), z)
    assert flux == pytest.approx(q, rel=0.02)


def _brute_path(
    model: ForwardModel, src: SourceParams, p0: np.ndarray, p1: np.ndarray, wind_from: float
) -> float:
    t = np.linspace(0, 1, 8001)
    pts = p0[None] + t[:, None] * (p1 - p0)[None]
    obs = Observations.create(pts, np.zeros(len(t)), 3.0, wind_from, sigma_theta_deg=12.0)
    return float(np.trapezoid(model.predict_ppm(src, obs)[0], t))


def test_path_average_agrees_with_fine_quadrature() -> None:
    rng = np.random.default_rng(1)
    model = ForwardModel()
    errors = []
    for _ in range(120):
        src = SourceParams.single(
            *rng.uniform(0, 50, 2),
            0.3,
            1e-3,
            scale=rng.uniform(0.3, 2),
            stability=rng.uniform(-2, 2),
        )
        p0 = np.array([*rng.uniform(-20, 70, 2), 1.6])
        p1 = np.array([*rng.uniform(-20, 70, 2), 1.6])
        wind_from = rng.uniform(0, 360)
        obs = Observations.create(
            p0[None], [0.0], 3.0, wind_from, end=p1[None], sigma_theta_deg=12.0
        )
        got = float(model.predict_ppm(src, obs)[0, 0])
        ref = _brute_path(model, src, p0, p1, wind_from)
        if max(got, ref) > 1e-3:
            errors.append(abs(got - ref) / ref)
    errors_a = np.array(errors)
    assert errors_a.size > 25
    assert np.percentile(errors_a, 90) < 0.05
    assert errors_a.max() < 0.25


def test_a_beam_through_the_plume_sees_its_crosswind_integral() -> None:
    # a long crosswind beam at the source height: mean = ∫C dy / L = Q/(√(2π) u σz L)·(1+refl)
    model = ForwardModel(initial_sigma_m=0.0)
    src = SourceParams.single(0, 0, 1.5, 1e-3)
    obs = Observations.create(
        np.array([[-200.0, -50.0, 1.5]]), [0.0], 3.0, 0.0, end=np.array([[200.0, -50.0, 1.5]])
    )
    got = model.predict_ppm(src, obs)[0, 0]
    _, sz = sigmas(np.array([50.0]), np.array([DEFAULT_STABILITY]))
    rho = kg_m3_per_ppm(model.molar_mass_kg_mol)
    want = 1e-3 / (np.sqrt(2 * np.pi) * 3.0 * sz[0] * 400.0) * (1 + np.exp(-0.5 * (3 / sz[0]) ** 2))
    assert got == pytest.approx(want / rho, rel=1e-3)


def test_isotropic_plume_matches_stone_soup_reference_values() -> None:
    # Stone Soup 1.9.1 IsotropicPlume at its example's truth (benchmarks/peers/STONESOUP_STE.md):
    # source (30, 40, 1), Q = 5, u = 4, plume towards -y, zeta1 = 1, zeta2 = 8
    model = ForwardModel(scheme="isotropic")
    src = SourceParams.single(30.0, 40.0, 1.0, 5.0, scale=1.0, stability=0.0)
    pts = np.array([[5, 5, 0], [30, 5, 0], [30, 39, 0], [32, 30, 0], [25, 20, 0.0]])
    want = np.array([2.6166e-10, 3.7287e-03, 1.1760e-01, 1.7245e-02, 2.8275e-03])
    obs = Observations.create(pts, np.zeros(len(pts)), 4.0, 0.0)
    got = model.predict_ppm(src, obs)[0] * kg_m3_per_ppm(model.molar_mass_kg_mol)
    np.testing.assert_allclose(got, want, rtol=2e-4)
    # a beam is the mean along it
    beam = Observations.create(pts[1:2], [0.0], 4.0, 0.0, end=np.array([[30.0, 35.0, 0.0]]))
    t = np.linspace(0.0, 1.0, 4001)
    line = pts[1][None] + t[:, None] * (np.array([30.0, 35.0, 0.0]) - pts[1])[None]
    ref = np.trapezoid(
        model.predict_ppm(src, Observations.create(line, np.zeros(len(t)), 4.0, 0.0))[0], t
    )
    assert model.predict_ppm(src, beam)[0, 0] == pytest.approx(ref, rel=1e-3)
