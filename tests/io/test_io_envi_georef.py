from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st

from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.geo import Georef, utm_georef
from plumetrace.io import open_radiance, read_envi_header, write_envi
from plumetrace.io.envi import envi_georef, map_info_from_georef
from plumetrace.io.envi_georef import georef_from_envi


def _items(text: str) -> list[str]:
    return [t.strip() for t in text.split(",")]


def test_utm_north() -> None:
    g = georef_from_envi(
        _items(
            "UTM, 1.000, 1.000, 724522.127, 4074620.759, 5.0, 5.0, 11, North, WGS-84, units=Meters"
        ),
        None,
        "x.hdr",
    )
    assert g.crs == "EPSG:32611"
    assert g.transform == (5.0, 0.0, 724522.127, 0.0, -5.0, 4074620.759)
    assert g.is_referenced


def test_reference_pixel_is_one_based_corner() -> None:
    # reference pixel (1.5, 1.5) = centre of the first pixel -> corner half a pixel up-left
    g = georef_from_envi(_items("UTM, 1.5, 1.5, 1000, 2000, 2, 4, 33, South, WGS-84"), None, "x")
    assert g.crs == "EPSG:32733"
    assert g.transform == (2.0, 0.0, 999.0, 0.0, -4.0, 2002.0)
    g = georef_from_envi(_items("UTM, 11, 21, 1000, 2000, 2, 4, 33, South, WGS-84"), None, "x")
    assert g.transform == (2.0, 0.0, 980.0, 0.0, -4.0, 2080.0)


def test_geographic_lat_lon() -> None:
    g = georef_from_envi(
        _items("Geographic Lat/Lon, 1, 1, -118.5, 34.25, 0.001, 0.002, WGS-84, units=Degrees"),
        None,
        "x",
    )
    assert g.crs == "EPSG:4326"
    assert g.transform == (0.001, 0.0, -118.5, 0.0, -0.002, 34.25)


def test_rotation_matches_gdal_convention() -> None:
    # AVIRIS-NG style: rotation=-66 (grid turned 66 degrees clockwise)
    g = georef_from_envi(
        _items(
            "UTM, 1, 1, 736600.0, 4078126.0, 2.7, 2.7, 12, North, WGS-84, units=Meters, "
            "rotation=-66.0"
        ),
        None,
        "x",
    )
    assert g.transform is not None
    a, b, c, d, e, f = g.transform
    rho = math.radians(-66.0)
    np.testing.assert_allclose(
        [a, b, d, e],
        [2.7 * math.cos(rho), 2.7 * math.sin(rho), 2.7 * math.sin(rho), -2.7 * math.cos(rho)],
    )
    assert (c, f) == (736600.0, 4078126.0)


def test_coordinate_system_string_for_other_projections() -> None:
    from pyproj import CRS

    css = CRS.from_epsg(3857).to_wkt("WKT1_ESRI")
    g = georef_from_envi(_items("Mercator, 1, 1, 10, 20, 30, 30"), css, "x")
    assert g.crs == "EPSG:3857"
    assert g.transform == (30.0, 0.0, 10.0, 0.0, -30.0, 20.0)


def test_unknown_projection_is_logged_and_unreferenced(caplog: pytest.LogCaptureFixture) -> None:
    g = georef_from_envi(_items("Arbitrary, 1, 1, 0, 0, 1, 1"), None, "x")
    assert not g.is_referenced
    assert "not supported" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("UTM, 1, 1, 10, 20", "map info has 5 items; at least 7"),
        ("UTM, 1, 1, east, 20, 5, 5, 11, North", "easting 'east' is not a number"),
        ("UTM, 1, 1, 10, 20, 0, 5, 11, North", "pixel sizes must be positive"),
        ("UTM, 1, 1, 10, 20, 5, 5, 61, North", "UTM zone 61 is outside 1-60"),
        ("UTM, 1, 1, 10, 20, 5, 5, 11, Up", "hemisphere must be North or South"),
        ("UTM, 1, 1, 10, 20, 5, 5, 11, North, WGS-84, rotation=x", "rotation 'x' is not a number"),
    ],
)
def test_malformed_map_info(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=r"^m.hdr: map info") as info:
        georef_from_envi(_items(text), None, "m.hdr")
    assert message in str(info.value)


def test_writer_map_info_round_trip_through_files(tmp_path: Path) -> None:
    georef = utm_georef(34.05, -118.25, rows=6, cols=5, pixel_size_m=5.0)
    wl = np.linspace(2000.0, 2100.0, 3)
    path = tmp_path / "geo.img"
    write_envi(path, np.ones((6, 5, 3)), wavelength_nm=wl, fwhm_nm=np.full(3, 5.0), georef=georef)
    header = read_envi_header(path)
    assert header.map_info is not None and header.map_info[0] == "UTM"
    assert header.map_info[7:10] == ["11", "North", "WGS-84"]
    assert header.coordinate_system_string is not None
    assert envi_georef(header).crs == "EPSG:32611"
    with open_radiance(path) as rc:
        assert rc.georef.crs == georef.crs
        assert rc.georef.transform == georef.transform


@pytest.mark.parametrize("rotation_deg", [0.0, -66.0, 30.0])
def test_gdal_reads_our_map_info_identically(tmp_path: Path, rotation_deg: float) -> None:
    rho = math.radians(rotation_deg)
    s = 2.5
    transform = (
        s * math.cos(rho),
        s * math.sin(rho),
        500000.0,
        s * math.sin(rho),
        -s * math.cos(rho),
        4.1e6,
    )
    georef = Georef(crs="EPSG:32612", transform=transform)
    path = tmp_path / "r.img"
    write_envi(path, np.zeros((4, 3, 1)), georef=georef)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32612
        np.testing.assert_allclose(tuple(ds.transform)[:6], transform, atol=1e-9)
    g = envi_georef(read_envi_header(path))
    assert g.transform is not None
    np.testing.assert_allclose(g.transform, transform, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    zone=st.integers(1, 60),
    south=st.booleans(),
    size=st.floats(0.1, 100.0),
    x0=st.floats(1e5, 9e5),
    y0=st.floats(0.0, 9e6),
    rotation=st.floats(-179.0, 179.0),
)
def test_map_info_round_trip_property(
    zone: int, south: bool, size: float, x0: float, y0: float, rotation: float
) -> None:
    rho = math.radians(rotation)
    transform = (
        size * math.cos(rho),
        size * math.sin(rho),
        x0,
        size * math.sin(rho),
        -size * math.cos(rho),
        y0,
    )
    crs = f"EPSG:{(32700 if south else 32600) + zone}"
    items, css = map_info_from_georef(Georef(crs=crs, transform=transform))
    assert items is not None
    back = georef_from_envi(items, css, "x")
    assert back.crs == crs
    assert back.transform is not None
    np.testing.assert_allclose(back.transform, transform, rtol=1e-12, atol=1e-6)


def test_writer_rejects_per_pixel_lat_lon_and_skew() -> None:
    lat = np.zeros((2, 2))
    with pytest.raises(InvalidParameterError, match=r"per-pixel lat/lon"):
        map_info_from_georef(Georef(lat=lat, lon=lat))
    with pytest.raises(InvalidParameterError, match=r"skewed or mirrored"):
        map_info_from_georef(Georef(crs="EPSG:32611", transform=(5.0, 1.0, 0.0, 0.0, -5.0, 0.0)))
    assert map_info_from_georef(None) == (None, None)
    assert map_info_from_georef(Georef()) == (None, None)
