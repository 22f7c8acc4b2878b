"""``airspace check`` JSON lines: the column-wise formatter equals Python's, line for line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumetrace.io.check_lines import check_json_lines, format_check_line


def _python(
    lat: np.ndarray, lon: np.ndarray, zone: np.ndarray, allowed: np.ndarray, dist: np.ndarray
) -> bytes:
    rounded = np.round(dist, 1)
    return "".join(
        format_check_line(*row)
        for row in zip(
            lat.tolist(),
            lon.tolist(),
            zone.tolist(),
            allowed.tolist(),
            rounded.tolist(),
            strict=True,
        )
    ).encode()


def _case(v: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = v.shape[0]
    zone = np.array(["USA", "MEX", "international"])[rng.integers(0, 3, n)]
    allowed = rng.random(n) < 0.5
    dist = np.where(rng.random(n) < 0.1, np.nan, np.abs(v) * rng.uniform(0, 200, n))
    return v, v[::-1].copy(), zone, allowed, dist


@pytest.mark.parametrize(
    "kind", ["six_decimals", "any_degrees", "few_decimals", "any_magnitude", "special"]
)
def test_equals_python_formatting(kind: str) -> None:
    rng = np.random.default_rng(0)
    n = 150_000  # more than one chunk
    v = {
        "six_decimals": lambda: np.round(rng.uniform(-180, 180, n), 6),
        "any_degrees": lambda: rng.uniform(-180, 180, n),
        "few_decimals": lambda: (
            np.rint(rng.uniform(-1, 1, n) * 10.0 ** (k := rng.integers(0, 14, n))) / 10.0**k
        ),
        "any_magnitude": lambda: rng.standard_normal(n) * 10.0 ** rng.integers(-10, 20, n),
        "special": lambda: np.array(
            [
                *(0.0, -0.0, 1e-4, 9.99e-5, 1e15, 1e15 - 1, 0.1, 0.3, 31.0, -31.0, 1e16),
                *(np.inf, -np.inf, np.nan, 2.5e-5, 123.456789012345, 5e-324, 0.1 + 0.2),
            ]
        ),
    }[kind]()
    case = _case(v, 1)
    assert check_json_lines(*case) == _python(*case)


def test_lines_are_json_with_the_contract_fields() -> None:
    lat, lon = np.array([31.955443, -0.5]), np.array([-106.579715, 179.0])
    text = check_json_lines(
        lat,
        lon,
        np.array(["USA", "international"]),
        np.array([True, False]),
        np.array([20061.64, np.nan]),
    )
    rows = [json.loads(line) for line in text.decode().splitlines()]
    assert rows == [
        {
            "lat": 31.955443,
            "lon": -106.579715,
            "zone": "USA",
            "allowed": True,
            "distance_to_unauthorized_m": 20061.6,
        },
        {
            "lat": -0.5,
            "lon": 179.0,
            "zone": "international",
            "allowed": False,
            "distance_to_unauthorized_m": None,
        },
    ]
    assert (
        check_json_lines(np.zeros(0), np.zeros(0), np.zeros(0, str), np.zeros(0, bool), np.zeros(0))
        == b""
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30),
    st.lists(st.one_of(st.just(float("nan")), st.floats(0.0, 1e17)), min_size=30, max_size=30),
)
def test_any_float_like_python(values: list[float], dists: list[float]) -> None:
    v = np.array(values)
    d = np.array(dists[: v.shape[0]])
    zone = np.full(v.shape[0], "USA")
    allowed = np.ones(v.shape[0], dtype=bool)
    assert check_json_lines(v, v, zone, allowed, d) == _python(v, v, zone, allowed, d)
