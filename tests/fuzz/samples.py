"""Small valid inputs of every plumetrace reader, and how to call each reader.

One registry drives both the Hypothesis property tests (``tests/fuzz/test_*.py``) and
the coverage-guided atheris targets (``fuzz/fuzz_*.py``): a :class:`Variant` names the
files a reader needs (valid bytes), which of them the fuzzer replaces, and the call.
A :class:`Parser` groups the variants of one parser (e.g. an ENVI image's header and
its data file). The samples are built once per process with plumetrace's own writers
where a writer exists, so they follow the formats exactly.
"""

from __future__ import annotations

import functools
import json
import struct
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PARSERS", "Parser", "Variant", "consume"]


@dataclass(frozen=True)
class Variant:
    """One way of feeding a reader: ``files`` valid, ``main`` replaced by the fuzz input."""

    name: str
    files: Callable[[], Mapping[str, bytes]]
    main: str
    read: Callable[[Path], Any]


@dataclass(frozen=True)
class Parser:
    """A parser and the variants that exercise it."""

    name: str
    variants: tuple[Variant, ...]
    text: bool  # a text format: token-level mutations are worth trying


def consume(result: Any) -> Any:
    """Touch a reader's result the way a caller would (radiance cubes: read them whole)."""
    from plumetrace.io.cube import RadianceCube

    if isinstance(result, RadianceCube):
        with result:
            rows, cols, bands = result.shape
            if rows * cols * bands <= 10**6:
                data = result.read()
                assert data.shape == result.shape
            else:  # a big cube is read in blocks, as the retrieval does: read one
                data = result.read(rows=slice(0, 64), cols=slice(0, 64))
                assert data.shape == (min(rows, 64), min(cols, 64), bands)
            assert data.dtype == np.float32
        return data
    return result


# --------------------------------------------------------------------------- ENVI


_WL = (2000.0, 2010.0, 2020.0)


def _envi_header_text() -> str:
    wl = ", ".join(repr(w) for w in _WL)
    return (
        "ENVI\n"
        "description = {fuzz sample}\n"
        "samples = 4\nlines = 3\nbands = 3\nheader offset = 0\n"
        "file type = ENVI Standard\ndata type = 4\ninterleave = bil\nbyte order = 0\n"
        "map info = {UTM, 1, 1, 500000.0, 3500000.0, 30.0, 30.0, 13, North, WGS-84, "
        "units=Meters, rotation=0.0}\n"
        "wavelength units = Nanometers\n"
        f"wavelength = {{{wl}}}\n"
        "fwhm = {6.0, 6.0, 6.0}\n"
        "data gain values = {1.0, 1.0, 1.0}\n"
        "data offset values = {0.0, 0.0, 0.0}\n"
        "scale factor = 1.0\n"
        "data ignore value = -9999\n"
    )


@functools.cache
def envi_files() -> dict[str, bytes]:
    """A 3 x 4 x 3 float32 BIL image: ``scene.hdr`` + ``scene.img``."""
    data = (np.arange(3 * 3 * 4, dtype=np.float32) + 0.5).tobytes()
    return {"scene.hdr": _envi_header_text().encode(), "scene.img": data}


def _envi_header_only() -> dict[str, bytes]:
    return {"scene.hdr": envi_files()["scene.hdr"]}


def _read_envi_header(d: Path) -> Any:
    from plumetrace.io.envi import envi_georef, read_envi_header

    header = read_envi_header(d / "scene.hdr")
    envi_georef(header, d / "scene.hdr")
    return header


def _open_radiance(name: str) -> Callable[[Path], Any]:
    def read(d: Path) -> Any:
        from plumetrace.io import open_radiance

        return consume(open_radiance(d / name))

    return read


# --------------------------------------------------------------------------- netCDF


@functools.cache
def netcdf_files() -> dict[str, bytes]:
    """A 3 x 4 x 3 EMIT-like netCDF-4 written by :func:`write_emit_netcdf`."""
    from plumetrace.io import write_emit_netcdf

    rows, cols = 3, 4
    cube = np.arange(rows * cols * 3, dtype=np.float32).reshape(rows, cols, 3) + 0.5
    lat, lon = np.meshgrid(np.linspace(31.0, 31.1, rows), np.linspace(-106.5, -106.4, cols))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scene.nc"
        write_emit_netcdf(path, cube, _WL, (6.0, 6.0, 6.0), lat.T, lon.T)
        return {"scene.nc": path.read_bytes()}


# --------------------------------------------------------------------------- GeoTIFF


@functools.cache
def geotiff_files() -> dict[str, bytes]:
    """A 2-band 5 x 6 GeoTIFF and a 5 x 6 population raster (EPSG:32613)."""
    from plumetrace.geo import Georef
    from plumetrace.io import write_geotiff
    from plumetrace.io.context import write_population
    from plumetrace.sites.context import PopulationGrid

    transform = (30.0, 0.0, 500000.0, 0.0, -30.0, 3500000.0)
    georef = Georef(crs="EPSG:32613", transform=transform)
    values = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6)
    with tempfile.TemporaryDirectory() as tmp:
        raster, pop = Path(tmp) / "raster.tif", Path(tmp) / "pop.tif"
        write_geotiff(raster, values, georef, nodata=-1.0, band_descriptions=["a", "b"])
        write_population(pop, PopulationGrid(values[0].astype(np.float64), transform, "EPSG:32613"))
        return {"raster.tif": raster.read_bytes(), "pop.tif": pop.read_bytes()}


def _read_geotiff(d: Path) -> Any:
    from plumetrace.io import read_geotiff

    return read_geotiff(d / "raster.tif")


def _read_population(bbox: tuple[float, float, float, float] | None) -> Callable[[Path], Any]:
    def read(d: Path) -> Any:
        from plumetrace.io.context import population_bounds, read_population

        grid = read_population(d / "pop.tif", bbox)
        population_bounds(d / "pop.tif")
        return grid

    return read


# --------------------------------------------------------------------------- tracks


_GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="fuzz" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>t</name><trkseg>
  <trkpt lat="31.800000" lon="-106.450000"><ele>120.0</ele><time>2026-05-01T17:00:00Z</time></trkpt>
  <trkpt lat="31.800900" lon="-106.449000"><ele>121.5</ele><time>2026-05-01T17:00:10Z</time></trkpt>
  <trkpt lat="31.801800" lon="-106.448000"><time>2026-05-01T17:00:20+00:00</time></trkpt>
 </trkseg></trk>
</gpx>
"""

_TRACK_CSV = (
    "time,lat,lon,alt_m\n"
    "0.0,31.800000,-106.450000,120.0\n"
    "10.0,31.800900,-106.449000,121.5\n"
    "20.0,31.801800,-106.448000,123.0\n"
)

_TRACK_CSV_ISO = (
    "# a track with ISO times\n"
    "Time, Lat, Lon\n"
    "2026-05-01T17:00:00Z,31.8,-106.45\n"
    '2026-05-01T17:00:10+00:00,31.8009,"-106.449"\n'
    "\n"
    "2026-05-01 17:00:20,31.8018,-106.448\n"
)


@functools.cache
def tlog_bytes() -> bytes:
    """Five GLOBAL_POSITION_INT messages of a MAVLink 2 telemetry log."""
    from pymavlink.dialects.v20 import ardupilotmega as mav

    link = mav.MAVLink(None)
    out = b""
    for k in range(5):
        msg = mav.MAVLink_global_position_int_message(
            k * 1000, int(31.8e7) - k * 10000, int(-106.45e7), 120000, 20000, 0, 0, 0, 0
        )
        out += int((1.7e9 + k) * 1e6).to_bytes(8, "big") + msg.pack(link)
    return out


def _dataflash_fmt(msg_type: int, length: int, name: bytes, form: bytes, cols: bytes) -> bytes:
    return b"\xa3\x95\x80" + struct.pack("<BB4s16s64s", msg_type, length, name, form, cols)


def dataflash_bytes() -> bytes:
    """An ArduPilot DataFlash (``.bin``) log: FMT records and five GPS messages."""
    out = _dataflash_fmt(128, 89, b"FMT", b"BBnNZ", b"Type,Length,Name,Format,Columns")
    out += _dataflash_fmt(130, 24, b"GPS", b"QBLLf", b"TimeUS,Status,Lat,Lng,Alt")
    for k in range(5):
        lat = int(31.8e7) + k * 1000
        out += b"\xa3\x95\x82" + struct.pack("<QBiif", (k + 1) * 10**6, 3, lat, -1064500000, 120.0)
    return out


def _read_track(name: str) -> Callable[[Path], Any]:
    def read(d: Path) -> Any:
        from plumetrace.io.tracks import read_track

        track = read_track(d / name)
        n = track.size
        assert n > 0 and track.lat.shape == track.lon.shape == track.alt_m.shape == (n,)
        assert np.all(np.abs(track.lat) <= 90) and np.all(np.abs(track.lon) <= 180)
        assert np.all(np.diff(track.time_s) > 0)
        return track

    return read


# --------------------------------------------------------------------------- readings

_READINGS = (
    "time,x_m,y_m,z_m,conc_ppm,background_ppm,wind_speed_m_s,wind_dir_deg,turbulence\n"
    "2017-05-09T11:26:00Z,10.0,-5.0,2.0,2.10,1.95,3.2,270,12\n"
    "2017-05-09T11:26:10Z,12.0,-5.0,2.0,2.40,1.95,3.4,275,\n"
    "2017-05-09T11:26:20Z,14.0,-5.0,2.0,1.99,1.95,3.1,-80,10\n"
)
_READINGS_BEAMS = "time,beam_id,conc_ppm\n0,1,2.1\n10,2,2.3\n20,1,2.0\n30,10,2.2\n"
_BEAMS = (
    "beam_id,sensor_x_m,sensor_y_m,sensor_z_m,reflector_x_m,reflector_y_m,reflector_z_m\n"
    "1,0,0,1.5,100,0,1.5\n2,0,0,1.5,0,100,1.5\n10,0,0,1.5,70,70,2\n"
)
_WIND = "time,wind_speed_m_s,wind_dir_deg,turbulence\n0,3.0,270,10\n15,3.5,280,\n40,3.2,350,12\n"


def readings_files() -> dict[str, bytes]:
    """Point readings, path readings with their beams, and a wind record."""
    return {
        "readings.csv": _READINGS.encode(),
        "readings_beams.csv": _READINGS_BEAMS.encode(),
        "beams.csv": _BEAMS.encode(),
        "wind.csv": _WIND.encode(),
    }


def _read_readings(d: Path) -> Any:
    from plumetrace.io.readings import read_readings

    return read_readings(d / "readings.csv")


def _read_beam_readings(d: Path) -> Any:
    from plumetrace.io.readings import read_readings

    table = read_readings(d / "readings_beams.csv", beams=d / "beams.csv", wind=d / "wind.csv")
    table.groups()
    return table


def _read_wind(d: Path) -> Any:
    from plumetrace.io.wind import read_wind

    return read_wind(d / "wind.csv")


# --------------------------------------------------------------------------- TOML

_OPERATORS = """# who may fly where
[operator.border-unit]
name = "Border surveillance unit"
authorized = ["USA", "international"]
exclude = "no-fly.geojson"

[operator.mx-unit]
authorized = ["mex"]
"""

_PARTNERS = """[[partner]]
name = "Fiscalia  General"
country = "MX"
[partner.policy]
tlp = "amber"
release = ["sensor", "imagery"]
cot_stale_hours = 24
[partner.policy.field_tlp]
advisory = "amber+strict"
[partner.policy.timeline]
acknowledge_days = 3
feedback_days = 30
verify_days = 60

[[partner]]
name = "EPA Region 6"
country = "USA"
"""

_POLICY = """[policy]
tlp = "green"
release = ["method"]
cot_stale_hours = 12.5
[policy.timeline]
verify_days = 90
"""


def _polygon_fc(props: dict[str, Any] | None = None) -> bytes:
    ring = [[-106.5, 31.7], [-106.4, 31.7], [-106.4, 31.8], [-106.5, 31.8], [-106.5, 31.7]]
    doc = {
        "type": "FeatureCollection",
        "plumetrace": {"made_by": "fuzz"},
        "features": [
            {
                "type": "Feature",
                "id": "aoi-1",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": props or {"name": "aoi"},
            }
        ],
    }
    return json.dumps(doc).encode()


def toml_files() -> dict[str, bytes]:
    """An operators file with its exclusion zone, a partners file, a policy file."""
    return {
        "operators.toml": _OPERATORS.encode(),
        "no-fly.geojson": _polygon_fc(),
        "partners.toml": _PARTNERS.encode(),
        "policy.toml": _POLICY.encode(),
    }


def _read_operators(d: Path) -> Any:
    from plumetrace.io.operators import read_operators

    return read_operators(d / "operators.toml")


def _read_partners(d: Path) -> Any:
    from plumetrace.io.partners import read_partners

    return read_partners(d / "partners.toml")


def _read_policy(d: Path) -> Any:
    from plumetrace.io.partners import read_policy

    return read_policy(d / "policy.toml")


# --------------------------------------------------------------------------- GeoJSON


def geojson_files() -> dict[str, bytes]:
    """AOI polygons, a mixed collection, buildings, maritime limits."""
    mixed = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.5, 2.5]}},
            {
                "type": "Feature",
                "properties": None,
                "geometry": {
                    "type": "GeometryCollection",
                    "geometries": [
                        {"type": "LineString", "coordinates": [[0, 0], [1, 1], [2, 0.5]]},
                        {"type": "MultiPoint", "coordinates": [[0, 0, 10.0], [1, 1, 12.0]]},
                    ],
                },
            },
        ],
    }
    sq = [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001], [0, 0]]]
    buildings = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": sq},
                "properties": {"kind": "building", "residential": True},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [0.002, 0.002]},
                "properties": {"kind": "school"},
            },
        ],
    }
    return {
        "aoi.geojson": _polygon_fc(),
        "mixed.geojson": json.dumps(mixed).encode(),
        "buildings.geojson": json.dumps(buildings).encode(),
        "limits.geojson": _polygon_fc({"ISO_TER1": "MEX"}),
    }


def _read_geojson(d: Path) -> Any:
    from plumetrace.io.geojson import read_geojson

    return read_geojson(d / "mixed.geojson")


def _read_aoi(d: Path) -> Any:
    from plumetrace.io.geojson import read_polygons

    return read_polygons(d / "aoi.geojson", "an AOI")


def _read_buildings(d: Path) -> Any:
    from plumetrace.io.context import read_buildings

    return read_buildings(d / "buildings.geojson")


def _read_maritime(d: Path) -> Any:
    from plumetrace.io.maritime import read_maritime_limits

    return read_maritime_limits(d / "limits.geojson")


# --------------------------------------------------------------------------- evidence


def evidence_files() -> dict[str, bytes]:
    """A report, a plumes.geojson, a locate RESULT.json and a coverage footprint."""
    report = {
        "id": "rep-1",
        "time": "2026-05-01T17:00:00Z",
        "lat": 31.8,
        "lon": -106.45,
        "uncertainty_m": 250.0,
        "source_reliability": "B",
        "credibility": 2,
        "text": "odour reported",
        "organization": "Acme Midstream",
    }
    plumes = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "plume-1",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]]],
                },
                "properties": {
                    "id": "plume-1",
                    "source_lat": 31.8,
                    "source_lon": -106.45,
                    "source_uncertainty_m": 30.0,
                    "flux_kg_h": 120.0,
                    "flux_kg_h_ci68": [90.0, 150.0],
                    "confidence": 0.8,
                    "gas": "ch4",
                },
            },
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "source_lat": 31.81,
                    "source_lon": -106.44,
                    "source_uncertainty_m": 40,
                    "flux_kg_h": 80,
                    "flux_kg_h_sigma": 20,
                },
            },
        ],
    }
    locate = {
        "lat": 31.8,
        "lon": -106.45,
        "rate_kg_h": 12.5,
        "rate_kg_h_ci68": [9.0, 16.0],
        "position_ci68_m": 15.0,
        "gas": "ch4",
    }
    return {
        "report.json": json.dumps(report).encode(),
        "plumes.geojson": json.dumps(plumes).encode(),
        "RESULT.json": json.dumps(locate).encode(),
        "coverage.geojson": _polygon_fc(),
    }


def _read_report(d: Path) -> Any:
    from plumetrace.io.evidence import read_report

    return read_report(d / "report.json")


def _read_detections(name: str) -> Callable[[Path], Any]:
    def read(d: Path) -> Any:
        from plumetrace.io.evidence import read_detections

        return read_detections(d / name)

    return read


def _read_coverage(d: Path) -> Any:
    from plumetrace.io.evidence import read_coverage

    return read_coverage(d / "coverage.geojson")


def audit_files() -> dict[str, bytes]:
    """An audit's ``REPORT.json`` and ``REPORT.geojson``."""
    report = {
        "operator": "border-unit",
        "incursions": [
            {"zone": "MEX", "start": 10.0, "end": 40.0, "duration_s": 30.0, "max_depth_m": 120.0}
        ],
        "total_unauthorized_s": 30.0,
    }
    features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-106.5, 31.7], [-106.4, 31.8]]},
                "properties": {"kind": "track"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-106.45, 31.75]},
                "properties": {"kind": "deepest", "zone": "MEX"},
            },
        ],
    }
    return {
        "REPORT.json": json.dumps(report).encode(),
        "REPORT.geojson": json.dumps(features).encode(),
    }


def _read_audit(d: Path) -> Any:
    from plumetrace.io.audit_files import read_audit

    return read_audit(d / "REPORT.json")


# --------------------------------------------------------------------------- small tables

_GAS = (
    "# methane, made up\nwavelength_nm,absorption_per_ppm_m,note\n"
    '2300.0,-1.5e-6,a\n2200.0,-1.0e-6,b\n2300.0,-1.5e-6,a\n2400.0,-2.0e-6,"c, d"\n'
)
_LATLON = "# lat,lon\n31.8,-106.45\n\n31.9,-106.5\n32,-106\n"


def tables_files() -> dict[str, bytes]:
    """A gas target CSV, ``lat,lon`` lines, a JSON document."""
    return {
        "gas.csv": _GAS.encode(),
        "points.txt": _LATLON.encode(),
        "doc.json": b'{"a": [1, 2.5, null, true, "x\\u00e9"], "b": {"c": -1e-3}}',
    }


def _read_gas(d: Path) -> Any:
    from plumetrace.io.tables import read_gas_csv

    return read_gas_csv(d / "gas.csv")


def _read_latlon(d: Path) -> Any:
    from plumetrace.io.points import parse_latlon_lines

    text = (d / "points.txt").read_bytes().decode("utf-8", errors="replace")
    lat, lon = parse_latlon_lines(text, "points.txt")
    assert lat.shape == lon.shape
    return lat, lon


def _read_json(d: Path) -> Any:
    from plumetrace.io.tables import read_json

    return read_json(d / "doc.json")


# --------------------------------------------------------------------------- registry


def _v(name: str, files: Callable[[], Mapping[str, bytes]], main: str, read: Any) -> Variant:
    return Variant(name, files, main, read)


PARSERS: dict[str, Parser] = {
    p.name: p
    for p in (
        Parser(
            "envi_header",
            (_v("hdr", _envi_header_only, "scene.hdr", _read_envi_header),),
            text=True,
        ),
        Parser(
            "envi_radiance",
            (
                _v("header", envi_files, "scene.hdr", _open_radiance("scene.hdr")),
                _v("data", envi_files, "scene.img", _open_radiance("scene.img")),
            ),
            text=True,
        ),
        Parser(
            "netcdf",
            (_v("nc", netcdf_files, "scene.nc", _open_radiance("scene.nc")),),
            text=False,
        ),
        Parser(
            "geotiff",
            (
                _v("raster", geotiff_files, "raster.tif", _read_geotiff),
                _v("population", geotiff_files, "pop.tif", _read_population(None)),
                _v(
                    "population_bbox",
                    geotiff_files,
                    "pop.tif",
                    _read_population((-104.9995, 31.634, -104.9985, 31.635)),
                ),
            ),
            text=False,
        ),
        Parser(
            "gpx",
            (
                _v(
                    "gpx",
                    lambda: {"track.gpx": _GPX.encode()},
                    "track.gpx",
                    _read_track("track.gpx"),
                ),
            ),
            text=True,
        ),
        Parser(
            "track_csv",
            (
                _v("plain", lambda: {"t.csv": _TRACK_CSV.encode()}, "t.csv", _read_track("t.csv")),
                _v(
                    "iso", lambda: {"t.csv": _TRACK_CSV_ISO.encode()}, "t.csv", _read_track("t.csv")
                ),
            ),
            text=True,
        ),
        Parser(
            "mavlink",
            (
                _v("tlog", lambda: {"f.tlog": tlog_bytes()}, "f.tlog", _read_track("f.tlog")),
                _v("bin", lambda: {"f.bin": dataflash_bytes()}, "f.bin", _read_track("f.bin")),
            ),
            text=False,
        ),
        Parser(
            "readings",
            (
                _v("points", readings_files, "readings.csv", _read_readings),
                _v("beam_readings", readings_files, "readings_beams.csv", _read_beam_readings),
                _v("beams", readings_files, "beams.csv", _read_beam_readings),
                _v("wind", readings_files, "wind.csv", _read_wind),
                _v("wind_for_readings", readings_files, "wind.csv", _read_beam_readings),
            ),
            text=True,
        ),
        Parser(
            "operators",
            (
                _v("toml", toml_files, "operators.toml", _read_operators),
                _v("exclude", toml_files, "no-fly.geojson", _read_operators),
            ),
            text=True,
        ),
        Parser(
            "partners",
            (
                _v("partners", toml_files, "partners.toml", _read_partners),
                _v("policy", toml_files, "policy.toml", _read_policy),
            ),
            text=True,
        ),
        Parser(
            "geojson",
            (
                _v("collection", geojson_files, "mixed.geojson", _read_geojson),
                _v("aoi", geojson_files, "aoi.geojson", _read_aoi),
                _v("maritime", geojson_files, "limits.geojson", _read_maritime),
            ),
            text=True,
        ),
        Parser(
            "buildings",
            (_v("buildings", geojson_files, "buildings.geojson", _read_buildings),),
            text=True,
        ),
        Parser(
            "evidence",
            (
                _v("report", evidence_files, "report.json", _read_report),
                _v("plumes", evidence_files, "plumes.geojson", _read_detections("plumes.geojson")),
                _v("locate", evidence_files, "RESULT.json", _read_detections("RESULT.json")),
                _v("coverage", evidence_files, "coverage.geojson", _read_coverage),
            ),
            text=True,
        ),
        Parser(
            "audit",
            (
                _v("report", audit_files, "REPORT.json", _read_audit),
                _v("features", audit_files, "REPORT.geojson", _read_audit),
            ),
            text=True,
        ),
        Parser(
            "tables",
            (
                _v("gas_csv", tables_files, "gas.csv", _read_gas),
                _v("latlon", tables_files, "points.txt", _read_latlon),
                _v("json", tables_files, "doc.json", _read_json),
            ),
            text=True,
        ),
    )
}
"""Every fuzzed parser by name (the atheris targets are ``fuzz/fuzz_<name>.py``)."""
