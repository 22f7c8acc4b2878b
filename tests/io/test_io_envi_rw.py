from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io import EnviRadiance, EnviWriter, open_radiance, read_envi_header, write_envi
from plumetrace.io.envi import find_envi_pair

Bands = tuple[NDArray[np.float64], NDArray[np.float64]]

# (dtype, writer options, tolerance on radiance)
DTYPES: list[tuple[str, dict[str, Any], float]] = [
    ("float32", {}, 0.0),
    ("float64", {}, 1e-6),
    ("int16", {"gain": 0.001, "offset": 0.0}, 0.0005 + 1e-6),
]


@pytest.mark.parametrize("byte_order", [0, 1])
@pytest.mark.parametrize(("dtype", "opts", "tol"), DTYPES, ids=[d[0] for d in DTYPES])
@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
def test_round_trip(
    tmp_path: Path,
    cube: NDArray[np.float32],
    bands12: Bands,
    interleave: str,
    dtype: str,
    opts: dict[str, Any],
    tol: float,
    byte_order: int,
) -> None:
    wl, fw = bands12
    path = tmp_path / "cube.img"
    write_envi(
        path,
        cube,
        wavelength_nm=wl,
        fwhm_nm=fw,
        interleave=interleave,  # type: ignore[arg-type]
        dtype=dtype,
        byte_order=byte_order,
        **opts,
    )
    header = read_envi_header(path)
    assert header.interleave == interleave and header.byte_order == byte_order
    assert header.dtype == np.dtype(dtype).newbyteorder(">" if byte_order else "<")
    assert path.stat().st_size == cube.size * np.dtype(dtype).itemsize
    with open_radiance(path) as rc:
        assert isinstance(rc, EnviRadiance)
        assert rc.shape == cube.shape
        assert rc.dtype_on_disk == header.dtype
        np.testing.assert_array_equal(rc.wavelength_nm, wl)
        np.testing.assert_array_equal(rc.fwhm_nm, fw)
        full = rc.read()
        assert full.dtype == np.float32 and full.flags.c_contiguous
        np.testing.assert_allclose(full, cube, rtol=0, atol=tol)
        # band subsets (contiguous, strided, scattered and unsorted) and a column slice
        for sel in ([3, 4, 5, 6], slice(1, 11, 3), [0, 5, 11], [7, 2, 9]):
            part = rc.read(bands=sel, cols=slice(2, 6))
            assert part.flags.c_contiguous
            np.testing.assert_array_equal(part, full[:, 2:6][:, :, sel])
        np.testing.assert_array_equal(
            rc.read(rows=slice(1, 8, 2), cols=slice(-3, None), bands=np.arange(12) > 8),
            full[1:8:2, -3:, 9:],
        )


def test_int16_with_scale_factor_reads_correct_radiance(tmp_path: Path, bands12: Bands) -> None:
    """A raw int16 file with ``scale factor = 100`` holds radiance x 100."""
    wl, _ = bands12
    radiance = np.arange(3 * 4 * 12, dtype=np.float64).reshape(3, 4, 12) / 100.0 - 0.5
    raw = np.round(radiance * 100).astype("<i2")
    path = tmp_path / "scaled"
    path.write_bytes(np.ascontiguousarray(raw.transpose(0, 2, 1)).tobytes())  # BIL
    wl_text = ", ".join(map(str, wl))
    Path(str(path) + ".hdr").write_text(
        "ENVI\nsamples = 4\nlines = 3\nbands = 12\ndata type = 2\ninterleave = bil\n"
        f"byte order = 0\nscale factor = 100\nwavelength = {{{wl_text}}}\n"
        "wavelength units = Nanometers\ndata ignore value = -50\n"
    )
    with open_radiance(path) as rc:
        out = rc.read()
    expected = radiance.astype(np.float32)
    expected[raw == -50] = np.nan
    assert np.isnan(out).sum() == 1
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "int16", "int32", "float64"])
def test_nan_written_as_ignore_value_and_read_back_as_nan(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands, dtype: str
) -> None:
    wl, fw = bands12
    data = cube.copy()
    data[2, 3, 4] = np.nan
    data[0, 0, :] = np.nan
    path = tmp_path / "holes.img"
    write_envi(path, data, wavelength_nm=wl, fwhm_nm=fw, dtype=dtype, data_ignore_value=-9999)
    with open_radiance(path) as rc:
        out = rc.read()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(data))
    tol = 0.5 if dtype.startswith("int") else 1e-6
    np.testing.assert_allclose(out, data, atol=tol)


def test_integer_dtype_rejects_nan_without_ignore_value(
    tmp_path: Path, cube: NDArray[np.float32]
) -> None:
    data = cube.copy()
    data[0, 0, 0] = np.nan
    with pytest.raises(InvalidParameterError, match=r"set data_ignore_value"):
        write_envi(tmp_path / "x.img", data, dtype="int16")
    assert list(tmp_path.iterdir()) == []  # no temp files left behind


def test_integer_overflow_is_an_error(tmp_path: Path, cube: NDArray[np.float32]) -> None:
    with pytest.raises(InvalidParameterError, match=r"do not fit int16"):
        write_envi(tmp_path / "x.img", cube, dtype="int16", gain=1e-4)


def test_streaming_writer_block_by_block(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands
) -> None:
    wl, fw = bands12
    path = tmp_path / "stream.bsq"
    with EnviWriter(path, 9, 7, 12, wavelength_nm=wl, fwhm_nm=fw, interleave="bsq") as w:
        for r0 in (6, 0, 3):  # any order
            w.write_rows(r0, cube[r0 : r0 + 3])
        assert not path.exists()  # nothing visible until close
    assert w.closed
    with open_radiance(path) as rc:
        np.testing.assert_array_equal(rc.read(), cube)


def test_writer_failure_keeps_the_existing_pair(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands
) -> None:
    wl, fw = bands12
    path = tmp_path / "keep.img"
    write_envi(path, cube, wavelength_nm=wl, fwhm_nm=fw)
    before = (path.read_bytes(), Path(str(path) + ".hdr").read_text())
    with (
        pytest.raises(RuntimeError, match=r"boom"),
        EnviWriter(path, 9, 7, 12, wavelength_nm=wl, fwhm_nm=fw) as w,
    ):
        w.write_rows(0, cube[:4] * 2)
        raise RuntimeError("boom")
    assert (path.read_bytes(), Path(str(path) + ".hdr").read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.img", "keep.img.hdr"]


def test_unwritten_rows_are_an_error(tmp_path: Path, cube: NDArray[np.float32]) -> None:
    w = EnviWriter(tmp_path / "part.img", 9, 7, 12)
    w.write_rows(0, cube[:3])
    with pytest.raises(InvalidParameterError, match=r"rows 3-8 of 9 were never written"):
        w.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("row_start", "shape", "message"),
    [(0, (3, 6, 12), "block must have shape"), (8, (3, 7, 12), "outside the image")],
)
def test_write_rows_checks_the_block(
    tmp_path: Path, row_start: int, shape: tuple[int, int, int], message: str
) -> None:
    with EnviWriter(tmp_path / "x.img", 9, 7, 12) as w:
        with pytest.raises(InvalidParameterError, match=message):
            w.write_rows(row_start, np.zeros(shape))
        w.abort()


# ----------------------------------------------------------------- bad files on disk


def test_truncated_data_file(tmp_path: Path, header_text: Any, write_pair: Any) -> None:
    data = write_pair(header_text(samples=598, lines=10, bands=2), b"\x00" * 1000)
    with pytest.raises(FormatError) as info:
        open_radiance(data)
    msg = str(info.value)
    assert msg.startswith(f"{data}: data file is truncated: 1000 bytes")
    assert "10 lines x 598 samples x 2 bands of float32 need 47840 bytes" in msg


def test_oversize_data_file(tmp_path: Path, header_text: Any, write_pair: Any) -> None:
    data = write_pair(header_text(), b"\x00" * (4 * 3 * 2 * 4 + 8))
    with pytest.raises(FormatError, match=r"disagrees with the header: 104 bytes.*need 96 bytes"):
        open_radiance(data)


def test_header_offset_counts_in_size_check(
    tmp_path: Path, header_text: Any, write_pair: Any
) -> None:
    text = header_text().replace("header offset = 0", "header offset = 16")
    data = write_pair(text, b"\x00" * 96)
    with pytest.raises(FormatError, match=r"16-byte header offset"):
        open_radiance(data)
    data.write_bytes(b"\xff" * 16 + np.arange(24, dtype="<f4").tobytes())
    with open_radiance(data) as rc:
        out = rc.read()
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 2, 3])  # BIL: line 0 band 0
    np.testing.assert_array_equal(out[0, :, 1], [4, 5, 6, 7])


def test_header_size_disagreement_with_bands(
    tmp_path: Path, header_text: Any, write_pair: Any
) -> None:
    write_pair(header_text(bands=3), np.zeros(4 * 3 * 2, "<f4").tobytes())
    with pytest.raises(FormatError, match=r"scene.img: data file is truncated"):
        open_radiance(tmp_path / "scene.hdr")


def test_missing_wavelength(tmp_path: Path, write_pair: Any) -> None:
    text = "ENVI\nsamples=2\nlines=2\nbands=2\ndata type=4\ninterleave=bil\n"
    write_pair(text, np.zeros(8, "<f4").tobytes())
    with pytest.raises(FormatError, match=r"scene.hdr: no wavelength in the header"):
        open_radiance(tmp_path / "scene.img")
    assert read_envi_header(tmp_path / "scene.img").wavelength_nm is None  # fine when not needed


def test_missing_hdr(tmp_path: Path) -> None:
    data = tmp_path / "lonely.img"
    data.write_bytes(b"\x00" * 16)
    with pytest.raises(DataSourceError, match=r"lonely.img: no ENVI header found beside it"):
        open_radiance(data)


def test_missing_data_file(tmp_path: Path, header_text: Any) -> None:
    (tmp_path / "only.hdr").write_text(header_text())
    with pytest.raises(DataSourceError, match=r"only.hdr: ENVI header without a data file"):
        open_radiance(tmp_path / "only.hdr")
    with pytest.raises(DataSourceError, match=r"only.img: data file not found \(its header"):
        open_radiance(tmp_path / "only.img")


def test_garbage_header_via_open_radiance(tmp_path: Path, write_pair: Any) -> None:
    data = write_pair("this is not a header\n", b"\x00" * 16)
    with pytest.raises(FormatError, match=r"scene.hdr: not an ENVI header"):
        open_radiance(data)


@pytest.mark.parametrize(
    ("data_name", "header_name"),
    [
        ("s.img", "s.hdr"),
        ("s.img", "s.img.hdr"),
        ("s", "s.hdr"),
        ("s.dat", "s.hdr"),
        ("s.bil", "s.bil.hdr"),
        ("s.bsq", "s.hdr"),
    ],
)
def test_find_pair_from_either_file(tmp_path: Path, data_name: str, header_name: str) -> None:
    (tmp_path / data_name).write_bytes(b"")
    (tmp_path / header_name).write_text("ENVI\n")
    expected = (tmp_path / header_name, tmp_path / data_name)
    assert find_envi_pair(tmp_path / data_name) == expected
    assert find_envi_pair(tmp_path / header_name) == expected


def test_closed_cube_refuses_reads(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands
) -> None:
    wl, fw = bands12
    write_envi(tmp_path / "c.img", cube, wavelength_nm=wl, fwhm_nm=fw)
    rc = open_radiance(tmp_path / "c.img")
    rc.close()
    with pytest.raises(DataSourceError, match=r"c.img: the radiance file is closed"):
        rc.read()


def test_fwhm_estimated_from_spacing(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands, caplog: pytest.LogCaptureFixture
) -> None:
    wl, _ = bands12
    write_envi(tmp_path / "c.img", cube, wavelength_nm=wl)
    with open_radiance(tmp_path / "c.img") as rc:
        np.testing.assert_allclose(rc.fwhm_nm, np.full(12, 45.0))
    assert "no FWHM" in caplog.text


@pytest.mark.parametrize(
    ("wavelengths", "message"),
    [
        ("2000, 2010, 2010", "wavelengths must increase strictly: band 2 is 2010 nm after 2010 nm"),
        ("2000, 1990, 2010", "wavelengths must increase strictly"),
        ("2000, nan, 2010", "wavelength of band 1 is nan"),
    ],
)
def test_bad_wavelengths(tmp_path: Path, write_pair: Any, wavelengths: str, message: str) -> None:
    text = (
        "ENVI\nsamples=1\nlines=1\nbands=3\ndata type=4\ninterleave=bip\n"
        f"wavelength units = Nanometers\nwavelength = {{{wavelengths}}}\n"
    )
    write_pair(text, np.zeros(3, "<f4").tobytes())
    with pytest.raises(FormatError, match=r"scene.hdr: " + message.replace("(", r"\(")):
        open_radiance(tmp_path / "scene.img")


def test_unknown_extension(tmp_path: Path) -> None:
    p = tmp_path / "scene.xyz"
    p.write_bytes(b"abc")
    with pytest.raises(FormatError, match=r"scene.xyz: unknown radiance format"):
        open_radiance(p)
    with pytest.raises(DataSourceError, match=r"nothing.xyz: file not found"):
        open_radiance(tmp_path / "nothing.xyz")


def test_bad_selection_arguments(tmp_path: Path, cube: NDArray[np.float32], bands12: Bands) -> None:
    wl, fw = bands12
    write_envi(tmp_path / "c.img", cube, wavelength_nm=wl, fwhm_nm=fw)
    with open_radiance(tmp_path / "c.img") as rc:
        with pytest.raises(InvalidParameterError, match=r"out of range"):
            rc.read(bands=[0, 12])
        with pytest.raises(InvalidParameterError, match=r"step must be positive"):
            rc.read(cols=slice(None, None, -1))
        with pytest.raises(InvalidParameterError, match=r"cols must be a slice"):
            rc.read(cols=3)  # type: ignore[arg-type]
        assert rc.read(bands=[], rows=slice(2, 2)).shape == (0, 7, 0)
        np.testing.assert_array_equal(rc.bands_between(2040, 2180), [1, 2, 3, 4])
        assert "EnviRadiance" in repr(rc)


def test_failing_finish_keeps_the_existing_pair(
    tmp_path: Path, cube: NDArray[np.float32], bands12: Bands, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    wl, fw = bands12
    path = tmp_path / "keep.img"
    write_envi(path, cube, wavelength_nm=wl, fwhm_nm=fw)
    before = path.read_bytes()

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(DataSourceError, match=r"keep.img: cannot write: No space left on device"):
        write_envi(path, cube * 2, wavelength_nm=wl, fwhm_nm=fw)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.img", "keep.img.hdr"]


def test_write_into_missing_directory(tmp_path: Path, cube: NDArray[np.float32]) -> None:
    with pytest.raises(DataSourceError, match=r"cannot write: directory .* does not exist"):
        write_envi(tmp_path / "nope" / "x.img", cube)
