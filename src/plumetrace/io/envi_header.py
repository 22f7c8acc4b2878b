"""ENVI header (``.hdr``) text: parse into :class:`EnviHeader` and format for writing.

The header is ``ENVI`` on the first line followed by ``key = value`` lines. Values in
braces may span lines; lines starting with ``;`` are comments; keys are case-insensitive
(they are stored lower-case with single spaces). Reference: the ENVI header format
description, NV5 Geospatial documentation "ENVI Header Files".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from plumetrace.errors import DataSourceError, FormatError

__all__ = [
    "DATA_TYPES",
    "EnviHeader",
    "Interleave",
    "data_type_code",
    "format_envi_header",
    "load_envi_header",
    "parse_envi_header",
]

logger = logging.getLogger(__name__)

Interleave = Literal["bil", "bip", "bsq"]

DATA_TYPES: Mapping[int, np.dtype[np.generic]] = MappingProxyType(
    {
        1: np.dtype(np.uint8),
        2: np.dtype(np.int16),
        3: np.dtype(np.int32),
        4: np.dtype(np.float32),
        5: np.dtype(np.float64),
        12: np.dtype(np.uint16),
        13: np.dtype(np.uint32),
        14: np.dtype(np.int64),
        15: np.dtype(np.uint64),
    }
)
"""ENVI ``data type`` codes plumetrace reads and writes, with their numpy types."""

_UNSUPPORTED_TYPES = {6: "complex64", 9: "complex128"}
_MAX_HEADER_BYTES = 16 * 1024 * 1024
_MICROMETRE_UNITS = {"micrometers", "micrometer", "micrometres", "micrometre", "microns"}
_MICROMETRE_UNITS |= {"micron", "um", "µm", "μm"}
_NANOMETRE_UNITS = {"nanometers", "nanometer", "nanometres", "nanometre", "nm"}
_GUESS_UNITS = {"", "unknown"}


def data_type_code(dtype: DTypeLike) -> int:
    """Return the ENVI ``data type`` code of a numpy dtype (any byte order).

    Raises
    ------
    ValueError
        If ENVI has no code for the type plumetrace supports.
    """
    dt = np.dtype(dtype).newbyteorder("=")
    for code, known in DATA_TYPES.items():
        if known == dt:
            return code
    names = ", ".join(str(d) for d in DATA_TYPES.values())
    raise ValueError(f"ENVI cannot store {dt}; use one of {names}")


@dataclass(frozen=True, eq=False)
class EnviHeader:
    """The parsed content of an ENVI header.

    Attributes
    ----------
    samples, lines, bands : int
        Columns, rows and spectral bands of the data file.
    header_offset : int, bytes
        Bytes to skip at the start of the data file.
    data_type : int
        ENVI type code (see :data:`DATA_TYPES`).
    interleave : {'bil', 'bip', 'bsq'}
        Sample order on disk.
    byte_order : {0, 1}
        0 little-endian, 1 big-endian.
    wavelength_nm : (bands,) ndarray or None, nm
        Band centres, converted to nm from the header's ``wavelength units``.
    fwhm_nm : (bands,) ndarray or None, nm
        Band full widths at half maximum.
    map_info : list of str or None
        The ``map info`` items, unparsed.
    coordinate_system_string : str or None
        The WKT of ``coordinate system string``.
    data_ignore_value : float or None
        Raw value that marks missing data.
    gain, offset : (bands,) ndarray or None
        ``data gain values`` / ``data offset values``: ``value = gain * raw + offset``.
    scale_factor : float or None
        ``scale factor``: ``value = raw / scale_factor``.
    description : str
        Free text.
    fields : mapping of str to str
        Every field as written (brace contents without the braces), keys lower-case.
    """

    samples: int
    lines: int
    bands: int
    data_type: int
    interleave: Interleave
    byte_order: Literal[0, 1] = 0
    header_offset: int = 0
    wavelength_nm: NDArray[np.float64] | None = None
    fwhm_nm: NDArray[np.float64] | None = None
    map_info: list[str] | None = None
    coordinate_system_string: str | None = None
    data_ignore_value: float | None = None
    gain: NDArray[np.float64] | None = None
    offset: NDArray[np.float64] | None = None
    scale_factor: float | None = None
    description: str = ""
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def dtype(self) -> np.dtype[np.generic]:
        """The numpy type of one sample on disk, with its byte order."""
        return DATA_TYPES[self.data_type].newbyteorder(">" if self.byte_order else "<")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(lines, samples, bands)``: the cube shape in memory order (row, col, band)."""
        return (self.lines, self.samples, self.bands)

    @property
    def data_bytes(self) -> int:
        """Bytes of sample data the header describes (without the header offset)."""
        return self.lines * self.samples * self.bands * self.dtype.itemsize


# --------------------------------------------------------------------------- parsing


def _decode(raw: bytes, source: Path) -> str:
    if b"\x00" in raw:
        raise FormatError(source, "not an ENVI header: it is binary, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_envi_header(header_path: str | Path) -> EnviHeader:
    """Read and parse the ENVI header file at ``header_path`` (the ``.hdr`` itself).

    Raises
    ------
    DataSourceError
        If the file cannot be read.
    FormatError
        If it is not a valid ENVI header.
    """
    path = Path(header_path)
    try:
        size = path.stat().st_size
        if size > _MAX_HEADER_BYTES:
            raise FormatError(path, f"not an ENVI header: {size} bytes is far too large")
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataSourceError(path, "ENVI header not found") from exc
    except IsADirectoryError as exc:
        raise DataSourceError(path, "is a directory, not an ENVI header") from exc
    except OSError as exc:
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(path, f"cannot read the ENVI header: {exc.strerror or exc}") from exc
    return parse_envi_header(_decode(raw, path), path)


def _split_fields(text: str, source: Path) -> dict[str, str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip().upper() != "ENVI":
        first = lines[0].strip()[:40] if lines else ""
        raise FormatError(source, f"not an ENVI header: the first line is {first!r}, not 'ENVI'")
    fields: dict[str, str] = {}
    i = 1
    while i < len(lines):
        stripped = lines[i].strip()
        lineno = i + 1
        i += 1
        if not stripped or stripped.startswith(";"):
            continue
        key, sep, value = stripped.partition("=")
        key = " ".join(key.lower().split())
        if not sep or not key:
            logger.warning(
                "%s: line %d ignored, not 'key = value': %.60s", source, lineno, stripped
            )
            continue
        value = value.strip()
        if value.startswith("{"):
            buf = value
            while "}" not in buf:
                if i >= len(lines):
                    raise FormatError(
                        source, f"line {lineno}: the '{{' of {key!r} is never closed with '}}'"
                    )
                buf += "\n" + lines[i]
                i += 1
            end = buf.index("}")
            if buf[end + 1 :].strip():
                logger.warning("%s: text after '}' of %r ignored", source, key)
            value = buf[1:end].strip()
        if key in fields:
            logger.warning("%s: %r appears twice; the last value is used", source, key)
        fields[key] = value
    return fields


def _get_int(
    fields: Mapping[str, str], key: str, source: Path, *, minimum: int, default: int | None = None
) -> int:
    text = fields.get(key)
    if text is None:
        if default is None:
            raise FormatError(source, f"the ENVI header has no {key!r} field")
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        need = "a positive integer" if minimum > 0 else "an integer >= 0"
        raise FormatError(source, f"{key!r} must be {need}, got {text!r}")
    return value


def _get_float(fields: Mapping[str, str], key: str, source: Path) -> float | None:
    text = fields.get(key)
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        if len(items) != 1:
            raise ValueError
        return float(items[0])
    except ValueError:
        raise FormatError(source, f"{key!r} must be one number, got {text[:40]!r}") from None


def _get_list(
    fields: Mapping[str, str], key: str, source: Path, bands: int
) -> NDArray[np.float64] | None:
    text = fields.get(key)
    if text is None:
        return None
    items = [t.strip() for t in text.split(",")]
    if items and not items[-1]:
        items.pop()  # tolerate a trailing comma
    values = np.empty(len(items), dtype=np.float64)
    for k, item in enumerate(items):
        try:
            values[k] = float(item)
        except ValueError:
            raise FormatError(
                source, f"{key!r} item {k + 1} is not a number: {item[:30]!r}"
            ) from None
    if values.size != bands:
        raise FormatError(
            source, f"{key!r} has {values.size} values but the header has {bands} bands"
        )
    return values


def _wavelength_scale(fields: Mapping[str, str], source: Path, wl: NDArray[np.float64]) -> float:
    units = fields.get("wavelength units", "").strip()
    low = units.lower()
    if low in _MICROMETRE_UNITS:
        return 1000.0
    if low in _NANOMETRE_UNITS:
        return 1.0
    if low in _GUESS_UNITS:
        finite = np.abs(wl[np.isfinite(wl)])
        micro = bool(finite.max() < 50.0) if finite.size else False
        logger.warning(
            "%s: wavelength units %s; the values look like %s",
            source,
            repr(units) if units else "missing",
            "micrometres" if micro else "nanometres",
        )
        return 1000.0 if micro else 1.0
    raise FormatError(
        source, f"wavelength units {units!r} are not supported; use Nanometers or Micrometers"
    )


def _interleave(fields: Mapping[str, str], source: Path) -> Interleave:
    text = fields.get("interleave")
    if text is None:
        logger.warning("%s: no 'interleave' in the ENVI header; assuming bsq", source)
        return "bsq"
    low = text.strip().lower()
    if low == "bil":
        return "bil"
    if low == "bip":
        return "bip"
    if low == "bsq":
        return "bsq"
    raise FormatError(source, f"'interleave' must be bil, bip or bsq, got {text!r}")


def parse_envi_header(text: str, source: str | Path = "<header>") -> EnviHeader:
    """Parse ENVI header text.

    Parameters
    ----------
    text : str
        The whole header.
    source : str or Path
        Named in error messages (normally the ``.hdr`` path).

    Raises
    ------
    FormatError
        If a required field (``samples``, ``lines``, ``bands``, ``data type``) is missing,
        a value is malformed or a list has the wrong length.
    """
    src = Path(source)
    fields = _split_fields(text, src)
    samples = _get_int(fields, "samples", src, minimum=1)
    lines = _get_int(fields, "lines", src, minimum=1)
    bands = _get_int(fields, "bands", src, minimum=1)
    header_offset = _get_int(fields, "header offset", src, minimum=0, default=0)
    data_type = _get_int(fields, "data type", src, minimum=0)
    if data_type not in DATA_TYPES:
        what = _UNSUPPORTED_TYPES.get(data_type, "unknown")
        codes = ", ".join(f"{c} ({t})" for c, t in DATA_TYPES.items())
        raise FormatError(
            src, f"'data type' {data_type} ({what}) is not supported; supported: {codes}"
        )
    byte_order = _get_int(fields, "byte order", src, minimum=0, default=0)
    if byte_order not in (0, 1):
        raise FormatError(src, f"'byte order' must be 0 or 1, got {byte_order}")
    wl = _get_list(fields, "wavelength", src, bands)
    fwhm = _get_list(fields, "fwhm", src, bands)
    if wl is not None:
        scale = _wavelength_scale(fields, src, wl)
        wl = wl * scale
        fwhm = None if fwhm is None else fwhm * scale
    elif fwhm is not None:
        fwhm = fwhm * _wavelength_scale(fields, src, fwhm)
    scale_factor = _get_float(fields, "scale factor", src)
    if scale_factor is not None and (scale_factor == 0 or not np.isfinite(scale_factor)):
        raise FormatError(src, f"'scale factor' must be a non-zero number, got {scale_factor}")
    map_text = fields.get("map info")
    css = fields.get("coordinate system string")
    return EnviHeader(
        samples=samples,
        lines=lines,
        bands=bands,
        data_type=data_type,
        interleave=_interleave(fields, src),
        byte_order=1 if byte_order else 0,
        header_offset=header_offset,
        wavelength_nm=wl,
        fwhm_nm=fwhm,
        map_info=None if map_text is None else [t.strip() for t in map_text.split(",")],
        coordinate_system_string=css.strip() if css else None,
        data_ignore_value=_get_float(fields, "data ignore value", src),
        gain=_get_list(fields, "data gain values", src, bands),
        offset=_get_list(fields, "data offset values", src, bands),
        scale_factor=scale_factor,
        description=" ".join(fields.get("description", "").split()),
        fields=MappingProxyType(fields),
    )


# --------------------------------------------------------------------------- formatting


def _fmt(x: float) -> str:
    return repr(float(x))


def _fmt_list(values: ArrayLike, per_line: int = 8) -> str:
    items = [_fmt(v) for v in np.asarray(values, dtype=np.float64).ravel()]
    rows = [", ".join(items[k : k + per_line]) for k in range(0, len(items), per_line)]
    return "{\n  " + ",\n  ".join(rows) + "}"


def format_envi_header(
    *,
    samples: int,
    lines: int,
    bands: int,
    data_type: int,
    interleave: Interleave,
    byte_order: int = 0,
    header_offset: int = 0,
    wavelength_nm: ArrayLike | None = None,
    fwhm_nm: ArrayLike | None = None,
    map_info: Sequence[str] | None = None,
    coordinate_system_string: str | None = None,
    gain: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    scale_factor: float | None = None,
    data_ignore_value: float | None = None,
    description: str = "",
) -> str:
    """Return ENVI header text for the given fields (wavelengths written in nanometres).

    Floats are written with ``repr`` so that they read back exactly. Braces in the
    description are replaced by parentheses (ENVI cannot escape them).
    """
    desc = description.replace("{", "(").replace("}", ")")
    out = [
        "ENVI",
        f"description = {{{desc}}}",
        f"samples = {samples}",
        f"lines = {lines}",
        f"bands = {bands}",
        f"header offset = {header_offset}",
        "file type = ENVI Standard",
        f"data type = {data_type}",
        f"interleave = {interleave}",
        f"byte order = {byte_order}",
    ]
    if map_info is not None:
        out.append("map info = {" + ", ".join(map_info) + "}")
    if coordinate_system_string is not None:
        out.append(f"coordinate system string = {{{coordinate_system_string}}}")
    if wavelength_nm is not None:
        out.append("wavelength units = Nanometers")
        out.append(f"wavelength = {_fmt_list(wavelength_nm)}")
    if fwhm_nm is not None:
        out.append(f"fwhm = {_fmt_list(fwhm_nm)}")
    if gain is not None:
        out.append(f"data gain values = {_fmt_list(gain)}")
    if offset is not None:
        out.append(f"data offset values = {_fmt_list(offset)}")
    if scale_factor is not None:
        out.append(f"scale factor = {_fmt(scale_factor)}")
    if data_ignore_value is not None:
        out.append(f"data ignore value = {_fmt(data_ignore_value)}")
    return "\n".join(out) + "\n"
