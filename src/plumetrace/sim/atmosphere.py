"""Atmosphere for simulated scenes: the solar/atmospheric radiance shape and exact plumes.

Two pieces:

* :func:`atmosphere_radiance` -- top-of-atmosphere radiance of a unit-reflectance
  Lambertian surface at the sensor's bands. In the SWIR it is the lookup table's 0 ppm·m
  spectrum convolved with the bands; below the table (and the 1400 nm water band) it is the
  median of real AVIRIS-NG radiance spectra, rescaled so that it joins the table.
* :class:`BandTransmittance` -- exact, non-linear Beer-Lambert band transmittance of a gas
  column enhancement, built from the *full* high-resolution lookup table and convolved
  after the absorption (so band saturation and the band-average of ``exp`` are right,
  unlike the linearised ``exp(s·ΔX)`` of a unit-absorption target).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.errors import InvalidParameterError
from plumetrace.spectra.srf import FWHM_TO_SIGMA, response_matrix

__all__ = [
    "JOIN_WINDOW_NM",
    "SCALE_WINDOW_NM",
    "BandTransmittance",
    "atmosphere_radiance",
    "band_transmittance",
    "resample_spectra",
]

SCALE_WINDOW_NM = (1500.0, 1750.0)
"""Clean SWIR window (no strong H2O/CO2/CH4 absorption) where real spectra are matched to
the lookup table, nm."""

JOIN_WINDOW_NM = (1450.0, 1500.0)
"""The atmosphere changes linearly from the real-spectra shape (below) to the lookup table
(above) across this window, nm."""


def resample_spectra(
    wavelength_nm: ArrayLike,
    fwhm_nm: ArrayLike,
    spectra: ArrayLike,
    centers_nm: ArrayLike,
    target_fwhm_nm: ArrayLike,
) -> NDArray[np.float64]:
    """Resample band spectra of one sensor to the bands of another.

    Each target band is a Gaussian-weighted average of the source bands, with the
    *differential* width ``sqrt(fwhm_target² - fwhm_source²)`` (a Gaussian convolved with a
    Gaussian); where the target bands are not wider, this is linear interpolation.

    Parameters
    ----------
    wavelength_nm, fwhm_nm : (n,) array_like, nm
        Source band centres (increasing) and FWHM.
    spectra : (..., n) array_like
        Source spectra (any units).
    centers_nm, target_fwhm_nm : (bands,) array_like, nm
        Target band centres and FWHM.

    Returns
    -------
    (..., bands) ndarray
        Resampled spectra (clamped to the end values outside the source range).
    """
    w = np.asarray(wavelength_nm, dtype=np.float64)
    fw = np.broadcast_to(np.asarray(fwhm_nm, dtype=np.float64), w.shape)
    s = np.asarray(spectra, dtype=np.float64)
    c = np.asarray(centers_nm, dtype=np.float64)
    tf = np.broadcast_to(np.asarray(target_fwhm_nm, dtype=np.float64), c.shape)
    flat = s.reshape(-1, w.size)
    interp = np.stack([np.interp(c, w, row) for row in flat])
    src_fwhm = np.interp(c, w, fw)
    extra = np.sqrt(np.maximum(tf**2 - src_fwhm**2, 0.0)) * FWHM_TO_SIGMA
    step = float(np.median(np.diff(w)))
    wide = extra > 0.5 * step
    if wide.any():
        d = (w[None, :] - c[wide, None]) / extra[wide, None]
        k = np.exp(-0.5 * d**2)
        k /= k.sum(axis=1, keepdims=True)
        interp[:, wide] = flat @ k.T
    return np.asarray(interp.reshape(*s.shape[:-1], c.size))


def atmosphere_radiance(
    lut_wavelength_nm: ArrayLike,
    lut_radiance_zero: ArrayLike,
    real_wavelength_nm: ArrayLike,
    real_fwhm_nm: ArrayLike,
    real_radiance: ArrayLike,
    centers_nm: ArrayLike,
    fwhm_nm: ArrayLike,
) -> NDArray[np.float64]:
    """Radiance of a unit-reflectance surface (no plume) at the sensor's bands.

    SWIR (above :data:`JOIN_WINDOW_NM`): the lookup table's 0 ppm·m spectrum convolved
    with Gaussian band responses -- solar irradiance times two-way transmittance, with the
    table's water vapour, CO2 and background CH4.

    Below that (VNIR, 1400 nm water band): the table does not reach, so the shape comes
    from real at-sensor spectra. Each real spectrum is resampled to the bands, divided by
    its median ratio to the table over :data:`SCALE_WINDOW_NM` (i.e. normalised to a
    surface of unit reflectance in that clean window), and the per-band median of the
    normalised spectra is taken. This is an approximation: the real spectra carry their
    surfaces' reflectance shape (e.g. a vegetation red edge) and their own illumination
    geometry, so the VNIR is realistic in magnitude and absorption features, not an exact
    unit-reflectance radiance. Across :data:`JOIN_WINDOW_NM` the two are blended
    linearly.

    Parameters
    ----------
    lut_wavelength_nm : (n,) array_like, nm
        High-resolution grid of the lookup table.
    lut_radiance_zero : (n,) array_like, µW cm⁻² sr⁻¹ nm⁻¹
        Table radiance at 0 ppm·m enhancement (unit reflectance).
    real_wavelength_nm, real_fwhm_nm : (m,) array_like, nm
        Bands of the real spectra.
    real_radiance : (p, m) array_like, µW cm⁻² sr⁻¹ nm⁻¹
        Real at-sensor radiance spectra.
    centers_nm, fwhm_nm : (bands,) array_like, nm
        The simulated sensor's bands.

    Returns
    -------
    (bands,) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        Non-negative.
    """
    c = np.asarray(centers_nm, dtype=np.float64)
    fw = np.broadcast_to(np.asarray(fwhm_nm, dtype=np.float64), c.shape)
    resp = response_matrix(lut_wavelength_nm, c, fw)
    lut_bands = np.asarray(resp @ np.asarray(lut_radiance_zero, dtype=np.float64))
    covered = np.diff(resp.indptr) > 0
    real = np.atleast_2d(resample_spectra(real_wavelength_nm, real_fwhm_nm, real_radiance, c, fw))
    win = covered & (c >= SCALE_WINDOW_NM[0]) & (c <= SCALE_WINDOW_NM[1])
    if win.sum() < 3:
        raise InvalidParameterError(
            f"the sensor has too few bands in the {SCALE_WINDOW_NM[0]:.0f}-"
            f"{SCALE_WINDOW_NM[1]:.0f} nm window to scale the atmosphere"
        )
    pseudo_reflectance = np.median(real[:, win] / lut_bands[win], axis=1)
    if np.any(pseudo_reflectance <= 0):
        raise InvalidParameterError("a real spectrum has no signal in the scaling window")
    vnir = np.median(real / pseudo_reflectance[:, None], axis=0)
    lo, hi = JOIN_WINDOW_NM
    weight = np.clip((c - lo) / (hi - lo), 0.0, 1.0)
    weight[~covered] = 0.0
    out = weight * np.where(covered, lut_bands, 0.0) + (1.0 - weight) * vnir
    return np.asarray(np.maximum(out, 0.0))


@dataclass(frozen=True)
class BandTransmittance:
    """Band transmittance of a gas column enhancement, tabulated densely.

    ``T_b(ΔX) = conv_b(L(λ, ΔX)) / conv_b(L(λ, 0))`` for a unit-reflectance surface. A
    scene pixel of reflectance ρ and enhancement ΔX has radiance ``ρ · L_b(0) · T_b(ΔX)``.

    Attributes
    ----------
    enhancement_ppm_m : (k,) ndarray, ppm·m
        Increasing grid, first 0; contains every level of the source lookup table.
    log_transmittance : (k, bands) ndarray
        ``ln T_b`` at the grid (0 at ΔX = 0 and for bands the table does not cover).
    """

    enhancement_ppm_m: NDArray[np.float64]
    log_transmittance: NDArray[np.float64]

    def __call__(self, enhancement_ppm_m: ArrayLike) -> NDArray[np.float64]:
        """Return ``T_b`` for each enhancement.

        ``ln T`` is interpolated linearly between grid levels (exact at the levels) and
        extrapolated with the last segment's slope above the grid.

        Parameters
        ----------
        enhancement_ppm_m : (m,) array_like, ppm·m
            Non-negative column enhancements.

        Returns
        -------
        (m, bands) ndarray
        """
        x = np.asarray(enhancement_ppm_m, dtype=np.float64).ravel()
        if np.any(~np.isfinite(x)) or np.any(x < 0):
            raise InvalidParameterError("enhancements must be finite and non-negative")
        g = self.enhancement_ppm_m
        i = np.clip(np.searchsorted(g, x, side="right"), 1, g.size - 1)
        w = (x - g[i - 1]) / (g[i] - g[i - 1])
        lt = self.log_transmittance
        out = lt[i - 1] + w[:, None] * (lt[i] - lt[i - 1])
        return np.asarray(np.exp(out))


def _hr_log_radiance(
    log_table: NDArray[np.float64], levels: NDArray[np.float64], x: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Interpolate ln L (k, n) linearly in the enhancement; extrapolate the last segment."""
    i = np.clip(np.searchsorted(levels, x, side="right"), 1, levels.size - 1)
    w = (x - levels[i - 1]) / (levels[i] - levels[i - 1])
    return np.asarray(log_table[i - 1] + w[:, None] * (log_table[i] - log_table[i - 1]))


def band_transmittance(
    lut_wavelength_nm: ArrayLike,
    lut_enhancement_ppm_m: ArrayLike,
    lut_radiance: ArrayLike,
    centers_nm: ArrayLike,
    fwhm_nm: ArrayLike,
    *,
    max_ppm_m: float = 100000.0,
    step_ppm_m: float = 25.0,
    chunk: int = 64,
) -> BandTransmittance:
    """Tabulate exact band transmittances of a gas from a high-resolution radiance table.

    For each high-resolution wavelength, ln L is interpolated linearly in the enhancement
    between the table levels (Beer-Lambert within each segment, hence exact at the levels)
    and extrapolated above the last level with the last segment's slope. The
    high-resolution radiance at every level of a dense grid is then convolved with
    Gaussian band responses and divided by the 0 ppm·m band radiance. The grid is
    ``step_ppm_m`` apart up to 4000 ppm·m, 4x that up to 20000 and 20x that up to
    ``max_ppm_m``, plus the table levels; linear interpolation of ``ln T_b`` on it is
    within 1e-5 of the direct computation (relative) everywhere below ``max_ppm_m``.

    Parameters
    ----------
    lut_wavelength_nm : (n,) array_like, nm
    lut_enhancement_ppm_m : (k,) array_like, ppm·m
        Increasing, first 0.
    lut_radiance : (k, n) array_like, µW cm⁻² sr⁻¹ nm⁻¹
    centers_nm, fwhm_nm : (bands,) array_like, nm
    max_ppm_m : float, ppm·m
        Largest tabulated enhancement (beyond it :class:`BandTransmittance` extrapolates
        ``ln T_b`` linearly, no longer exactly).
    step_ppm_m : float, ppm·m
        Finest grid spacing.
    chunk : int
        Levels convolved at a time (memory: ``chunk × n`` float64).

    Returns
    -------
    BandTransmittance
    """
    levels = np.asarray(lut_enhancement_ppm_m, dtype=np.float64)
    rad = np.asarray(lut_radiance, dtype=np.float64)
    if levels.ndim != 1 or levels.size < 2 or levels[0] != 0 or np.any(np.diff(levels) <= 0):
        raise InvalidParameterError("table enhancements must increase from 0")
    if rad.shape[0] != levels.size:
        raise InvalidParameterError("one table spectrum per enhancement level is needed")
    if max_ppm_m <= 0 or step_ppm_m <= 0:
        raise InvalidParameterError("max_ppm_m and step_ppm_m must be positive")
    log_table = np.log(np.maximum(rad, np.finfo(np.float64).tiny))
    h = step_ppm_m
    grid = np.unique(
        np.concatenate(
            [
                np.arange(0.0, min(4000.0, max_ppm_m), h),
                np.arange(4000.0, min(20000.0, max_ppm_m), 4 * h),
                np.arange(20000.0, max_ppm_m, 20 * h),
                [max_ppm_m],
                levels,
            ]
        )
    )
    resp = response_matrix(lut_wavelength_nm, centers_nm, fwhm_nm)
    covered = np.diff(resp.indptr) > 0
    out = np.zeros((grid.size, resp.shape[0]))
    for start in range(0, grid.size, chunk):
        x = grid[start : start + chunk]
        hr = np.exp(_hr_log_radiance(log_table, levels, x))
        out[start : start + chunk] = (resp @ hr.T).T
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t = np.log(out / out[0])
    log_t[:, ~covered] = 0.0
    log_t = np.where(np.isfinite(log_t), log_t, 0.0)
    return BandTransmittance(enhancement_ppm_m=grid, log_transmittance=log_t)
