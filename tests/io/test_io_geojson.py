from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely.geometry as sg
from hypothesis import given, settings
from hypothesis import strategies as st

import plumetrace.io._atomic as atomic_mod
from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io.geojson import read_geojson, write_geojson

SQUARE = [[[10.0, 50.0], [10.001, 50.0], [10.001, 50.001], [10.0, 50.001], [10.0, 50.0]]]


def _strict_load(path: Path) -> Any:
    """Parse ``path`` as strict JSON: NaN and Infinity tokens are an error."""

    def reject(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def test_round_trip_features_and_collection_properties(tmp_path: Path) -> None:
    path = tmp_path / "plumes.geojson"
    features: list[dict[str, Any]] = [
        {
            "id": "plume-1",
            "geometry": {"type": "Polygon", "coordinates": SQUARE},
            "properties": {"label": "1", "ime_kg": 12.5, "pixels": 42, "flagged": False},
        },
        {
            "id": 7,
            "geometry": {"type": "Point", "coordinates": [10.0005, 50.0005]},
            "properties": {"note": "source", "tags": ["a", "b"], "nested": {"x": None}},
        },
        {"geometry": {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]}},
    ]
    meta = {"scene": "ang20240101t000000", "threshold_ppm_m": 250.0, "n_plumes": 2}
    write_geojson(path, features, properties=meta)

    doc = read_geojson(path)
    assert doc["type"] == "FeatureCollection"
    assert doc["plumetrace"] == meta
    assert [f["id"] for f in doc["features"][:2]] == ["plume-1", 7]
    assert "id" not in doc["features"][2]
    assert doc["features"][0]["geometry"] == {"type": "Polygon", "coordinates": SQUARE}
    assert doc["features"][0]["properties"] == features[0]["properties"]
    assert doc["features"][1]["properties"] == features[1]["properties"]
    assert doc["features"][2]["properties"] == {}  # absent properties: an empty object
    # the file itself is a plain RFC 7946 FeatureCollection with the foreign member
    raw = _strict_load(path)
    assert list(raw) == ["type", "plumetrace", "features"]
    assert raw["features"][0] == {"type": "Feature", **features[0]}
    # one feature per line, and no temporary file left behind
    assert len(path.read_text().splitlines()) == 2 + len(features)
    assert [p.name for p in tmp_path.iterdir()] == ["plumes.geojson"]
    # what read_geojson returns can be written again unchanged
    again = tmp_path / "again.geojson"
    write_geojson(again, doc["features"], properties=doc["plumetrace"])
    assert read_geojson(again) == doc


def test_numpy_values_and_non_finite_become_json(tmp_path: Path) -> None:
    path = tmp_path / "n.geojson"
    features = [
        {
            "id": np.int64(3),
            "geometry": {"type": "MultiPoint", "coordinates": np.array([[1.0, 2.0], [3.0, 4.0]])},
            "properties": {
                "rate_kg_h": np.float32(1.5),
                "count": np.int32(4),
                "missing": float("nan"),
                "np_missing": np.float64(np.nan),
                "inf": float("inf"),
                "values": np.array([1.0, np.nan, -np.inf]),
                "ok": np.bool_(True),
            },
        }
    ]
    write_geojson(path, features, properties={"sigma": np.nan, "bands": np.arange(3)})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    raw = _strict_load(path)
    assert raw["plumetrace"] == {"sigma": None, "bands": [0, 1, 2]}
    feature = raw["features"][0]
    assert feature["id"] == 3
    assert feature["geometry"] == {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}
    assert feature["properties"] == {
        "rate_kg_h": 1.5,
        "count": 4,
        "missing": None,
        "np_missing": None,
        "inf": None,
        "values": [1.0, None, None],
        "ok": True,
    }


def test_coordinates_rounded_to_7_decimals(tmp_path: Path) -> None:
    path = tmp_path / "r.geojson"
    geometry = {"type": "Point", "coordinates": [12.123456789, -45.00000004, 101.5]}
    write_geojson(path, [{"geometry": geometry, "properties": {}}])
    coords = _strict_load(path)["features"][0]["geometry"]["coordinates"]
    assert coords == [12.1234568, -45.0, 101.5]
    assert "-0.0" not in path.read_text()  # tiny negatives do not round to "-0.0"
    write_geojson(path, [{"geometry": {"type": "Point", "coordinates": [-1e-9, 0.0]}}])
    assert _strict_load(path)["features"][0]["geometry"]["coordinates"] == [0.0, 0.0]
    assert "-0.0" not in path.read_text()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-180.0, 180.0, allow_nan=False), st.floats(-90.0, 90.0, allow_nan=False)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_linestring_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, points: list[tuple[float, float]]
) -> None:
    path = tmp_path_factory.mktemp("h") / "line.geojson"
    coords = [list(p) for p in points] * 2  # at least two positions
    write_geojson(path, [{"geometry": {"type": "LineString", "coordinates": coords}}])
    back = read_geojson(path)["features"][0]["geometry"]["coordinates"]
    assert len(back) == len(coords)
    for (lon, lat), (lon2, lat2) in zip(coords, back, strict=True):
        assert math.isclose(lon2, lon, abs_tol=5.1e-8) and math.isclose(lat2, lat, abs_tol=5.1e-8)
        assert lon2 == round(lon2, 7) and lat2 == round(lat2, 7)


def test_shapely_geometries(tmp_path: Path) -> None:
    path = tmp_path / "s.geojson"
    hole = [(10.0002, 50.0002), (10.0004, 50.0002), (10.0004, 50.0004)]
    polygon = sg.Polygon(SQUARE[0], [hole])
    multi = sg.MultiPolygon([polygon, sg.box(11.0, 51.0, 11.5, 51.5)])
    collection = sg.GeometryCollection([sg.Point(1.0, 2.0), sg.LineString([(0, 0), (1, 1)])])
    features = [
        {"geometry": polygon, "properties": {"k": 1}},
        {"geometry": multi, "properties": {}},
        {"geometry": collection, "properties": {}},
        {"geometry": sg.Point(), "properties": {}},  # empty geometry: empty coordinates
    ]
    write_geojson(path, features)
    doc = read_geojson(path)
    shapes = [sg.shape(f["geometry"]) for f in doc["features"]]
    assert shapes[0].equals(polygon) and shapes[1].equals(multi) and shapes[2].equals(collection)
    assert doc["features"][0]["geometry"]["type"] == "Polygon"
    assert len(doc["features"][0]["geometry"]["coordinates"]) == 2  # exterior + hole
    assert doc["features"][3]["geometry"] == {"type": "Point", "coordinates": []}
    assert shapes[3].is_empty


def test_read_feature_and_bare_geometry(tmp_path: Path) -> None:
    feature = tmp_path / "f.geojson"
    feature.write_text(
        json.dumps(
            {
                "type": "Feature",
                "id": "a",
                "bbox": [0, 0, 1, 1],
                "geometry": {"type": "Point", "coordinates": [1, 2]},
                "properties": None,
            }
        )
    )
    assert read_geojson(feature) == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "a",
                "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
                "properties": {},
            }
        ],
    }
    bare = tmp_path / "g.json"
    bare.write_text('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}')
    doc = read_geojson(str(bare))
    assert len(doc["features"]) == 1
    assert doc["features"][0]["geometry"]["type"] == "Polygon"
    assert doc["features"][0]["properties"] == {}
    empty = tmp_path / "e.geojson"
    write_geojson(empty, [])
    assert _strict_load(empty) == {"type": "FeatureCollection", "features": []}
    assert read_geojson(empty) == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "FeatureCollection",\n "features": [}', r"invalid JSON at line 2, column"),
        ("[1, 2]", r"not GeoJSON: the top level is a list"),
        ('{"features": []}', r'not GeoJSON: no "type" member'),
        ('{"type": "Topology"}', r"not GeoJSON: unknown type 'Topology'"),
        ('{"type": "FeatureCollection"}', r'FeatureCollection has no "features" array'),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
            '{"type": "Point", "coordinates": [0, 0]}}, {"type": "Feature", "geometry": null}]}',
            r"features\[1\] has no geometry",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}',
            r"features\[0\] has no geometry",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", '
            '"geometry": {"type": "Circle", "coordinates": [0, 0]}}]}',
            r"features\[0\] geometry type 'Circle' is not one of Point, ",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Point", "coordinates": [0, 0]}]}',
            r"features\[0\] is not a Feature \(type 'Point'\)",
        ),
        (
            '{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [0, 0]}}',
            r"feature LineString coordinates: expected a position \[lon, lat\], got int",
        ),
        (
            '{"type": "Point", "coordinates": [NaN, 0]}',
            r"Point coordinates: coordinate nan is not finite",
        ),
        (
            '{"type": "Point", "coordinates": ["1", 0]}',
            r"Point coordinates: coordinate '1' is not a number",
        ),
        (
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, '
            '"properties": [1]}',
            r"feature properties must be an object, got list",
        ),
    ],
)
def test_read_errors_name_the_file_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(FormatError, match=message) as info:
        read_geojson(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert info.value.path == path


def test_read_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"missing\.geojson: JSON file not found") as info:
        read_geojson(tmp_path / "missing.geojson")
    assert not isinstance(info.value, FormatError)
    with pytest.raises(DataSourceError, match="is a directory"):
        read_geojson(tmp_path)


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"properties": {}}, r"has no geometry"),
        ({"geometry": None}, r"has no geometry"),
        ({"geometry": [0.0, 1.0]}, r"geometry must be an object, got list"),
        ({"geometry": {"type": "Pt", "coordinates": [0, 0]}}, r"geometry type 'Pt' is not"),
        ({"geometry": {"type": "Point", "coordinates": [np.nan, 0.0]}}, r"not finite"),
        ({"geometry": {"type": "Point", "coordinates": [1.0]}}, r"at least 2 numbers"),
        ({"geometry": {"type": "Point", "coordinates": [True, 1.0]}}, r"True is not a number"),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[0.0, 0.0]]}},
            r"expected a position \[lon, lat\], got float",
        ),
        ({"geometry": {"type": "GeometryCollection"}}, r'no "geometries" array'),
        ({"geom": {"type": "Point", "coordinates": [0, 0]}}, r"unknown member geom"),
        ({"type": "Point", "geometry": sg.Point(0, 0)}, r'type must be "Feature"'),
        ({"geometry": sg.Point(0, 0), "id": [1]}, r"id must be a string or a finite number"),
        ({"geometry": sg.Point(0, 0), "id": np.nan}, r"id must be a string or a finite number"),
        ({"geometry": sg.Point(0, 0), "properties": [1]}, r"properties must be a mapping"),
        ({"geometry": sg.Point(0, 0), "properties": {"x": object()}}, r"properties: cannot"),
        ({"geometry": sg.Point(0, 0), "properties": {("a", 1): 2}}, r"keys must be strings"),
    ],
)
def test_write_errors(tmp_path: Path, feature: dict[str, Any], message: str) -> None:
    path = tmp_path / "out.geojson"
    good = {"geometry": sg.Point(0.0, 0.0), "properties": {}}
    with pytest.raises(InvalidParameterError, match=message) as info:
        write_geojson(path, [good, feature])
    assert str(info.value).startswith("features[1] ") and "\n" not in str(info.value)
    assert not path.exists()


def test_write_rejects_non_sequences(tmp_path: Path) -> None:
    path = tmp_path / "out.geojson"
    with pytest.raises(InvalidParameterError, match="features must be a sequence"):
        write_geojson(path, {"type": "FeatureCollection", "features": []})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"features\[0\] must be a mapping"):
        write_geojson(path, [sg.Point(0, 0)])
    with pytest.raises(InvalidParameterError, match="properties must be a mapping"):
        write_geojson(path, [], properties=[1, 2])  # type: ignore[arg-type]
    assert not path.exists()


def test_unwritable_destination_and_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    features = [{"geometry": sg.Point(1.0, 2.0), "properties": {}}]
    target = tmp_path / "missing" / "out.geojson"
    with pytest.raises(DataSourceError, match=r"out\.geojson: cannot write: directory") as info:
        write_geojson(target, features)
    assert str(info.value).startswith(str(target))
    path = tmp_path / "out.geojson"
    path.write_text("old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "fsync", broken_fsync)
    with pytest.raises(DataSourceError, match="No space left"):
        write_geojson(path, features)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.geojson"]
