"""Locate the two files of an ENVI image and check that they agree.

An ENVI image is a raw data file plus a text header. Both conventions for naming the
header are common: ``X.hdr`` beside ``X`` / ``X.img`` (extension replaced) and
``X.img.hdr`` (extension appended).
"""

from __future__ import annotations

from pathlib import Path

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.envi_header import EnviHeader

__all__ = ["DATA_EXTENSIONS", "check_data_size", "find_envi_pair", "header_candidates"]

DATA_EXTENSIONS = (".img", ".dat", ".bil", ".bsq", ".bip", ".raw")
"""Extensions tried for the data file beside a header ``X.hdr`` (after plain ``X``)."""


def _is_header_name(path: Path) -> bool:
    return path.suffix.lower() == ".hdr"


def header_candidates(data_path: Path) -> list[Path]:
    """Header paths that may belong to ``data_path``, most specific first."""
    out = [
        data_path.with_name(data_path.name + ".hdr"),
        data_path.with_name(data_path.name + ".HDR"),
    ]
    if data_path.suffix:
        out += [data_path.with_suffix(".hdr"), data_path.with_suffix(".HDR")]
    unique: list[Path] = []
    for p in out:
        if p not in unique:
            unique.append(p)
    return unique


def _data_candidates(header_path: Path) -> list[Path]:
    base = header_path.with_suffix("")  # X.img.hdr -> X.img, X.hdr -> X
    out = [base]
    for ext in DATA_EXTENSIONS:
        out += [base.with_name(base.name + ext), base.with_name(base.name + ext.upper())]
    return out


def find_envi_pair(path: str | Path) -> tuple[Path, Path]:
    """Return ``(header_path, data_path)`` of the ENVI image named by ``path``.

    Parameters
    ----------
    path : str or Path
        Either the header (``*.hdr``) or the data file.

    Raises
    ------
    DataSourceError
        If ``path`` does not exist, or its partner file cannot be found (the message
        lists the names that were tried).
    """
    p = Path(path)
    if not p.exists():
        if not _is_header_name(p):
            for hdr in header_candidates(p):
                if hdr.is_file():
                    raise DataSourceError(p, f"data file not found (its header {hdr.name} exists)")
        raise DataSourceError(p, "file not found")
    if p.is_dir():
        raise DataSourceError(p, "is a directory, not an ENVI file")
    if _is_header_name(p):
        for data in _data_candidates(p):
            if data.is_file():
                return p, data
        tried = ", ".join(c.name for c in _data_candidates(p) if not c.suffix.isupper())
        raise DataSourceError(p, f"ENVI header without a data file (looked for {tried})")
    for hdr in header_candidates(p):
        if hdr.is_file():
            return hdr, p
    tried = ", ".join(c.name for c in header_candidates(p) if c.suffix == ".hdr")
    raise DataSourceError(p, f"no ENVI header found beside it (looked for {tried})")


def check_data_size(header: EnviHeader, header_path: Path, data_path: Path) -> None:
    """Check that the data file holds exactly the bytes the header describes.

    Raises
    ------
    FormatError
        If the file is shorter (truncated) or longer than ``header offset`` plus
        ``lines x samples x bands x itemsize``; the message gives both sizes.
    DataSourceError
        If the file cannot be inspected.
    """
    try:
        actual = data_path.stat().st_size
    except OSError as exc:
        raise DataSourceError(data_path, f"cannot read: {exc.strerror or exc}") from exc
    need = header.header_offset + header.data_bytes
    if actual == need:
        return
    what = (
        f"the header's {header.lines} lines x {header.samples} samples x {header.bands} bands "
        f"of {header.dtype.newbyteorder('=').name}"
    )
    extra = f" (with a {header.header_offset}-byte header offset)" if header.header_offset else ""
    if actual < need:
        raise FormatError(
            data_path,
            f"data file is truncated: {actual} bytes, {what} need {need} bytes{extra} "
            f"(header {header_path.name})",
        )
    raise FormatError(
        data_path,
        f"data file disagrees with the header: {actual} bytes, {what} need {need} bytes{extra} "
        f"(header {header_path.name})",
    )
