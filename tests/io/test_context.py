from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.context import (
    POPULATION_NODATA,
    read_buildings,
    read_population,
    write_buildings,
    write_population,
)
from plumetrace.sim.context import synthetic_town
from plumetrace.sites.context import Features, PopulationGrid

LAT0, LON0 = -1.29, 36.82


def one_line(exc: pytest.ExceptionInfo[BaseException], path: Path) -> None:
    text = str(exc.value)
    assert "\n" not in text
    assert str(path) in text


def test_population_round_trip(tmp_path: Path) -> None:
    grid, _ = synthetic_town(LAT0, LON0, seed=1, size_m=1000)
    path = tmp_path / "pop.tif"
    write_population(path, grid)
    back = read_population(path)
    assert back.crs == grid.crs
    assert back.transform == pytest.approx(grid.transform)
    assert np.isnan(back.values).sum() == np.isnan(grid.values).sum() > 0
    np.testing.assert_allclose(back.values, grid.values, rtol=1e-6, equal_nan=True)
    with rasterio.open(path) as ds:
        assert ds.nodata == POPULATION_NODATA


def test_population_window(tmp_path: Path) -> None:
    res = 0.001
    values = np.arange(100 * 120, dtype=np.float64).reshape(100, 120)
    grid = PopulationGrid(values, (res, 0.0, 10.0, 0.0, -res, 50.0), "EPSG:4326")
    path = tmp_path / "pop.tif"
    write_population(path, grid)
    # box from col 20.5 to 40.2, row 10.5 to 30.5: rounded outwards
    part = read_population(path, bbox=(10.0205, 49.9695, 10.0402, 49.9895))
    assert part.values.shape == (21, 21)
    np.testing.assert_allclose(part.values, values[10:31, 20:41])
    assert part.transform == pytest.approx((res, 0.0, 10.02, 0.0, -res, 49.99))
    # a box sticking out is clipped to the raster
    edge = read_population(path, bbox=(9.9, 49.95, 10.01, 50.1))
    assert edge.values.shape == (50, 10)
    with pytest.raises(DataSourceError, match="does not overlap") as exc:
        read_population(path, bbox=(20.0, 10.0, 21.0, 11.0))
    one_line(exc, path)


def test_population_window_projected(tmp_path: Path) -> None:
    grid, _ = synthetic_town(LAT0, LON0, seed=2, size_m=1000)
    path = tmp_path / "pop.tif"
    write_population(path, grid)
    d = 0.001  # about 110 m
    part = read_population(path, bbox=(LON0 - d, LAT0 - d, LON0 + d, LAT0 + d))
    assert 20 <= part.values.shape[0] <= 26 and 20 <= part.values.shape[1] <= 26
    col0 = round((part.transform[2] - grid.transform[2]) / grid.transform[0])
    row0 = round((part.transform[5] - grid.transform[5]) / grid.transform[4])
    rows, cols = part.values.shape
    np.testing.assert_allclose(
        part.values, grid.values[row0 : row0 + rows, col0 : col0 + cols], rtol=1e-6
    )


def test_population_bad_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tif"
    with pytest.raises(DataSourceError, match="file not found") as exc:
        read_population(missing)
    one_line(exc, missing)
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster\nat all\n")
    with pytest.raises(FormatError, match="not a readable GeoTIFF") as exc:
        read_population(junk)
    one_line(exc, junk)
    plain = tmp_path / "plain.tif"
    with (
        warnings.catch_warnings(action="ignore", category=NotGeoreferencedWarning),
        rasterio.open(
            plain, "w", driver="GTiff", width=4, height=3, count=1, dtype="float32"
        ) as dst,
    ):
        dst.write(np.ones((1, 3, 4), np.float32))
    with pytest.raises(FormatError, match="not georeferenced") as exc:
        read_population(plain)
    one_line(exc, plain)
    profile = {
        "driver": "GTiff",
        "width": 4,
        "height": 3,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(0.1, 0, 0, 0, -0.1, 0),
    }
    two = tmp_path / "two.tif"
    with rasterio.open(two, "w", count=2, **profile) as dst:
        dst.write(np.ones((2, 3, 4), np.float32))
    with pytest.raises(FormatError, match="one band") as exc:
        read_population(two)
    one_line(exc, two)
    negative = tmp_path / "negative.tif"
    with rasterio.open(negative, "w", count=1, **profile) as dst:
        dst.write(np.full((1, 3, 4), -5.0, np.float32))
    with pytest.raises(FormatError, match="12 pixels hold negative persons") as exc:
        read_population(negative)
    one_line(exc, negative)


def test_buildings_round_trip(tmp_path: Path) -> None:
    _, feats = synthetic_town(LAT0, LON0, seed=3, size_m=1000)
    path = tmp_path / "buildings.geojson"
    write_buildings(path, feats)
    back = read_buildings(path)
    assert back.residential == feats.residential
    assert len(back.buildings) == len(feats.buildings)
    for name in ("buildings", "schools", "hospitals"):
        a = np.asarray(getattr(back, name), dtype=object)
        b = np.asarray(getattr(feats, name), dtype=object)
        assert a.size == b.size > 0
        assert np.all(shapely.equals_exact(a, b, tolerance=1e-6))


def write_doc(path: Path, features: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def poly(x: float) -> dict[str, object]:
    ring = [[x, 0.0], [x + 0.001, 0.0], [x + 0.001, 0.001], [x, 0.001], [x, 0.0]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_buildings_properties(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [0.5, 0.5]}
    path = write_doc(
        tmp_path / "b.geojson",
        [
            {"type": "Feature", "geometry": poly(0), "properties": {"residential": True}},
            {"type": "Feature", "geometry": poly(1), "properties": None},
            {"type": "Feature", "geometry": poly(2), "properties": {"residential": False}},
            {"type": "Feature", "geometry": point, "properties": {"amenity": "Hospital"}},
            {"type": "Feature", "geometry": poly(3), "properties": {"kind": "school"}},
            {"type": "Feature", "geometry": point, "properties": {"kind": "school"}},
        ],
    )
    feats = read_buildings(path)
    assert isinstance(feats, Features)
    assert feats.residential == [True, None, False]
    assert [g.geom_type for g in feats.schools] == ["Polygon", "Point"]
    assert [g.geom_type for g in feats.hospitals] == ["Point"]


def test_buildings_bad_files(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [0.5, 0.5]}
    path = write_doc(
        tmp_path / "points.geojson",
        [
            {"type": "Feature", "geometry": poly(0), "properties": {}},
            {"type": "Feature", "geometry": point, "properties": {"kind": "house"}},
        ],
    )
    with pytest.raises(FormatError, match=r"features\[1\] is a Point, not a building") as exc:
        read_buildings(path)
    one_line(exc, path)
    path = write_doc(
        tmp_path / "flag.geojson",
        [{"type": "Feature", "geometry": poly(0), "properties": {"residential": "yes"}}],
    )
    with pytest.raises(FormatError, match=r"features\[0\] residential must be") as exc:
        read_buildings(path)
    one_line(exc, path)
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    path = write_doc(
        tmp_path / "bowtie.geojson", [{"type": "Feature", "geometry": bowtie, "properties": {}}]
    )
    with pytest.raises(FormatError, match=r"features\[0\] is not a valid polygon") as exc:
        read_buildings(path)
    one_line(exc, path)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(FormatError) as exc:
        read_buildings(broken)
    one_line(exc, broken)
    missing = tmp_path / "missing.geojson"
    with pytest.raises(DataSourceError) as exc:
        read_buildings(missing)
    one_line(exc, missing)
