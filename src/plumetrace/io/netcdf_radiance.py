"""Radiance from EMIT L1B-like netCDF-4 files (see :mod:`plumetrace.io.netcdf`).

Reads slice the ``radiance`` variable directly (automatic masking off; the fill value is
replaced by NaN here, which is much faster than masked arrays). Reads are serialised with
a lock because the netCDF/HDF5 libraries are not thread-safe.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.geo import Georef
from plumetrace.io.cube import RadianceCube, Selection, check_spectral, parse_acquisition_time

__all__ = ["MAX_LOCATION_PIXELS", "NetcdfRadiance", "radiance_unit_factor"]

logger = logging.getLogger(__name__)

MAX_LOCATION_PIXELS = 2**27
"""Most pixels whose lat/lon grids are loaded (2 GiB of float64); a file claiming more
(a corrupt header) is refused before anything is allocated."""

_MAX_BANDS = 2**20

_MICROMETRE_UNITS = {"um", "µm", "μm", "micrometers", "micrometer", "microns", "micron"}
_UNIT_FACTORS = {
    "uw/cm2/sr/nm": 1.0,
    "uwcm-2sr-1nm-1": 1.0,
    "microwatts/cm2/sr/nm": 1.0,
    "mw/cm2/sr/um": 1.0,
    "w/m2/sr/um": 0.1,
    "wm-2sr-1um-1": 0.1,
    "w/m2/sr/nm": 100.0,
    "wm-2sr-1nm-1": 100.0,
}


def radiance_unit_factor(units: str | None, source: Path) -> float:
    """Factor that converts radiance in ``units`` to µW cm⁻² sr⁻¹ nm⁻¹.

    Unknown or missing units are assumed to be µW cm⁻² sr⁻¹ nm⁻¹ (logged).
    """
    if units:
        key = units.lower().replace(" ", "").replace("^", "").replace("*", "")
        key = key.replace("µ", "u").replace("μ", "u")
        if key in _UNIT_FACTORS:
            return _UNIT_FACTORS[key]
    logger.warning("%s: radiance units %r not recognised; assuming uW/cm^2/sr/nm", source, units)
    return 1.0


def _find(ds: Any, *paths: str) -> Any:
    """Return the first variable found among ``group/name`` paths, or None."""
    for p in paths:
        node = ds
        *groups, name = p.split("/")
        for g in groups:
            node = node.groups.get(g)
            if node is None:
                break
        else:
            var = node.variables.get(name)
            if var is not None:
                return var
    return None


def _read_vector(var: Any, source: Path) -> NDArray[np.float64] | None:
    if var is None:
        return None
    if var.size > _MAX_BANDS:
        raise FormatError(source, f"'{var.name}' claims {var.size} values, far too many bands")
    var.set_auto_maskandscale(False)
    values = np.asarray(var[:], dtype=np.float64).reshape(-1)
    units = str(getattr(var, "units", "")).strip().lower()
    if units in _MICROMETRE_UNITS:
        values = values * 1000.0
    return values


def _attr(var: Any, name: str) -> Any:
    return var.getncattr(name) if name in var.ncattrs() else None


def _band_runs(idx: NDArray[np.intp]) -> list[tuple[int, int]]:
    """Contiguous runs ``[start, stop)`` covering the sorted unique indices ``idx``."""
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    stops = np.r_[idx[breaks], idx[-1]] + 1
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


class NetcdfRadiance(RadianceCube):
    """An EMIT L1B-like netCDF-4 radiance file.

    Parameters
    ----------
    path : str or Path
        The ``.nc`` file.

    Raises
    ------
    DataSourceError
        If the file is missing.
    FormatError
        If it is not netCDF-4/HDF5, has no 3-D ``radiance`` variable, no wavelengths
        (``sensor_band_parameters/wavelengths``), or inconsistent shapes.
    """

    def __init__(self, path: str | Path) -> None:
        import netCDF4

        p = Path(path)
        if not p.is_file():
            raise DataSourceError(p, "file not found" if not p.exists() else "not a file")
        try:
            ds = netCDF4.Dataset(p, "r")
        except OSError as exc:
            raise FormatError(p, f"not a readable netCDF-4/HDF5 file ({exc})") from exc
        self._ds: Any = ds
        self._lock = threading.Lock()
        try:
            self._setup(p)
        except (RuntimeError, KeyError, IndexError, TypeError, ValueError) as exc:
            self.close()
            if isinstance(exc, FormatError):
                raise
            problem = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise FormatError(p, f"not a readable EMIT-like netCDF: {problem}") from exc
        except BaseException:
            self.close()
            raise
        logger.debug("opened %r", self)

    def _setup(self, p: Path) -> None:
        import netCDF4

        ds = self._ds
        rad = _find(ds, "radiance")
        if rad is None:
            found = ", ".join(sorted(ds.variables)) or "none"
            raise FormatError(p, f"no 'radiance' variable (root variables: {found})")
        if rad.ndim != 3:
            raise FormatError(
                p, f"'radiance' must be 3-D (downtrack, crosstrack, bands), has {rad.dimensions}"
            )
        rad.set_auto_maskandscale(False)
        self._rad = rad
        shape = tuple(int(n) for n in rad.shape)
        self.path = p
        self.shape = (shape[0], shape[1], shape[2])
        self.dtype_on_disk = np.dtype(rad.dtype)
        wl = _read_vector(_find(ds, "sensor_band_parameters/wavelengths", "wavelengths"), p)
        fw = _read_vector(_find(ds, "sensor_band_parameters/fwhm", "fwhm"), p)
        if wl is not None and wl.size != shape[2] and wl.size == shape[0]:
            raise FormatError(
                p,
                f"'radiance' dimensions {rad.dimensions} look band-first; expected "
                "(downtrack, crosstrack, bands)",
            )
        self.wavelength_nm, self.fwhm_nm = check_spectral(
            wl,
            fw,
            p,
            shape[2],
            missing="no wavelength information ('sensor_band_parameters/wavelengths' is missing)",
        )
        fill = _attr(rad, "_FillValue")
        if fill is None:
            fill = netCDF4.default_fillvals.get(self.dtype_on_disk.str[1:])
        self._fills = [float(v) for v in (fill, _attr(rad, "missing_value")) if v is not None]
        self._fills = [v for v in self._fills if not np.isnan(v)]
        scale, add = _attr(rad, "scale_factor"), _attr(rad, "add_offset")
        self._scale = None if scale is None else float(scale)
        self._add = None if add is None else float(add)
        self._units = radiance_unit_factor(_attr(rad, "units"), p)
        self.georef = self._georef(p)
        self.acquired = parse_acquisition_time(getattr(ds, "time_coverage_start", None), p)

    def _georef(self, p: Path) -> Georef:
        lat_var = _find(self._ds, "location/lat", "lat")
        lon_var = _find(self._ds, "location/lon", "lon")
        if lat_var is None or lon_var is None:
            logger.warning("%s: no location/lat and location/lon; the scene is unreferenced", p)
            return Georef()
        grids: list[NDArray[np.float64]] = []
        rows, cols = self.shape[:2]
        if rows * cols > MAX_LOCATION_PIXELS:
            raise FormatError(
                p,
                f"{rows} x {cols} pixels are more lat/lon than one scene holds "
                f"(at most {MAX_LOCATION_PIXELS:,}): a corrupt header?",
            )
        for var in (lat_var, lon_var):
            shape = tuple(int(n) for n in var.shape)
            if shape != self.shape[:2]:
                raise FormatError(
                    p, f"'{var.name}' has shape {shape}, radiance has {self.shape[:2]} pixels"
                )
            var.set_auto_maskandscale(False)
            arr = np.asarray(var[:], dtype=np.float64)
            fill = _attr(var, "_FillValue")
            if fill is not None:
                arr[arr == float(fill)] = np.nan
            grids.append(arr)
        return Georef(lat=grids[0], lon=grids[1])

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._ds is None

    def close(self) -> None:
        """Close the netCDF file."""
        ds, self._ds = self._ds, None
        if ds is not None:
            ds.close()

    def _read(self, sel: Selection) -> NDArray[np.float32]:
        rows, cols = sel.rows, sel.cols
        with self._lock:
            if self._ds is None:
                raise DataSourceError(self.path, "the radiance file is closed")
            try:
                if sel.band_slice is not None:
                    raw = np.asarray(self._rad[rows, cols, sel.band_slice])
                else:
                    uniq, inverse = np.unique(sel.bands, return_inverse=True)
                    runs = _band_runs(uniq)
                    parts = [np.asarray(self._rad[rows, cols, a:b]) for a, b in runs]
                    raw = np.concatenate(parts, axis=2)[:, :, inverse]
            except RuntimeError as exc:  # the netCDF/HDF5 library: a corrupt chunk
                problem = " ".join(str(exc).split())[:200]
                raise FormatError(self.path, f"cannot read radiance: {problem}") from exc
        out = np.ascontiguousarray(raw, dtype=np.float32)
        if out is raw and not out.flags.writeable:
            out = out.copy()
        bad: NDArray[np.bool_] | None = None
        for fill in self._fills:
            hit = raw == fill
            bad = hit if bad is None else bad | hit
        if self._scale is not None:
            out *= np.float32(self._scale)
        if self._add is not None:
            out += np.float32(self._add)
        if self._units != 1.0:
            out *= np.float32(self._units)
        if bad is not None and bad.any():
            out[bad] = np.nan
        return out
