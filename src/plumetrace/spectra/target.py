"""Gas target signatures: unit absorption at a sensor's bands.

The unit absorption spectrum ``s`` (per ppm·m) is the slope of the natural logarithm of
band radiance against the column enhancement, so that a plume of ``ΔX`` ppm·m changes
band radiance by ``L · exp(s · ΔX) ≈ L · (1 + s · ΔX)``. This is the convention of the
JPL columnwise matched filter (Thompson et al. 2015, AMT 8, 4383) and of MAG1C
(Foote et al. 2020, IEEE TGRS 58, 6480).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.data import GasLookupTable
from plumetrace.errors import TargetSpectrumError
from plumetrace.spectra.srf import convolve_to_bands

__all__ = [
    "DEFAULT_FIT_MAX_PPM_M",
    "GasTarget",
    "Weighting",
    "band_lookup_table",
    "target_from_lookup_table",
    "target_from_table",
]

DEFAULT_FIT_MAX_PPM_M = 16000.0
"""Upper end of the table enhancements used in the slope fit (ppm·m): the whole table.

This reproduces MAG1C's target exactly (r > 0.9999) and JPL/EMIT's radiance-weighted
EMIT target's shape (r = 0.993). Absorption saturates at high columns, so a smaller range
(e.g. 4000) weights the few-hundred-ppm·m regime more; the shape barely changes."""

Weighting = Literal["radiance", "absorption"]
"""How band values are formed from the high-resolution table.

``"radiance"``: slope of ln(band radiance), i.e. the absorption weighted by the
high-resolution radiance inside each band (the exact linearisation of a radiance-space
matched filter; MAG1C and EMIT convention). ``"absorption"``: band average of the
high-resolution absorption coefficient d ln L/dX, unweighted (the JPL AVIRIS-NG
convention; r = 0.998 with JPL's operational spectrum)."""


@dataclass(frozen=True)
class GasTarget:
    """A gas's unit absorption at a set of bands.

    Attributes
    ----------
    gas : str
        Gas name (``"ch4"`` or the stem of a user CSV).
    wavelength_nm : (bands,) ndarray, nm
        Band centres.
    absorption_per_ppm_m : (bands,) ndarray, (ppm·m)⁻¹
        d ln(L) / d(ppm·m); negative where the gas absorbs, 0 where it does not.
    """

    gas: str
    wavelength_nm: NDArray[np.float64]
    absorption_per_ppm_m: NDArray[np.float64]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary."""
        return {
            "gas": self.gas,
            "wavelength_nm": self.wavelength_nm.tolist(),
            "absorption_per_ppm_m": self.absorption_per_ppm_m.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> GasTarget:
        """Inverse of :meth:`to_dict`."""
        return cls(
            gas=str(d["gas"]),
            wavelength_nm=np.asarray(d["wavelength_nm"], dtype=np.float64),
            absorption_per_ppm_m=np.asarray(d["absorption_per_ppm_m"], dtype=np.float64),
        )


def band_lookup_table(
    lut: GasLookupTable, centers_nm: ArrayLike, fwhm_nm: ArrayLike
) -> NDArray[np.float64]:
    """Convolve every spectrum of a lookup table to the sensor's bands.

    Returns
    -------
    (k, bands) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        NaN for bands outside the table's wavelength range.
    """
    return convolve_to_bands(lut.wavelength_nm, lut.radiance, centers_nm, fwhm_nm)


def _ls_slope(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares slope (with intercept) of ``y`` (k, n) on ``x`` (k,), per column."""
    xc = x - x.mean()
    return np.asarray((xc[:, None] * (y - y.mean(axis=0))).sum(axis=0) / (xc**2).sum())


def target_from_lookup_table(
    lut: GasLookupTable,
    centers_nm: ArrayLike,
    fwhm_nm: ArrayLike,
    *,
    fit_max_ppm_m: float = DEFAULT_FIT_MAX_PPM_M,
    weighting: Weighting = "radiance",
) -> GasTarget:
    """Build a gas target from a radiance lookup table.

    Each table spectrum is convolved with a Gaussian response per band (from the band's
    FWHM); per band, ln(radiance) is regressed on the enhancement (least squares with an
    intercept) over the table levels up to ``fit_max_ppm_m``. With
    ``weighting="absorption"`` the regression is done per high-resolution wavelength and
    the slopes are then band-averaged.

    Parameters
    ----------
    lut : GasLookupTable
        High-resolution radiance for increasing enhancements.
    centers_nm, fwhm_nm : (bands,) array_like, nm
        The sensor's band centres and FWHM.
    fit_max_ppm_m : float, ppm·m
        Largest table enhancement used in the fit (at least two levels are always used).
    weighting : {"radiance", "absorption"}
        See :data:`Weighting`.

    Returns
    -------
    GasTarget
        Zero for bands the table does not cover.
    """
    centers = np.asarray(centers_nm, dtype=np.float64)
    levels = lut.enhancement_ppm_m
    use = levels <= fit_max_ppm_m
    if use.sum() < 2:
        use[:2] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        if weighting == "radiance":
            bands = band_lookup_table(lut, centers, fwhm_nm)
            slope = _ls_slope(levels[use], np.log(bands[use]))
        elif weighting == "absorption":
            hr = _ls_slope(levels[use], np.log(np.maximum(lut.radiance[use], 1e-30)))
            slope = convolve_to_bands(lut.wavelength_nm, hr, centers, fwhm_nm)
        else:
            raise TargetSpectrumError(f"unknown weighting {weighting!r}")
    slope = np.where(np.isfinite(slope), slope, 0.0)
    if not np.any(slope != 0):
        raise TargetSpectrumError(
            f"the {lut.gas} lookup table ({lut.wavelength_nm[0]:.0f}-"
            f"{lut.wavelength_nm[-1]:.0f} nm) covers none of the sensor's bands"
        )
    return GasTarget(gas=lut.gas, wavelength_nm=centers, absorption_per_ppm_m=slope)


def target_from_table(
    gas: str,
    table_wavelength_nm: ArrayLike,
    table_absorption_per_ppm_m: ArrayLike,
    centers_nm: ArrayLike,
    fwhm_nm: ArrayLike,
) -> GasTarget:
    """Build a target from a tabulated unit-absorption spectrum of any gas.

    Where the table is finer than a band (at least three samples within its FWHM) the
    table is convolved with the band's Gaussian response; elsewhere it is linearly
    interpolated at the band centre. Bands outside the table are 0.

    Parameters
    ----------
    gas : str
        Name recorded in the target.
    table_wavelength_nm : (m,) array_like, nm
        Increasing wavelengths of the table.
    table_absorption_per_ppm_m : (m,) array_like, (ppm·m)⁻¹
        d ln(L) / d(ppm·m) at those wavelengths (negative where the gas absorbs).
    centers_nm, fwhm_nm : (bands,) array_like, nm
        The sensor's bands.
    """
    wl = np.asarray(table_wavelength_nm, dtype=np.float64)
    ab = np.asarray(table_absorption_per_ppm_m, dtype=np.float64)
    centers = np.asarray(centers_nm, dtype=np.float64)
    fwhm = np.broadcast_to(np.asarray(fwhm_nm, dtype=np.float64), centers.shape)
    if wl.ndim != 1 or wl.size < 2 or wl.shape != ab.shape:
        raise TargetSpectrumError("the gas table needs at least two (wavelength, absorption) rows")
    if np.any(np.diff(wl) <= 0):
        raise TargetSpectrumError("the gas table's wavelengths must be strictly increasing")
    if not np.all(np.isfinite(ab)):
        raise TargetSpectrumError("the gas table has non-finite absorption values")
    inside = (centers >= wl[0]) & (centers <= wl[-1])
    if not inside.any():
        raise TargetSpectrumError(
            f"the {gas} table ({wl[0]:.0f}-{wl[-1]:.0f} nm) covers none of the sensor's bands"
        )
    out = np.zeros_like(centers)
    step = np.median(np.diff(wl))
    fine = inside & (fwhm >= 3 * step)
    if fine.any():
        conv = convolve_to_bands(wl, ab, centers[fine], fwhm[fine])
        interp = np.interp(centers[fine], wl, ab)
        out[fine] = np.where(np.isfinite(conv), conv, interp)
    coarse = inside & ~fine
    out[coarse] = np.interp(centers[coarse], wl, ab)
    return GasTarget(gas=gas, wavelength_nm=centers, absorption_per_ppm_m=out)
