"""Association of evidence to sites by uncertainty-aware distance; merging of sites.

Every piece of evidence (a detection, a report) is a position with a 1-sigma radius.
It joins the site whose squared Mahalanobis distance

    d² = |x_e - x_s|² / (σ_e² + σ_s² + σ_floor²)

is smallest, if d² is within the gate (χ²₂ at 99 %, 9.21) and the distance within
``max_link_m``; otherwise it founds a new site. A site's position is the
inverse-variance weighted mean of its evidence, with precision ``Σ 1/σ²`` (the
standard fusion of independent Gaussian position estimates; Bar-Shalom, Li &
Kirubarajan, *Estimation with Applications to Tracking and Navigation*, 2001, §3.4).
When an updated site falls within the gate of a neighbour, the two merge. Evidence that a
merged site's position no longer explains is split off again (:func:`split_outliers`).

All positions are in metres on one local projection chosen by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from plumetrace.errors import InvalidParameterError

__all__ = [
    "Association",
    "Associations",
    "FusionOptions",
    "SiteTracker",
    "associate",
    "combine_positions",
    "split_outliers",
]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class FusionOptions:
    """Association settings.

    Attributes
    ----------
    gate_chi2 : float
        Squared Mahalanobis gate (9.21: 99 % of a 2-D Gaussian).
    max_link_m : float, m
        Evidence never joins a site farther than this, whatever the uncertainties.
    floor_m : float, m
        Model error added in quadrature to every pair (sources are not points; a plume's
        origin and a building's centre differ by tens of metres).
    min_uncertainty_m : float, m
        Lower bound of a site's reported 1-sigma radius.
    """

    gate_chi2: float = 9.21
    max_link_m: float = 1000.0
    floor_m: float = 15.0
    min_uncertainty_m: float = 5.0

    def __post_init__(self) -> None:
        if not (self.gate_chi2 > 0 and self.max_link_m > 0 and self.floor_m >= 0):
            raise InvalidParameterError(
                "fusion options: gate_chi2 and max_link_m must be > 0, floor_m >= 0"
            )


@dataclass(frozen=True)
class Association:
    """Where one piece of evidence went and why.

    Attributes
    ----------
    site : int
        Index of the site in the tracker (new sites get the next index).
    created : bool
        True if the evidence founded the site.
    distance_m : float, m
        Distance to the site's position before the update (0 for a new site).
    mahalanobis : float
        ``sqrt(d²)`` against the gate (0 for a new site).
    """

    site: int
    created: bool
    distance_m: float
    mahalanobis: float


@dataclass(frozen=True)
class Associations:
    """Where many pieces of evidence went (:meth:`SiteTracker.add_batch_arrays`).

    Attributes
    ----------
    site : (n,) ndarray of int
        Index of each piece's site in the tracker.
    created : (n,) ndarray of bool
        True where the piece founded its site.
    distance_m : (n,) ndarray, m
        Distance to the site's position before the update (0 for a new site).
    mahalanobis : (n,) ndarray
        ``sqrt(d²)`` against the gate (0 for a new site).
    """

    site: NDArray[np.intp]
    created: NDArray[np.bool_]
    distance_m: F64
    mahalanobis: F64

    def __len__(self) -> int:
        return len(self.site)

    def to_list(self) -> list[Association]:
        """Return one :class:`Association` per piece."""
        return [
            Association(i, c, d, m)
            for i, c, d, m in zip(
                self.site.tolist(),
                self.created.tolist(),
                self.distance_m.tolist(),
                self.mahalanobis.tolist(),
                strict=True,
            )
        ]


def combine_positions(x: F64, y: F64, sigma: F64) -> tuple[float, float, float]:
    """Fuse independent position estimates by inverse-variance weighting.

    Parameters
    ----------
    x, y : (n,) ndarray, m
    sigma : (n,) ndarray, m
        1-sigma radius of each estimate (> 0).

    Returns
    -------
    x, y, sigma : float, m
        The fused position and its 1-sigma radius ``(Σ 1/σ²)^-1/2``.
    """
    w = 1.0 / np.square(np.asarray(sigma, dtype=np.float64))
    total = float(w.sum())
    return float(np.dot(w, x) / total), float(np.dot(w, y) / total), float(total**-0.5)


def _d2(dx: F64, dy: F64, s2: F64, floor2: float) -> F64:
    return np.asarray((dx * dx + dy * dy) / (s2 + floor2), dtype=np.float64)


class SiteTracker:
    """Sites as arrays, updated one piece of evidence at a time (no I/O).

    Parameters
    ----------
    x, y : (n,) ndarray, m
        Existing sites' positions on the caller's local projection.
    weight : (n,) ndarray, m⁻²
        Their position precision ``Σ 1/σ²``.
    options : FusionOptions
    """

    def __init__(self, x: F64, y: F64, weight: F64, options: FusionOptions | None = None):
        self.options = options or FusionOptions()
        n = len(x)
        cap = max(16, 2 * n)
        self._x = np.zeros(cap)
        self._y = np.zeros(cap)
        self._w = np.zeros(cap)
        self._alive = np.zeros(cap, dtype=bool)
        self._x[:n], self._y[:n], self._w[:n] = x, y, weight
        self._alive[:n] = True
        self.n = n
        self.merged_into: dict[int, int] = {}
        self._build_tree()

    # -- state -----------------------------------------------------------------------
    def _build_tree(self) -> None:
        self._tree_n = self.n
        pts = np.column_stack([self._x[: self.n], self._y[: self.n]])
        self._tree = cKDTree(pts) if self.n else None
        self._tree_pos = pts.copy()
        self._moved: set[int] = set()

    def _grow(self) -> None:
        cap = 2 * len(self._x)
        for name in ("_x", "_y", "_w", "_alive"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def position(self, i: int) -> tuple[float, float, float]:
        """Return site ``i``'s position (m) and its 1-sigma radius (m, floored)."""
        sigma = max(float(self._w[i]) ** -0.5, self.options.min_uncertainty_m)
        return float(self._x[i]), float(self._y[i]), sigma

    def weight(self, i: int) -> float:
        """Return site ``i``'s position precision Σ 1/σ² (m⁻²)."""
        return float(self._w[i])

    def positions(self, idx: NDArray[np.intp]) -> tuple[F64, F64, F64]:
        """Return the positions (m) and precisions Σ 1/σ² (m⁻²) of sites ``idx``."""
        return self._x[idx].copy(), self._y[idx].copy(), self._w[idx].copy()

    def alive(self, i: int) -> bool:
        """Return False once site ``i`` has been merged into another."""
        return bool(self._alive[i])

    # -- queries ---------------------------------------------------------------------
    def _candidates(self, x: float, y: float, radius: float) -> NDArray[np.intp]:
        """Sites that may lie within ``radius`` of (x, y) now."""
        found: list[int] = []
        if self._tree is not None:
            found = list(self._tree.query_ball_point((x, y), radius))
        found.extend(range(self._tree_n, self.n))
        found.extend(self._moved)
        idx = np.unique(np.asarray(found, dtype=np.intp))
        return idx[self._alive[idx]] if len(idx) else idx

    def nearest(self, x: float, y: float, sigma: float) -> tuple[int, float, float]:
        """Return the best site for evidence at (x, y) ± sigma: (index or -1, m, d)."""
        o = self.options
        idx = self._candidates(x, y, o.max_link_m)
        if len(idx) == 0:
            return -1, 0.0, 0.0
        dx = self._x[idx] - x
        dy = self._y[idx] - y
        s2 = 1.0 / self._w[idx] + sigma * sigma
        d2 = _d2(dx, dy, s2, o.floor_m**2)
        dist = np.hypot(dx, dy)
        ok = (d2 <= o.gate_chi2) & (dist <= o.max_link_m)
        if not ok.any():
            return -1, 0.0, 0.0
        k = int(np.argmin(np.where(ok, d2, np.inf)))
        return int(idx[k]), float(dist[k]), float(np.sqrt(d2[k]))

    # -- updates ---------------------------------------------------------------------
    def add(self, x: float, y: float, sigma: float) -> Association:
        """Associate evidence at (x, y) with 1-sigma ``sigma`` (m); update or found a site."""
        if not sigma > 0:
            raise InvalidParameterError(f"evidence uncertainty must be > 0 m, got {sigma}")
        i, dist, maha = self.nearest(x, y, sigma)
        w = 1.0 / (sigma * sigma)
        if i < 0:
            if self.n == len(self._x):
                self._grow()
            i = self.n
            self._x[i], self._y[i], self._w[i] = x, y, w
            self._alive[i] = True
            self.n += 1
            if self.n - self._tree_n > 256:
                self._build_tree()
            return Association(i, True, 0.0, 0.0)
        total = self._w[i] + w
        self._x[i] = (self._x[i] * self._w[i] + x * w) / total
        self._y[i] = (self._y[i] * self._w[i] + y * w) / total
        self._w[i] = total
        if i < self._tree_n:
            self._moved.add(i)
            if len(self._moved) > 256:
                self._build_tree()
        return Association(i, False, dist, maha)

    def add_batch(self, x: F64, y: F64, sigma: F64) -> list[Association]:
        """Associate many pieces of evidence; the same rule as :meth:`add`, batched.

        See :meth:`add_batch_arrays`, which this returns piece by piece.

        Parameters
        ----------
        x, y, sigma : (n,) ndarray, m
        """
        return self.add_batch_arrays(x, y, sigma).to_list()

    def add_batch_arrays(self, x: F64, y: F64, sigma: F64) -> Associations:
        """Associate many pieces of evidence; the same rule as :meth:`add`, batched.

        Evidence near an existing site is associated in one vectorised pass against the
        sites' positions at the start of the batch (their updates are then applied
        together); the rest, which may found new sites, goes one by one through
        :meth:`add` in the given order.

        Parameters
        ----------
        x, y, sigma : (n,) ndarray, m
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        sigma = np.asarray(sigma, dtype=np.float64)
        if np.any(~(sigma > 0)):
            raise InvalidParameterError("evidence uncertainty must be > 0 m")
        n = len(x)
        site = np.full(n, -1, dtype=np.intp)
        created = np.zeros(n, dtype=bool)
        distance = np.zeros(n)
        maha = np.zeros(n)
        o = self.options
        if self.n and n:
            if self._moved or self._tree_n != self.n:
                self._build_tree()
            assert self._tree is not None
            hits = self._tree.query_ball_point(np.column_stack([x, y]), o.max_link_m)
            lengths = np.fromiter((len(h) for h in hits), dtype=np.intp, count=n)
            ev = np.repeat(np.arange(n), lengths)
            st = np.fromiter((j for h in hits for j in h), dtype=np.intp, count=int(lengths.sum()))
            keep = self._alive[st]
            ev, st = ev[keep], st[keep]
            dx = self._x[st] - x[ev]
            dy = self._y[st] - y[ev]
            d2 = _d2(dx, dy, 1.0 / self._w[st] + sigma[ev] ** 2, o.floor_m**2)
            dist = np.hypot(dx, dy)
            ok = (d2 <= o.gate_chi2) & (dist <= o.max_link_m)
            ev, st, d2, dist = ev[ok], st[ok], d2[ok], dist[ok]
            order = np.lexsort((st, d2, ev))
            ev, st, d2, dist = ev[order], st[order], d2[order], dist[order]
            first = np.ones(len(ev), dtype=bool)
            first[1:] = ev[1:] != ev[:-1]
            ev, st, d2, dist = ev[first], st[first], d2[first], dist[first]
            w = 1.0 / sigma[ev] ** 2
            sw = np.zeros(self.n)
            sx = np.zeros(self.n)
            sy = np.zeros(self.n)
            np.add.at(sw, st, w)
            np.add.at(sx, st, w * x[ev])
            np.add.at(sy, st, w * y[ev])
            touched = np.flatnonzero(sw)
            total = self._w[touched] + sw[touched]
            self._x[touched] = (self._x[touched] * self._w[touched] + sx[touched]) / total
            self._y[touched] = (self._y[touched] * self._w[touched] + sy[touched]) / total
            self._w[touched] = total
            self._moved.update(touched.tolist())
            if len(self._moved) > 256:
                self._build_tree()  # else each one-by-one add below checks every moved site
            site[ev] = st
            distance[ev] = dist
            maha[ev] = np.sqrt(d2)
        for k in np.flatnonzero(site < 0).tolist():
            a = self.add(float(x[k]), float(y[k]), float(sigma[k]))
            site[k], created[k], distance[k], maha[k] = (
                a.site,
                a.created,
                a.distance_m,
                a.mahalanobis,
            )
        return Associations(site, created, distance, maha)

    def merge_candidates(self, i: int) -> list[int]:
        """Return the live sites within the gate of site ``i`` (not ``i`` itself)."""
        o = self.options
        idx = self._candidates(float(self._x[i]), float(self._y[i]), o.max_link_m)
        idx = idx[idx != i]
        if len(idx) == 0:
            return []
        dx = self._x[idx] - self._x[i]
        dy = self._y[idx] - self._y[i]
        s2 = 1.0 / self._w[idx] + 1.0 / self._w[i]
        d2 = _d2(dx, dy, s2, o.floor_m**2)
        ok = (d2 <= o.gate_chi2) & (np.hypot(dx, dy) <= o.max_link_m)
        return [int(j) for j in idx[ok]]

    def merge_pairs(self, sites: NDArray[np.intp]) -> list[tuple[int, int]]:
        """Return pairs (i, j) of live sites within each other's gate, ``i`` in ``sites``.

        Vectorised version of :meth:`merge_candidates` for many sites; each unordered
        pair once, closest first.
        """
        o = self.options
        sites = np.asarray([i for i in sites if self._alive[i]], dtype=np.intp)
        if len(sites) == 0:
            return []
        self._build_tree()
        assert self._tree is not None
        hits = self._tree.query_ball_point(
            np.column_stack([self._x[sites], self._y[sites]]), o.max_link_m
        )
        lengths = np.fromiter((len(h) for h in hits), dtype=np.intp, count=len(sites))
        a = np.repeat(sites, lengths)
        b = np.fromiter((j for h in hits for j in h), dtype=np.intp, count=int(lengths.sum()))
        sel = (a != b) & self._alive[b]
        a, b = a[sel], b[sel]
        dx = self._x[a] - self._x[b]
        dy = self._y[a] - self._y[b]
        d2 = _d2(dx, dy, 1.0 / self._w[a] + 1.0 / self._w[b], o.floor_m**2)
        ok = (d2 <= o.gate_chi2) & (np.hypot(dx, dy) <= o.max_link_m)
        lo, hi, d2 = np.minimum(a, b)[ok], np.maximum(a, b)[ok], d2[ok]
        seen: set[tuple[int, int]] = set()
        out = []
        for k in np.argsort(d2, kind="stable"):
            pair = (int(lo[k]), int(hi[k]))
            if pair not in seen:
                seen.add(pair)
                out.append(pair)
        return out

    def merge(self, keep: int, drop: int) -> None:
        """Merge site ``drop`` into ``keep`` (positions fused; ``drop`` is retired)."""
        total = self._w[keep] + self._w[drop]
        self._x[keep] = (self._x[keep] * self._w[keep] + self._x[drop] * self._w[drop]) / total
        self._y[keep] = (self._y[keep] * self._w[keep] + self._y[drop] * self._w[drop]) / total
        self._w[keep] = total
        self._alive[drop] = False
        self.merged_into[drop] = keep
        if keep < self._tree_n:
            self._moved.add(keep)

    def set_site(self, i: int, x: float, y: float, weight: float) -> None:
        """Overwrite site ``i``'s position and precision (after a split)."""
        self._x[i], self._y[i], self._w[i] = x, y, weight
        if i < self._tree_n:
            self._moved.add(i)


def associate(x: F64, y: F64, sigma: F64, tracker: SiteTracker) -> list[Association]:
    """Associate evidence in order (see :meth:`SiteTracker.add`).

    Parameters
    ----------
    x, y, sigma : (n,) ndarray, m
    tracker : SiteTracker
        Updated in place.
    """
    return tracker.add_batch(x, y, sigma)


def split_outliers(
    x: F64, y: F64, sigma: F64, options: FusionOptions | None = None
) -> NDArray[np.intp]:
    """Re-cluster one site's evidence; label the groups it really holds.

    The most precise evidence is taken first and each piece is associated as if the site
    were built afresh; a piece its group's fused position no longer explains starts a new
    group.

    Parameters
    ----------
    x, y, sigma : (n,) ndarray, m

    Returns
    -------
    (n,) ndarray of int
        Group label of each piece; 0 is the group holding the most precision.
    """
    order = np.argsort(sigma, kind="stable")
    tracker = SiteTracker(np.zeros(0), np.zeros(0), np.zeros(0), options)
    labels = np.empty(len(x), dtype=np.intp)
    for k in order:
        labels[k] = tracker.add(float(x[k]), float(y[k]), float(sigma[k])).site
    # relabel so 0 is the group with the most precision
    w = np.bincount(labels, weights=1.0 / np.square(sigma))
    rank = np.empty(len(w), dtype=np.intp)
    rank[np.argsort(-w, kind="stable")] = np.arange(len(w))
    return rank[labels]
