from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io import read_gas_csv, read_json, write_json


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gas.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_csv_with_extra_columns_comments_and_unsorted_rows(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "# NH3 unit absorption\nsource,Absorption_per_ppm_m,wavelength_nm\n"
        "a,-2e-6,2310\nb,-1e-6,2300\n\nc,-3e-6,2320\nb,-1e-6,2300\n",
    )
    wl, ab = read_gas_csv(path)
    np.testing.assert_array_equal(wl, [2300.0, 2310.0, 2320.0])
    np.testing.assert_array_equal(ab, [-1e-6, -2e-6, -3e-6])
    assert wl.dtype == ab.dtype == np.float64


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffwavelength_nm,absorption_per_ppm_m\n1,0\n2,0\n".encode())
    assert read_gas_csv(path)[0].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the gas table is empty"),
        ("2300,1\n2310,2\n", "line 1: missing column 'wavelength_nm', 'absorption_per_ppm_m'"),
        ("wavelength_nm,absorb\n2300,1\n", "missing column 'absorption_per_ppm_m'"),
        (
            "wavelength_nm,absorption_per_ppm_m\n2300,1\n2310,abc\n",
            "line 3: absorption_per_ppm_m 'abc' is not a number",
        ),
        (
            "wavelength_nm,absorption_per_ppm_m\n2300,1\nnan,1\n",
            "line 3: wavelength_nm 'nan' is not finite",
        ),
        (
            "wavelength_nm,absorption_per_ppm_m\n2300,1\n2310\n",
            "line 3: 1 fields, the header has 2",
        ),
        ("wavelength_nm,absorption_per_ppm_m\n2300,1\n", "at least 2 distinct wavelengths, has 1"),
        ("wavelength_nm,absorption_per_ppm_m\n2300,1\n2300,1\n", "at least 2 distinct wavelengths"),
        (
            "wavelength_nm,absorption_per_ppm_m\n-5,1\n2300,1\n",
            "line 2: wavelength_nm must be positive",
        ),
        (
            "wavelength_nm,absorption_per_ppm_m\n2310,1\n2300,1\n2310,2\n",
            "lines 2 and 4 give wavelength 2310 nm two different absorptions",
        ),
    ],
)
def test_bad_csv(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(FormatError, match=f"^{path}: ") as info:
        read_gas_csv(path)
    assert message in str(info.value)


def test_missing_csv(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"nope.csv: gas table not found"):
        read_gas_csv(tmp_path / "nope.csv")


def test_json_round_trip_with_numpy_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    obj = {
        "a": np.float32(1.5),
        "b": np.arange(3),
        "c": [np.nan, np.inf, 1.0],
        "d": {np.int64(3): "x"},
        "e": (1, "two"),
        "f": tmp_path,
        "t": dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
        "ok": np.bool_(True),
    }
    write_json(path, obj)
    text = path.read_text()
    assert "NaN" not in text and "\n  " in text
    assert read_json(path) == {
        "a": 1.5,
        "b": [0, 1, 2],
        "c": [None, None, 1.0],
        "d": {"3": "x"},
        "e": [1, "two"],
        "f": str(tmp_path),
        "t": "2024-05-01T12:00:00Z",
        "ok": True,
    }
    json.loads(text)  # strict JSON


def test_failing_json_write_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.json"
    write_json(path, {"v": 1})
    with pytest.raises(
        InvalidParameterError, match=r"cannot write a value of type 'object' as JSON"
    ):
        write_json(path, {"v": object()})
    assert read_json(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_failing_json_write_midway_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    path = tmp_path / "keep.json"
    write_json(path, {"v": 1})

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(DataSourceError, match=r"keep.json: cannot write: No space left on device"):
        write_json(path, {"v": 2})
    assert read_json(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_invalid_and_missing_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(FormatError, match=r"bad.json: invalid JSON at line 2, column 7"):
        read_json(path)
    with pytest.raises(DataSourceError, match=r"none.json: JSON file not found"):
        read_json(tmp_path / "none.json")
    with pytest.raises(DataSourceError, match=r"directory .* does not exist"):
        write_json(tmp_path / "no" / "x.json", {})
