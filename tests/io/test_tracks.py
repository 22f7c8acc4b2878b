"""Track CSVs: the vectorized reader of plain decimals against numpy's and the careful parser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumetrace.errors import FormatError
from plumetrace.io import tracks
from plumetrace.io.tracks import Track, read_track

FIELDS = ("time_s", "lat", "lon", "alt_m")


def _careful(path: Path, monkeypatch: pytest.MonkeyPatch) -> Track:
    """Read ``path`` with the per-line parser only."""
    with monkeypatch.context() as m:
        m.setattr(tracks, "_plain_csv", lambda p: None)
        m.setattr(tracks, "_fast_csv", lambda p: None)
        return read_track(path)


def _numpy(path: Path) -> Track:
    fast = tracks._fast_csv(path)
    assert fast is not None
    return fast


def _same(a: Track, b: Track) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype == np.float64
        np.testing.assert_array_equal(x, y, err_msg=name)
        # bit for bit (signed zeros too)
        assert x.tobytes() == y.tobytes(), name
    assert a.time_is_absolute == b.time_is_absolute
    assert a.warnings == b.warnings


def _benchmark_like(n: int) -> str:
    t = np.arange(0, n, 1.0) * 997.0  # times from 0.0 to six digits: several line lengths
    lat = 31.80 - 0.12 * np.abs(np.sin(t / 3000))
    lon = -106.45 + 0.05 * np.sin(t / 10000)
    rows = [f"{a:.1f},{b:.6f},{c:.6f},100.0" for a, b, c in zip(t, lat, lon, strict=True)]
    return "time,lat,lon,alt_m\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    "text",
    [
        _benchmark_like(3000),
        # no final newline; Windows line ends; a byte-order mark
        _benchmark_like(500).rstrip("\n"),
        _benchmark_like(500).replace("\n", "\r\n"),
        "\ufeff" + _benchmark_like(200),
        # no altitude; columns in another order, upper case; an extra column
        "time,lat,lon\n0,31.5,-106.5\n1,31.25,-106.75\n2,31.125,-106.875\n",
        "LON,alt_m,Lat,Time\n-106.5,10,31.5,0.5\n-106.25,-2.5,31.25,1.5\n",
        "time,lat,lon,alt_m,speed\n0,31.5,-106.5,10,3.25\n1,31.6,-106.4,11,3.5\n",
        # signs changing, widths changing every line, trailing points, leading zeros
        "time,lat,lon\n0,-0.5,5.\n1,.25,-0.0\n2,007.5,-179.999999999999\n3,-89.123456789,180\n",
        # 15 significant digits (the most the fast path takes)
        "time,lat,lon\n123456789.012345,12.3456789012345,-123.456789012345\n",
    ],
)
def test_plain_decimals_match_numpy_and_the_careful_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    plain = tracks._plain_csv(path)
    assert plain is not None
    _same(plain, _numpy(path))
    _same(plain, _careful(path, monkeypatch))
    _same(read_track(path), plain)


def test_a_long_track_is_decoded_in_two_halves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracks, "_THREADED_LINES", 1000)
    monkeypatch.setattr(tracks, "_BLOCK_BYTES", 10_000)
    path = tmp_path / "t.csv"
    path.write_text(_benchmark_like(5001))
    plain = tracks._plain_csv(path)
    assert plain is not None and plain.size == 5001
    _same(plain, _numpy(path))


@pytest.mark.parametrize(
    "text",
    [
        "time,lat,lon\n0,3.1e1,-106.5\n",  # exponent
        "time,lat,lon\n0, 31.5,-106.5\n",  # blank in a field
        "time,lat,lon\n0,31.5,-106.5\n\n1,31.6,-106.5\n",  # blank line
        "time,lat,lon\n# a comment\n0,31.5,-106.5\n",  # comment
        'time,lat,lon\n0,"31.5",-106.5\n',  # quoted
        "time,lat,lon\n2026-01-01T00:00:00Z,31.5,-106.5\n",  # ISO time
        "time,lat,lon\n0,31.5000000000000001,-106.5\n",  # more than 15 digits
        "time,lat,lon,alt_m\n0,31.5,-106.5,\n",  # empty altitude
        "time,lat,lon\n0,+31.5,-106.5\n",  # plus sign
        "time,lat,lon\n0,31.5,-106.5,7\n",  # more fields than the header
        "time,lat,lon\n0,nan,-106.5\n",  # not a number
        "time,lat\n0,31.5\n",  # no lon column
        "time,lat,lon\n",  # no rows
    ],
)
def test_anything_unusual_is_left_to_the_general_parsers(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert tracks._plain_csv(path) is None


def test_unusual_files_still_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.csv"
    path.write_text("time,lat,lon,alt_m\n# start\n0,3.15e1,-106.5,\n\n1, 31.6 ,-106.5,12\n")
    tr = read_track(path)
    _same(tr, _careful(path, monkeypatch))
    assert tr.lat.tolist() == [31.5, 31.6] and np.isnan(tr.alt_m[0]) and tr.alt_m[1] == 12.0


def test_a_bad_line_after_many_good_ones_is_named(tmp_path: Path) -> None:
    lines = ["time,lat,lon"] + [f"{i}.0,31.{i:04d},-106.5" for i in range(1000)]
    lines[501] = "500.0,abc,-106.5"
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError) as err:
        read_track(path)
    assert str(err.value) == f"{path}: line 502: lat 'abc' is not a number"


def test_too_many_line_patterns_give_up_early(tmp_path: Path) -> None:
    # widths change on every line: no pattern repeats
    rows = [f"{i},{31 + i / 10**k:.{k}f},-106.5" for i in range(600) for k in [3 + i % 7]]
    path = tmp_path / "t.csv"
    path.write_text("time,lat,lon\n" + "\n".join(rows) + "\n")
    assert tracks._plain_csv(path) is None
    assert read_track(path).size == 600


def test_too_many_rows_are_left_to_the_general_parsers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracks, "MAX_ROWS", 10)
    path = tmp_path / "t.csv"
    path.write_text(_benchmark_like(11))
    assert tracks._plain_csv(path) is None


_decimal = st.tuples(
    st.booleans(), st.integers(min_value=0, max_value=10**7), st.integers(0, 7)
).map(lambda v: ("-" if v[0] else "") + f"{v[1] / 10 ** v[2]:.{v[2]}f}")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_decimal, _decimal, _decimal), min_size=1, max_size=40))
def test_plain_decimals_are_parsed_like_python(rows: list[tuple[str, str, str]]) -> None:
    text = "".join(f"{a},{b},{c}\n" for a, b, c in rows).encode()
    out = tracks._plain_decimals(text, 0, 3, [2, 0, 1])
    assert out is not None
    for col, k in zip(out, [2, 0, 1], strict=True):
        want = np.array([float(r[k]) for r in rows])
        assert col.tobytes() == want.tobytes()


def test_lines_wider_than_a_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracks, "_BLOCK_BYTES", 64)
    extra = ",".join(f"c{k}" for k in range(40))
    rows = [f"{i}.5,31.{i:03d},-106.{i:03d}," + ",".join(["1.25"] * 40) for i in range(300)]
    path = tmp_path / "t.csv"
    path.write_text(f"time,lat,lon,{extra}\n" + "\n".join(rows) + "\n")
    plain = tracks._plain_csv(path)
    assert plain is not None and plain.size == 300
    _same(plain, _numpy(path))
