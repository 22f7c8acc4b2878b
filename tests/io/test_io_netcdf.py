from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io import EmitNetcdfWriter, NetcdfRadiance, open_radiance, write_emit_netcdf

Bands = tuple[NDArray[np.float64], NDArray[np.float64]]


@pytest.fixture
def latlon() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rr, cc = np.meshgrid(np.arange(9), np.arange(7), indexing="ij")
    return 34.0 + rr * 1e-4 - cc * 1e-5, -118.0 + cc * 1e-4 + rr * 2e-5


def test_layout_matches_emit_l1b(
    tmp_path: Path,
    cube: NDArray[np.float32],
    bands12: Bands,
    latlon: tuple[NDArray[np.float64], ...],
) -> None:
    wl, fw = bands12
    lat, lon = latlon
    path = tmp_path / "emit.nc"
    write_emit_netcdf(
        path, cube, wl, fw, lat, lon, attrs={"title": "test", "flag": True, "v": [1, 2]}
    )
    with netCDF4.Dataset(path) as ds:
        rad = ds["radiance"]
        assert rad.dimensions == ("downtrack", "crosstrack", "bands")
        assert rad.dtype == np.float32
        assert rad.getncattr("_FillValue") == -9999.0
        assert rad.units == "uW/cm^2/SR/nm"
        assert rad.chunking() == [9, 7, 12]  # capped by the small shape
        sbp = ds.groups["sensor_band_parameters"]
        np.testing.assert_allclose(sbp["wavelengths"][:], wl)
        np.testing.assert_allclose(sbp["fwhm"][:], fw)
        loc = ds.groups["location"]
        assert loc["lat"].dimensions == ("downtrack", "crosstrack")
        assert ds.title == "test" and ds.flag == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emit.nc"]


def test_round_trip_with_fill_and_georef(
    tmp_path: Path,
    cube: NDArray[np.float32],
    bands12: Bands,
    latlon: tuple[NDArray[np.float64], ...],
) -> None:
    wl, fw = bands12
    lat, lon = latlon
    data = cube.copy()
    data[4, 2, :] = np.nan
    data[0, 6, 3] = np.inf
    path = tmp_path / "emit.nc"
    write_emit_netcdf(path, data, wl, fw, lat, lon)
    with open_radiance(path) as rc:
        assert isinstance(rc, NetcdfRadiance)
        assert rc.shape == (9, 7, 12)
        assert rc.dtype_on_disk == np.float32
        np.testing.assert_allclose(rc.wavelength_nm, wl)
        assert rc.georef.lat is not None and rc.georef.lon is not None
        np.testing.assert_array_equal(rc.georef.lat, lat)
        np.testing.assert_array_equal(rc.georef.lon, lon)
        full = rc.read()
        expected = np.where(np.isfinite(data), data, np.nan)
        np.testing.assert_array_equal(full, expected)
        for sel in ([2, 3, 4], [0, 5, 11], [9, 1, 1, 4], slice(0, 12, 4)):
            part = rc.read(bands=sel, cols=slice(1, 5), rows=slice(2, None))
            assert part.flags.c_contiguous and part.dtype == np.float32
            np.testing.assert_array_equal(part, full[2:, 1:5][:, :, sel])


def test_streaming_writer(tmp_path: Path, cube: NDArray[np.float32], bands12: Bands) -> None:
    wl, fw = bands12
    path = tmp_path / "s.nc"
    with EmitNetcdfWriter(path, 9, 7, 12, wavelength_nm=wl, fwhm_nm=fw, lat=None, lon=None) as w:
        w.write_rows(5, cube[5:])
        w.write_rows(0, cube[:5])
        assert not path.exists()
    with open_radiance(path) as rc:
        np.testing.assert_array_equal(rc.read(), cube)
        assert not rc.georef.is_referenced


def test_failed_write_keeps_old_file(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands
) -> None:
    wl, fw = bands12
    path = tmp_path / "keep.nc"
    write_emit_netcdf(path, cube, wl, fw, None, None)
    before = path.read_bytes()
    with (
        pytest.raises(InvalidParameterError, match=r"never written"),
        EmitNetcdfWriter(path, 9, 7, 12, wavelength_nm=wl, fwhm_nm=fw, lat=None, lon=None) as w,
    ):
        w.write_rows(0, cube[:2])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.nc"]


def _raw_nc(path: Path, *, wavelengths: bool = True, units: str | None = None) -> None:
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("downtrack", 2)
        ds.createDimension("crosstrack", 3)
        ds.createDimension("bands", 4)
        rad = ds.createVariable(
            "radiance", "i2", ("downtrack", "crosstrack", "bands"), fill_value=-1
        )
        rad.scale_factor = 0.5
        rad.add_offset = 1.0
        if units:
            rad.units = units
        rad.set_auto_maskandscale(False)
        raw = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
        raw[1, 1, 1] = -1
        rad[:] = raw
        if wavelengths:
            g = ds.createGroup("sensor_band_parameters")
            v = g.createVariable("wavelengths", "f4", ("bands",))
            v.units = "micrometers"
            v[:] = [2.0, 2.1, 2.2, 2.3]


def test_scale_offset_units_and_micrometres(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "raw.nc"
    _raw_nc(path, units="W/m^2/sr/um")
    with open_radiance(path) as rc:
        np.testing.assert_allclose(rc.wavelength_nm, [2000, 2100, 2200, 2300], rtol=1e-6)
        np.testing.assert_allclose(rc.fwhm_nm, [100, 100, 100, 100], rtol=1e-5)
        out = rc.read()
    raw = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    expected = (raw * 0.5 + 1.0) * 0.1
    expected[1, 1, 1] = np.nan
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert "no FWHM" in caplog.text
    assert "no location" in caplog.text


def test_missing_wavelengths(tmp_path: Path) -> None:
    path = tmp_path / "nowl.nc"
    _raw_nc(path, wavelengths=False)
    with pytest.raises(FormatError, match=r"nowl.nc: no wavelength information"):
        open_radiance(path)


def test_missing_radiance_variable(tmp_path: Path) -> None:
    path = tmp_path / "other.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 2)
        ds.createVariable("reflectance", "f4", ("x",))
    with pytest.raises(
        FormatError, match=r"other.nc: no 'radiance' variable \(root variables: reflectance\)"
    ):
        open_radiance(path)


def test_not_a_netcdf_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.nc"
    path.write_text("hello")
    with pytest.raises(FormatError, match=r"fake.nc: not a readable netCDF-4/HDF5 file"):
        open_radiance(path)
    with pytest.raises(DataSourceError, match=r"gone.nc: file not found"):
        open_radiance(tmp_path / "gone.nc")


def test_writer_argument_checks(tmp_path: Path, cube: NDArray[np.float32], bands12: Bands) -> None:
    wl, fw = bands12
    with pytest.raises(InvalidParameterError, match=r"strictly increasing"):
        write_emit_netcdf(tmp_path / "x.nc", cube, wl[::-1], fw, None, None)
    with pytest.raises(InvalidParameterError, match=r"lat must have shape \(9, 7\)"):
        write_emit_netcdf(tmp_path / "x.nc", cube, wl, fw, np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(InvalidParameterError, match=r"attribute 'bad'"):
        write_emit_netcdf(tmp_path / "x.nc", cube, wl, fw, None, None, attrs={"bad": object()})
    assert list(tmp_path.iterdir()) == []
