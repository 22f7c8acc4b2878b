"""Shared protocol of the streaming row-block writers (ENVI, netCDF).

A writer is created for a ``(rows, cols, bands)`` image, filled with
:meth:`RowBlockWriter.write_rows` in blocks of whole rows in any order, and then either
finished with :meth:`~RowBlockWriter.close` (which refuses, saving nothing, while some
rows were never written) or dropped with :meth:`~RowBlockWriter.abort`. Used as a context
manager it closes on success and aborts on an exception.

This base keeps the open handle, the temporary file and the record of written rows; a
subclass only encodes and writes a validated block (:meth:`~RowBlockWriter._write_block`),
finishes its handle (:meth:`~RowBlockWriter._finish`) and releases it without saving
(:meth:`~RowBlockWriter._release`).
"""

from __future__ import annotations

import abc
import logging
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import InvalidParameterError
from plumetrace.io._atomic import discard

__all__ = ["RowBlockWriter", "as_cube"]

_H = TypeVar("_H")


def as_cube(cube: ArrayLike) -> NDArray[Any]:
    """Return ``cube`` as an array, checking that it is ``(rows, cols, bands)``."""
    data = np.asarray(cube)
    if data.ndim != 3:
        raise InvalidParameterError(f"cube must be (rows, cols, bands), got shape {data.shape}")
    return data


def _ranges(mask: NDArray[np.bool_]) -> str:
    """Describe the true entries of ``mask`` as index ranges, e.g. ``"0-2, 5, ..."``."""
    idx = np.flatnonzero(mask)
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    parts = [f"{s}" if s == e else f"{s}-{e}" for s, e in zip(starts, ends, strict=True)]
    return ", ".join(parts[:5]) + (", ..." if len(parts) > 5 else "")


class RowBlockWriter(abc.ABC, Generic[_H]):
    """Base of the writers that fill a ``(rows, cols, bands)`` file block by block.

    A subclass calls ``super().__init__(rows, cols, bands)`` first, then sets ``_tmp``
    (the temporary file that :meth:`abort` removes) and ``_handle`` (the open file; the
    writer counts as closed while it is ``None``).

    Parameters
    ----------
    rows, cols, bands : int
        Image size.

    Raises
    ------
    InvalidParameterError
        If a size is not a positive integer.
    """

    _extent: ClassVar[str] = "file"
    """How :meth:`write_rows` names the whole in its out-of-range message."""

    _tmp: Path

    def __init__(self, rows: int, cols: int, bands: int) -> None:
        self._handle: _H | None = None
        for name, n in (("rows", rows), ("cols", cols), ("bands", bands)):
            if int(n) != n or n < 1:
                raise InvalidParameterError(f"{name} must be a positive integer, got {n}")
        self.rows, self.cols, self.bands = int(rows), int(cols), int(bands)
        self._written = np.zeros(self.rows, dtype=bool)

    # ------------------------------------------------------------------ subclass hooks

    @property
    @abc.abstractmethod
    def _target(self) -> Path:
        """The file being written, as named in messages."""

    def _as_block(self, block: ArrayLike) -> NDArray[Any]:
        """Convert a block given to :meth:`write_rows` to an array (before any check)."""
        return np.asarray(block)

    @abc.abstractmethod
    def _write_block(self, handle: _H, row_start: int, block: NDArray[Any]) -> None:
        """Write a validated, non-empty ``(r, cols, bands)`` block at ``row_start``.

        On a failed write, call :meth:`abort` and raise ``DataSourceError``.
        """

    @abc.abstractmethod
    def _finish(self, handle: _H) -> None:
        """Complete the file behind ``handle`` (all rows written) and move it into place."""

    @abc.abstractmethod
    def _release(self, handle: _H) -> None:
        """Close ``handle`` without saving (the temporary file is removed afterwards)."""

    # ------------------------------------------------------------------ protocol

    def write_rows(self, row_start: int, block: ArrayLike) -> None:
        """Write rows ``row_start : row_start + len(block)``.

        Parameters
        ----------
        row_start : int
            First row of the block.
        block : (r, cols, bands) array_like, µW cm⁻² sr⁻¹ nm⁻¹
            Values in physical units, encoded as the writer's class describes.

        Raises
        ------
        InvalidParameterError
            If the writer is closed, the block's shape or position does not fit the
            file, or its values cannot be stored.
        DataSourceError
            If the write fails (nothing is saved then).
        """
        if self._handle is None:
            raise InvalidParameterError(f"{self._target}: the writer is closed")
        data = self._as_block(block)
        if data.ndim != 3 or data.shape[1:] != (self.cols, self.bands):
            raise InvalidParameterError(
                f"block must have shape (r, {self.cols}, {self.bands}), got {data.shape}"
            )
        if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
            raise InvalidParameterError(f"block must be real numbers, got {data.dtype}")
        r = data.shape[0]
        if int(row_start) != row_start or row_start < 0 or row_start + r > self.rows:
            raise InvalidParameterError(
                f"rows {row_start}-{row_start + r - 1} are outside the {self._extent}'s "
                f"{self.rows} rows"
            )
        if r == 0:
            return
        self._write_block(self._handle, row_start, data)
        self._written[row_start : row_start + r] = True

    def close(self) -> None:
        """Finish the file and move it into place; nothing happens if already closed.

        Raises
        ------
        InvalidParameterError
            If some rows were never written (nothing is saved then).
        DataSourceError
            If finishing or moving the file fails.
        """
        if self._handle is None:
            return
        if not self._written.all():
            missing = _ranges(~self._written)
            self.abort()
            raise InvalidParameterError(
                f"{self._target}: rows {missing} of {self.rows} were never written; "
                "nothing was saved"
            )
        handle, self._handle = self._handle, None
        self._finish(handle)

    def abort(self) -> None:
        """Stop without saving: remove the temporary file, leave existing files as they were."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._release(handle)
        discard(self._tmp)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` or :meth:`abort` has run."""
        return self._handle is None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            logging.getLogger(type(self).__module__).warning(
                "%s: %s dropped without close(); nothing saved", self._target, type(self).__name__
            )
            self.abort()
