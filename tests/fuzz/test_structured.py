"""Property tests with generated (not mutated) content: absurd dimensions, odd values.

Mutating valid files rarely produces a header that claims 10⁹ x 10⁹ samples, a
geometry nested a thousand deep or a coordinate of 10⁴⁰⁰; these tests build such
inputs on purpose.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumetrace.errors import FormatError, PlumetraceError
from plumetrace.io.readings import BEAMS_COLUMNS
from tests.fuzz.harness import bounded, check_error
from tests.fuzz.samples import consume

EXAMPLES = int(os.environ.get("PLUMETRACE_FUZZ_EXAMPLES", "60"))

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _outcome(call: Any) -> Any:
    """Run ``call`` within the time and memory bounds; a PlumetraceError is checked."""
    with bounded():
        try:
            return call()
        except PlumetraceError as exc:
            check_error(exc)
            return exc


# --------------------------------------------------------------------------- ENVI

_int_text = st.one_of(
    st.integers(-3, 8).map(str),
    st.integers(0, 10**30).map(str),
    st.sampled_from(["1000000000", "", "nan", "1e9", "0x10", "1_0", "٣", "-0", "4.0", "9" * 5000]),
)


@st.composite
def envi_headers(draw: st.DrawFn) -> tuple[str, bytes]:
    fields = {
        "samples": draw(_int_text),
        "lines": draw(_int_text),
        "bands": draw(_int_text),
        "data type": draw(st.sampled_from(["1", "2", "4", "5", "6", "12", "15", "0", "99"])),
        "interleave": draw(st.sampled_from(["bil", "BIP", "bsq", "bxx", ""])),
        "byte order": draw(st.sampled_from(["0", "1", "2", "-1"])),
        "header offset": draw(st.sampled_from(["0", "4", "-1", "18446744073709551616"])),
    }
    if draw(st.booleans()):
        n = draw(st.integers(0, 6))
        values = draw(
            st.lists(
                st.sampled_from(["2000", "2010.5", "nan", "inf", "-1", "1e400", "x", "0.5"]),
                min_size=n,
                max_size=n,
            )
        )
        fields["wavelength"] = "{" + ", ".join(values) + "}"
        fields["wavelength units"] = draw(st.sampled_from(["Nanometers", "um", "", "parsecs"]))
    for key in ("fwhm", "data gain values", "data offset values"):
        if draw(st.booleans()):
            fields[key] = (
                "{"
                + ", ".join(
                    draw(st.lists(st.sampled_from(["1", "nan", "1e39", "0", "-2"]), max_size=5))
                )
                + "}"
            )
    for key in ("scale factor", "data ignore value"):
        if draw(st.booleans()):
            fields[key] = draw(
                st.sampled_from(["1", "0", "1e-300", "1e300", "nan", "inf", "-9999", "1, 2"])
            )
    if draw(st.booleans()):
        fields["map info"] = (
            "{"
            + draw(
                st.sampled_from(
                    [
                        "UTM, 1, 1, 500000, 3500000, 30, 30, 13, North, WGS-84",
                        "UTM, 1, 1, 5e5, 3.5e6, 30, 30, 1e400, North",
                        "UTM, 1, 1, 5e5, 3.5e6, 30, 30, nan, South, NAD27",
                        "Geographic Lat/Lon, 1, 1, -106, 31, 1e-300, 1e-300, WGS-84, rotation=inf",
                        "Arbitrary, 1, 1, 1e308, -1e308, 1e308, 1e308, rotation=1e308",
                        "UTM, 1",
                    ]
                )
            )
            + "}"
        )
    text = "ENVI\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    data = draw(st.one_of(st.binary(max_size=256), st.just(b"\x00" * 4 * 24)))
    return text, data


@fuzz_settings
@given(envi_headers())
def test_generated_envi_headers_fail_cleanly(sample: tuple[str, bytes]) -> None:
    from plumetrace.io import open_radiance

    text, data = sample
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s.hdr").write_text(text, encoding="utf-8")
        (Path(tmp) / "s.img").write_bytes(data)
        _outcome(lambda: consume(open_radiance(Path(tmp) / "s.hdr")))


@pytest.mark.parametrize(
    "dims",
    [(10**9, 10**9, 10**9), (2**31, 2**31, 1), (10**18, 1, 1), (1, 1, 2**62)],
)
def test_absurd_envi_dimensions_are_refused_before_allocating(
    tmp_path: Path, dims: tuple[int, int, int]
) -> None:
    from plumetrace.io import open_radiance

    samples, lines, bands = dims
    wl = ", ".join(str(1000 + k) for k in range(min(bands, 3)))
    (tmp_path / "s.hdr").write_text(
        f"ENVI\nsamples = {samples}\nlines = {lines}\nbands = {bands}\ndata type = 4\n"
        f"interleave = bil\nwavelength = {{{wl}}}\n"
    )
    (tmp_path / "s.img").write_bytes(b"\x00" * 64)
    with bounded(seconds=2.0, headroom=256 * 2**20), pytest.raises(FormatError) as err:
        open_radiance(tmp_path / "s.hdr")
    check_error(err.value)


# --------------------------------------------------------------------------- rasters


@pytest.mark.parametrize("size", [(200_000, 200_000), (40_000, 1_000_000)])
def test_a_geotiff_claiming_huge_dimensions_is_refused(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    import rasterio
    from rasterio.transform import Affine

    from plumetrace.io import read_geotiff
    from plumetrace.io.context import read_population

    height, width = size
    path = tmp_path / "huge.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        tiled=True,
        blockxsize=512,
        blockysize=512,
        sparse_ok=True,
        compress="deflate",
        crs="EPSG:32613",
        transform=Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 3500000.0),
        BIGTIFF="YES",
    ):
        pass  # nothing written: a few kB of tile offsets claiming 40 billion pixels
    assert path.stat().st_size < 50 * 2**20
    for read in (read_geotiff, read_population):
        with bounded(seconds=5.0, headroom=512 * 2**20), pytest.raises(FormatError) as err:
            read(path)
        check_error(err.value)
        assert "samples one read loads" in str(err.value)


def test_a_netcdf_claiming_huge_dimensions_is_refused(tmp_path: Path) -> None:
    import netCDF4

    from plumetrace.io import open_radiance

    path = tmp_path / "huge.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("downtrack", 10**6)
        ds.createDimension("crosstrack", 10**6)
        ds.createDimension("bands", 3)
        ds.createVariable(
            "radiance", "f4", ("downtrack", "crosstrack", "bands"), chunksizes=(64, 64, 3)
        )
        grp = ds.createGroup("sensor_band_parameters")
        grp.createDimension("bands", 3)
        grp.createVariable("wavelengths", "f4", ("bands",))[:] = [2000.0, 2010.0, 2020.0]
        grp.createVariable("fwhm", "f4", ("bands",))[:] = [6.0, 6.0, 6.0]
        loc = ds.createGroup("location")
        for name in ("lat", "lon"):
            loc.createVariable(name, "f8", ("downtrack", "crosstrack"), chunksizes=(256, 256))
    assert path.stat().st_size < 50 * 2**20
    with bounded(seconds=5.0, headroom=512 * 2**20), pytest.raises(FormatError) as err:
        open_radiance(path)
    check_error(err.value)


# --------------------------------------------------------------------------- JSON documents

_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.sampled_from([10**400, -(10**400), 2**63, 0]),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, st.text(max_size=8))
_json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=30,
)
_positions = st.lists(st.one_of(_numbers, _scalars), min_size=0, max_size=4)


def _nested(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return _positions
    return st.one_of(_positions, st.lists(_nested(depth - 1), max_size=5))


_geometry_types = st.sampled_from(
    [
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "Circle",
        None,
    ]
)


_coordinate = st.one_of(st.integers(-200, 200), st.floats(-200, 200))


def _number_arrays(depth: int) -> st.SearchStrategy[Any]:
    """Positions nested ``depth`` deep: plausible shapes, too few or mixed-size positions."""
    if depth == 1:
        return st.lists(_coordinate, min_size=1, max_size=3)
    return st.lists(_number_arrays(depth - 1), max_size=5)


@st.composite
def geometries(draw: st.DrawFn, depth: int = 0) -> Any:
    kind = draw(_geometry_types)
    if draw(st.booleans()):
        return {"type": kind, "coordinates": draw(_number_arrays(draw(st.integers(1, 4))))}
    if depth < 2 and draw(st.integers(0, 5)) == 0:
        return {
            "type": "GeometryCollection",
            "geometries": draw(st.lists(geometries(depth + 1), max_size=3)),
        }
    if draw(st.integers(0, 8)) == 0:
        return draw(_json_values)
    return {"type": kind, "coordinates": draw(_nested(3))}


def _deep_collection(depth: int) -> dict[str, Any]:
    geom: dict[str, Any] = {"type": "Point", "coordinates": [0, 0]}
    for _ in range(depth):
        geom = {"type": "GeometryCollection", "geometries": [geom]}
    return geom


_properties = st.one_of(
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries(
        {},
        optional={
            "kind": st.one_of(
                st.sampled_from(["track", "school", "hospital", "building"]), _json_values
            ),
            "residential": _json_values,
            "source_lat": _numbers,
            "source_lon": _numbers,
            "source_uncertainty_m": _numbers,
            "flux_kg_h": st.one_of(st.none(), _numbers),
            "flux_kg_h_ci68": _json_values,
            "flux_kg_h_sigma": st.one_of(st.none(), _numbers, _json_values),
            "confidence": st.one_of(st.none(), _numbers),
            "id": _json_values,
            "ISO_TER1": st.one_of(st.sampled_from(["MEX", "usa", " X "]), _json_values),
        },
    ),
)


@st.composite
def feature_collections(draw: st.DrawFn) -> Any:
    feature = st.fixed_dictionaries(
        {"type": st.sampled_from(["Feature", "Feature", "Feature", "Other"])},
        optional={
            "geometry": st.one_of(st.none(), geometries()),
            "properties": _properties,
            "id": _json_values,
        },
    )
    features = draw(st.lists(feature, max_size=4))
    if draw(st.integers(0, 10)) == 0:
        features.append(
            {"type": "Feature", "geometry": _deep_collection(draw(st.integers(50, 2000)))}
        )
    return {
        "type": draw(st.sampled_from(["FeatureCollection"] * 4 + ["Feature", "Polygon", "x"])),
        "features": features,
    }


def _geojson_readers() -> dict[str, Any]:
    from plumetrace.io.audit_files import read_audit
    from plumetrace.io.context import read_buildings
    from plumetrace.io.evidence import read_coverage, read_detections
    from plumetrace.io.geojson import read_geojson, read_polygons
    from plumetrace.io.maritime import read_maritime_limits

    return {
        "geojson": read_geojson,
        "polygons": read_polygons,
        "coverage": read_coverage,
        "detections": read_detections,
        "buildings": read_buildings,
        "maritime": read_maritime_limits,
        "audit": read_audit,
    }


def _dump(doc: Any) -> bytes:
    try:
        return json.dumps(doc).encode()  # NaN and Infinity as JSON's common extension
    except (ValueError, RecursionError):  # an integer beyond int->str's digit limit
        return b"[1e999]"


@fuzz_settings
@given(doc=feature_collections(), reader=st.sampled_from(sorted(_geojson_readers())))
def test_generated_geojson_fails_cleanly(doc: Any, reader: str) -> None:
    read = _geojson_readers()[reader]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.geojson"
        path.write_bytes(_dump(doc))
        if reader == "audit":
            (Path(tmp) / "doc.json").write_text(
                '{"operator": "x", "incursions": [], "total_unauthorized_s": 0}'
            )
            path = Path(tmp) / "doc.json"
        _outcome(lambda: read(path))


_report_keys = {
    "id": st.one_of(st.text(max_size=70), _json_values),
    "time": st.one_of(
        st.datetimes().map(lambda d: d.isoformat()),
        st.sampled_from(
            ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-10:00", "2026-05-01T17:00Z", "x"]
        ),
        _json_values,
    ),
    "lat": _numbers,
    "lon": _numbers,
    "uncertainty_m": st.one_of(_numbers, _json_values),
    "source_reliability": st.one_of(st.sampled_from("ABCDEFG"), _json_values),
    "credibility": st.one_of(st.integers(0, 7), _json_values),
    "text": st.one_of(st.text(max_size=10), _json_values),
    "organization": st.one_of(st.none(), st.text(max_size=10), _json_values),
    "rate_kg_h": st.one_of(st.none(), _numbers, _json_values),
    "rate_kg_h_ci68": _json_values,
    "position_ci68_m": st.one_of(_numbers, _json_values),
}


@fuzz_settings
@given(
    doc=st.fixed_dictionaries({}, optional=_report_keys),
    reader=st.sampled_from(["report", "detections"]),
)
def test_generated_reports_fail_cleanly(doc: dict[str, Any], reader: str) -> None:
    from plumetrace.io.evidence import read_detections, read_report

    read = read_report if reader == "report" else read_detections
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.json"
        path.write_bytes(_dump(doc))
        result = _outcome(lambda: read(path))
    if not isinstance(result, PlumetraceError) and reader == "report":
        assert math.isfinite(result.lat) and math.isfinite(result.lon)


# --------------------------------------------------------------------------- CSV tables

_cells = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1.5",
            "-3",
            "nan",
            "inf",
            "1e400",
            "2017-05-09T11:26:00Z",
            "0001-01-01T00:00+01:00",
            "x",
            '"',
            "1,2",
            "#",
            "٣",
            "²",
        ]
    ),
    st.text(max_size=6),
    st.floats(allow_nan=True).map(repr),
)

_csv_files = {
    "readings": (
        "time",
        "x_m",
        "y_m",
        "z_m",
        "beam_id",
        "conc_ppm",
        "background_ppm",
        "wind_speed_m_s",
        "wind_dir_deg",
        "turbulence",
    ),
    "beams": BEAMS_COLUMNS,
    "wind": ("time", "wind_speed_m_s", "wind_dir_deg", "turbulence"),
    "track": ("time", "lat", "lon", "alt_m"),
    "gas": ("wavelength_nm", "absorption_per_ppm_m"),
}


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(sorted(_csv_files)))
    known = list(_csv_files[kind])
    header = draw(
        st.lists(st.sampled_from([*known, "other", ""]), min_size=1, max_size=len(known) + 2)
    )
    if draw(st.booleans()):
        header = [c for c in known if c != "beam_id" or kind == "beams"]
    width = st.integers(max(1, len(header) - 1), len(header) + 1)
    rows = draw(
        st.lists(width.flatmap(lambda n: st.lists(_cells, min_size=n, max_size=n)), max_size=6)
    )
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return kind, "\n".join(lines) + "\n"


@fuzz_settings
@given(table=csv_tables())
def test_generated_csv_tables_fail_cleanly(table: tuple[str, str]) -> None:
    from plumetrace.io.readings import read_beams, read_readings
    from plumetrace.io.tables import read_gas_csv
    from plumetrace.io.tracks import read_track
    from plumetrace.io.wind import read_wind

    kind, text = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        wind = Path(tmp) / "w.csv"
        wind.write_text("time,wind_speed_m_s,wind_dir_deg\n0,3,270\n1e12,3,270\n")
        beams = Path(tmp) / "b.csv"
        beams.write_text(
            "beam_id,sensor_x_m,sensor_y_m,sensor_z_m,reflector_x_m,reflector_y_m,reflector_z_m\n"
            "1,0,0,1,10,0,1\n²,0,0,1,0,10,1\n" + "9" * 5000 + ",0,0,1,5,5,1\n"
        )
        read: Any = {
            "readings": lambda: read_readings(path, beams=beams, wind=wind).groups(),
            "beams": lambda: read_beams(path),
            "wind": lambda: read_wind(path),
            "track": lambda: read_track(path),
            "gas": lambda: read_gas_csv(path),
        }[kind]
        result = _outcome(read)
    if kind == "track" and not isinstance(result, PlumetraceError):
        assert np.all(np.isfinite(result.lat)) and np.all(np.diff(result.time_s) > 0)
