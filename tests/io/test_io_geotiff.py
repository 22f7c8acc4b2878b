from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.geo import Georef, utm_georef
from plumetrace.io import read_geotiff, write_geotiff


def test_grid_round_trip(tmp_path: Path) -> None:
    georef = utm_georef(34.05, -118.25, rows=20, cols=30, pixel_size_m=5.0)
    data = np.random.default_rng(1).normal(size=(20, 30)).astype(np.float32)
    data[3, 4] = np.nan
    path = tmp_path / "enh.tif"
    write_geotiff(
        path,
        data,
        georef,
        nodata=-9999.0,
        band_descriptions=["ch4 enhancement"],
        tags={"units": "ppm m", "n": 3},
    )
    r = read_geotiff(path)
    assert r.data.shape == (20, 30) and r.data.dtype == np.float32
    assert r.nodata == -9999.0
    assert r.data[3, 4] == -9999.0  # NaN stored as nodata
    np.testing.assert_array_equal(
        np.delete(r.data.ravel(), 3 * 30 + 4), np.delete(data.ravel(), 3 * 30 + 4)
    )
    assert r.georef.crs == georef.crs
    assert r.georef.transform == georef.transform
    assert r.tags == {"units": "ppm m", "n": "3"}
    assert r.band_descriptions == ("ch4 enhancement",)
    with rasterio.open(path) as ds:
        assert ds.compression is not None and ds.compression.value == "DEFLATE"


def test_multiband_and_tiling(tmp_path: Path) -> None:
    data = np.arange(2 * 600 * 520, dtype=np.int16).reshape(2, 600, 520) % 1000
    georef = Georef(crs="EPSG:32611", transform=(10.0, 0.0, 4e5, 0.0, -10.0, 3.7e6))
    path = tmp_path / "multi.tif"
    write_geotiff(path, data, georef, dtype="int16")
    r = read_geotiff(path)
    np.testing.assert_array_equal(r.data, data)
    with rasterio.open(path) as ds:
        assert ds.profile["tiled"] and ds.block_shapes[0] == (256, 256)


def test_gcps_from_per_pixel_lat_lon(tmp_path: Path) -> None:
    rows, cols = 50, 40
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    lat = 34.0 - rr * 5e-5 + cc * 1e-5
    lon = -118.0 + cc * 6e-5 + rr * 2e-5
    path = tmp_path / "swath.tif"
    write_geotiff(path, np.ones((rows, cols), np.uint8), Georef(lat=lat, lon=lon))
    with rasterio.open(path) as ds:
        gcps, crs = ds.gcps
        assert crs.to_epsg() == 4326
        assert len(gcps) == 400
    r = read_geotiff(path)
    assert r.georef.lat is not None and r.georef.lon is not None
    assert r.georef.crs is None
    np.testing.assert_allclose(r.georef.lat, lat, atol=1e-9)
    np.testing.assert_allclose(r.georef.lon, lon, atol=1e-9)


def test_plain_tiff_without_georeferencing(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    write_geotiff(path, np.eye(5, dtype=bool), None)
    r = read_geotiff(path)
    assert r.data.dtype == np.uint8
    np.testing.assert_array_equal(r.data, np.eye(5))
    assert not r.georef.is_referenced
    assert r.nodata is None


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"missing.tif: file not found"):
        read_geotiff(tmp_path / "missing.tif")
    bad = tmp_path / "corrupt.tif"
    bad.write_bytes(b"II*\x00garbage" * 10)
    with pytest.raises(FormatError, match=r"corrupt.tif: not a readable GeoTIFF"):
        read_geotiff(bad)
    with pytest.raises(InvalidParameterError, match=r"array must be"):
        write_geotiff(tmp_path / "x.tif", np.zeros(5), None)
    with pytest.raises(InvalidParameterError, match=r"lat/lon have shape"):
        write_geotiff(
            tmp_path / "x.tif", np.zeros((3, 3)), Georef(lat=np.zeros((2, 2)), lon=np.zeros((2, 2)))
        )
    with pytest.raises(InvalidParameterError, match=r"unknown CRS"):
        write_geotiff(
            tmp_path / "x.tif",
            np.zeros((3, 3)),
            Georef(crs="EPSG:0", transform=(1, 0, 0, 0, -1, 0)),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.tif"]


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.tif"
    write_geotiff(path, np.ones((4, 4), np.float32), None)
    before = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise rasterio.errors.RasterioIOError("disk full")

    monkeypatch.setattr(rasterio.io.DatasetWriter, "update_tags", fail)
    with pytest.raises(DataSourceError, match=r"keep.tif: cannot write.*disk full"):
        write_geotiff(path, np.zeros((4, 4)), None, tags={"a": 1})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.tif"]
    with pytest.raises(InvalidParameterError, match=r"nodata -9999 cannot be stored as uint8"):
        write_geotiff(path, np.ones((4, 4), np.uint8), None, nodata=-9999)


def test_cloud_optimized(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(600, 520)).astype(np.float32)
    values[0, 0] = np.nan
    flags = rng.choice(np.array([0, 1, 4, 16], dtype=np.uint8), size=(600, 520))
    lat, lon = np.meshgrid(
        np.linspace(31.1, 31.0, 600), np.linspace(-106.0, -105.9, 520), indexing="ij"
    )
    write_geotiff(
        tmp_path / "e.tif",
        values,
        Georef(lat=lat, lon=lon),
        nodata=-9999.0,
        tags={"units": "ppm m"},
        band_descriptions=["enhancement"],
        cog=True,
    )
    write_geotiff(tmp_path / "m.tif", flags, utm_georef(31.7, -105.5, 600, 520, 5.0), cog=True)
    with rasterio.open(tmp_path / "e.tif") as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.block_shapes[0] == (256, 256) and src.overviews(1) == [2, 4]
        assert src.tags()["units"] == "ppm m" and src.descriptions == ("enhancement",)
        assert len(src.gcps[0]) > 3 and src.nodata == -9999.0
    back = read_geotiff(tmp_path / "e.tif")
    np.testing.assert_array_equal(back.data, np.where(np.isnan(values), np.float32(-9999), values))
    with rasterio.open(tmp_path / "m.tif") as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        overview = src.read(1, out_shape=(150, 130))  # read from the 4x overview
        assert src.crs.to_epsg() == 32613  # UTM 13N
    assert set(np.unique(overview)) <= {0, 1, 4, 16}  # flags are sampled, never averaged
    np.testing.assert_array_equal(read_geotiff(tmp_path / "m.tif").data, flags)


@pytest.mark.parametrize("cog", [False, True])
def test_compression_threads_and_level(tmp_path: Path, cog: bool) -> None:
    rng = np.random.default_rng(5)
    # smooth field plus noise in the low bits: compressible, and more so at a higher level
    field = np.cumsum(rng.normal(size=(600, 600)), axis=1).astype(np.float32)
    sizes = {}
    for level in (1, 9):
        path = tmp_path / f"l{level}.tif"
        georef = utm_georef(31.7, -105.5, 600, 600, 5.0)
        write_geotiff(path, field, georef, cog=cog, threads=2, deflate_level=level)
        with rasterio.open(path) as src:
            assert src.profile["compress"] == "deflate"
            np.testing.assert_array_equal(src.read(1), field)
        sizes[level] = path.stat().st_size
    assert sizes[9] < sizes[1]
    with pytest.raises(InvalidParameterError, match="deflate_level"):
        write_geotiff(tmp_path / "x.tif", field, None, deflate_level=0)
    with pytest.raises(InvalidParameterError, match="threads"):
        write_geotiff(tmp_path / "x.tif", field, None, threads=0)
