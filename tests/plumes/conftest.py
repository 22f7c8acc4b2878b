from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from plumetrace.sim.plume import render_plume

NOISE = 100.0  # ppm·m, one sigma


@dataclass
class SyntheticMap:
    enhancement: np.ndarray
    uncertainty: np.ndarray
    sources: list[tuple[float, float, float]]  # (row, col, rate)


def make_map(
    sources: list[tuple[float, float, float]],
    *,
    shape: tuple[int, int] = (200, 240),
    wind: float = 3.0,
    wind_dir: float = 270.0,
    seed: int = 0,
) -> SyntheticMap:
    rng = np.random.default_rng(seed)
    enh = rng.normal(0.0, NOISE, shape)
    for r, c, q in sources:
        enh += render_plume(*shape, r, c, q, wind, wind_dir, 5.0, rng)
    return SyntheticMap(enh, np.full(shape, NOISE), sources)


@pytest.fixture(scope="session")
def two_plumes() -> SyntheticMap:
    return make_map([(60.5, 30.5, 600.0), (140.5, 30.5, 600.0)])
