"""ENVI images: read headers, locate and validate header/data pairs, write images.

The pieces live in small modules (:mod:`~plumetrace.io.envi_header`,
:mod:`~plumetrace.io.envi_files`, :mod:`~plumetrace.io.envi_georef`,
:mod:`~plumetrace.io.envi_writer`); this module is the one to import. Reading radiance
from an ENVI image is :func:`plumetrace.io.open_radiance`.
"""

from __future__ import annotations

from pathlib import Path

from plumetrace.errors import FormatError
from plumetrace.geo import Georef
from plumetrace.io.envi_files import check_data_size, find_envi_pair
from plumetrace.io.envi_georef import georef_from_envi, map_info_from_georef
from plumetrace.io.envi_header import (
    DATA_TYPES,
    EnviHeader,
    Interleave,
    format_envi_header,
    load_envi_header,
    parse_envi_header,
)
from plumetrace.io.envi_writer import EnviWriter, write_envi

__all__ = [
    "DATA_TYPES",
    "EnviHeader",
    "EnviWriter",
    "Interleave",
    "check_data_size",
    "envi_georef",
    "find_envi_pair",
    "format_envi_header",
    "map_info_from_georef",
    "open_envi_pair",
    "parse_envi_header",
    "read_envi_header",
    "write_envi",
]


def read_envi_header(path: str | Path) -> EnviHeader:
    """Read the ENVI header of an image given its ``.hdr`` or its data file.

    Parameters
    ----------
    path : str or Path
        ``X.hdr``, ``X.img.hdr``, or the data file (``X``, ``X.img``, ``X.dat``, ...).
        Only the header is needed; the data file need not exist when ``path`` is the
        header.

    Raises
    ------
    DataSourceError
        If the header is missing or unreadable.
    FormatError
        If it is not a valid ENVI header.
    """
    p = Path(path)
    if p.suffix.lower() == ".hdr":
        return load_envi_header(p)
    header_path, _ = find_envi_pair(p)
    return load_envi_header(header_path)


def envi_georef(header: EnviHeader, source: str | Path = "<header>") -> Georef:
    """Georeferencing of an ENVI image from its header (unreferenced if it has none).

    Raises
    ------
    FormatError
        If ``map info`` is malformed.
    """
    return georef_from_envi(header.map_info, header.coordinate_system_string, source)


def open_envi_pair(
    path: str | Path, *, require_wavelength: bool = False
) -> tuple[Path, Path, EnviHeader]:
    """Locate, parse and validate an ENVI image.

    Parameters
    ----------
    path : str or Path
        The header or the data file.
    require_wavelength : bool
        Raise if the header has no ``wavelength`` field.

    Returns
    -------
    header_path, data_path : Path
    header : EnviHeader

    Raises
    ------
    DataSourceError
        If either file is missing.
    FormatError
        If the header is invalid, the data file's size disagrees with it, or (when
        required) it has no wavelengths.
    """
    header_path, data_path = find_envi_pair(path)
    header = load_envi_header(header_path)
    check_data_size(header, header_path, data_path)
    if require_wavelength and header.wavelength_nm is None:
        raise FormatError(
            header_path,
            "no wavelength in the header: a radiance cube needs 'wavelength' "
            "(and 'wavelength units')",
        )
    return header_path, data_path, header
