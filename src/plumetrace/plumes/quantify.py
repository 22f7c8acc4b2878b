"""Emission rate of a plume: integrated mass enhancement, effective wind, error budget.

``Q = U_eff · IME / L`` (Varon et al. 2018, AMT 11, 5673): the integrated mass enhancement
``IME = Σ ΔΩ · A`` (kg) over the plume mask, divided by the plume length ``L`` (m), is the
mass per metre of plume; the effective wind ``U_eff`` (m/s) that carries it away is
calibrated against the 10 m wind as ``U_eff = a · U10 + b`` for each sensor class
(:mod:`plumetrace.plumes.calibration`).

Error budget (each term a relative one-sigma error, combined in quadrature):

* **background / random**: the plume mask is shifted to random plume-free places of the
  same map and the enhancement summed there. The mean of these sums is the background's
  contribution to the raw IME (non-zero for non-negative retrievals) and is subtracted;
  their spread is the random error of the IME.
* **wind**: ``U10 ~ N(U, σ_U)`` by Monte Carlo through the calibration.
* **effective-wind calibration**: the calibration's relative residual scatter.
* **masking**: the rate recomputed with the mask grown and shrunk by one pixel.

The 68 % interval is the 15.9-84.1 percentile range of a joint Monte Carlo of all four
terms (background by resampling the shifted-mask sums), so it is asymmetric where the
errors are (small plumes, wind near zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from plumetrace.constants import SECONDS_PER_HOUR
from plumetrace.errors import InvalidParameterError
from plumetrace.plumes.calibration import WindCalibration
from plumetrace.plumes.geometry import along_cross

__all__ = ["FluxEstimate", "background_sums", "estimate_flux", "integrated_mass"]

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class FluxEstimate:
    """Emission rate of one plume with its error budget.

    Attributes
    ----------
    ime_kg : float, kg
        Integrated mass enhancement, background-corrected.
    ime_sigma_kg : float, kg
        Random (background) error of the IME.
    length_m : float, m
    u_eff_m_s : float, m/s
        NaN without a wind speed.
    flux_kg_h, flux_kg_h_sigma : float, kg/h
        NaN without a wind speed.
    flux_kg_h_ci68 : (float, float), kg/h
    relative_errors : dict of str to float
        ``background``, ``wind``, ``calibration``, ``masking`` (one-sigma, relative).
    ime_snr : float
        IME over its random error (significance of the plume against shifted masks).
    background_bias_kg : float, kg
        The mean shifted-mask sum that was subtracted.
    """

    ime_kg: float
    ime_sigma_kg: float
    length_m: float
    u_eff_m_s: float
    flux_kg_h: float
    flux_kg_h_sigma: float
    flux_kg_h_ci68: tuple[float, float]
    relative_errors: dict[str, float]
    ime_snr: float
    background_bias_kg: float


def integrated_mass(
    mask: NDArray[np.bool_], column_kg_m2: NDArray[np.floating], pixel_area_m2: float
) -> float:
    """Return the mass (kg) over a mask; no-data pixels take the mask's mean column."""
    v = np.asarray(column_kg_m2, dtype=np.float64)[mask]
    ok = np.isfinite(v)
    if not ok.any():
        return float("nan")
    return float(v[ok].mean() * v.size * pixel_area_m2)


def background_sums(
    pixels: NDArray[np.int64],
    column_kg_m2: NDArray[np.floating],
    allowed: NDArray[np.bool_],
    pixel_area_m2: float,
    rng: np.random.Generator,
    n_shifts: int = 64,
) -> NDArray[np.float64]:
    """Sum the map over copies of a mask shifted to random allowed places.

    Parameters
    ----------
    pixels : (n, 2) ndarray of int
        The mask's ``(row, col)`` pixels.
    column_kg_m2 : (rows, cols) ndarray, kg/m²
    allowed : (rows, cols) ndarray of bool
        Plume-free pixels with data.
    pixel_area_m2 : float, m²
    rng : numpy Generator
    n_shifts : int

    Returns
    -------
    (k,) ndarray, kg
        One sum per accepted shift (``k <= n_shifts``; a copy is accepted when at least
        95 % of its pixels are allowed, and its sum is scaled to the full mask). Empty when
        the map has no room for the mask.
    """
    rows, cols = allowed.shape
    lo = pixels.min(axis=0)
    hi = pixels.max(axis=0)
    span = hi - lo
    if span[0] >= rows or span[1] >= cols:
        return np.zeros(0)
    n = pixels.shape[0]
    out: list[float] = []
    col_map = np.asarray(column_kg_m2, dtype=np.float64)
    for _ in range(20 * n_shifts):
        if len(out) >= n_shifts:
            break
        r0 = int(rng.integers(0, rows - span[0]))
        c0 = int(rng.integers(0, cols - span[1]))
        rr = pixels[:, 0] - lo[0] + r0
        cc = pixels[:, 1] - lo[1] + c0
        ok = allowed[rr, cc]
        n_ok = int(ok.sum())
        if n_ok < 0.95 * n:
            continue
        out.append(float(col_map[rr[ok], cc[ok]].sum() * n / n_ok * pixel_area_m2))
    return np.asarray(out)


def _within_fetch(
    mask: NDArray[np.bool_],
    source: tuple[float, float],
    direction: NDArray[np.float64],
    fetch_px: float,
) -> NDArray[np.bool_]:
    """Return the part of a mask within ``fetch_px`` downwind of the source."""
    rc = np.argwhere(mask)
    centres = rc.astype(np.float64) + 0.5
    along, _ = along_cross(centres[:, 0], centres[:, 1], source, direction)
    keep = along <= fetch_px
    if keep.sum() < 3:
        return mask
    out = np.zeros_like(mask)
    out[rc[keep, 0], rc[keep, 1]] = True
    return out


def _length_px(
    mask: NDArray[np.bool_], source: tuple[float, float], direction: NDArray[np.float64]
) -> float:
    rc = np.argwhere(mask).astype(np.float64) + 0.5
    along, _ = along_cross(rc[:, 0], rc[:, 1], source, direction)
    return float(max(np.percentile(along, 99.0) + 0.5, 1.0))


def estimate_flux(
    mask: NDArray[np.bool_],
    column_kg_m2: NDArray[np.floating],
    allowed: NDArray[np.bool_],
    *,
    source: tuple[float, float],
    direction: NDArray[np.float64],
    pixel_area_m2: float,
    along_m_per_px: float,
    wind_speed_m_s: float | None,
    wind_speed_sigma_m_s: float,
    calibration: WindCalibration,
    rng: np.random.Generator,
    n_shifts: int = 64,
    n_monte_carlo: int = 2000,
    max_fetch_px: float | None = None,
) -> FluxEstimate:
    """Estimate a plume's emission rate and its uncertainty.

    Parameters
    ----------
    mask : (rows, cols) ndarray of bool
        The plume's pixels.
    column_kg_m2 : (rows, cols) ndarray, kg/m²
        Column enhancement (NaN where no data).
    allowed : (rows, cols) ndarray of bool
        Plume-free pixels with data, for the shifted masks.
    source : (row, col)
        Source in grid coordinates.
    direction : (2,) ndarray
        Unit ``(drow, dcol)`` downwind.
    pixel_area_m2 : float, m²
        Ground area of a pixel.
    along_m_per_px : float, m
        Ground distance of one pixel step along ``direction``.
    wind_speed_m_s : float or None, m/s
        10 m wind speed; None gives NaN rates (the IME is still estimated).
    wind_speed_sigma_m_s : float, m/s
        One-sigma error of the wind speed.
    calibration : WindCalibration
    rng : numpy Generator
        Random source of the shifted masks and the Monte Carlo (seeded: same result).
    n_shifts, n_monte_carlo : int

    Returns
    -------
    FluxEstimate
    """
    if not (pixel_area_m2 > 0 and along_m_per_px > 0):
        raise InvalidParameterError("pixel area and size must be positive")
    if wind_speed_m_s is not None and not (np.isfinite(wind_speed_m_s) and wind_speed_m_s > 0):
        raise InvalidParameterError(f"wind speed must be positive, got {wind_speed_m_s} m/s")
    if not (np.isfinite(wind_speed_sigma_m_s) and wind_speed_sigma_m_s >= 0):
        raise InvalidParameterError(
            f"wind speed sigma must be non-negative, got {wind_speed_sigma_m_s} m/s"
        )
    area = pixel_area_m2
    if max_fetch_px is not None:
        mask = _within_fetch(mask, source, direction, max_fetch_px)
    pixels = np.argwhere(mask)
    n = pixels.shape[0]
    raw = integrated_mass(mask, column_kg_m2, area)
    sums = background_sums(pixels, column_kg_m2, allowed, area, rng, n_shifts)
    if sums.size >= 5:
        bias = float(sums.mean())
        sigma_bg = float(sums.std(ddof=1))
        deviations = sums - bias
    else:  # no room to shift: fall back to the map's pixel scatter, uncorrelated
        vals = np.asarray(column_kg_m2, dtype=np.float64)[allowed]
        bias = float(np.mean(vals) * n * area) if vals.size else 0.0
        sigma_bg = float(np.std(vals) * np.sqrt(n) * area) if vals.size else 0.0
        deviations = rng.normal(0.0, sigma_bg, 64)
    ime = raw - bias
    length_px = _length_px(mask, source, direction)
    length_m = length_px * along_m_per_px
    snr = ime / sigma_bg if sigma_bg > 0 else float("inf")
    rel_bg = sigma_bg / ime if ime > 0 else float("inf")

    # Masking: grow and shrink by one pixel (within the data), same per-pixel bias.
    per_px_bias = bias / n
    (r0, c0), (r1, c1) = pixels.min(axis=0) - 2, pixels.max(axis=0) + 3
    r0, c0 = max(int(r0), 0), max(int(c0), 0)
    sub_mask = mask[r0:r1, c0:c1]
    sub_col = np.asarray(column_kg_m2, dtype=np.float64)[r0:r1, c0:c1]
    sub_source = (source[0] - r0, source[1] - c0)
    rates = []
    for changed in (
        ndi.binary_dilation(sub_mask, _EIGHT) & np.isfinite(sub_col),
        ndi.binary_erosion(sub_mask, _EIGHT),
    ):
        if changed.sum() < 3:
            continue
        ime_k = integrated_mass(changed, sub_col, area) - per_px_bias * changed.sum()
        rates.append(ime_k / (_length_px(changed, sub_source, direction) * along_m_per_px))
    base = ime / length_m
    rel_mask = float(np.mean([abs(r - base) for r in rates]) / base) if rates and base > 0 else 0.0

    if wind_speed_m_s is None:
        nan = float("nan")
        return FluxEstimate(
            ime_kg=ime,
            ime_sigma_kg=sigma_bg,
            length_m=length_m,
            u_eff_m_s=nan,
            flux_kg_h=nan,
            flux_kg_h_sigma=nan,
            flux_kg_h_ci68=(nan, nan),
            relative_errors={"background": rel_bg, "masking": rel_mask},
            ime_snr=snr,
            background_bias_kg=bias,
        )
    u_eff = calibration.effective_wind(wind_speed_m_s)
    flux = max(SECONDS_PER_HOUR * u_eff * ime / length_m, 0.0)
    rel_wind = calibration.slope * wind_speed_sigma_m_s / u_eff
    rel_cal = calibration.relative_sigma
    rel = float(np.sqrt(min(rel_bg, 1e6) ** 2 + rel_wind**2 + rel_cal**2 + rel_mask**2))
    sigma = flux * rel if ime > 0 else SECONDS_PER_HOUR * u_eff * sigma_bg / length_m

    u10 = np.abs(wind_speed_m_s + wind_speed_sigma_m_s * rng.standard_normal(n_monte_carlo))
    ueff_s = calibration.effective_wind(np.maximum(u10, 0.1)) * np.exp(
        rel_cal * rng.standard_normal(n_monte_carlo) - 0.5 * rel_cal**2
    )
    ime_s = ime + rng.choice(deviations, n_monte_carlo)
    mask_s = 1.0 + rel_mask * rng.standard_normal(n_monte_carlo)
    q = SECONDS_PER_HOUR * ueff_s * ime_s * mask_s / length_m
    lo, hi = np.percentile(np.maximum(q, 0.0), [15.87, 84.13])
    return FluxEstimate(
        ime_kg=ime,
        ime_sigma_kg=sigma_bg,
        length_m=length_m,
        u_eff_m_s=float(u_eff),
        flux_kg_h=float(flux),
        flux_kg_h_sigma=float(sigma),
        flux_kg_h_ci68=(float(lo), float(hi)),
        relative_errors={
            "background": rel_bg,
            "wind": float(rel_wind),
            "calibration": rel_cal,
            "masking": rel_mask,
        },
        ime_snr=float(snr),
        background_bias_kg=bias,
    )
