from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import numpy as np
import pytest

from plumetrace.constants import MOLAR_MASS_KG_MOL, kg_m3_per_ppm
from plumetrace.errors import InvalidParameterError
from plumetrace.sim.filament import FilamentModel, FilamentSpec

KG_M3_PER_PPM = kg_m3_per_ppm(MOLAR_MASS_KG_MOL["ch4"])
RATE = 0.01  # kg/s (36 kg/h)
SPEED = 3.0  # m/s
SOURCE = (0.0, 0.0, 2.0)
# time-mean grids: cross-wind planes (wind from the west, so the plume runs along +x)
DY, DZ = 1.5, 0.5
Y = np.arange(-45.0, 45.0 + 1e-9, DY)
Z = np.arange(DZ / 2, 15.0, DZ)  # cell midpoints, so the sum is a midpoint rule down to z = 0
DISTANCES = (20.0, 40.0)


def _spec(**kw: float) -> FilamentSpec:
    return replace(FilamentSpec(SOURCE, RATE, SPEED, 270.0), **kw)


def _plane(x: float) -> np.ndarray:
    yy, zz = np.meshgrid(Y, Z, indexing="ij")
    return np.stack([np.full_like(yy, x), yy, zz], axis=-1)


@dataclass(frozen=True)
class MeanField:
    planes: np.ndarray  # (2, ny, nz) ppm
    upwind: np.ndarray  # (3,) ppm
    centreline: np.ndarray  # (2,) ppm


@pytest.fixture(scope="module")
def mean_field() -> MeanField:
    """Time-mean concentrations over 15 min of a plume whose meander decorrelates fast.

    A short meander time (8 s) makes 15 minutes hold ~60 independent meander states, so the
    time mean converges; filaments older than 40 s are beyond the planes and are dropped.
    """
    model = FilamentModel(_spec(meander_time_s=8.0, max_age_s=40.0), np.random.default_rng(11))
    upwind = np.array([[-20.0, 0.0, 2.0], [-20.0, 0.0, 0.5], [-20.0, 5.0, 2.0]])
    centre = np.array([[x, 0.0, 2.0] for x in DISTANCES])
    points = np.concatenate(
        [np.stack([_plane(x) for x in DISTANCES]).reshape(-1, 3), upwind, centre]
    )
    mean = model.mean_concentration_ppm(points, 900.0, 1.5)
    n = 2 * Y.size * Z.size
    return MeanField(mean[:n].reshape(2, Y.size, Z.size), mean[n : n + 3], mean[n + 3 :])


@pytest.mark.parametrize("plane", [0, 1])
def test_mass_flux_through_crosswind_plane_matches_rate(mean_field: MeanField, plane: int) -> None:
    """∫∫ C̄ U dy dz over a cross-wind plane recovers the emission rate (kg/s)."""
    flux = mean_field.planes[plane].sum() * DY * DZ * KG_M3_PER_PPM * SPEED
    assert flux == pytest.approx(RATE, rel=0.15)


def test_time_mean_profile_is_gaussian_centred_and_widening(mean_field: MeanField) -> None:
    widths = []
    for plane in mean_field.planes:
        profile = plane.sum(axis=1)  # vertically integrated, (ny,)
        w = profile / profile.sum()
        centroid = float((w * Y).sum())
        width = float(np.sqrt((w * (Y - centroid) ** 2).sum()))
        gauss = np.exp(-0.5 * ((Y - centroid) / width) ** 2)
        assert abs(centroid) < 3.0
        assert np.corrcoef(gauss, profile)[0, 1] > 0.95
        # the profile ends well inside the grid
        assert profile[[0, -1]].max() < 1e-3 * profile.max()
        widths.append(width)
    assert 2.0 < widths[0] < 12.0
    assert widths[1] > 1.3 * widths[0]


def test_nothing_upwind(mean_field: MeanField) -> None:
    assert mean_field.centreline.min() > 10.0  # ppm: a real plume downwind ...
    assert mean_field.upwind.max() < 1e-9  # ... none upwind


def test_instantaneous_readings_are_intermittent() -> None:
    model = FilamentModel(_spec(), np.random.default_rng(0))
    point = np.array([[20.0, 0.0, SOURCE[2]]])
    readings = []
    for _ in range(1500):  # 5 minutes at 5 Hz
        model.advance(0.2)
        readings.append(model.concentration_ppm(point)[0])
    c = np.array(readings)
    assert c.max() > 50.0
    assert np.mean(c < 0.01 * c.max()) > 0.2
    assert c.max() > 3.0 * c.mean()
    # bursts, not a slowly varying signal: many separate on-periods
    on = c > 0.1 * c.max()
    assert np.count_nonzero(on[1:] & ~on[:-1]) > 10


def test_concentration_matches_direct_sum_of_reflected_gaussians() -> None:
    model = FilamentModel(_spec(), np.random.default_rng(3), spinup_s=60.0)
    pos, sigma, mass = model.filaments()
    rng = np.random.default_rng(4)
    q = np.column_stack(
        [rng.uniform(-5.0, 120.0, 300), rng.uniform(-30.0, 30.0, 300), rng.uniform(0, 8, 300)]
    )
    image = pos * np.array([1.0, 1.0, -1.0])
    d_real = ((q[:, None, :] - pos[None]) ** 2).sum(-1)
    d_image = ((q[:, None, :] - image[None]) ** 2).sum(-1)
    amp = mass / ((2 * np.pi) ** 1.5 * sigma**3)
    expected = ((np.exp(-d_real / (2 * sigma**2)) + np.exp(-d_image / (2 * sigma**2))) * amp).sum(
        1
    ) / KG_M3_PER_PPM
    got = model.concentration_ppm(q)
    assert got.shape == (300,)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * expected.max())
    assert expected.max() > 10.0


def test_filament_inventory_and_mass() -> None:
    spec = _spec(max_age_s=60.0)
    model = FilamentModel(spec, np.random.default_rng(1))
    assert model.time_s == pytest.approx(0.0, abs=1e-9)
    assert abs(model.n_filaments - 60.0 / spec.release_interval_s) <= 1
    pos, sigma, mass = model.filaments()
    assert pos.shape == (model.n_filaments, 3)
    assert mass.sum() == pytest.approx(RATE * 60.0, rel=0.01)
    assert (pos[:, 2] >= 0.0).all()
    assert sigma.min() >= spec.initial_radius_m
    assert sigma.max() == pytest.approx(math.sqrt(0.2**2 + spec.growth_m2_s * 60.0), rel=0.01)
    model.advance(1.5)
    assert model.time_s == pytest.approx(1.5)


def test_far_filaments_are_dropped() -> None:
    model = FilamentModel(_spec(max_distance_m=50.0), np.random.default_rng(3))
    pos, _, _ = model.filaments()
    assert np.hypot(pos[:, 0], pos[:, 1]).max() <= 50.0
    assert 0 < model.n_filaments < 200  # ~17 s of travel at 3 m/s (1500 if none dropped)


@pytest.mark.parametrize(("wind_from", "bearing"), [(270.0, 90.0), (0.0, 180.0), (135.0, 315.0)])
def test_plume_travels_toward_from_plus_180(wind_from: float, bearing: float) -> None:
    model = FilamentModel(
        _spec(wind_from_deg=wind_from, max_age_s=30.0, meander_sigma_deg=5.0),
        np.random.default_rng(2),
    )
    pos, _, _ = model.filaments()
    east, north = pos[:, 0].mean(), pos[:, 1].mean()
    heading = math.degrees(math.atan2(east, north)) % 360.0
    assert abs((heading - bearing + 180.0) % 360.0 - 180.0) < 10.0
    assert math.hypot(east, north) > 20.0


def test_wind_reading_statistics() -> None:
    spec = _spec(meander_time_s=5.0, max_age_s=5.0, wind_from_deg=350.0)
    model = FilamentModel(spec, np.random.default_rng(5))
    readings = []
    for _ in range(2000):
        model.advance(1.0)
        readings.append(model.wind())
    speed, frm = np.array(readings).T
    assert ((frm >= 0.0) & (frm < 360.0)).all()
    offset = (frm - 350.0 + 180.0) % 360.0 - 180.0
    assert abs(offset.mean()) < 3.0
    assert offset.std() == pytest.approx(15.0, rel=0.2)
    assert speed.mean() == pytest.approx(SPEED, rel=0.05)
    assert speed.std() == pytest.approx(0.15 * SPEED, rel=0.2)
    assert (speed > 0.0).all()


def test_determinism_and_seed_dependence() -> None:
    def run(seed: int) -> tuple[np.ndarray, tuple[float, float]]:
        model = FilamentModel(_spec(), np.random.default_rng(seed), spinup_s=40.0)
        model.advance(3.7)
        points = np.array([[10.0, 0.0, 2.0], [25.0, 2.0, 1.0], [40.0, -3.0, 3.0]])
        return model.concentration_ppm(points), model.wind()

    a, wind_a = run(7)
    b, wind_b = run(7)
    c, wind_c = run(8)
    np.testing.assert_array_equal(a, b)
    assert wind_a == wind_b
    assert not np.array_equal(a, c)
    assert wind_a != wind_c


def test_concentration_is_linear_in_rate() -> None:
    points = np.array([[15.0, 0.0, 2.0], [30.0, 1.0, 1.0]])
    spec = _spec(max_age_s=30.0)
    base = FilamentModel(spec, np.random.default_rng(9)).concentration_ppm(points)
    double = FilamentModel(replace(spec, rate_kg_s=2 * RATE), np.random.default_rng(9))
    np.testing.assert_allclose(double.concentration_ppm(points), 2 * base, rtol=1e-6)
    zero = FilamentModel(replace(spec, rate_kg_s=0.0), np.random.default_rng(9))
    np.testing.assert_array_equal(zero.concentration_ppm(points), 0.0)


def test_point_shapes_ground_and_path_average() -> None:
    model = FilamentModel(_spec(max_age_s=30.0), np.random.default_rng(6))
    grid = np.stack(np.meshgrid([10.0, 20.0, 30.0], [-2.0, 0.0, 2.0], indexing="ij"), axis=-1)
    points = np.concatenate([grid, np.full((3, 3, 1), 2.0)], axis=-1)  # (3, 3, 3)
    c = model.concentration_ppm(points)
    assert c.shape == (3, 3)
    np.testing.assert_allclose(c.ravel(), model.concentration_ppm(points.reshape(-1, 3)))
    assert model.concentration_ppm(np.empty((0, 3))).shape == (0,)
    assert model.concentration_ppm([[20.0, 0.0, -0.5]])[0] == 0.0

    start, end = np.array([15.0, -10.0, 2.0]), np.array([15.0, 10.0, 2.0])
    n = 40
    mids = start + ((np.arange(n) + 0.5) / n)[:, None] * (end - start)
    expected = model.concentration_ppm(mids).mean()
    assert model.path_average_ppm(start, end, n=n) == pytest.approx(expected, rel=1e-12)


def test_mean_concentration_advances_the_clock() -> None:
    model = FilamentModel(_spec(max_age_s=20.0), np.random.default_rng(1))
    mean = model.mean_concentration_ppm([[15.0, 0.0, 2.0]], 10.0, 0.5)
    assert mean.shape == (1,)
    assert model.time_s == pytest.approx(10.0)


def test_spec_round_trip() -> None:
    spec = _spec(meander_sigma_deg=10.0, growth_m2_s=0.07)
    again = FilamentSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert isinstance(again.source_xyz, tuple)


@pytest.mark.parametrize(
    "changes",
    [
        {"rate_kg_s": -1.0},
        {"rate_kg_s": float("nan")},
        {"wind_speed_m_s": 0.0},
        {"wind_speed_m_s": -2.0},
        {"wind_from_deg": float("inf")},
        {"source_xyz": (0.0, 0.0, -1.0)},
        {"source_xyz": (0.0, float("nan"), 1.0)},
        {"meander_sigma_deg": -1.0},
        {"meander_sigma_deg": 60.0},
        {"meander_time_s": 0.0},
        {"speed_sigma_frac": 1.5},
        {"release_interval_s": 0.0},
        {"initial_radius_m": 0.0},
        {"growth_m2_s": -0.1},
        {"diffusivity_m2_s": -0.1},
        {"vertical_diffusivity_m2_s": float("nan")},
        {"max_distance_m": 0.0},
        {"turbulence_time_s": 0.0},
        {"max_age_s": 0.0},
        {"time_step_s": 2.0},
        {"molar_mass_kg_mol": 16.0},
    ],
)
def test_invalid_specs_raise(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError):
        replace(FilamentSpec(SOURCE, RATE, SPEED, 270.0), **changes)


def test_invalid_calls_raise() -> None:
    spec = _spec(max_age_s=10.0)
    with pytest.raises(InvalidParameterError):
        FilamentModel(spec, np.random.default_rng(0), spinup_s=-1.0)
    model = FilamentModel(spec, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError):
        model.advance(-0.1)
    with pytest.raises(InvalidParameterError):
        model.concentration_ppm(np.zeros((4, 2)))
    with pytest.raises(InvalidParameterError):
        model.path_average_ppm([0.0, 0.0, 1.0], [1.0, 0.0, 1.0], n=0)
    with pytest.raises(InvalidParameterError):
        model.mean_concentration_ppm([[1.0, 0.0, 1.0]], 1.0, 0.0)
