"""An in-memory array behind the :class:`RadianceCube` interface.

Lets code written against :func:`open_radiance` run on simulated scenes and in tests
without writing files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import FormatError, InvalidRadianceError
from plumetrace.geo import Georef
from plumetrace.io.cube import RadianceCube, Selection, check_spectral

__all__ = ["ArrayRadiance"]


class ArrayRadiance(RadianceCube):
    """A radiance cube held in memory.

    Parameters
    ----------
    cube : (rows, cols, bands) array_like, µW cm⁻² sr⁻¹ nm⁻¹
        The radiance (kept by reference when it is already an ndarray).
    wavelength_nm : (bands,) array_like, nm
        Strictly increasing band centres.
    fwhm_nm : (bands,) array_like or None, nm
        Band widths (default: the band spacing, logged).
    georef : Georef or None
        Location of the pixels.
    name : str
        Stands in for the path in messages.

    Raises
    ------
    InvalidRadianceError
        If the cube is not 3-D or the wavelengths are invalid.
    """

    def __init__(
        self,
        cube: ArrayLike,
        wavelength_nm: ArrayLike,
        fwhm_nm: ArrayLike | None = None,
        georef: Georef | None = None,
        *,
        name: str = "<memory>",
    ) -> None:
        data: NDArray[Any] = np.asarray(cube)
        if data.ndim != 3:
            raise InvalidRadianceError(f"cube must be (rows, cols, bands), got shape {data.shape}")
        self.path = Path(name)
        try:
            wl, fw = check_spectral(
                np.asarray(wavelength_nm, dtype=np.float64),
                None if fwhm_nm is None else np.asarray(fwhm_nm, dtype=np.float64),
                self.path,
                data.shape[2],
            )
        except FormatError as exc:
            raise InvalidRadianceError(exc.problem) from exc
        self._data: NDArray[Any] | None = data
        self.shape = (int(data.shape[0]), int(data.shape[1]), int(data.shape[2]))
        self.wavelength_nm = wl
        self.fwhm_nm = fw
        self.georef = georef if georef is not None else Georef()
        self.dtype_on_disk = data.dtype

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._data is None

    def close(self) -> None:
        """Drop the reference to the array."""
        self._data = None

    def _read(self, sel: Selection) -> NDArray[np.float32]:
        data = self._data
        if data is None:  # pragma: no cover - guarded by read()
            raise InvalidRadianceError("the cube is closed")
        b = sel.band_slice if sel.band_slice is not None else sel.bands
        return np.ascontiguousarray(data[sel.rows, sel.cols][:, :, b], dtype=np.float32)
