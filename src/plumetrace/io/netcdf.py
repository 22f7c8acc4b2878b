"""EMIT L1B-like netCDF-4 radiance files: streaming, atomic writer.

Layout (as in NASA EMIT ``EMIT_L1B_RAD`` granules)::

    radiance(downtrack, crosstrack, bands)  float32, _FillValue -9999, "uW/cm^2/SR/nm"
    sensor_band_parameters/wavelengths(bands), fwhm(bands)   float32, nm
    location/lat(downtrack, crosstrack), lon(downtrack, crosstrack)   float64, degrees

Radiance is chunked in ``(64 rows, 64 cols, 32 bands)`` blocks so that a retrieval that
reads a band window of a column block decompresses little it does not need.
Reading is :func:`plumetrace.io.open_radiance`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.io._atomic import discard, make_temp_beside, publish
from plumetrace.io._rows import RowBlockWriter, as_cube

__all__ = [
    "EMIT_FILL_VALUE",
    "EMIT_RADIANCE_UNITS",
    "EmitNetcdfWriter",
    "write_emit_netcdf",
]

logger = logging.getLogger(__name__)

EMIT_FILL_VALUE = -9999.0
"""Fill value of radiance and location variables."""

EMIT_RADIANCE_UNITS = "uW/cm^2/SR/nm"
"""The ``units`` attribute written on ``radiance`` (µW cm⁻² sr⁻¹ nm⁻¹)."""

_CHUNK = (64, 64, 32)
_MAX_CACHE = 512 * 1024 * 1024


def _vector(name: str, value: ArrayLike, n: int) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise InvalidParameterError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite")
    return arr


def _grid(name: str, value: ArrayLike, shape: tuple[int, int]) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise InvalidParameterError(f"{name} must have shape {shape}, got {arr.shape}")
    return np.where(np.isfinite(arr), arr, EMIT_FILL_VALUE)


def _attr_value(key: str, value: object) -> object:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float | np.number):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        if np.issubdtype(arr.dtype, np.number):
            return arr
    raise InvalidParameterError(
        f"netCDF attribute {key!r}: {type(value).__name__} is not a string, number or "
        "list of numbers"
    )


class EmitNetcdfWriter(RowBlockWriter[Any]):
    """Write an EMIT-like radiance netCDF block by block; a context manager.

    Fill it with :meth:`write_rows` (radiance as float32; NaN/inf are written as the fill
    value), then :meth:`close`; the shared protocol (:meth:`close`, :meth:`abort`,
    :attr:`closed`) is :class:`~plumetrace.io._rows.RowBlockWriter`'s.

    Parameters
    ----------
    path : str or Path
        The file to create (replaced atomically on :meth:`close`).
    rows, cols, bands : int
        Downtrack, crosstrack and spectral sizes.
    wavelength_nm, fwhm_nm : (bands,) array_like, nm
        Band centres (strictly increasing) and widths.
    lat, lon : (rows, cols) array_like or None, degrees
        Pixel-centre coordinates (NaN written as fill). ``None`` omits ``location``.
    attrs : mapping or None
        Global attributes (strings, numbers, lists of numbers).
    compress : bool
        zlib-compress radiance (smaller, slower).

    Notes
    -----
    Write whole multiples of 64 rows per :meth:`write_rows` call where you can; other
    block sizes work but rewrite partly filled chunks.
    """

    def __init__(
        self,
        path: str | Path,
        rows: int,
        cols: int,
        bands: int,
        *,
        wavelength_nm: ArrayLike,
        fwhm_nm: ArrayLike,
        lat: ArrayLike | None,
        lon: ArrayLike | None,
        attrs: Mapping[str, object] | None = None,
        compress: bool = False,
    ) -> None:
        import netCDF4

        super().__init__(rows, cols, bands)
        self.path = Path(path)
        wl = _vector("wavelength_nm", wavelength_nm, self.bands)
        fw = _vector("fwhm_nm", fwhm_nm, self.bands)
        if np.any(np.diff(wl) <= 0):
            raise InvalidParameterError("wavelength_nm must be strictly increasing")
        if (lat is None) != (lon is None):
            raise InvalidParameterError("give both lat and lon, or neither")
        shape2 = (self.rows, self.cols)
        la = None if lat is None else _grid("lat", lat, shape2)
        lo = None if lon is None else _grid("lon", lon, shape2)
        global_attrs = {k: _attr_value(k, v) for k, v in (attrs or {}).items()}
        self._tmp = make_temp_beside(self.path, ".nc")
        try:
            ds = netCDF4.Dataset(self._tmp, "w", format="NETCDF4")
            self._handle = ds
            ds.createDimension("downtrack", self.rows)
            ds.createDimension("crosstrack", self.cols)
            ds.createDimension("bands", self.bands)
            chunks = tuple(min(c, n) for c, n in zip(_CHUNK, (rows, cols, bands), strict=True))
            rad = ds.createVariable(
                "radiance",
                "f4",
                ("downtrack", "crosstrack", "bands"),
                fill_value=np.float32(EMIT_FILL_VALUE),
                chunksizes=chunks,
                zlib=compress,
                complevel=4,
            )
            rad.units = EMIT_RADIANCE_UNITS
            rad.long_name = "Radiance Data"
            n_chunk_cols = -(-self.cols // chunks[1]) * -(-self.bands // chunks[2])
            cache = min(_MAX_CACHE, n_chunk_cols * int(np.prod(chunks)) * 4 + (1 << 20))
            rad.set_var_chunk_cache(size=cache, nelems=max(521, 2 * n_chunk_cols + 1))
            rad.set_auto_maskandscale(False)
            sbp = ds.createGroup("sensor_band_parameters")
            for name, values, long_name in (
                ("wavelengths", wl, "Wavelength Centers"),
                ("fwhm", fw, "Full Width at Half Max"),
            ):
                var = sbp.createVariable(name, "f4", ("bands",))
                var.units = "nm"
                var.long_name = long_name
                var[:] = values.astype(np.float32)
            if la is not None and lo is not None:
                loc = ds.createGroup("location")
                for name, values, units in (
                    ("lat", la, "degrees_north"),
                    ("lon", lo, "degrees_east"),
                ):
                    var = loc.createVariable(
                        name, "f8", ("downtrack", "crosstrack"), fill_value=EMIT_FILL_VALUE
                    )
                    var.units = units
                    var.set_auto_maskandscale(False)
                    var[:] = values
            for key, value in global_attrs.items():
                ds.setncattr(key, value)
        except (OSError, RuntimeError) as exc:
            self.abort()
            raise DataSourceError(self.path, f"cannot write netCDF: {exc}") from exc
        except BaseException:
            self.abort()
            raise
        self._radiance = rad
        logger.debug("writing %s (%d x %d x %d)", self.path, rows, cols, bands)

    @property
    def _target(self) -> Path:
        return self.path

    def _as_block(self, block: ArrayLike) -> NDArray[Any]:
        return np.asarray(block, dtype=np.float32)

    def _write_block(self, ds: Any, row_start: int, data: NDArray[Any]) -> None:
        r = data.shape[0]
        data = np.where(np.isfinite(data), data, np.float32(EMIT_FILL_VALUE))
        try:
            self._radiance[row_start : row_start + r, :, :] = data
        except (OSError, RuntimeError) as exc:
            self.abort()
            raise DataSourceError(self.path, f"cannot write netCDF: {exc}") from exc

    def _finish(self, ds: Any) -> None:
        """Close the dataset and move the file into place."""
        try:
            ds.close()
        except (OSError, RuntimeError) as exc:
            discard(self._tmp)
            raise DataSourceError(self.path, f"cannot write netCDF: {exc}") from exc
        publish(self._tmp, self.path)
        logger.info("wrote netCDF radiance %s", self.path)

    def _release(self, ds: Any) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            ds.close()


def write_emit_netcdf(
    path: str | Path,
    cube: ArrayLike,
    wavelength_nm: ArrayLike,
    fwhm_nm: ArrayLike,
    lat: ArrayLike | None,
    lon: ArrayLike | None,
    *,
    attrs: Mapping[str, object] | None = None,
    compress: bool = False,
) -> None:
    """Write a radiance cube as an EMIT L1B-like netCDF-4 file (atomically).

    Parameters
    ----------
    path : str or Path
        Output file (``.nc``).
    cube : (rows, cols, bands) array_like, µW cm⁻² sr⁻¹ nm⁻¹
        Radiance; NaN is written as the fill value -9999.
    wavelength_nm, fwhm_nm : (bands,) array_like, nm
        Band centres and widths.
    lat, lon : (rows, cols) array_like or None, degrees
        Pixel-centre coordinates.
    attrs : mapping or None
        Global attributes.
    compress : bool
        zlib-compress radiance.
    """
    data = as_cube(cube)
    rows, cols, bands = data.shape
    step = _CHUNK[0] * max(1, (64 * 1024 * 1024) // (_CHUNK[0] * cols * bands * 4))
    with EmitNetcdfWriter(
        path,
        rows,
        cols,
        bands,
        wavelength_nm=wavelength_nm,
        fwhm_nm=fwhm_nm,
        lat=lat,
        lon=lon,
        attrs=attrs,
        compress=compress,
    ) as writer:
        for r0 in range(0, rows, step):
            writer.write_rows(r0, data[r0 : r0 + step])
