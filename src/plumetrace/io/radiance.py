"""Open a radiance cube of any supported format: the reader the retrieval uses.

>>> with open_radiance("ang20191021t171902_rdn_v2x1_img") as cube:
...     window = cube.bands_between(2122.0, 2488.0)
...     block = cube.read(bands=window, cols=slice(0, 64))   # (rows, 64, 74) float32
"""

from __future__ import annotations

from pathlib import Path

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.cube import BandSelector, RadianceCube
from plumetrace.io.envi_files import DATA_EXTENSIONS, header_candidates
from plumetrace.io.envi_radiance import EnviRadiance
from plumetrace.io.netcdf_radiance import NetcdfRadiance

__all__ = ["BandSelector", "EnviRadiance", "NetcdfRadiance", "RadianceCube", "open_radiance"]

NETCDF_EXTENSIONS = (".nc", ".nc4")


def open_radiance(path: str | Path) -> RadianceCube:
    """Open a radiance cube for windowed reading.

    Parameters
    ----------
    path : str or Path
        An EMIT-like netCDF (``.nc``, ``.nc4``), or an ENVI image given by its ``.hdr``
        or by its data file (which needs a ``.hdr`` beside it).

    Returns
    -------
    RadianceCube
        :class:`EnviRadiance` or :class:`NetcdfRadiance`; close it (or use ``with``).

    Raises
    ------
    DataSourceError
        If the file (or its ENVI partner) does not exist.
    FormatError
        If the format is unknown or the file is not valid for its format (including
        missing or non-increasing wavelengths).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in NETCDF_EXTENSIONS:
        return NetcdfRadiance(p)
    if suffix == ".hdr" or any(h.is_file() for h in header_candidates(p)):
        return EnviRadiance(p)
    if not p.exists():
        raise DataSourceError(p, "file not found")
    if suffix in DATA_EXTENSIONS or suffix == "":
        return EnviRadiance(p)  # raises a clear "no ENVI header found beside it"
    raise FormatError(
        p,
        "unknown radiance format: expected an ENVI image (.hdr + data file) or an "
        "EMIT-like netCDF (.nc, .nc4)",
    )
