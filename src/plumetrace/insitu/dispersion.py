"""Gaussian-plume dispersion coefficients σy(x), σz(x) and atmospheric stability.

Stability is a continuous index ``k`` in [0, 5]: 0 = Pasquill class A (very unstable) ...
5 = F (stable). Integer values reproduce the published class curves exactly; in between,
the curves are blended geometrically, which lets a sampler move smoothly between classes.

Schemes
-------
``briggs-rural``
    Briggs (1973) open-country curves, ``σ = a·x·(1 + b·x)^p`` (as tabulated by Hanna,
    Briggs & Hosker 1982, *Handbook on Atmospheric Diffusion*, Table 4.5).
``briggs-urban``
    Briggs (1973) urban curves fitted to McElroy & Pooler (1968), same form and source.
``pasquill-gifford``
    The Pasquill-Gifford curves in the form used by the US EPA ISC3 model (User's Guide,
    EPA-454/B-95-003b, Vol. II, Tables 1-1 and 1-2): ``σy = 465.11628·x·tan θ``,
    ``θ = 0.017453293·(c - d·ln x)``, ``σz = a·x^b`` (x in km, σ in m).

``isotropic``
    Not a σ curve but a different plume: the steady advection-diffusion solution with
    isotropic diffusivity and a finite gas lifetime used in robotic source-term estimation
    (Vergassola, Villermaux & Shraiman 2007; Hutchinson et al. 2019; Stone Soup's
    ``IsotropicPlume``), evaluated by :mod:`plumetrace.insitu._kernels`:
    ``C = Q / (4π ζ₁ r) · exp(u·x/(2ζ₁) - r/λ)``, ``λ = sqrt(ζ₁ζ₂ / (1 + u²ζ₂/(4ζ₁)))``,
    with r the 3-D distance (≥ 0.1 m) and x the downwind distance; ζ₁ (m²/s) is the
    particle's scale factor times 1 m²/s and ζ₂ (s) is 8 s times exp(stability offset / 4).
    No ground reflection.

All curves were fitted at 100 m - 10 km; at the 1-100 m range of a drone survey they are
extrapolated, which is why the estimators scale them by a factor estimated from the data.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = [
    "N_CLASSES",
    "SCHEMES",
    "Scheme",
    "kernel_tables",
    "sigmas",
    "stability_from_sigma_theta",
]

Scheme = Literal["briggs-rural", "briggs-urban", "pasquill-gifford", "isotropic"]
SCHEMES: Final[tuple[str, ...]] = ("briggs-rural", "briggs-urban", "pasquill-gifford", "isotropic")
N_CLASSES: Final[int] = 6

# σ = a·x·(1 + b·x)^p, x in m; rows A..F; columns a, b, p
_BRIGGS: Final[dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]] = {
    "briggs-rural": (
        np.array(
            [
                [0.22, 1e-4, -0.5],
                [0.16, 1e-4, -0.5],
                [0.11, 1e-4, -0.5],
                [0.08, 1e-4, -0.5],
                [0.06, 1e-4, -0.5],
                [0.04, 1e-4, -0.5],
            ]
        ),
        np.array(
            [
                [0.20, 0.0, 0.0],
                [0.12, 0.0, 0.0],
                [0.08, 2e-4, -0.5],
                [0.06, 1.5e-3, -0.5],
                [0.03, 3e-4, -1.0],
                [0.016, 3e-4, -1.0],
            ]
        ),
    ),
    "briggs-urban": (
        np.array(
            [
                [0.32, 4e-4, -0.5],
                [0.32, 4e-4, -0.5],
                [0.22, 4e-4, -0.5],
                [0.16, 4e-4, -0.5],
                [0.11, 4e-4, -0.5],
                [0.11, 4e-4, -0.5],
            ]
        ),
        np.array(
            [
                [0.24, 1e-3, 0.5],
                [0.24, 1e-3, 0.5],
                [0.20, 0.0, 0.0],
                [0.14, 3e-4, -0.5],
                [0.08, 1.5e-3, -0.5],
                [0.08, 1.5e-3, -0.5],
            ]
        ),
    ),
}

# ISC3 Pasquill-Gifford: σy angle coefficients (c, d) per class
_PG_Y: Final[NDArray[np.float64]] = np.array(
    [
        [24.1670, 2.5334],
        [18.3330, 1.8096],
        [12.5000, 1.0857],
        [8.3330, 0.72382],
        [6.2500, 0.54287],
        [4.1667, 0.36191],
    ]
)
# ISC3 σz = a·x^b (x km): per class, (upper bound of x in km, a, b) rows, last bound inf
_PG_Z: Final[tuple[NDArray[np.float64], ...]] = (
    np.array(
        [
            [0.10, 122.800, 0.94470],
            [0.15, 158.080, 1.05420],
            [0.20, 170.220, 1.09320],
            [0.25, 179.520, 1.12620],
            [0.30, 217.410, 1.26440],
            [0.40, 258.890, 1.40940],
            [0.50, 346.750, 1.72830],
            [np.inf, 453.850, 2.11660],
        ]
    ),
    np.array([[0.20, 90.673, 0.93198], [0.40, 98.483, 0.98332], [np.inf, 109.300, 1.09710]]),
    np.array([[np.inf, 61.141, 0.91465]]),
    np.array(
        [
            [0.30, 34.459, 0.86974],
            [1.00, 32.093, 0.81066],
            [3.00, 32.093, 0.64403],
            [10.0, 33.504, 0.60486],
            [30.0, 36.650, 0.56589],
            [np.inf, 44.053, 0.51179],
        ]
    ),
    np.array(
        [
            [0.10, 24.260, 0.83660],
            [0.30, 23.331, 0.81956],
            [1.00, 21.628, 0.75660],
            [2.00, 21.628, 0.63077],
            [4.00, 22.534, 0.57154],
            [10.0, 24.703, 0.50527],
            [20.0, 26.970, 0.46713],
            [40.0, 35.420, 0.37615],
            [np.inf, 47.618, 0.29592],
        ]
    ),
    np.array(
        [
            [0.20, 15.209, 0.81558],
            [0.70, 14.457, 0.78407],
            [1.00, 13.953, 0.68465],
            [2.00, 13.953, 0.63227],
            [3.00, 14.823, 0.54503],
            [7.00, 16.187, 0.46490],
            [15.0, 17.836, 0.41507],
            [30.0, 22.651, 0.32681],
            [60.0, 27.074, 0.27436],
            [np.inf, 34.219, 0.21716],
        ]
    ),
)
_PG_SIGMA_Z_MAX_M: Final[float] = 5000.0

# σθ (degrees) at the centre of each class's range, EPA-454/R-99-005 Table 6-8 (daytime):
# A ≥ 22.5, B 17.5-22.5, C 12.5-17.5, D 7.5-12.5, E 3.75-7.5, F < 3.75
_SIGMA_THETA_CENTRES: Final[NDArray[np.float64]] = np.array([2.5, 5.625, 10.0, 15.0, 20.0, 25.0])
_SIGMA_THETA_CLASS: Final[NDArray[np.float64]] = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])


def stability_from_sigma_theta(sigma_theta_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Continuous stability index from the std of the horizontal wind direction.

    Parameters
    ----------
    sigma_theta_deg : (M,) ndarray, degrees
        σθ; NaN where unknown.

    Returns
    -------
    (M,) ndarray
        Index in [0, 5] (0 = A ... 5 = F), piecewise linear through the centres of the
        EPA σθ class ranges; NaN where σθ is NaN.
    """
    s = np.asarray(sigma_theta_deg, dtype=np.float64)
    out = np.interp(np.nan_to_num(s, nan=10.0), _SIGMA_THETA_CENTRES, _SIGMA_THETA_CLASS)
    return np.where(np.isnan(s), np.nan, out)


def _blend(k: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    kk = np.clip(k, 0.0, N_CLASSES - 1.0)
    lo = np.minimum(np.floor(kk).astype(np.intp), N_CLASSES - 2)
    return lo, kk - lo


def _briggs(
    table: NDArray[np.float64], x: NDArray[np.float64], k: NDArray[np.float64]
) -> NDArray[np.float64]:
    lo, f = _blend(k)
    log_a = np.log(table[:, 0])
    la = log_a[lo] * (1.0 - f) + log_a[lo + 1] * f
    b = table[lo, 1] * (1.0 - f) + table[lo + 1, 1] * f
    p = table[lo, 2] * (1.0 - f) + table[lo + 1, 2] * f
    return np.asarray(np.exp(la) * x * (1.0 + b * x) ** p, dtype=np.float64)


def _pg_sigma_z_class(c: int, x_km: NDArray[np.float64]) -> NDArray[np.float64]:
    rows = _PG_Z[c]
    seg = np.searchsorted(rows[:, 0], x_km, side="left")
    seg = np.minimum(seg, rows.shape[0] - 1)
    out = rows[seg, 1] * x_km ** rows[seg, 2]
    return np.asarray(np.minimum(out, _PG_SIGMA_Z_MAX_M), dtype=np.float64)


def _pasquill_gifford(
    x: NDArray[np.float64], k: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lo, f = _blend(k)
    x_km = x * 1e-3
    c = _PG_Y[lo, 0] * (1.0 - f) + _PG_Y[lo + 1, 0] * f
    d = _PG_Y[lo, 1] * (1.0 - f) + _PG_Y[lo + 1, 1] * f
    theta = 0.017453293 * (c - d * np.log(x_km))
    sy = 465.11628 * x_km * np.tan(theta)
    log_lo = np.empty_like(x)
    log_hi = np.empty_like(x)
    for cls in range(N_CLASSES - 1):
        sel = lo == cls
        if np.any(sel):
            log_lo[sel] = np.log(_pg_sigma_z_class(cls, x_km[sel]))
            log_hi[sel] = np.log(_pg_sigma_z_class(cls + 1, x_km[sel]))
    sz = np.exp(log_lo * (1.0 - f) + log_hi * f)
    return np.asarray(sy, dtype=np.float64), np.asarray(sz, dtype=np.float64)


def sigmas(
    downwind_m: NDArray[np.float64],
    stability: NDArray[np.float64],
    scheme: Scheme = "briggs-rural",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Horizontal and vertical plume spreads at downwind distances.

    Parameters
    ----------
    downwind_m : ndarray, m
        Downwind distance, any shape; must be positive (callers clip).
    stability : ndarray
        Continuous stability index (0 = A ... 5 = F), broadcastable to ``downwind_m``.
    scheme : {"briggs-rural", "briggs-urban", "pasquill-gifford"}
        Which published curves.

    Returns
    -------
    sigma_y, sigma_z : ndarray, m
        Same shape as the broadcast inputs.
    """
    x, k = np.broadcast_arrays(
        np.asarray(downwind_m, dtype=np.float64), np.asarray(stability, dtype=np.float64)
    )
    if scheme == "pasquill-gifford":
        return _pasquill_gifford(np.ascontiguousarray(x), np.ascontiguousarray(k))
    if scheme == "isotropic":
        raise InvalidParameterError("the isotropic plume has no sigma curves")
    if scheme not in _BRIGGS:
        raise InvalidParameterError(
            f"unknown dispersion scheme {scheme!r}; choose one of {', '.join(SCHEMES)}"
        )
    table_y, table_z = _BRIGGS[scheme]
    return _briggs(table_y, x, k), _briggs(table_z, x, k)


def kernel_tables(
    scheme: Scheme,
) -> tuple[int, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Pack the coefficient tables for the compiled kernels.

    Returns
    -------
    code : int
        0 for a Briggs scheme, 1 for Pasquill-Gifford, 2 for the isotropic plume.
    ty, tz : (6, 3) ndarray
        Briggs rows (ln a, b, p) for σy and σz (rural curves when the scheme is PG; unused).
    pgy : (6, 2) ndarray
        Pasquill-Gifford σy angle coefficients (c, d).
    pgz : (6, 10, 3) ndarray
        Pasquill-Gifford σz rows (upper bound km, a, b), padded with +inf bounds.
    """
    if scheme not in SCHEMES:
        raise InvalidParameterError(
            f"unknown dispersion scheme {scheme!r}; choose one of {', '.join(SCHEMES)}"
        )
    pgz = np.zeros((N_CLASSES, 10, 3))
    for c, rows in enumerate(_PG_Z):
        pgz[c, : rows.shape[0]] = rows
        pgz[c, rows.shape[0] :] = rows[-1]
    briggs = _BRIGGS.get(scheme, _BRIGGS["briggs-rural"])
    code = {"pasquill-gifford": 1, "isotropic": 2}.get(scheme, 0)
    ty = briggs[0].copy()
    tz = briggs[1].copy()
    ty[:, 0] = np.log(ty[:, 0])
    tz[:, 0] = np.log(tz[:, 0])
    return code, ty, tz, _PG_Y.copy(), pgz
