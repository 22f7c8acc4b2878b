"""Every file format plumetrace reads or writes.

Radiance cubes (ENVI, EMIT-like netCDF) open through :func:`open_radiance` and are read
in windows as ``(rows, cols, bands)`` float32 in µW cm⁻² sr⁻¹ nm⁻¹. Writers are atomic:
an existing file is replaced only once its successor is complete. Bad input raises
:class:`~plumetrace.errors.FormatError` or :class:`~plumetrace.errors.DataSourceError`
naming the file.
"""

from plumetrace.io.array_radiance import ArrayRadiance
from plumetrace.io.cube import BandSelector, RadianceCube
from plumetrace.io.envi import (
    EnviHeader,
    EnviWriter,
    envi_georef,
    find_envi_pair,
    read_envi_header,
    write_envi,
)
from plumetrace.io.envi_radiance import EnviRadiance
from plumetrace.io.geotiff import Raster, read_geotiff, write_geotiff
from plumetrace.io.netcdf import EmitNetcdfWriter, write_emit_netcdf
from plumetrace.io.netcdf_radiance import NetcdfRadiance
from plumetrace.io.quicklook import display_threshold, write_enhancement_png
from plumetrace.io.radiance import open_radiance
from plumetrace.io.tables import read_gas_csv, read_json, write_json

__all__ = [
    "ArrayRadiance",
    "BandSelector",
    "EmitNetcdfWriter",
    "EnviHeader",
    "EnviRadiance",
    "EnviWriter",
    "NetcdfRadiance",
    "RadianceCube",
    "Raster",
    "display_threshold",
    "envi_georef",
    "find_envi_pair",
    "open_radiance",
    "read_envi_header",
    "read_gas_csv",
    "read_geotiff",
    "read_json",
    "write_emit_netcdf",
    "write_enhancement_png",
    "write_envi",
    "write_geotiff",
    "write_json",
]
