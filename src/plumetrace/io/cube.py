"""The radiance-cube reading interface shared by every on-disk format.

:class:`RadianceCube` validates the band/row/column selection once and hands the
format a normalised :class:`Selection`; implementations only move bytes.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.geo import Georef

__all__ = [
    "BandSelector",
    "RadianceCube",
    "Selection",
    "check_spectral",
    "parse_acquisition_time",
]

logger = logging.getLogger(__name__)

BandSelector: TypeAlias = (
    slice | Sequence[int] | NDArray[np.integer[Any]] | NDArray[np.bool_] | None
)
"""Bands to read: ``None`` (all), a slice, integer indices (any order) or a boolean mask."""


@dataclass(frozen=True, eq=False)
class Selection:
    """A validated read request.

    Attributes
    ----------
    rows, cols : slice
        Normalised slices (non-negative start/stop, positive step).
    bands : (nbands,) ndarray of intp
        Band indices in output order.
    band_slice : slice or None
        The same bands as a slice with positive step, when they form one.
    """

    rows: slice
    cols: slice
    bands: NDArray[np.intp]
    band_slice: slice | None

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(rows, cols, bands)`` of the result."""
        nr = len(range(self.rows.start, self.rows.stop, self.rows.step))
        nc = len(range(self.cols.start, self.cols.stop, self.cols.step))
        return (nr, nc, int(self.bands.size))


def _norm_slice(value: slice | None, n: int, name: str) -> slice:
    if value is None:
        return slice(0, n, 1)
    if not isinstance(value, slice):
        raise InvalidParameterError(f"{name} must be a slice or None, got {type(value).__name__}")
    start, stop, step = value.indices(n)
    if step <= 0:
        raise InvalidParameterError(f"{name} slice step must be positive, got {step}")
    return slice(start, max(start, stop), step)


def _band_indices(bands: BandSelector, n: int) -> NDArray[np.intp]:
    if bands is None:
        return np.arange(n, dtype=np.intp)
    if isinstance(bands, slice):
        return np.arange(*bands.indices(n), dtype=np.intp)
    arr = np.asarray(bands)
    if arr.dtype == np.bool_:
        if arr.shape != (n,):
            raise InvalidParameterError(
                f"a boolean band mask must have {n} values, got {arr.shape}"
            )
        return np.flatnonzero(arr).astype(np.intp)
    if arr.size == 0:
        return np.zeros(0, dtype=np.intp)
    if not np.issubdtype(arr.dtype, np.integer) or arr.ndim > 1:
        raise InvalidParameterError(
            f"bands must be None, a slice, integer indices or a boolean mask, got {arr.dtype} "
            f"array of shape {arr.shape}"
        )
    idx = arr.reshape(-1).astype(np.intp)
    if idx.min() < -n or idx.max() >= n:
        raise InvalidParameterError(
            f"band index out of range for {n} bands: {idx.min()}..{idx.max()}"
        )
    return np.where(idx < 0, idx + n, idx)


def _as_slice(idx: NDArray[np.intp]) -> slice | None:
    if idx.size == 0:
        return None
    if idx.size == 1:
        return slice(int(idx[0]), int(idx[0]) + 1, 1)
    steps = np.diff(idx)
    step = int(steps[0])
    if step > 0 and np.all(steps == step):
        return slice(int(idx[0]), int(idx[-1]) + 1, step)
    return None


def check_spectral(
    wavelength_nm: NDArray[np.float64] | None,
    fwhm_nm: NDArray[np.float64] | None,
    source: Path,
    bands: int,
    *,
    missing: str = "no wavelength information",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate band centres and widths; estimate widths from the spacing if absent.

    Parameters
    ----------
    wavelength_nm, fwhm_nm : (bands,) ndarray or None, nm
    source : Path
        Named in errors.
    bands : int
        Expected count.
    missing : str
        The error message when there are no wavelengths.

    Raises
    ------
    FormatError
        If wavelengths are missing, of the wrong count, non-finite, non-positive or not
        strictly increasing, or widths are not positive.
    """
    if wavelength_nm is None:
        raise FormatError(source, missing)
    wl = np.asarray(wavelength_nm, dtype=np.float64).reshape(-1)
    if wl.size != bands:
        raise FormatError(source, f"{wl.size} wavelengths for {bands} bands")
    bad = np.flatnonzero(~np.isfinite(wl) | (wl <= 0))
    if bad.size:
        k = int(bad[0])
        raise FormatError(source, f"wavelength of band {k} is {wl[k]}; wavelengths must be > 0")
    down = np.flatnonzero(np.diff(wl) <= 0)
    if down.size:
        k = int(down[0]) + 1
        raise FormatError(
            source,
            f"wavelengths must increase strictly: band {k} is {wl[k]:g} nm after {wl[k - 1]:g} nm",
        )
    if fwhm_nm is None:
        if bands < 2:
            raise FormatError(source, "no FWHM, and one band is too few to estimate it")
        fw = np.gradient(wl)
        logger.warning(
            "%s: no FWHM in the file; using the band spacing (%.3g-%.3g nm) instead",
            source,
            fw.min(),
            fw.max(),
        )
        return wl, fw
    fw = np.asarray(fwhm_nm, dtype=np.float64).reshape(-1)
    if fw.size != bands:
        raise FormatError(source, f"{fw.size} FWHM values for {bands} bands")
    if not np.all(np.isfinite(fw) & (fw > 0)):
        k = int(np.flatnonzero(~(np.isfinite(fw) & (fw > 0)))[0])
        raise FormatError(source, f"FWHM of band {k} is {fw[k]}; it must be > 0")
    return wl, fw


def parse_acquisition_time(value: object, source: Path) -> datetime | None:
    """Parse an ISO-8601 acquisition time as an aware UTC datetime; None if absent.

    A naive time is taken as UTC. A value that is not a time is logged and ignored:
    the scene stays readable, and jobs that need the time ask for it.
    """
    if value is None:
        return None
    text = str(value).strip().strip("{}").strip()
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        logger.warning("%s: acquisition time %r is not an ISO-8601 time; ignored", source, text)
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class RadianceCube(abc.ABC):
    """A radiance cube on disk, read in windows; use :func:`open_radiance` to get one.

    Attributes
    ----------
    path : Path
        The data file.
    shape : tuple of int
        ``(rows, cols, bands)``.
    wavelength_nm : (bands,) ndarray, nm
        Band centres, strictly increasing.
    fwhm_nm : (bands,) ndarray, nm
        Band widths; estimated from the band spacing when the file has none.
    georef : Georef
        Grid (ENVI map info) or per-pixel lat/lon (netCDF); unreferenced if none.
    dtype_on_disk : numpy.dtype
        Sample type in the file, with byte order.
    acquired : datetime or None
        When the scene was taken (UTC), if the file says: ENVI ``acquisition time``,
        netCDF ``time_coverage_start``.
    """

    acquired: datetime | None = None
    path: Path
    shape: tuple[int, int, int]
    wavelength_nm: NDArray[np.float64]
    fwhm_nm: NDArray[np.float64]
    georef: Georef
    dtype_on_disk: np.dtype[Any]

    def read(
        self,
        bands: BandSelector = None,
        cols: slice | None = None,
        rows: slice | None = None,
    ) -> NDArray[np.float32]:
        """Read a window of the cube in radiance units.

        Parameters
        ----------
        bands : None, slice, int sequence or boolean mask
            Bands to read, in the order given (``None``: all).
        cols, rows : slice or None
            Column and row ranges (positive step); ``None``: all.

        Returns
        -------
        (rows, cols, bands) ndarray of float32, µW cm⁻² sr⁻¹ nm⁻¹
            C-contiguous; gain/offset/scale factor applied; no-data and fill values
            are NaN. Only the bytes of the requested window are read.

        Raises
        ------
        InvalidParameterError
            If the selection is malformed or out of range.
        DataSourceError
            If the cube is closed or the read fails.
        """
        if self.closed:
            raise DataSourceError(self.path, "the radiance file is closed")
        n_rows, n_cols, n_bands = self.shape
        idx = _band_indices(bands, n_bands)
        sel = Selection(
            rows=_norm_slice(rows, n_rows, "rows"),
            cols=_norm_slice(cols, n_cols, "cols"),
            bands=idx,
            band_slice=_as_slice(idx),
        )
        if 0 in sel.shape:
            return np.empty(sel.shape, dtype=np.float32)
        return self._read(sel)

    def bands_between(self, low_nm: float, high_nm: float) -> NDArray[np.intp]:
        """Return the indices of the bands whose centres lie in ``[low_nm, high_nm]`` (nm)."""
        wl = self.wavelength_nm
        return np.flatnonzero((wl >= low_nm) & (wl <= high_nm)).astype(np.intp)

    @abc.abstractmethod
    def _read(self, sel: Selection) -> NDArray[np.float32]:
        """Read a validated, non-empty selection."""

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """True after :meth:`close`."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the file; further reads raise :class:`DataSourceError`."""

    def __enter__(self) -> RadianceCube:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        r, c, b = self.shape
        return (
            f"{type(self).__name__}({str(self.path)!r}, {r} rows x {c} cols x {b} bands, "
            f"{self.wavelength_nm[0]:.1f}-{self.wavelength_nm[-1]:.1f} nm)"
        )
