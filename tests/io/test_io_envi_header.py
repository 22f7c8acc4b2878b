from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.envi import (
    DATA_TYPES,
    format_envi_header,
    parse_envi_header,
    read_envi_header,
)

AVIRIS_LIKE = """ENVI
description = {
  AVIRIS-NG radiance,  [Mon Oct 21 2019]}
; a comment line
Samples = 598
LINES   = 1000
bands= 3
header offset = 0
file type = ENVI Standard
data type = 4
interleave = BIL
sensor type = Unknown
byte order = 0
map info = { UTM , 1.000 , 1.000 , 724522.127 , 4074620.759 , 5.0 , 5.0 , 11 , North ,
 WGS-84 , units=Meters }
wavelength units = Micrometers
wavelength = {
 0.37686, 0.38187,
 0.38688 }
fwhm = { 0.0055, 0.0055, 0.0056 }
data ignore value = -9999
"""


def test_parses_a_realistic_header() -> None:
    h = parse_envi_header(AVIRIS_LIKE, "x.hdr")
    assert (h.samples, h.lines, h.bands) == (598, 1000, 3)
    assert h.interleave == "bil"
    assert h.data_type == 4 and h.byte_order == 0 and h.header_offset == 0
    assert h.dtype == np.dtype("<f4")
    assert h.shape == (1000, 598, 3)
    assert h.data_bytes == 1000 * 598 * 3 * 4
    assert h.wavelength_nm is not None and h.fwhm_nm is not None
    np.testing.assert_allclose(h.wavelength_nm, [376.86, 381.87, 386.88])
    np.testing.assert_allclose(h.fwhm_nm, [5.5, 5.5, 5.6])
    assert h.map_info is not None and h.map_info[0] == "UTM" and h.map_info[-1] == "units=Meters"
    assert h.data_ignore_value == -9999.0
    assert h.description == "AVIRIS-NG radiance, [Mon Oct 21 2019]"
    assert h.fields["sensor type"] == "Unknown"  # keys lower-case, single-spaced
    assert h.gain is None and h.offset is None and h.scale_factor is None


def test_gain_offset_and_scale_factor() -> None:
    text = (
        "ENVI\nsamples=2\nlines=2\nbands=2\ndata type=2\ninterleave=bsq\nbyte order=1\n"
        "data gain values = {0.5, 2}\ndata offset values = {1, -1,}\nscale factor = {1000}\n"
    )
    h = parse_envi_header(text)
    assert h.gain is not None and h.offset is not None
    np.testing.assert_array_equal(h.gain, [0.5, 2.0])
    np.testing.assert_array_equal(h.offset, [1.0, -1.0])
    assert h.scale_factor == 1000.0
    assert h.dtype == np.dtype(">i2")
    assert h.wavelength_nm is None


@pytest.mark.parametrize(("code", "dtype"), list(DATA_TYPES.items()))
def test_all_supported_data_types(code: int, dtype: np.dtype[np.generic]) -> None:
    h = parse_envi_header(f"ENVI\nsamples=1\nlines=1\nbands=1\ndata type={code}\ninterleave=bip")
    assert h.dtype.newbyteorder("=") == dtype


@pytest.mark.parametrize(
    ("units", "factor"),
    [("Micrometers", 1000.0), ("micrometers", 1000.0), ("um", 1000.0), ("Nanometers", 1.0)],
)
def test_wavelength_units(units: str, factor: float) -> None:
    text = (
        "ENVI\nsamples=1\nlines=1\nbands=2\ndata type=4\ninterleave=bil\n"
        f"wavelength units={units}\nwavelength={{2.1, 2.2}}"
    )
    h = parse_envi_header(text)
    assert h.wavelength_nm is not None
    np.testing.assert_allclose(h.wavelength_nm, np.array([2.1, 2.2]) * factor)


def test_missing_units_are_guessed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    text = "ENVI\nsamples=1\nlines=1\nbands=2\ndata type=4\ninterleave=bil\nwavelength={2.1, 2.2}"
    h = parse_envi_header(text)
    assert h.wavelength_nm is not None
    np.testing.assert_allclose(h.wavelength_nm, [2100.0, 2200.0])
    assert "micrometres" in caplog.text


BAD_HEADERS = [
    ("", "not an ENVI header"),
    ("ENV\nsamples=1", "not an ENVI header"),
    ("ENVI\nlines=1\nbands=1\ndata type=4\ninterleave=bil", "no 'samples' field"),
    ("ENVI\nsamples=x\nlines=1\nbands=1\ndata type=4", "'samples' must be a positive integer"),
    ("ENVI\nsamples=0\nlines=1\nbands=1\ndata type=4", "'samples' must be a positive integer"),
    (
        "ENVI\nsamples=1\nlines=1\nbands=1\ndata type=6",
        "'data type' 6 (complex64) is not supported",
    ),
    ("ENVI\nsamples=1\nlines=1\nbands=1\ndata type=4\ninterleave=bxx", "'interleave' must be"),
    ("ENVI\nsamples=1\nlines=1\nbands=1\ndata type=4\nbyte order=2", "'byte order' must be 0 or 1"),
    ("ENVI\nsamples=1\nlines=1\nbands=2\ndata type=4\nwavelength={1, 2", "never closed"),
    ("ENVI\nsamples=1\nlines=1\nbands=2\ndata type=4\nwavelength={1, x}", "item 2 is not a number"),
    ("ENVI\nsamples=1\nlines=1\nbands=2\ndata type=4\nwavelength={1, 2, 3}", "has 3 values"),
    ("ENVI\nsamples=1\nlines=1\nbands=1\ndata type=4\nscale factor=0", "'scale factor' must"),
    (
        "ENVI\nsamples=1\nlines=1\nbands=1\ndata type=4\nwavelength units=Index\nwavelength={1}",
        "wavelength units 'Index' are not supported",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_HEADERS)
def test_bad_headers_raise_format_error_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=r"^bad.hdr: ") as info:
        parse_envi_header(text, "bad.hdr")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_binary_garbage_header(tmp_path: Path) -> None:
    hdr = tmp_path / "garbage.hdr"
    hdr.write_bytes(np.random.default_rng(0).bytes(500) + b"\x00")
    with pytest.raises(FormatError, match=r"garbage.hdr: not an ENVI header"):
        read_envi_header(hdr)


def test_missing_header_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"nothere.hdr: ENVI header not found"):
        read_envi_header(tmp_path / "nothere.hdr")


def test_read_header_from_the_data_path(tmp_path: Path) -> None:
    (tmp_path / "a.hdr").write_text(
        "ENVI\nsamples=1\nlines=1\nbands=1\ndata type=1\ninterleave=bsq"
    )
    (tmp_path / "a.img").write_bytes(b"\x00")
    assert read_envi_header(tmp_path / "a.img").samples == 1


def test_stray_line_is_logged_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    h = parse_envi_header("ENVI\nsamples=1\nlines=1\nbands=1\ndata type=4\nhello world\n")
    assert h.interleave == "bsq"  # defaulted, and logged
    assert "not 'key = value'" in caplog.text
    assert "no 'interleave'" in caplog.text


finite = st.floats(min_value=1.0, max_value=1e5, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    samples=st.integers(1, 5000),
    lines=st.integers(1, 5000),
    bands=st.integers(1, 30),
    code=st.sampled_from(sorted(DATA_TYPES)),
    interleave=st.sampled_from(["bil", "bip", "bsq"]),
    byte_order=st.sampled_from([0, 1]),
    offset=st.integers(0, 4096),
    ignore=st.none() | st.floats(-1e6, 1e6, allow_nan=False),
    description=st.text(max_size=40),
    data=st.data(),
)
def test_format_then_parse_round_trips(
    samples: int,
    lines: int,
    bands: int,
    code: int,
    interleave: str,
    byte_order: int,
    offset: int,
    ignore: float | None,
    description: str,
    data: st.DataObject,
) -> None:
    wl = np.sort(np.array(data.draw(st.lists(finite, min_size=bands, max_size=bands))))
    gain = np.array(data.draw(st.lists(finite, min_size=bands, max_size=bands)))
    text = format_envi_header(
        samples=samples,
        lines=lines,
        bands=bands,
        data_type=code,
        interleave=interleave,  # type: ignore[arg-type]
        byte_order=byte_order,
        header_offset=offset,
        wavelength_nm=wl,
        fwhm_nm=wl / 100.0,
        gain=gain,
        data_ignore_value=ignore,
        description=description,
    )
    h = parse_envi_header(text)
    assert (h.samples, h.lines, h.bands, h.data_type) == (samples, lines, bands, code)
    assert (h.interleave, h.byte_order, h.header_offset) == (interleave, byte_order, offset)
    assert h.wavelength_nm is not None and h.fwhm_nm is not None and h.gain is not None
    np.testing.assert_array_equal(h.wavelength_nm, wl)
    np.testing.assert_array_equal(h.fwhm_nm, wl / 100.0)
    np.testing.assert_array_equal(h.gain, gain)
    assert h.data_ignore_value == ignore
    expected = " ".join(description.replace("{", "(").replace("}", ")").split())
    assert h.description == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "samples = 3",
                "lines=2",
                "bands = 2",
                "data type = 4",
                "interleave = bip",
                "wavelength = {1,",
                "2}",
                "}",
                "{",
                "=",
                "; c",
                "byte order = 1",
                "x",
                "",
                "wavelength units = nm",
                "map info = {UTM, 1}",
                "data type = 77",
            ]
        ),
        max_size=12,
    ),
    st.text(max_size=30),
)
def test_parser_never_raises_anything_but_format_error(lines: list[str], noise: str) -> None:
    text = "\n".join(["ENVI", *lines, noise])
    try:
        parse_envi_header(text, "fuzz.hdr")
    except FormatError as exc:
        assert str(exc).startswith("fuzz.hdr: ")
