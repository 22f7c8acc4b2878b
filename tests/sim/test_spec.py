from __future__ import annotations

import json

import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.sim import Flare, PuffModel, SceneSpec, SimulatedSource


def test_defaults_are_the_documented_scene() -> None:
    s = SceneSpec()
    assert (s.rows, s.cols, s.sensor, s.sources) == (1000, 598, "aviris-ng", 3)
    assert (s.rate_min_kg_h, s.rate_max_kg_h, s.wind_speed_m_s, s.wind_dir_deg) == (
        100.0,
        1000.0,
        3.0,
        270.0,
    )
    assert (s.pixel_size_m, s.file_format, s.noise) == (5.0, "envi", True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": 4}, "rows must be between 16 and 20000"),
        ({"cols": 100000}, "cols must be between"),
        ({"sensor": "hyperion"}, "unknown sensor 'hyperion'"),
        ({"sources": -1}, "number of sources"),
        ({"rate_min_kg_h": 0.0}, "minimum emission rate must be positive"),
        ({"rate_min_kg_h": 500.0, "rate_max_kg_h": 100.0}, "must be at least the minimum"),
        ({"wind_speed_m_s": 0.1}, "wind speed must be between 0.5 and 30"),
        ({"wind_dir_deg": 400.0}, "wind direction must be between 0 and 360"),
        ({"pixel_size_m": -5.0}, "pixel size"),
        ({"origin_lat": 89.0}, "origin latitude"),
        ({"origin_lon": 200.0}, "origin longitude"),
        ({"file_format": "tif"}, "unknown format 'tif'"),
        ({"saturated_fraction": 0.5}, "saturated fraction"),
        ({"flares": 1000}, "number of flares"),
        ({"seed": -3}, "seed must be a non-negative integer"),
        ({"illumination": 3.0}, "illumination"),
        ({"placed": ((31.9, -102.2, 0.0),)}, "placed source 1 needs a rate"),
        ({"placed": ((95.0, -102.2, 10.0),)}, "placed source 1 has no valid position"),
        ({"placed": ((31.9, float("nan"), 10.0),)}, "three finite numbers"),
        ({"sources": 100, "placed": ((31.9, -102.2, 10.0),)}, "at most 100 sources"),
    ],
)
def test_invalid_specs_raise_one_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        SceneSpec(**kwargs)  # type: ignore[arg-type]


def test_spec_round_trip_through_json() -> None:
    spec = SceneSpec(
        seed=5,
        rows=64,
        sensor="emit",
        plume_model=PuffModel(filaments=2),
        placed=((31.9, -102.2, 250.0),),
    )
    again = SceneSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec


def test_source_and_flare_round_trip() -> None:
    src = SimulatedSource(
        "src-001", 10, 20, 31.9, -102.2, 345.6, 3.0, 270.0, 7.6e5, 3.5e6, 1500.0, 42.0
    )
    assert SimulatedSource.from_dict(json.loads(json.dumps(src.to_dict()))) == src
    flare = Flare("flare-001", 1, 2, 31.9, -102.2, 1234.0, 2.5)
    assert Flare.from_dict(json.loads(json.dumps(flare.to_dict()))) == flare
