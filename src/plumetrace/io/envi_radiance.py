"""Radiance from ENVI images through a read-only memory map.

A read-only ``mmap`` of the data file is viewed as a numpy array (what ``numpy.memmap``
does, plus an explicit unmap on close). The view follows the file's interleave (BIL
``(lines, bands, samples)``, BIP ``(lines, samples, bands)``, BSQ ``(bands, lines,
samples)``) and byte order, so reading a band window of a column block touches only those
bytes: a 12 GB cube is retrieved block by block in a few GB of memory. Each read converts,
in row chunks, straight into a C-contiguous float32 ``(rows, cols, bands)`` array, and
unmaps the pages it touched after each chunk so resident memory stays bounded.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError
from plumetrace.io.cube import RadianceCube, Selection, check_spectral, parse_acquisition_time
from plumetrace.io.envi import envi_georef, open_envi_pair
from plumetrace.io.envi_header import EnviHeader, Interleave

__all__ = ["EnviRadiance"]

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 16 * 1024 * 1024
# Types whose every value float32 holds exactly: the no-data test can run after conversion.
_EXACT_IN_FLOAT32 = {np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.uint16)}
_EXACT_IN_FLOAT32 |= {np.dtype(np.float32)}


_MADV_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)


def _map_file(
    data_path: Path, header: EnviHeader, disk_shape: tuple[int, int, int]
) -> tuple[mmap.mmap, NDArray[Any]]:
    """Map the data file read-only and view it as the on-disk array."""
    try:
        with data_path.open("rb") as f:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise DataSourceError(data_path, f"cannot map the data file: {exc}") from exc
    array: NDArray[Any] = np.ndarray(
        disk_shape, dtype=header.dtype, buffer=m, offset=header.header_offset
    )
    return m, array


class EnviRadiance(RadianceCube):
    """An ENVI radiance image (header + raw data file), memory-mapped read-only.

    Parameters
    ----------
    path : str or Path
        The ``.hdr`` or the data file.

    Attributes
    ----------
    header : EnviHeader
        The parsed header.
    header_path : Path
        The ``.hdr`` file.
    interleave : {'bil', 'bip', 'bsq'}
        Sample order on disk.

    Raises
    ------
    DataSourceError
        If a file is missing or cannot be mapped.
    FormatError
        If the header is invalid, disagrees with the data file's size, has no
        wavelengths, or has non-increasing wavelengths.
    """

    def __init__(self, path: str | Path) -> None:
        header_path, data_path, header = open_envi_pair(path, require_wavelength=True)
        wl, fwhm = check_spectral(header.wavelength_nm, header.fwhm_nm, header_path, header.bands)
        self.path = data_path
        self.header_path = header_path
        self.header: EnviHeader = header
        self.interleave: Interleave = header.interleave
        self.shape = header.shape
        self.wavelength_nm = wl
        self.fwhm_nm = fwhm
        self.georef = envi_georef(header, header_path)
        self.acquired = parse_acquisition_time(header.fields.get("acquisition time"), header_path)
        self.dtype_on_disk = header.dtype
        lines, samples, bands = header.shape
        disk_shape = {
            "bil": (lines, bands, samples),
            "bip": (lines, samples, bands),
            "bsq": (bands, lines, samples),
        }[header.interleave]
        self._map: mmap.mmap | None
        self._mm: NDArray[Any] | None
        self._map, self._mm = _map_file(data_path, header, disk_shape)
        self._gain = None if header.gain is None else header.gain.astype(np.float32)
        self._offset = None if header.offset is None else header.offset.astype(np.float32)
        if self._gain is None and self._offset is not None:
            self._gain = np.ones(bands, dtype=np.float32)
        if self._offset is None and self._gain is not None:
            self._offset = np.zeros(bands, dtype=np.float32)
        self._scale = header.scale_factor
        ignore = header.data_ignore_value
        self._ignore = None if ignore is None or np.isnan(ignore) else float(ignore)
        self._mask_after_cast = header.dtype.newbyteorder("=") in _EXACT_IN_FLOAT32
        logger.debug("opened %r", self)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._mm is None

    def close(self) -> None:
        """Unmap the data file."""
        self._mm = None
        m, self._map = self._map, None
        if m is not None:
            with contextlib.suppress(BufferError):  # a view is still alive: the GC unmaps
                m.close()

    def _release(self) -> None:
        """Unmap the pages touched so far (they stay in the OS page cache).

        Without this, the pages a read faults in (with the kernel's read-around, often
        megabytes per fault) count towards the process's resident memory until the file
        is closed; releasing them after each chunk keeps memory bounded by the chunk.
        """
        if self._map is not None and _MADV_DONTNEED is not None:
            self._map.madvise(_MADV_DONTNEED)

    def _window(self, mm: NDArray[Any], rows: slice, sel: Selection) -> NDArray[Any]:
        """Return the raw samples of a row chunk as a ``(rows, cols, bands)`` view or array."""
        b: slice | NDArray[np.intp] = sel.band_slice if sel.band_slice is not None else sel.bands
        c = sel.cols
        if self.interleave == "bil":
            return mm[rows, b, c].transpose(0, 2, 1)
        if self.interleave == "bip":
            return mm[rows, c, b]
        return mm[b, rows, c].transpose(1, 2, 0)

    def _read(self, sel: Selection) -> NDArray[np.float32]:
        mm = self._mm
        if mm is None:
            raise DataSourceError(self.path, "the radiance file is closed")
        nr, nc, nb = sel.shape
        out = np.empty((nr, nc, nb), dtype=np.float32)
        chunk = max(1, _CHUNK_BYTES // (nc * nb * self.dtype_on_disk.itemsize))
        r0, step = sel.rows.start, sel.rows.step
        gain = None if self._gain is None else self._gain[sel.bands]
        offset = None if self._offset is None else self._offset[sel.bands]
        ignore = self._ignore
        for i0 in range(0, nr, chunk):
            i1 = min(nr, i0 + chunk)
            rows = slice(r0 + i0 * step, r0 + (i1 - 1) * step + 1, step)
            src = self._window(mm, rows, sel)
            dst = out[i0:i1]
            mask: NDArray[np.bool_] | None = None
            if ignore is not None and not self._mask_after_cast:
                raw = np.asarray(src)
                mask = raw == ignore
                np.copyto(dst, raw, casting="unsafe")
            else:
                np.copyto(dst, src, casting="unsafe")
                if ignore is not None:
                    mask = dst == np.float32(ignore)
            if gain is not None and offset is not None:
                dst *= gain
                dst += offset
            if self._scale is not None:
                dst /= np.float32(self._scale)
            if mask is not None and mask.any():
                dst[mask] = np.nan
            del src
            self._release()
        return out
