from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io import _csv
from plumetrace.io.readings import read_beams, read_readings
from plumetrace.io.wind import WindTable, interpolate_wind, read_wind

BEAMS = (
    "beam_id,sensor_x_m,sensor_y_m,sensor_z_m,reflector_x_m,reflector_y_m,reflector_z_m\n"
    "A,0,0,1.5,100,0,1.5\n"
    "B,0,0,1.5,0,50,2.5\n"
)
T0 = dt.datetime(2017, 5, 9, 11, 26, tzinfo=dt.UTC).timestamp()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _angle_diff(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % 360.0
    return np.minimum(d, 360.0 - d)


# --------------------------------------------------------------------------- round trips


def test_point_readings_round_trip(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "READINGS.csv",
        "# sniffer flight 3\n"
        " Time , X_M,y_m,z_m,conc_ppm,Wind_Speed_m_s,wind_dir_deg,note\n"
        "20,10,20,30,2.5,3.0,370,b\n"
        "\n"
        "10,1,2,3,2.0,4.0,-10,a\n"
        "20,5,5,5,2.1,2.0,180,c\n",
    )
    table = read_readings(path)
    assert table.size == 3
    assert table.time_is_absolute is False
    np.testing.assert_array_equal(table.time_s, [10.0, 20.0, 20.0])
    # stable: the two rows at t=20 keep their file order
    np.testing.assert_array_equal(table.start, [[1, 2, 3], [10, 20, 30], [5, 5, 5]])
    np.testing.assert_array_equal(table.end, table.start)
    assert table.beam_id is None
    np.testing.assert_array_equal(table.conc_ppm, [2.0, 2.5, 2.1])
    assert table.background_ppm is None
    np.testing.assert_array_equal(table.wind_speed_m_s, [4.0, 3.0, 2.0])
    np.testing.assert_allclose(table.wind_dir_deg, [350.0, 10.0, 180.0])
    assert np.all(np.isnan(table.turbulence_deg))
    np.testing.assert_array_equal(table.groups(), [0, 0, 0])
    assert table.group_labels() == ()
    for arr in (table.time_s, table.start, table.conc_ppm, table.wind_dir_deg):
        assert arr.dtype == np.float64


def test_beam_readings_round_trip_with_background_and_turbulence(tmp_path: Path) -> None:
    beams = _write(tmp_path, "BEAMS.csv", BEAMS)
    path = _write(
        tmp_path,
        "READINGS.csv",
        "time,beam_id,conc_ppm,background_ppm,wind_speed_m_s,wind_dir_deg,turbulence\n"
        "2017-05-09 11:27:00,B,2.4,1.9,3,200,12\n"
        "2017-05-09T11:26:00Z,A,2.2,2.0,3,190,\n"
        "2017-05-09T12:28:00+01:00,A,2.3,2.0,3,195,15.5\n",
    )
    table = read_readings(path, beams=beams)
    assert table.time_is_absolute is True
    np.testing.assert_array_equal(table.time_s, [T0, T0 + 60, T0 + 120])
    assert table.beam_id == ("A", "B", "A")
    np.testing.assert_array_equal(table.start, [[0, 0, 1.5]] * 3)
    np.testing.assert_array_equal(table.end, [[100, 0, 1.5], [0, 50, 2.5], [100, 0, 1.5]])
    np.testing.assert_array_equal(table.conc_ppm, [2.2, 2.4, 2.3])
    assert table.background_ppm is not None
    np.testing.assert_array_equal(table.background_ppm, [2.0, 1.9, 2.0])
    np.testing.assert_array_equal(table.turbulence_deg, [np.nan, 12.0, 15.5])
    np.testing.assert_array_equal(table.groups(), [0, 1, 0])
    assert table.group_labels() == ("A", "B")


def test_groups_sort_numeric_ids_naturally(tmp_path: Path) -> None:
    beams = _write(
        tmp_path,
        "BEAMS.csv",
        "beam_id,sensor_x_m,sensor_y_m,sensor_z_m,reflector_x_m,reflector_y_m,reflector_z_m\n"
        "10,0,0,1,5,0,1\n2,0,0,1,0,5,1\nx,0,0,1,3,3,1\n",
    )
    path = _write(
        tmp_path,
        "READINGS.csv",
        "time,beam_id,conc_ppm,wind_speed_m_s,wind_dir_deg\n"
        "0,x,2,1,0\n1,10,2,1,0\n2,2,2,1,0\n3,10,2,1,0\n",
    )
    table = read_readings(path, beams=beams)
    assert table.group_labels() == ("2", "10", "x")
    np.testing.assert_array_equal(table.groups(), [2, 1, 0, 1])
    assert table.groups().dtype == np.intp


def test_all_empty_background_column_counts_as_absent(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "READINGS.csv",
        "time,x_m,y_m,z_m,conc_ppm,background_ppm,wind_speed_m_s,wind_dir_deg\n"
        "0,0,0,0,2,,1,0\n1,0,0,0,2, ,1,0\n",
    )
    assert read_readings(path).background_ppm is None


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "READINGS.csv"
    path.write_bytes(
        "\ufefftime,x_m,y_m,z_m,conc_ppm,wind_speed_m_s,wind_dir_deg\r\n0,1,2,3,2,1,90\r\n".encode()
    )
    table = read_readings(path)
    np.testing.assert_array_equal(table.start, [[1, 2, 3]])


def test_real_chilbolton_shaped_files(tmp_path: Path) -> None:
    # Two rows of /work/shared/data/chilbolton2017/beams.csv, copied literally (with its extra
    # columns), and readings in the shape of the converted one-minute means.
    beams = _write(
        tmp_path,
        "BEAMS.csv",
        "beam_id,sensor_x_m,sensor_y_m,sensor_z_m,reflector_x_m,reflector_y_m,reflector_z_m,"
        "path_length_m,header_open_path_length_m,header_beam_angle_deg_min,"
        "header_beam_angle_deg_max,azimuth_math_deg,azimuth_cw_from_plus_y_deg\n"
        "1,60,100,1.6,43.9416,69.0658,1.6,34.854,34.89,-18.455,-18.435,242.57,207.43\n"
        "2,60,100,1.6,41.1004,38.1033,1.6,64.718,64.85,-8.638,-8.602,253.02,196.98\n",
    )
    path = _write(
        tmp_path,
        "READINGS.csv",
        "experiment_id,time,beam_id,conc_ppm,background_ppm,wind_speed_m_s,wind_dir_deg\n"
        "rel02,2017-05-09 11:26:00,1,2.957493308,2.1713,2.529329396,43.83335059\n"
        "rel02,2017-05-09 11:26:00,2,2.1,1.9708,2.529329396,43.83335059\n"
        "rel02,2017-05-09 11:27:00,1,3.225205994,2.1713,2.939350395,54.17095726\n",
    )
    geometry = read_beams(beams)
    assert list(geometry) == ["1", "2"]
    np.testing.assert_array_equal(geometry["1"][0], [60.0, 100.0, 1.6])
    np.testing.assert_array_equal(geometry["2"][1], [41.1004, 38.1033, 1.6])
    table = read_readings(path, beams=beams)
    assert table.beam_id == ("1", "2", "1")
    np.testing.assert_allclose(
        np.linalg.norm(table.end - table.start, axis=1), [34.854, 64.718, 34.854], atol=1e-3
    )
    np.testing.assert_array_equal(table.time_s, [T0, T0, T0 + 60])
    np.testing.assert_array_equal(table.groups(), [0, 1, 0])
    np.testing.assert_allclose(table.wind_dir_deg, [43.83335059, 43.83335059, 54.17095726])


# --------------------------------------------------------------------------- wind


def test_read_wind_sorts_wraps_and_reads_turbulence(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "WIND.csv",
        "TIME,wind_speed_m_s,wind_dir_deg,turbulence\n100,3,-20,\n0,2,720,10\n",
    )
    wind = read_wind(path)
    np.testing.assert_array_equal(wind.time_s, [0.0, 100.0])
    np.testing.assert_array_equal(wind.wind_speed_m_s, [2.0, 3.0])
    np.testing.assert_allclose(wind.wind_dir_deg, [0.0, 340.0])
    np.testing.assert_array_equal(wind.turbulence_deg, [10.0, np.nan])
    assert wind.time_is_absolute is False
    assert wind.path == path
    assert wind.size == 2


def test_read_wind_without_turbulence_is_nan(tmp_path: Path) -> None:
    path = _write(tmp_path, "WIND.csv", "time,wind_speed_m_s,wind_dir_deg\n0,2,90\n")
    assert np.isnan(read_wind(path).turbulence_deg).all()


def test_interpolation_is_linear_and_wrap_safe(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "WIND.csv",
        "time,wind_speed_m_s,wind_dir_deg,turbulence\n0,2,350,10\n100,4,10,20\n200,4,90,30\n",
    )
    wind = read_wind(path)
    speed, direction, turb = interpolate_wind(wind, [-50.0, 50.0, 150.0, 250.0])
    np.testing.assert_allclose(speed, [2.0, 3.0, 4.0, 4.0])
    np.testing.assert_allclose(_angle_diff(direction, [350.0, 0.0, 50.0, 90.0]), 0.0, atol=1e-9)
    assert np.all((direction >= 0.0) & (direction < 360.0))
    np.testing.assert_allclose(turb, [10.0, 15.0, 25.0, 30.0])


def test_interpolated_direction_at_zero_stays_in_range() -> None:
    wind = WindTable(
        time_s=np.array([0.0, 1.0]),
        wind_speed_m_s=np.array([1.0, 1.0]),
        wind_dir_deg=np.array([350.0, 10.0]),
        turbulence_deg=np.full(2, np.nan),
        time_is_absolute=False,
    )
    _, direction, turb = interpolate_wind(wind, np.linspace(0.0, 1.0, 101))
    assert np.all((direction >= 0.0) & (direction < 360.0))
    assert _angle_diff(direction[50], 0.0) < 1e-9
    assert np.isnan(turb).all()


def test_wind_file_supplies_readings_wind(tmp_path: Path) -> None:
    wind = _write(
        tmp_path,
        "WIND.csv",
        "time,wind_speed_m_s,wind_dir_deg,turbulence\n"
        "2017-05-09T11:25:00Z,2,350,8\n2017-05-09T11:27:00Z,4,10,12\n",
    )
    path = _write(
        tmp_path, "READINGS.csv", "time,x_m,y_m,z_m,conc_ppm\n2017-05-09 11:26:00,0,0,2,2.5\n"
    )
    table = read_readings(path, wind=wind)
    np.testing.assert_allclose(table.wind_speed_m_s, [3.0])
    assert _angle_diff(table.wind_dir_deg, 0.0)[0] < 1e-9
    np.testing.assert_allclose(table.turbulence_deg, [10.0])


def test_wind_file_wins_over_columns_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wind = _write(tmp_path, "WIND.csv", "time,wind_speed_m_s,wind_dir_deg\n0,5,90\n100,5,90\n")
    path = _write(
        tmp_path,
        "READINGS.csv",
        "time,x_m,y_m,z_m,conc_ppm,wind_speed_m_s,wind_dir_deg,turbulence\n50,0,0,0,2,1,270,7\n",
    )
    with caplog.at_level(logging.WARNING, logger="plumetrace.io.readings"):
        table = read_readings(path, wind=wind)
    np.testing.assert_array_equal(table.wind_speed_m_s, [5.0])
    np.testing.assert_array_equal(table.wind_dir_deg, [90.0])
    # the wind file has no turbulence: the readings' own is kept
    np.testing.assert_array_equal(table.turbulence_deg, [7.0])
    assert "wind columns are ignored" in caplog.text
    assert "WIND.csv" in caplog.text


def test_interpolate_wind_without_a_file_raises_invalid_parameter() -> None:
    wind = WindTable(
        time_s=np.array([0.0]),
        wind_speed_m_s=np.array([1.0]),
        wind_dir_deg=np.array([0.0]),
        turbulence_deg=np.array([np.nan]),
        time_is_absolute=False,
    )
    np.testing.assert_array_equal(interpolate_wind(wind, [600.0])[0], [1.0])
    with pytest.raises(InvalidParameterError, match=r"time_s\[1\].*601 s after"):
        interpolate_wind(wind, [0.0, 601.0])
    with pytest.raises(InvalidParameterError, match="ISO 8601"):
        interpolate_wind(wind, [0.0], time_is_absolute=True)


def test_wind_record_not_covering_a_reading(tmp_path: Path) -> None:
    wind = _write(tmp_path, "WIND.csv", "time,wind_speed_m_s,wind_dir_deg\n1000,2,0\n2000,2,0\n")
    path = _write(
        tmp_path,
        "READINGS.csv",
        "time,x_m,y_m,z_m,conc_ppm\n1500,0,0,0,2\n# late\n2700,0,0,0,2\n",
    )
    with pytest.raises(FormatError, match=r"WIND\.csv: the reading on line 4 of .*READINGS\.csv"):
        read_readings(path, wind=wind)
    with pytest.raises(FormatError, match="700 s after the wind record"):
        read_readings(path, wind=wind)
    early = _write(tmp_path, "EARLY.csv", "time,x_m,y_m,z_m,conc_ppm\n399,0,0,0,2\n")
    with pytest.raises(FormatError, match="601 s before the wind record"):
        read_readings(early, wind=wind)


def test_wind_and_readings_with_different_kinds_of_time(tmp_path: Path) -> None:
    wind = _write(tmp_path, "WIND.csv", "time,wind_speed_m_s,wind_dir_deg\n0,2,0\n")
    path = _write(tmp_path, "READINGS.csv", "time,x_m,y_m,z_m,conc_ppm\n2017-05-09,0,0,0,2\n")
    with pytest.raises(FormatError, match=r"WIND\.csv: the wind record has seconds but .*ISO"):
        read_readings(path, wind=wind)


# --------------------------------------------------------------------------- errors

POINT_HEAD = "time,x_m,y_m,z_m,conc_ppm,wind_speed_m_s,wind_dir_deg"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no readings: the file is empty"),
        ("# only a comment\n\n", "no readings: the file is empty"),
        (POINT_HEAD + "\n", "no readings: the file has a header but no rows"),
        ("time,x_m,y_m,z_m,wind_speed_m_s,wind_dir_deg\n", "line 1: missing column conc_ppm"),
        ("x_m,y_m,conc_ppm,wind_speed_m_s,wind_dir_deg\n", "missing columns time, z_m"),
        ("time,conc_ppm,wind_speed_m_s,wind_dir_deg\n", r"x_m,y_m,z_m \(point sensor\) or beam_id"),
        ("time,x_m,y_m,z_m,beam_id,conc_ppm\n", "both 'beam_id' and 'x_m', 'y_m', 'z_m'"),
        ("time,x_m,y_m,z_m,conc_ppm,wind_speed_m_s\n", "has 'wind_speed_m_s' but not 'wind_dir"),
        ("time,x_m,y_m,z_m,conc_ppm\n", "no wind: add the columns .* or pass --wind"),
        ("time,beam_id,conc_ppm,wind_speed_m_s,wind_dir_deg\n", "pass --beams BEAMS.csv"),
        ("time,time,x_m,y_m,z_m,conc_ppm\n", "column 'time' appears twice"),
        (POINT_HEAD + "\n0,0,0,0,abc,1,0\n", "line 2: conc_ppm 'abc' is not a number"),
        (POINT_HEAD + "\n0,0,0,0,nan,1,0\n", "line 2: conc_ppm 'nan' is not finite"),
        (POINT_HEAD + "\n0,0,inf,0,1,1,0\n", "line 2: y_m 'inf' is not finite"),
        (POINT_HEAD + "\n0,0,0,,1,1,0\n", "line 2: z_m is empty"),
        (POINT_HEAD + "\n0,0,0,0,-0.1,1,0\n", "line 2: conc_ppm '-0.1' must not be negative"),
        (POINT_HEAD + "\n0,0,0,0,1,-1,0\n", "line 2: wind_speed_m_s '-1' must not be negative"),
        (POINT_HEAD + "\n0,0,0,0,1,1,x\n", "line 2: wind_dir_deg 'x' is not a number"),
        (POINT_HEAD + ",turbulence\n0,0,0,0,1,1,0,-2\n", "line 2: turbulence '-2' must not be"),
        (POINT_HEAD + "\n0,0,0,0,1,1\n", "line 2: 6 fields, the header has 7"),
        (POINT_HEAD + "\n\n0,0,0,0,1,1,0\nyesterday,0,0,0,1,1,0\n", "line 4: time 'yesterday'"),
        (POINT_HEAD + "\n,0,0,0,1,1,0\n", "line 2: time is empty"),
        (
            POINT_HEAD + "\n0,0,0,0,1,1,0\n2017-05-09 11:26:00,0,0,0,1,1,0\n",
            "line 3: time '2017-05-09 11:26:00' is an ISO 8601 time but line 2 gives seconds",
        ),
        (
            POINT_HEAD + "\n2017-05-09T11:26:00Z,0,0,0,1,1,0\n5,0,0,0,1,1,0\n",
            "line 3: time '5' is seconds but line 2 gives an ISO 8601 time",
        ),
        (
            POINT_HEAD + ",background_ppm\n0,0,0,0,1,1,0,2\n1,0,0,0,1,1,0,\n",
            "line 3: background_ppm is empty but line 2 gives one",
        ),
        (
            POINT_HEAD + ",background_ppm\n0,0,0,0,1,1,0,\n1,0,0,0,1,1,0,2\n",
            "line 3: background_ppm is given but line 2 leaves it empty",
        ),
    ],
)
def test_readings_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "READINGS.csv", text)
    with pytest.raises(FormatError, match=message) as info:
        read_readings(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)


def test_unknown_beam_id_names_the_line(tmp_path: Path) -> None:
    beams = _write(tmp_path, "BEAMS.csv", BEAMS)
    path = _write(
        tmp_path,
        "READINGS.csv",
        "time,beam_id,conc_ppm,wind_speed_m_s,wind_dir_deg\n0,A,2,1,0\n1,C,2,1,0\n",
    )
    with pytest.raises(FormatError, match=r"line 3: beam_id 'C' is not in .*\(it defines: A, B\)"):
        read_readings(path, beams=beams)


def test_empty_beam_id(tmp_path: Path) -> None:
    beams = _write(tmp_path, "BEAMS.csv", BEAMS)
    path = _write(
        tmp_path, "READINGS.csv", "time,beam_id,conc_ppm,wind_speed_m_s,wind_dir_deg\n0, ,2,1,0\n"
    )
    with pytest.raises(FormatError, match="line 2: beam_id is empty"):
        read_readings(path, beams=beams)


BEAMS_HEAD = BEAMS.splitlines()[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no beams: the file is empty"),
        (BEAMS_HEAD + "\n", "no beams: the file has a header but no rows"),
        ("beam_id,sensor_x_m,sensor_y_m\n", "missing columns sensor_z_m, reflector_x_m"),
        (BEAMS_HEAD + "\nA,0,0,1,5,0,1\nA,0,0,1,0,5,1\n", "line 3: beam_id 'A' is already defined"),
        (BEAMS_HEAD + "\nA,0,0,1,0,0,1\n", "line 2: beam 'A' has zero length"),
        (BEAMS_HEAD + "\nA,0,0,1,x,0,1\n", "line 2: reflector_x_m 'x' is not a number"),
        (BEAMS_HEAD + "\n,0,0,1,5,0,1\n", "line 2: beam_id is empty"),
    ],
)
def test_beams_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "BEAMS.csv", text)
    with pytest.raises(FormatError, match=message) as info:
        read_beams(path)
    assert str(info.value).startswith(f"{path}: ")


def test_beams_errors_surface_through_read_readings(tmp_path: Path) -> None:
    beams = _write(tmp_path, "BEAMS.csv", BEAMS_HEAD + "\nA,0,0,1,0,0,1\n")
    path = _write(
        tmp_path, "READINGS.csv", "time,beam_id,conc_ppm,wind_speed_m_s,wind_dir_deg\n0,A,2,1,0\n"
    )
    with pytest.raises(FormatError, match=r"BEAMS\.csv: line 2: beam 'A' has zero length"):
        read_readings(path, beams=beams)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no wind records: the file is empty"),
        ("time,wind_speed_m_s\n", "line 1: missing column wind_dir_deg"),
        ("time,wind_speed_m_s,wind_dir_deg\n0,-2,0\n", "line 2: wind_speed_m_s '-2' must not"),
        ("time,wind_speed_m_s,wind_dir_deg\n0,2,inf\n", "line 2: wind_dir_deg 'inf' is not finite"),
        (
            "time,wind_speed_m_s,wind_dir_deg,turbulence\n0,2,0,-1\n",
            "line 2: turbulence '-1' must not be negative",
        ),
        (
            "time,wind_speed_m_s,wind_dir_deg\n10,2,0\n0,2,0\n10,3,0\n",
            r"lines 2 and 4 give the same time \(10 s\)",
        ),
        (
            "time,wind_speed_m_s,wind_dir_deg\n0,2,0\n2017-05-09T11:26:00Z,2,0\n",
            "line 3: time .* is an ISO 8601 time but line 2 gives seconds",
        ),
    ],
)
def test_wind_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "WIND.csv", text)
    with pytest.raises(FormatError, match=message) as info:
        read_wind(path)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="readings not found"):
        read_readings(tmp_path / "nope.csv")
    with pytest.raises(DataSourceError, match="is a directory"):
        read_beams(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "READINGS.csv"
    path.write_bytes(POINT_HEAD.encode() + b"\n0,0,0,0,\xff,1,0\n")
    with pytest.raises(FormatError, match="not a UTF-8 text file"):
        read_readings(path)


def test_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_csv, "MAX_ROWS", 3)
    ok = _write(tmp_path, "OK.csv", POINT_HEAD + "\n" + "0,0,0,0,1,1,0\n" * 3)
    assert read_readings(ok).size == 3
    big = _write(tmp_path, "BIG.csv", POINT_HEAD + "\n" + "0,0,0,0,1,1,0\n" * 4)
    with pytest.raises(FormatError, match="more than 3 rows of readings"):
        read_readings(big)
