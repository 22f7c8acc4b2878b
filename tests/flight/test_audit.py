from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from plumetrace.cli.app import main
from plumetrace.data import country_land
from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.flight.audit import find_incursions
from plumetrace.io.tracks import read_track

LON = -106.45
SPEED_DEG = 0.0004  # degrees of latitude per second (~44 m/s)


def _border_lat() -> float:
    """Truth: where the meridian -106.45 crosses Natural Earth's US-Mexico border."""
    land = country_land()
    mex = land.geometry[list(land.code).index("MEX")]
    hit = shapely.intersection(shapely.LineString([(LON, 31.80), (LON, 31.68)]), mex.boundary)
    return float(shapely.get_coordinates(hit)[0, 1])


def _write_track(path: Path, t: np.ndarray) -> np.ndarray:
    lat = 31.80 - SPEED_DEG * np.where(t < 300, t, 600 - t)
    with path.open("w") as f:
        f.write("time,lat,lon,alt_m\n")
        for a, b in zip(t, lat, strict=True):
            f.write(f"{a},{b},{LON},120\n")
    return lat


def test_a_track_across_the_border_and_back(tmp_path: Path) -> None:
    t = np.arange(0.0, 600.0, 5.0)  # a sample every 5 s
    lat = _write_track(tmp_path / "track.csv", t)
    rc = main(
        [
            "audit",
            str(tmp_path / "track.csv"),
            "--operator",
            "border-unit",
            "--out",
            str(tmp_path / "report.json"),
        ]
    )
    assert rc == 0
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["points"] == t.size and len(rep["incursions"]) == 1
    inc = rep["incursions"][0]
    b = _border_lat()
    t_entry = (31.80 - b) / SPEED_DEG
    assert inc["zone"] == "MEX"
    assert abs(inc["entry_time"] - t_entry) < 2.0
    assert abs(inc["exit_time"] - (600.0 - t_entry)) < 2.0
    assert abs(inc["entry_lat"] - b) < 1e-4
    # depth truth: geodesic distance from the deepest sample to the US (WGS 84)
    land = country_land()
    usa = land.geometry[list(land.code).index("USA")]
    edge = shapely.get_coordinates(shapely.segmentize(usa.boundary, 0.001))
    edge = edge[np.hypot(edge[:, 0] - LON, edge[:, 1] - 31.7) < 0.5]
    deepest = lat.min()
    _, _, d = Geod(ellps="WGS84").inv(
        np.full(len(edge), LON), np.full(len(edge), deepest), edge[:, 0], edge[:, 1]
    )
    assert inc["max_depth_m"] == pytest.approx(float(d.min()), rel=0.01)
    assert rep["total_unauthorized_s"] == pytest.approx(inc["duration_s"])
    for ext in (".geojson", ".png"):
        assert (tmp_path / f"report{ext}").stat().st_size > 100
    # the partner program may fly there: no incursion
    rc = main(
        [
            "audit",
            str(tmp_path / "track.csv"),
            "--operator",
            "partner-program",
            "--out",
            str(tmp_path / "p.json"),
        ]
    )
    assert rc == 0 and json.loads((tmp_path / "p.json").read_text())["incursions"] == []


def test_gpx_tracks(tmp_path: Path) -> None:
    gpx = tmp_path / "t.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        "<trk><trkseg>"
        '<trkpt lat="31.80" lon="-106.45"><ele>100</ele><time>2026-01-01T00:00:00Z</time></trkpt>'
        '<trkpt lat="31.70" lon="-106.45"><time>2026-01-01T00:04:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    )
    tr = read_track(gpx)
    assert tr.size == 2 and tr.time_is_absolute and tr.time_s[1] - tr.time_s[0] == 240.0
    assert tr.alt_m[0] == 100.0 and np.isnan(tr.alt_m[1])


def test_unordered_and_duplicate_samples_are_repaired_with_warnings(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("time,lat,lon\n10,31.8,-106.4\n0,31.7,-106.4\n10,31.8,-106.4\n")
    tr = read_track(p)
    assert tr.time_s.tolist() == [0.0, 10.0]
    assert len(tr.warnings) == 2


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "time,lat\n0,31\n", "missing column lon"),
        ("b.csv", "time,lat,lon\n0,31,-106\n0,32,-106\n", "two different positions at one time"),
        ("c.csv", "time,lat,lon\n0,91,-106\n", "is not a position"),
        ("d.gpx", "<gpx><trk><trkseg><trkpt lat='1'></trkpt></trkseg></trk></gpx>", "lat/lon"),
        ("e.gpx", "<gpx><trk", "not valid GPX XML"),
        ("f.tlog", "this is not a mavlink log at all", "no position messages"),
        ("h.tlog", "", "h.tlog: no position messages"),  # too short to map: said plainly
        ("g.kml", "x", "unknown track format"),
    ],
)
def test_bad_tracks(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises((FormatError, DataSourceError)) as err:
        read_track(tmp_path / name)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "cannot be read" not in str(err.value)  # the file was read: its content is bad


def test_mavlink_telemetry_log(tmp_path: Path) -> None:
    from pymavlink.dialects.v20 import ardupilotmega as mav

    path = tmp_path / "flight.tlog"
    link = mav.MAVLink(None)
    with path.open("wb") as f:
        for k in range(5):
            msg = mav.MAVLink_global_position_int_message(
                k * 1000, int(31.8e7) - k * 10000, int(-106.45e7), 120000, 20000, 0, 0, 0, 0
            )
            stamp = int((1.7e9 + k) * 1e6)
            f.write(stamp.to_bytes(8, "big") + msg.pack(link))
    tr = read_track(path)
    assert tr.size == 5 and tr.time_is_absolute
    np.testing.assert_allclose(np.diff(tr.time_s), 1.0)
    assert tr.lat[0] == pytest.approx(31.8) and tr.alt_m[0] == pytest.approx(120.0)


def test_ardupilot_dataflash_log(tmp_path: Path) -> None:
    """A ``.bin`` log's GPS fixes, read with pymavlink, audited like any track."""
    from tests.fuzz.samples import dataflash_bytes

    path = tmp_path / "flight.bin"
    path.write_bytes(dataflash_bytes())
    tr = read_track(path)
    np.testing.assert_allclose(tr.time_s, [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(tr.lat, 31.8 + 1e-4 * np.arange(5), atol=1e-9)
    np.testing.assert_allclose(tr.lon, -106.45, atol=1e-9)
    np.testing.assert_allclose(tr.alt_m, 120.0)
    out = tmp_path / "report.json"
    main(["audit", str(path), "--operator", "border-unit", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["points"] == 5 and report["incursions"] == []  # El Paso, on the US side
    # the same log cut short inside its second FMT record: one clear error
    cut = tmp_path / "cut.bin"
    cut.write_bytes(dataflash_bytes()[:100])
    with pytest.raises((FormatError, DataSourceError)) as err:
        read_track(cut)
    assert "cut.bin" in str(err.value) and "\n" not in str(err.value)


def test_kernel_rejects_unordered_times() -> None:
    with pytest.raises(InvalidParameterError):
        find_incursions(np.zeros(2), np.zeros(2), np.array([1.0, 1.0]), shapely.box(0, 0, 1, 1))
