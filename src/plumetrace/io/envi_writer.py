"""Streaming, atomic writing of ENVI images (data file + ``.hdr``).

The data file is pre-sized and filled block by block with positioned writes, so an
image far larger than memory (e.g. 12 GB) can be written one row block at a time. Both
files are written beside their targets under temporary names and moved into place only
when :meth:`EnviWriter.close` succeeds, so an existing good pair is never lost.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from plumetrace.errors import DataSourceError, InvalidParameterError
from plumetrace.geo import Georef
from plumetrace.io._atomic import discard, make_temp_beside, publish
from plumetrace.io._rows import RowBlockWriter, as_cube
from plumetrace.io.envi_georef import map_info_from_georef
from plumetrace.io.envi_header import Interleave, data_type_code, format_envi_header

__all__ = ["EnviWriter", "write_envi"]

logger = logging.getLogger(__name__)

_BLOCK_BYTES = 64 * 1024 * 1024


def _per_band(name: str, value: ArrayLike | None, bands: int) -> NDArray[np.float64] | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(bands, float(arr))
    if arr.shape != (bands,):
        raise InvalidParameterError(
            f"{name} must be a number or have {bands} values, got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite")
    return arr


def _spectral(name: str, value: ArrayLike | None, bands: int) -> NDArray[np.float64] | None:
    arr = _per_band(name, value, bands)
    if arr is not None and value is not None and np.ndim(value) == 0:
        raise InvalidParameterError(f"{name} must have {bands} values")
    return arr


class EnviWriter(RowBlockWriter[IO[bytes]]):
    """Write an ENVI image block by block; a context manager.

    Fill it with :meth:`write_rows` (values in physical units, converted to the file's
    type with ``gain``/``offset`` or ``scale_factor``), then :meth:`close`; the shared
    protocol (:meth:`close`, :meth:`abort`, :attr:`closed`) is
    :class:`~plumetrace.io._rows.RowBlockWriter`'s.

    Parameters
    ----------
    base_path : str or Path
        The data file; the header is ``base_path`` + ``".hdr"``.
    rows, cols, bands : int
        Image size (ENVI ``lines``, ``samples``, ``bands``).
    wavelength_nm, fwhm_nm : (bands,) array_like or None, nm
        Band centres and widths (written with ``wavelength units = Nanometers``).
    georef : Georef or None
        A grid (``crs`` + north-up or rotated ``transform``) to write as ``map info``.
    interleave : {'bil', 'bip', 'bsq'}
        Sample order on disk.
    dtype : dtype-like
        On-disk type: uint8, int16, int32, float32, float64, uint16, uint32, int64, uint64.
    byte_order : {0, 1}
        0 little-endian, 1 big-endian.
    gain, offset : float or (bands,) array_like or None
        ``data gain values`` / ``data offset values``: the file stores
        ``raw = (L - offset) / gain`` (rounded for integer types).
    scale_factor : float or None
        ``scale factor``: the file stores ``raw = L * scale_factor``; exclusive with gain.
    data_ignore_value : float or None
        Raw value written for NaN/inf input (and declared in the header).
    description : str
        Header description.

    Raises
    ------
    InvalidParameterError
        If an argument is inconsistent (sizes, unknown dtype, per-pixel lat/lon georef).
    DataSourceError
        If the files cannot be created or written.

    Examples
    --------
    >>> with EnviWriter(path, rows, cols, bands, wavelength_nm=wl, fwhm_nm=fw) as w:
    ...     for r0 in range(0, rows, 256):
    ...         w.write_rows(r0, cube[r0 : r0 + 256])
    """

    _extent: ClassVar[str] = "image"

    def __init__(
        self,
        base_path: str | Path,
        rows: int,
        cols: int,
        bands: int,
        *,
        wavelength_nm: ArrayLike | None = None,
        fwhm_nm: ArrayLike | None = None,
        georef: Georef | None = None,
        interleave: Interleave = "bil",
        dtype: DTypeLike = "float32",
        byte_order: int = 0,
        gain: ArrayLike | None = None,
        offset: ArrayLike | None = None,
        scale_factor: float | None = None,
        data_ignore_value: float | None = None,
        description: str = "",
    ) -> None:
        super().__init__(rows, cols, bands)
        if interleave not in ("bil", "bip", "bsq"):
            raise InvalidParameterError(f"interleave must be bil, bip or bsq, got {interleave!r}")
        if byte_order not in (0, 1):
            raise InvalidParameterError(f"byte_order must be 0 or 1, got {byte_order}")
        try:
            code = data_type_code(dtype)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(str(exc)) from exc
        self.data_path = Path(base_path)
        self.header_path = self.data_path.with_name(self.data_path.name + ".hdr")
        if self.data_path.suffix.lower() == ".hdr":
            raise InvalidParameterError(f"{self.data_path}: give the data file path, not the .hdr")
        self.interleave: Interleave = interleave
        self.dtype: np.dtype[Any] = np.dtype(dtype).newbyteorder(">" if byte_order else "<")
        wl = _spectral("wavelength_nm", wavelength_nm, self.bands)
        fw = _spectral("fwhm_nm", fwhm_nm, self.bands)
        if wl is not None and np.any(np.diff(wl) <= 0):
            raise InvalidParameterError("wavelength_nm must be strictly increasing")
        if scale_factor is not None and (gain is not None or offset is not None):
            raise InvalidParameterError("give either scale_factor or gain/offset, not both")
        if scale_factor is not None and (scale_factor == 0 or not np.isfinite(scale_factor)):
            raise InvalidParameterError(f"scale_factor must be non-zero, got {scale_factor}")
        self._gain = _per_band("gain", gain, self.bands)
        self._offset = _per_band("offset", offset, self.bands)
        if self._gain is not None and np.any(self._gain == 0):
            raise InvalidParameterError("gain must be non-zero")
        if self._offset is not None and self._gain is None:
            self._gain = np.ones(self.bands)
        if self._gain is not None and self._offset is None:
            self._offset = np.zeros(self.bands)
        self._scale = scale_factor
        self._ignore = data_ignore_value
        self._integer = np.issubdtype(self.dtype, np.integer)
        if data_ignore_value is not None and self._integer:
            info = np.iinfo(self.dtype)
            if data_ignore_value != int(data_ignore_value) or not (
                info.min <= data_ignore_value <= info.max
            ):
                raise InvalidParameterError(
                    f"data_ignore_value {data_ignore_value} cannot be stored as {self.dtype.name}"
                )
        map_info, css = map_info_from_georef(georef)
        self._header_text = format_envi_header(
            samples=self.cols,
            lines=self.rows,
            bands=self.bands,
            data_type=code,
            interleave=interleave,
            byte_order=byte_order,
            wavelength_nm=wl,
            fwhm_nm=fw,
            map_info=map_info,
            coordinate_system_string=css,
            gain=self._gain,
            offset=self._offset,
            scale_factor=scale_factor,
            data_ignore_value=data_ignore_value,
            description=description,
        )
        self._tmp = make_temp_beside(self.data_path)
        try:
            self._handle = self._tmp.open("r+b")
            self._handle.truncate(self.rows * self.cols * self.bands * self.dtype.itemsize)
        except OSError as exc:
            self.abort()
            raise DataSourceError(self.data_path, f"cannot write: {exc.strerror or exc}") from exc
        logger.debug("writing %s (%d x %d x %d %s)", self.data_path, rows, cols, bands, self.dtype)

    @property
    def _target(self) -> Path:
        return self.data_path

    # ------------------------------------------------------------------ encoding

    def _encode(self, block: NDArray[Any]) -> NDArray[Any]:
        """Convert a ``(r, cols, bands)`` radiance block to raw on-disk values."""
        bad: NDArray[np.bool_] | None = None
        if np.issubdtype(block.dtype, np.floating):
            finite = np.isfinite(block)
            bad = None if finite.all() else ~finite
        if self._gain is None and self._scale is None and not self._integer:
            raw = block.astype(self.dtype)
        else:
            work = block.astype(np.float64)
            if self._scale is not None:
                work *= self._scale
            elif self._gain is not None and self._offset is not None:
                work -= self._offset
                work /= self._gain
            if self._integer:
                np.rint(work, out=work)
                info = np.iinfo(self.dtype)
                good = work if bad is None else work[~bad]
                if good.size and (good.min() < info.min or good.max() > info.max):
                    raise InvalidParameterError(
                        f"{self.data_path}: values {good.min():.6g} to {good.max():.6g} do not "
                        f"fit {self.dtype.name} ({info.min} to {info.max}); change gain/offset"
                    )
                if bad is not None:
                    work[bad] = 0
            raw = work.astype(self.dtype)
        if bad is not None:
            if self._ignore is not None:
                raw[bad] = self._ignore
            elif self._integer:
                raise InvalidParameterError(
                    f"{self.data_path}: the block has NaN/inf values but {self.dtype.name} "
                    "cannot hold them; set data_ignore_value"
                )
        return raw

    # ------------------------------------------------------------------ writing

    def _write_block(self, f: IO[bytes], row_start: int, data: NDArray[Any]) -> None:
        raw = self._encode(data)
        item = self.dtype.itemsize
        try:
            if self.interleave == "bsq":
                band_bytes = self.rows * self.cols * item
                start = row_start * self.cols * item
                for b in range(self.bands):
                    f.seek(b * band_bytes + start)
                    f.write(np.ascontiguousarray(raw[:, :, b]).data.cast("B"))
            else:
                ordered = raw.transpose(0, 2, 1) if self.interleave == "bil" else raw
                f.seek(row_start * self.cols * self.bands * item)
                f.write(np.ascontiguousarray(ordered).data.cast("B"))
        except OSError as exc:
            self.abort()
            raise DataSourceError(self.data_path, f"cannot write: {exc.strerror or exc}") from exc

    def _finish(self, f: IO[bytes]) -> None:
        """Move the data file and then the header into place."""
        hdr_tmp: Path | None = None
        try:
            try:
                f.flush()
                os.fsync(f.fileno())
            finally:
                f.close()
            hdr_tmp = make_temp_beside(self.header_path)
            hdr_tmp.write_text(self._header_text, encoding="utf-8")
        except OSError as exc:
            discard(self._tmp)
            if hdr_tmp is not None:
                discard(hdr_tmp)
            if isinstance(exc, DataSourceError):
                raise
            raise DataSourceError(self.data_path, f"cannot write: {exc.strerror or exc}") from exc
        try:
            publish(self._tmp, self.data_path)
        except DataSourceError:
            discard(hdr_tmp)
            raise
        publish(hdr_tmp, self.header_path)
        logger.info("wrote ENVI image %s", self.data_path)

    def _release(self, f: IO[bytes]) -> None:
        f.close()


def write_envi(
    base_path: str | Path,
    cube: ArrayLike,
    *,
    wavelength_nm: ArrayLike | None = None,
    fwhm_nm: ArrayLike | None = None,
    georef: Georef | None = None,
    interleave: Interleave = "bil",
    dtype: DTypeLike = "float32",
    byte_order: int = 0,
    gain: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    scale_factor: float | None = None,
    data_ignore_value: float | None = None,
    description: str = "",
) -> None:
    """Write a whole ``(rows, cols, bands)`` cube as an ENVI image (atomically).

    Parameters
    ----------
    base_path : str or Path
        The data file; the header is ``base_path`` + ``".hdr"``.
    cube : (rows, cols, bands) array_like, µW cm⁻² sr⁻¹ nm⁻¹
        The image.
    wavelength_nm, fwhm_nm, georef, interleave, dtype, byte_order
        As for :class:`EnviWriter`.
    gain, offset, scale_factor, data_ignore_value, description
        As for :class:`EnviWriter`.
    """
    data = as_cube(cube)
    rows, cols, bands = data.shape
    step = max(1, _BLOCK_BYTES // max(1, cols * bands * 8))
    with EnviWriter(
        base_path,
        rows,
        cols,
        bands,
        wavelength_nm=wavelength_nm,
        fwhm_nm=fwhm_nm,
        georef=georef,
        interleave=interleave,
        dtype=dtype,
        byte_order=byte_order,
        gain=gain,
        offset=offset,
        scale_factor=scale_factor,
        data_ignore_value=data_ignore_value,
        description=description,
    ) as writer:
        for r0 in range(0, rows, step):
            writer.write_rows(r0, data[r0 : r0 + step])
