from __future__ import annotations

import numpy as np
import pytest

from plumetrace.constants import SECONDS_PER_HOUR, kg_m2_per_ppm_m
from plumetrace.errors import InvalidParameterError
from plumetrace.sim import PuffEnsemble, PuffModel, render_plume, render_puffs, simulate_puffs
from plumetrace.sim.plume import downwind_room_m, wind_vector

PX = 5.0
KG_PER_PPM_M = kg_m2_per_ppm_m("ch4")


def _plume(
    wind_dir: float,
    *,
    rows: int = 320,
    cols: int = 320,
    src: tuple[float, float] = (160.5, 160.5),
    seed: int = 0,
    rate: float = 500.0,
    speed: float = 3.0,
    model: PuffModel | None = None,
) -> np.ndarray:
    return render_plume(
        rows,
        cols,
        src[0],
        src[1],
        rate,
        speed,
        wind_dir,
        PX,
        np.random.default_rng(seed),
        model=model,
    )


@pytest.mark.parametrize(
    ("wind_dir", "expected"),
    [(270.0, (0.0, 1.0)), (90.0, (0.0, -1.0)), (0.0, (1.0, 0.0)), (180.0, (-1.0, 0.0))],
)
def test_wind_direction_convention(wind_dir: float, expected: tuple[float, float]) -> None:
    """Meteorological FROM direction: a wind from 270° carries the plume east (+col)."""
    column = _plume(wind_dir)
    rows, cols = np.indices(column.shape)
    w = column / column.sum()
    d_row = float((w * (rows + 0.5)).sum() - 160.5)
    d_col = float((w * (cols + 0.5)).sum() - 160.5)
    norm = np.hypot(d_row, d_col)
    assert norm > 20  # the plume is well downwind of the source
    np.testing.assert_allclose([d_row / norm, d_col / norm], expected, atol=0.25)


def test_wind_vector() -> None:
    np.testing.assert_allclose(wind_vector(270.0), (1.0, 0.0), atol=1e-12)  # toward east
    np.testing.assert_allclose(wind_vector(0.0), (0.0, 1.0), atol=1e-12)  # toward south
    np.testing.assert_allclose(wind_vector(225.0), (np.sqrt(0.5), -np.sqrt(0.5)), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("speed", [1.5, 3.0, 8.0])
def test_mass_conservation_through_cross_sections(seed: int, speed: float) -> None:
    """Flux through each cross-section = Σ column · pixel · U = emission rate (±2 %)."""
    rate = 400.0
    model = PuffModel(direction_std_deg=5.0)  # keep the plume inside the raster
    column = (
        _plume(
            270.0,
            rows=400,
            cols=300,
            src=(200.5, 10.5),
            seed=seed,
            rate=rate,
            speed=speed,
            model=model,
        )
        * KG_PER_PPM_M
    )
    for col in (20, 40, 80, 150, 250):
        flux_kg_h = column[:, col].sum() * PX * speed * SECONDS_PER_HOUR
        assert flux_kg_h == pytest.approx(rate, rel=0.02), col


@pytest.mark.parametrize("wind_dir", [225.0, 300.0])
def test_mass_conservation_oblique_wind(wind_dir: float) -> None:
    """For any wind direction: mass in an along-wind slab / slab length · U = rate."""
    rate, speed = 300.0, 4.0
    model = PuffModel(direction_std_deg=5.0)
    src = (340.5, 60.5) if wind_dir == 225.0 else (60.5, 60.5)  # 225: toward NE
    column = _plume(wind_dir, rows=400, cols=400, src=src, rate=rate, speed=speed, model=model)
    dc, dr = wind_vector(wind_dir)
    rows, cols = np.indices(column.shape)
    along = ((cols + 0.5 - src[1]) * dc + (rows + 0.5 - src[0]) * dr) * PX
    for s0 in (100.0, 400.0, 900.0):
        slab = (along >= s0) & (along < s0 + 100.0)
        mass = column[slab].sum() * KG_PER_PPM_M * PX * PX
        assert mass / 100.0 * speed * SECONDS_PER_HOUR == pytest.approx(rate, rel=0.03)


def test_total_mass_and_length() -> None:
    rate, speed, length = 250.0, 2.5, 600.0
    puffs = simulate_puffs(0.0, 0.0, rate, speed, 270.0, np.random.default_rng(1), length_m=length)
    assert puffs.mass_kg.sum() == pytest.approx(rate / SECONDS_PER_HOUR * length / speed)
    assert puffs.distance_m.max() == pytest.approx(length)
    assert np.all(puffs.sigma_m > 0)
    # everything inside a large raster: the rendered mass equals the emitted mass
    grid = render_puffs(
        PuffEnsemble(
            puffs.x_m + 200.0, puffs.y_m + 800.0, puffs.sigma_m, puffs.mass_kg, puffs.distance_m
        ),
        320,
        200,
        PX,
    )
    assert grid.sum() * PX * PX == pytest.approx(puffs.mass_kg.sum(), rel=1e-6)


def test_pixel_area_integration_does_not_alias_small_puffs() -> None:
    """A puff 100x smaller than a pixel keeps its mass and lands in its own pixel."""
    puffs = PuffEnsemble(
        x_m=np.array([12.3, 35.0]),
        y_m=np.array([7.7, 20.0]),
        sigma_m=np.array([0.05, 0.05]),
        mass_kg=np.array([2.0, 1.0]),
        distance_m=np.zeros(2),
    )
    grid = render_puffs(puffs, 10, 10, PX)
    assert grid.sum() * PX**2 == pytest.approx(3.0)
    assert grid[1, 2] * PX**2 == pytest.approx(2.0)
    # a puff on a pixel corner is shared equally by the four pixels
    assert grid[3:5, 6:8] * PX**2 == pytest.approx(np.full((2, 2), 0.25))


def test_puff_growth_follows_slade_unstable_curve() -> None:
    m = PuffModel()
    x = np.array([100.0, 1000.0])
    np.testing.assert_allclose(m.sigma(x), m.source_sigma_m + 0.14 * x**0.92)
    assert 10 < float(m.sigma(100.0)) < 15  # Slade 1968: ~10 m at 100 m, unstable


def test_meander_spread_matches_taylor_theory() -> None:
    """Ensemble cross-wind spread of the plume axis ≈ Taylor's (1921) OU dispersion."""
    model = PuffModel(filaments=1, direction_std_deg=10.0, lagrangian_time_s=60.0)
    speed, age = 3.0, 200.0
    offsets = []
    for seed in range(300):
        p = simulate_puffs(
            0.0,
            0.0,
            100.0,
            speed,
            270.0,
            np.random.default_rng(seed),
            model=model,
            length_m=speed * age,
        )
        offsets.append(p.y_m[-1])  # wind toward +x: cross-wind offset is y
    sigma_v = speed * np.tan(np.radians(10.0))
    t_l = 60.0
    theory = np.sqrt(2 * sigma_v**2 * t_l**2 * (age / t_l - 1 + np.exp(-age / t_l)))
    assert np.std(offsets) == pytest.approx(theory, rel=0.15)
    assert abs(np.mean(offsets)) < 0.25 * theory


def test_filaments_make_structure_but_keep_mean_profile() -> None:
    single = _plume(270.0, model=PuffModel(filaments=1), seed=4)
    strands = _plume(270.0, model=PuffModel(filaments=6), seed=4)
    assert strands.sum() == pytest.approx(single.sum(), rel=0.02)  # same mass (edges aside)

    # sub-puffs are narrower: rougher cross-wind profiles (second differences)
    def roughness(a: np.ndarray) -> float:
        sec = a[:, 200:240]
        return float(np.abs(np.diff(sec, 2, axis=0)).sum() / sec.sum())

    assert roughness(strands) > 1.3 * roughness(single)


def test_render_plume_is_deterministic_and_nonnegative() -> None:
    a = _plume(250.0, seed=9)
    b = _plume(250.0, seed=9)
    c = _plume(250.0, seed=10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and a.min() >= 0
    # 50 m downwind of the source the whole emission crosses one pixel column
    east = _plume(270.0, seed=9)
    near = east[:, 170].sum() * KG_PER_PPM_M * PX * 3.0 * SECONDS_PER_HOUR
    assert near == pytest.approx(500.0, rel=0.02)


def test_plume_stops_at_max_length() -> None:
    model = PuffModel(max_length_m=300.0, direction_std_deg=3.0)
    column = _plume(270.0, model=model, src=(160.5, 20.5))
    cols = np.flatnonzero(column.max(axis=0) > 1.0)
    assert (cols.max() + 0.5 - 20.5) * PX < 300.0 + 5 * float(model.sigma(300.0))
    assert (cols.max() + 0.5 - 20.5) * PX > 250.0


def test_downwind_room() -> None:
    assert downwind_room_m(100, 200, 5.0, 50.0, 50.0, 270.0) == pytest.approx(750.0)
    assert downwind_room_m(100, 200, 5.0, 50.0, 50.0, 0.0) == pytest.approx(250.0)


def test_puff_model_round_trip_and_validation() -> None:
    m = PuffModel(filaments=3, max_length_m=1234.0)
    assert PuffModel.from_dict(m.to_dict()) == m
    bads: list[dict[str, float]] = [
        {"filaments": 0},
        {"filament_width": 1.5},
        {"source_sigma_m": -1.0},
        {"spacing": 2.0},
        {"direction_std_deg": 90.0},
    ]
    for bad in bads:
        with pytest.raises(InvalidParameterError):
            PuffModel(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        simulate_puffs(0, 0, 100.0, 0.0, 270.0, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError):
        simulate_puffs(0, 0, -5.0, 3.0, 270.0, np.random.default_rng(0))
