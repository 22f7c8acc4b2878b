# mypy: disable-error-code="no-any-return"
"""Compiled (numba) inner loops of the Gaussian plume and its likelihood.

These are the only loops over particles x readings; everything else is numpy. Arrays are
packed by :mod:`plumetrace.insitu.plume`:

* particles ``P`` (N, 9): x, y, z, rate (kg/s), cos(bias), sin(bias), scale, stability offset,
  background offset (ppm, subtracted from every reading's enhancement);
* readings ``R`` (M, 11): start x, y, z; unit beam direction bx, by, bz; path length L
  (0 for a point); wind towards-unit ex0, ey0; 1/u; base stability index;
* tables: Briggs ``TY``/``TZ`` (6, 3) rows ln a, b, p; Pasquill-Gifford ``PGY`` (6, 2) and
  ``PGZ`` (6, 10, 3) rows (upper bound km, a, b) padded with +inf bounds.

The first call compiles (cached on disk by numba); later calls run in parallel threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["loglik_sum", "predict"]

_SQRT_HALF_PI = math.sqrt(math.pi / 2.0)
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_GL4_X, _GL4_W = np.polynomial.legendre.leggauss(4)
_SEGMENT_RATIO = 1.5
_BRIGGS = 0
_PG = 1
_ISOTROPIC = 2
_ISO_LIFETIME_S = 8.0
_GL16_X, _GL16_W = np.polynomial.legendre.leggauss(16)


@numba.njit(cache=True, fastmath=True, inline="always")
def _blend(k: float) -> tuple[int, float]:
    kk = min(max(k, 0.0), 5.0)
    lo = min(math.floor(kk), 4)
    return lo, kk - lo


@numba.njit(cache=True, fastmath=True, inline="always")
def _power(base: float, p: float) -> float:
    if p == 0.0:
        return 1.0
    if p == -0.5:
        return 1.0 / math.sqrt(base)
    if p == 0.5:
        return math.sqrt(base)
    if p == -1.0:
        return 1.0 / base
    return math.exp(p * math.log(base))


@numba.njit(cache=True, fastmath=True)
def _coefficients(
    k: float, ty: NDArray[np.float64], tz: NDArray[np.float64]
) -> tuple[float, float, float, float, float, float]:
    """Briggs (a, b, p) of σy and σz at a continuous stability index."""
    lo, f = _blend(k)
    ay = math.exp(ty[lo, 0] * (1.0 - f) + ty[lo + 1, 0] * f)
    by = ty[lo, 1] * (1.0 - f) + ty[lo + 1, 1] * f
    py = ty[lo, 2] * (1.0 - f) + ty[lo + 1, 2] * f
    az = math.exp(tz[lo, 0] * (1.0 - f) + tz[lo + 1, 0] * f)
    bz = tz[lo, 1] * (1.0 - f) + tz[lo + 1, 1] * f
    pz = tz[lo, 2] * (1.0 - f) + tz[lo + 1, 2] * f
    return ay, by, py, az, bz, pz


@numba.njit(cache=True, fastmath=True, inline="always")
def _pg_z(pgz: NDArray[np.float64], cls: int, x_km: float) -> float:
    s = 0
    while x_km > pgz[cls, s, 0]:
        s += 1
    return min(pgz[cls, s, 1] * x_km ** pgz[cls, s, 2], 5000.0)


@numba.njit(cache=True, fastmath=True)
def _sigmas(
    x: float,
    k: float,
    cf: tuple[float, float, float, float, float, float],
    scheme: int,
    ty: NDArray[np.float64],
    tz: NDArray[np.float64],
    pgy: NDArray[np.float64],
    pgz: NDArray[np.float64],
) -> tuple[float, float]:
    if scheme == _BRIGGS:
        ay, by, py, az, bz, pz = cf
        return ay * x * _power(1.0 + by * x, py), az * x * _power(1.0 + bz * x, pz)
    lo, f = _blend(k)
    x_km = x * 1e-3
    c = pgy[lo, 0] * (1.0 - f) + pgy[lo + 1, 0] * f
    d = pgy[lo, 1] * (1.0 - f) + pgy[lo + 1, 1] * f
    sy = 465.11628 * x_km * math.tan(0.017453293 * (c - d * math.log(x_km)))
    sz = math.exp(
        math.log(_pg_z(pgz, lo, x_km)) * (1.0 - f) + math.log(_pg_z(pgz, lo + 1, x_km)) * f
    )
    return sy, sz


@numba.njit(cache=True, fastmath=True)
def _point_unit(
    d: float,
    c: float,
    z: float,
    h: float,
    k: float,
    cf: tuple[float, float, float, float, float, float],
    scale: float,
    scheme: int,
    ty: NDArray[np.float64],
    tz: NDArray[np.float64],
    pgy: NDArray[np.float64],
    pgz: NDArray[np.float64],
    s0sq: float,
) -> float:
    """C·u/Q (1/m²) at downwind d, crosswind c, height z of a source at height h."""
    sy, sz = _sigmas(d, k, cf, scheme, ty, tz, pgy, pgz)
    sy = math.sqrt((scale * sy) ** 2 + s0sq)
    sz = math.sqrt((scale * sz) ** 2 + s0sq)
    gy = -0.5 * (c / sy) ** 2
    iz = -0.5 / (sz * sz)
    vert = math.exp(gy + iz * (z - h) ** 2) + math.exp(gy + iz * (z + h) ** 2)
    return vert / (2.0 * math.pi * sy * sz)


@numba.njit(cache=True, fastmath=True)
def _segment(
    c0: float,
    uc: float,
    z0: float,
    uz: float,
    h: float,
    t1: float,
    t2: float,
    te: float,
    sy: float,
    sz: float,
) -> float:
    """∫ C·u/Q dt over [t1, t2] of a beam with σ and the vertical term taken at ``te``."""
    z = z0 + te * uz
    iz = -0.5 / (sz * sz)
    vert = math.exp(iz * (z - h) ** 2) + math.exp(iz * (z + h) ** 2)
    span = t2 - t1
    if abs(uc) * span < 1e-3 * sy:
        ce = c0 + te * uc
        cross = span * math.exp(-0.5 * (ce / sy) ** 2)
    else:
        a1 = (c0 + t1 * uc) / (_SQRT2 * sy)
        a2 = (c0 + t2 * uc) / (_SQRT2 * sy)
        if a1 > 0.0 and a2 > 0.0:
            diff = abs(math.erfc(a1) - math.erfc(a2))
        elif a1 < 0.0 and a2 < 0.0:
            diff = abs(math.erfc(-a1) - math.erfc(-a2))
        else:
            diff = abs(math.erf(a2) - math.erf(a1))
        cross = sy * _SQRT_HALF_PI * diff / abs(uc)
    return cross * vert / (2.0 * math.pi * sy * sz)


@numba.njit(cache=True, fastmath=True)
def _isotropic(
    x: float,
    y: float,
    z: float,
    pp: NDArray[np.float64],
    i: int,
    ex: float,
    ey: float,
    u: float,
) -> float:
    """C/Q (s/m³) of the isotropic advection-diffusion plume (see dispersion.py)."""
    dx = x - pp[i, 0]
    dy = y - pp[i, 1]
    dz = z - pp[i, 2]
    r = max(math.sqrt(dx * dx + dy * dy + dz * dz), 0.1)
    d = dx * ex + dy * ey
    z1 = pp[i, 6]
    z2 = _ISO_LIFETIME_S * math.exp(0.25 * pp[i, 7])
    lam = math.sqrt(z1 * z2 / (1.0 + u * u * z2 / (4.0 * z1)))
    return math.exp(u * d / (2.0 * z1) - r / lam) / (4.0 * math.pi * z1 * r)


@numba.njit(cache=True, fastmath=True)
def _conc(
    pp: NDArray[np.float64],
    i: int,
    rr: NDArray[np.float64],
    j: int,
    scheme: int,
    ty: NDArray[np.float64],
    tz: NDArray[np.float64],
    pgy: NDArray[np.float64],
    pgz: NDArray[np.float64],
    s0sq: float,
    dmin: float,
    max_seg: int,
) -> float:
    """Concentration (kg/m³) of one particle at one reading (point or path mean)."""
    cb, sb = pp[i, 4], pp[i, 5]
    ex = rr[j, 7] * cb + rr[j, 8] * sb
    ey = rr[j, 8] * cb - rr[j, 7] * sb
    dx = rr[j, 0] - pp[i, 0]
    dy = rr[j, 1] - pp[i, 1]
    d0 = dx * ex + dy * ey
    c0 = dx * ey - dy * ex
    if scheme == _ISOTROPIC:
        u = 1.0 / rr[j, 9]
        q = pp[i, 3]
        if rr[j, 6] <= 0.0:
            return q * _isotropic(rr[j, 0], rr[j, 1], rr[j, 2], pp, i, ex, ey, u)
        acc = 0.0
        half = 0.5 * rr[j, 6]
        for g in range(16):
            t = half * (1.0 + _GL16_X[g])
            acc += _GL16_W[g] * _isotropic(
                rr[j, 0] + t * rr[j, 3],
                rr[j, 1] + t * rr[j, 4],
                rr[j, 2] + t * rr[j, 5],
                pp,
                i,
                ex,
                ey,
                u,
            )
        return q * 0.5 * acc
    k = rr[j, 10] + pp[i, 7]
    cf = _coefficients(k, ty, tz)
    scale = pp[i, 6]
    h = pp[i, 2]
    q_u = pp[i, 3] * rr[j, 9]
    length = rr[j, 6]
    if length <= 0.0:
        if d0 < dmin:
            return 0.0
        return q_u * _point_unit(d0, c0, rr[j, 2], h, k, cf, scale, scheme, ty, tz, pgy, pgz, s0sq)
    # path: d(t) = d0 + t·ud, c(t) = c0 + t·uc, z(t) = z0 + t·uz for t in [0, L]
    ud = rr[j, 3] * ex + rr[j, 4] * ey
    uc = rr[j, 3] * ey - rr[j, 4] * ex
    uz = rr[j, 5]
    z0 = rr[j, 2]
    ta, tb = 0.0, length
    if ud > 1e-12:
        ta = max(ta, (dmin - d0) / ud)
    elif ud < -1e-12:
        tb = min(tb, (dmin - d0) / ud)
    elif d0 < dmin:
        return 0.0
    if tb <= ta:
        return 0.0
    da = max(d0 + ta * ud, dmin)
    db = max(d0 + tb * ud, dmin)
    # keep only the part of the beam within 6 σy of the axis (σy at the farthest point
    # bounds σy everywhere along the beam); none left: nothing to integrate
    sy_far, _ = _sigmas(max(da, db), k, cf, scheme, ty, tz, pgy, pgz)
    reach = 6.0 * math.sqrt((scale * sy_far) ** 2 + s0sq)
    if abs(uc) > 1e-12:
        t_lo = (-reach - c0) / uc
        t_hi = (reach - c0) / uc
        if t_lo > t_hi:
            t_lo, t_hi = t_hi, t_lo
        ta = max(ta, t_lo)
        tb = min(tb, t_hi)
        if tb <= ta:
            return 0.0
        da = max(d0 + ta * ud, dmin)
        db = max(d0 + tb * ud, dmin)
    elif abs(c0) > reach:
        return 0.0
    # crossing of the plume axis (c = 0), clipped to the downwind part of the beam
    inside = False
    if abs(uc) > 1e-12:
        tc = -c0 / uc
        inside = ta <= tc <= tb
        tc = min(max(tc, ta), tb)
    else:
        tc = 0.5 * (ta + tb)
    dc = max(d0 + tc * ud, dmin)
    syc, szc = _sigmas(dc, k, cf, scheme, ty, tz, pgy, pgz)
    syc = math.sqrt((scale * syc) ** 2 + s0sq)
    szc = math.sqrt((scale * szc) ** 2 + s0sq)
    clean = abs(ud) * syc <= 0.2 * dc * abs(uc) and 8.0 * abs(uz) * syc < 0.5 * szc * abs(uc)
    if inside and clean and abs(uc) * (tb - ta) > 4.0 * syc:
        # a clean crossing: σ hardly changes across the plume's footprint on the beam
        return q_u * _segment(c0, uc, z0, uz, h, ta, tb, tc, syc, szc) / length
    # the beam runs along the plume: integrate in geometric steps of downwind distance
    ratio = max(da, db) / min(da, db)
    n_seg = min(max_seg, max(1, math.ceil(math.log(ratio) / math.log(_SEGMENT_RATIO))))
    total = 0.0
    t1 = ta
    for s in range(1, n_seg + 1):
        if s == n_seg:
            t2 = tb
        elif ratio > 1.0001 and abs(ud) > 1e-12:
            t2 = (da * (db / da) ** (s / n_seg) - d0) / ud
            t2 = min(max(t2, t1), tb)
        else:
            t2 = ta + (tb - ta) * s / n_seg
        tcs = -c0 / uc if abs(uc) > 1e-12 else -1e300
        done = False
        if t1 <= tcs <= t2:
            sy, sz = _sigmas(max(d0 + tcs * ud, dmin), k, cf, scheme, ty, tz, pgy, pgz)
            sy = math.sqrt((scale * sy) ** 2 + s0sq)
            sz = math.sqrt((scale * sz) ** 2 + s0sq)
            if abs(uc) * (t2 - t1) > 4.0 * sy and 8.0 * abs(uz) * sy < 0.5 * sz * abs(uc):
                # the axis crossing is resolved inside this segment: erf at the crossing
                total += _segment(c0, uc, z0, uz, h, t1, t2, tcs, sy, sz)
                done = True
        if not done:
            # no resolved crossing: 4-point Gauss-Legendre of the point integrand
            mid = 0.5 * (t1 + t2)
            half = 0.5 * (t2 - t1)
            for g in range(4):
                t = mid + half * _GL4_X[g]
                d = d0 + t * ud
                if d >= dmin:
                    total += (
                        half
                        * _GL4_W[g]
                        * _point_unit(
                            d,
                            c0 + t * uc,
                            z0 + t * uz,
                            h,
                            k,
                            cf,
                            scale,
                            scheme,
                            ty,
                            tz,
                            pgy,
                            pgz,
                            s0sq,
                        )
                    )
        t1 = t2
    return q_u * total / length


@numba.njit(cache=True, parallel=True, fastmath=True)
def predict(
    p: NDArray[np.float64],
    r: NDArray[np.float64],
    scheme: int,
    ty: NDArray[np.float64],
    tz: NDArray[np.float64],
    pgy: NDArray[np.float64],
    pgz: NDArray[np.float64],
    s0sq: float,
    dmin: float,
    max_seg: int,
    factor: float,
) -> NDArray[np.float64]:
    """(N, M) predicted values: concentration (kg/m³) times ``factor``."""
    n = p.shape[0]
    m = r.shape[0]
    out = np.empty((n, m))
    for i in numba.prange(n):
        for j in range(m):
            out[i, j] = factor * _conc(p, i, r, j, scheme, ty, tz, pgy, pgz, s0sq, dmin, max_seg)
    return out


@numba.njit(cache=True, fastmath=True, inline="always")
def _normcdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


@numba.njit(cache=True, fastmath=True)
def log_likelihood_one(
    z: float, c: float, sigma_n: float, threshold: float, rel: float, p_int: float
) -> float:
    """Log p(z | c): shifted log-normal error, intermittency, censoring below ``threshold``.

    ``ln(z + σn) ~ N(ln(c + σn), rel²)`` with probability ``1 - p_int``, else the same
    with c = 0 (the plume missed the sensor); readings below the threshold contribute
    the probability of being below it.
    """
    tau = max(threshold, -0.5 * sigma_n)
    inv = 1.0 / (rel * _SQRT2)
    if z < tau:
        lt = math.log(tau + sigma_n)
        like = p_int * 0.5 * math.erfc(-(lt - math.log(sigma_n)) * inv) + (
            1.0 - p_int
        ) * 0.5 * math.erfc(-(lt - math.log(c + sigma_n)) * inv)
        return math.log(max(like, 1e-300))
    lz = math.log(z + sigma_n)
    a0 = (lz - math.log(sigma_n)) * inv
    a1 = (lz - math.log(c + sigma_n)) * inv
    like = p_int * math.exp(-a0 * a0) + (1.0 - p_int) * math.exp(-a1 * a1)
    # the normaliser 1/((z + σn)·rel·√(2π)) does not depend on c; kept for a proper density
    return math.log(max(like, 1e-300)) - lz - math.log(rel) - _LOG_SQRT_2PI


@numba.njit(cache=True, parallel=True, fastmath=True)
def loglik_sum(
    p: NDArray[np.float64],
    r: NDArray[np.float64],
    z: NDArray[np.float64],
    sigma_n: NDArray[np.float64],
    threshold: NDArray[np.float64],
    weight: NDArray[np.float64],
    rel: float,
    p_int: float,
    scheme: int,
    ty: NDArray[np.float64],
    tz: NDArray[np.float64],
    pgy: NDArray[np.float64],
    pgz: NDArray[np.float64],
    s0sq: float,
    dmin: float,
    max_seg: int,
    factor: float,
) -> NDArray[np.float64]:
    """(N,) weighted sum over readings of log p(z_j | particle i), without storing (N, M)."""
    n = p.shape[0]
    m = r.shape[0]
    out = np.zeros(n)
    for i in numba.prange(n):
        acc = 0.0
        for j in range(m):
            c = factor * _conc(p, i, r, j, scheme, ty, tz, pgy, pgz, s0sq, dmin, max_seg)
            acc += weight[j] * log_likelihood_one(
                z[j] - p[i, 8], c, sigma_n[j], threshold[j], rel, p_int
            )
        out[i] = acc
    return out


@numba.njit(cache=True, parallel=True, fastmath=True)
def information_gain(
    c: NDArray[np.float64],
    w: NDArray[np.float64],
    log_edges: NDArray[np.float64],
    sigma_n: float,
    rel: float,
    p_int: float,
) -> NDArray[np.float64]:
    """(K,) mutual information (nats) between a binned reading and the particle index.

    ``c`` (N, K) predicted enhancements, ``w`` (N,) normalised weights, ``log_edges``
    (B + 1,) ln(edge + σn) of the bins (first -inf, last +inf).
    """
    n, k = c.shape
    nb = log_edges.shape[0] - 1
    inv = 1.0 / (rel * _SQRT2)
    ls = math.log(sigma_n)
    none = np.empty(nb + 1)
    for b in range(nb + 1):
        none[b] = 0.5 * math.erfc(-(log_edges[b] - ls) * inv)
    none[0] = 0.0
    none[nb] = 1.0
    out = np.empty(k)
    for j in numba.prange(k):
        marginal = np.zeros(nb)
        h_cond = 0.0
        cdf = np.empty(nb + 1)
        for i in range(n):
            lc = math.log(c[i, j] + sigma_n)
            for b in range(nb + 1):
                cdf[b] = p_int * none[b] + (1.0 - p_int) * 0.5 * math.erfc(
                    -(log_edges[b] - lc) * inv
                )
            cdf[0] = 0.0
            cdf[nb] = 1.0
            for b in range(nb):
                p = cdf[b + 1] - cdf[b]
                if p > 1e-300:
                    marginal[b] += w[i] * p
                    h_cond -= w[i] * p * math.log(p)
        h = 0.0
        for b in range(nb):
            if marginal[b] > 1e-300:
                h -= marginal[b] * math.log(marginal[b])
        out[j] = max(h - h_cond, 0.0)
    return out
