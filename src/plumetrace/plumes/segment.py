"""Plume segmentation: significance map, hysteresis, and splitting of neighbouring plumes.

Thresholds are in units of the map's own noise, never in ppm·m, so the same settings
work for any sensor, retrieval method or gas:

1. ``z = enhancement / uncertainty`` (the retrieval's one-sigma layer; without it a
   robust per-column scale of the map itself);
2. ``z`` is smoothed with a Gaussian of ``smooth_px`` pixels (normalised convolution, so
   no-data pixels neither count nor spread), which raises the contrast of extended
   plumes over pixel noise;
3. the smoothed map is standardised by its own median and 84th percentile (robust to the
   plumes themselves and to the skewed noise of non-negative sparse retrievals), the
   spread never below unit white noise's after the smoothing (a very sparse map's
   percentiles collapse to ~0);
4. hysteresis: regions of the standardised map above ``grow_sigma`` that contain a pixel
   above ``seed_sigma``; regions smaller than ``min_pixels`` are dropped;
5. splitting: each region's seeds are local maxima at least ``marker_sep_px`` apart; a
   maximum lying downwind of a stronger one (within ``cone_deg`` of the wind) belongs to
   the same plume, the others start plumes of their own; pixels go to the plume whose
   source they are most plausibly downwind of (smallest cross-wind offset, scaled by the
   plume's widening, with a penalty for lying upwind); a maximum far downwind (beyond 20
   pixels) that is at least half as strong as the upwind one is a source of its own;
   fragments in a plume's downwind cone, within a gap growing with distance, join it
   (instantaneous plumes break into puffs far from the source). Without a wind
   direction, regions are split by a watershed of the smoothed map between maxima
   separated by a saddle below half the lower peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from plumetrace.errors import InvalidParameterError
from plumetrace.plumes.geometry import along_cross

__all__ = ["SegmentOptions", "Segmentation", "noise_scale", "segment", "significance_map"]

_EIGHT = np.ones((3, 3), dtype=bool)
_NEAR_PX = 20.0
"""Maxima closer than this (pixels) downwind of a source belong to its plume."""


@dataclass(frozen=True)
class SegmentOptions:
    """Settings of :func:`segment` (dimensionless unless stated).

    Attributes
    ----------
    smooth_px : float, pixels
        Gaussian smoothing of the significance map.
    seed_sigma, grow_sigma : float
        Hysteresis thresholds on the standardised smoothed map.
    min_pixels : int
        Smallest plume kept, pixels.
    marker_sep_px : int, pixels
        Smallest distance between two plume sources.
    cone_deg : float, degrees
        Half-angle of the downwind cone within which a weaker maximum joins a stronger one.
    """

    smooth_px: float = 1.5
    seed_sigma: float = 5.0
    grow_sigma: float = 2.5
    min_pixels: int = 10
    marker_sep_px: int = 5
    cone_deg: float = 40.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.smooth_px <= 20.0:
            raise InvalidParameterError(f"smoothing must be 0-20 pixels, got {self.smooth_px}")
        if not 0.0 < self.grow_sigma <= self.seed_sigma:
            raise InvalidParameterError(
                f"thresholds must satisfy 0 < grow ({self.grow_sigma}) <= seed ({self.seed_sigma})"
            )
        if self.min_pixels < 1:
            raise InvalidParameterError(f"--min-pixels must be at least 1, got {self.min_pixels}")
        if self.marker_sep_px < 1:
            raise InvalidParameterError("marker separation must be at least 1 pixel")
        if not 0.0 < self.cone_deg < 90.0:
            raise InvalidParameterError(f"cone half-angle must be in (0, 90), got {self.cone_deg}")


@dataclass(frozen=True)
class Segmentation:
    """Plume regions of a map.

    Attributes
    ----------
    labels : (rows, cols) ndarray of int32
        0 for background, ``1..count`` for plumes.
    count : int
    significance : (rows, cols) ndarray of float32
        Standardised smoothed significance (noise units); 0 where no data.
    markers : (count, 2) ndarray of float64
        Strongest local maximum of each plume, pixel centre ``(row, col)`` grid coordinates.
    """

    labels: NDArray[np.int32]
    count: int
    significance: NDArray[np.float32]
    markers: NDArray[np.float64]


def noise_scale(enhancement: NDArray[np.floating], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Estimate a per-column one-sigma noise scale of an enhancement map from the map itself.

    For maps with mostly exact zeros (non-negative sparse retrievals such as mag1c) the
    scale is ``median(positive values) / 0.6745`` (a half-normal's); otherwise the distance
    from the median to the 84th percentile. Columns are smoothed by a running median over 9
    columns; columns without data take the scene's median scale.

    Parameters
    ----------
    enhancement : (rows, cols) ndarray
    valid : (rows, cols) ndarray of bool

    Returns
    -------
    (rows, cols) ndarray of float64
        The column scale broadcast to the map, same units as ``enhancement``.
    """
    rows, cols = enhancement.shape
    scale = np.full(cols, np.nan)
    for c in range(cols):
        v = np.asarray(enhancement[valid[:, c], c], dtype=np.float64)
        if v.size < 8:
            continue
        pos = v[v > 0]
        if np.mean(v == 0) > 0.5:
            if pos.size >= 4:
                scale[c] = np.median(pos) / 0.6745
        else:
            q50, q84 = np.percentile(v, [50.0, 84.13])
            scale[c] = q84 - q50
    good = np.isfinite(scale) & (scale > 0)
    if not good.any():
        raise InvalidParameterError("the map has no variation to estimate its noise from")
    scale[~good] = np.median(scale[good])
    scale = ndi.median_filter(scale, size=min(9, cols), mode="nearest")
    return np.broadcast_to(scale[None, :], (rows, cols)).astype(np.float64)


def significance_map(
    enhancement: NDArray[np.floating],
    uncertainty: NDArray[np.floating] | None,
    valid: NDArray[np.bool_],
    smooth_px: float,
) -> NDArray[np.float32]:
    """Return the standardised smoothed significance map (steps 1-3 of the module doc).

    Parameters
    ----------
    enhancement : (rows, cols) ndarray, map units (e.g. ppm·m)
    uncertainty : (rows, cols) ndarray or None
        One-sigma error, same units; None to estimate it with :func:`noise_scale`.
    valid : (rows, cols) ndarray of bool
        Pixels with a retrieval.
    smooth_px : float, pixels

    Returns
    -------
    (rows, cols) ndarray of float32
        Noise units; 0 where no data.
    """
    enh = np.asarray(enhancement, dtype=np.float64)
    sig = noise_scale(enh, valid) if uncertainty is None else np.asarray(uncertainty, np.float64)
    ok = valid & np.isfinite(enh) & np.isfinite(sig) & (sig > 0)
    if ok.sum() < 16:
        raise InvalidParameterError("the map has fewer than 16 pixels with data")
    z = np.where(ok, enh / np.where(ok, sig, 1.0), 0.0)
    if smooth_px > 0:
        w = ndi.gaussian_filter(ok.astype(np.float64), smooth_px, mode="constant")
        zs = ndi.gaussian_filter(z, smooth_px, mode="constant")
        zs = np.where(ok & (w > 0.2), zs / np.maximum(w, 0.2), 0.0)
    else:
        zs = z
    q50, q84 = np.percentile(zs[ok], [50.0, 84.13])
    spread = max(q84 - q50, _white_noise_spread(smooth_px))
    return np.where(ok, (zs - q50) / spread, 0.0).astype(np.float32)


def _white_noise_spread(smooth_px: float) -> float:
    """Return the standard deviation of unit white noise after the smoothing, noise units.

    ``z`` is in units of each pixel's one-sigma noise, so the smoothed noise cannot be
    quieter than this. Sparse retrievals (mag1c and the iterative filter clip at zero)
    can leave so few non-zero pixels in a clean scene that the smoothed map's own median
    and 84th percentile are both ~0: standardised by that collapsed spread, every
    isolated noise pixel would rank as a strong plume.
    """
    if smooth_px <= 0:
        return 1.0
    delta = np.zeros((int(8 * smooth_px) + 1,) * 2)
    delta[delta.shape[0] // 2, delta.shape[1] // 2] = 1.0
    return float(np.sqrt(np.sum(ndi.gaussian_filter(delta, smooth_px, mode="constant") ** 2)))


def _local_maxima(
    sig: NDArray[np.float32], region: NDArray[np.bool_], threshold: float, sep: int
) -> NDArray[np.int64]:
    """Return ``(k, 2)`` (row, col) of local maxima above ``threshold`` within ``region``."""
    size = 2 * sep + 1
    peak = (sig == ndi.maximum_filter(sig, size=size, mode="constant")) & region
    peak &= sig >= threshold
    rc = np.argwhere(peak)
    order = np.argsort(-sig[peak], kind="stable")
    return np.asarray(rc[order], dtype=np.int64)


def _joins(
    apex: NDArray[np.generic],
    apex_value: float,
    point: NDArray[np.generic],
    value: float,
    direction: NDArray[np.float64],
    cone: float,
) -> bool:
    """Tell whether a maximum belongs to the plume of an upwind maximum.

    It does when it lies in the apex's downwind cone and is either close (within
    ``_NEAR_PX``) or clearly weaker (below half the apex): a plume thins downwind, so a
    strong maximum far downwind is another source.
    """
    if not _in_cone(apex, point, direction, cone):
        return False
    dist = float(np.hypot(float(point[0]) - float(apex[0]), float(point[1]) - float(apex[1])))
    return dist <= _NEAR_PX or value < 0.5 * apex_value


def _merge_downwind(
    peaks: NDArray[np.int64],
    values: NDArray[np.float32],
    direction: NDArray[np.float64],
    cone: float,
) -> NDArray[np.int64]:
    """Keep the peaks that do not join the plume of a kept peak further upwind."""
    along0, _ = along_cross(
        peaks[:, 0].astype(np.float64), peaks[:, 1].astype(np.float64), (0.0, 0.0), direction
    )
    order = np.argsort(along0, kind="stable")
    kept: list[int] = []
    for i in order:
        if not any(
            _joins(peaks[k], float(values[k]), peaks[i], float(values[i]), direction, cone)
            for k in kept
        ):
            kept.append(int(i))
    return peaks[kept]


def _in_cone(
    apex: NDArray[np.generic],
    point: NDArray[np.generic],
    direction: NDArray[np.float64],
    cone: float,
) -> bool:
    """Tell whether ``point`` lies downwind of ``apex`` within the cone half-angle (+2 px)."""
    along, cross = along_cross(
        np.array([float(point[0])]),
        np.array([float(point[1])]),
        (float(apex[0]), float(apex[1])),
        direction,
    )
    return bool(along[0] > 0 and abs(cross[0]) <= np.tan(np.deg2rad(cone)) * along[0] + 2.0)


def _merge_fragments(
    labels: NDArray[np.int32],
    markers: list[NDArray[np.float64]],
    values: list[float],
    direction: NDArray[np.float64],
    cone: float,
) -> tuple[NDArray[np.int32], list[NDArray[np.float64]]]:
    """Join plume fragments lying downwind of a plume, within a gap that grows downwind.

    Instantaneous plumes break into puffs and filaments far from the source; a fragment
    whose marker is in a plume's downwind cone and whose nearest pixel is within
    ``max(5 px, 0.3 x`` the marker distance``)`` of that plume is part of it.
    """
    from scipy.spatial import cKDTree

    n = len(markers)
    if n < 2:
        return labels, markers
    pix = [np.argwhere(labels == k + 1) for k in range(n)]
    along0 = [float(m @ direction) for m in markers]
    order = np.argsort(along0, kind="stable")
    parent = list(range(n))
    trees: dict[int, cKDTree] = {}
    for jpos, j in enumerate(order):
        for i in order[:jpos]:
            root = parent[i]
            if root != i or not _joins(
                markers[i], values[i], markers[j], values[j], direction, cone
            ):
                continue
            dist = float(np.hypot(*(markers[j] - markers[i])))
            if i not in trees:
                trees[i] = cKDTree(pix[i])
            gap = float(trees[i].query(pix[j], k=1)[0].min())
            if gap <= max(5.0, 0.3 * dist):
                parent[j] = i
                pix[i] = np.vstack([pix[i], pix[j]])
                trees.pop(i, None)
                break
    new_index = {}
    out = np.zeros_like(labels)
    kept: list[NDArray[np.float64]] = []
    for k in range(n):
        root = k
        while parent[root] != root:
            root = parent[root]
        if root not in new_index:
            kept.append(markers[root])
            new_index[root] = len(kept)
        out[labels == k + 1] = new_index[root]
    return out, kept


def _assign_by_wind(
    pix: NDArray[np.int64], sources: NDArray[np.int64], direction: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Index of the source each pixel is most plausibly downwind of."""
    cost = np.empty((pix.shape[0], sources.shape[0]))
    for k, (r, c) in enumerate(sources):
        along, cross = along_cross(
            pix[:, 0].astype(np.float64),
            pix[:, 1].astype(np.float64),
            (float(r), float(c)),
            direction,
        )
        cost[:, k] = (
            np.abs(cross) / (2.0 + 0.25 * np.maximum(along, 0.0)) + np.maximum(-along, 0.0) / 2.0
        )
    return np.asarray(np.argmin(cost, axis=1), dtype=np.int64)


def _saddle_separated(sig: NDArray[np.float32], a: NDArray[np.int64], b: NDArray[np.int64]) -> bool:
    """Tell whether the straight path between two maxima dips below half the lower one."""
    n = int(max(abs(int(b[0]) - int(a[0])), abs(int(b[1]) - int(a[1])))) + 1
    rr = np.rint(np.linspace(a[0], b[0], n)).astype(int)
    cc = np.rint(np.linspace(a[1], b[1], n)).astype(int)
    path = sig[rr, cc]
    return bool(path.min() < 0.5 * min(sig[a[0], a[1]], sig[b[0], b[1]]))


def _split_region(
    region: NDArray[np.bool_],
    sig: NDArray[np.float32],
    opts: SegmentOptions,
    direction: NDArray[np.float64] | None,
) -> list[tuple[NDArray[np.bool_], NDArray[np.int64]]]:
    """Split one hysteresis region into plumes: ``[(mask, marker (row, col)), ...]``."""
    peaks = _local_maxima(sig, region, opts.seed_sigma, opts.marker_sep_px)
    if peaks.shape[0] == 0:  # the seed pixel is on a plateau edge: use the region maximum
        flat = np.where(region, sig, -np.inf)
        peaks = np.array([np.unravel_index(int(np.argmax(flat)), sig.shape)], dtype=np.int64)
    if direction is not None:
        sources = _merge_downwind(peaks, sig[peaks[:, 0], peaks[:, 1]], direction, opts.cone_deg)
    else:
        keep = [0]
        for i in range(1, peaks.shape[0]):
            if all(_saddle_separated(sig, peaks[i], peaks[k]) for k in keep):
                keep.append(i)
        sources = peaks[keep]
    if sources.shape[0] == 1:
        return [(region, sources[0])]
    pix = np.argwhere(region)
    if direction is not None:
        owner = _assign_by_wind(pix, sources, direction)
    else:
        markers = np.zeros(sig.shape, dtype=np.int16)
        for k, (r, c) in enumerate(sources):
            markers[r, c] = k + 1
        top = float(sig[region].max())
        level = np.clip(np.rint(1000.0 * (1.0 - sig / top)), 0, 1000).astype(np.uint16)
        level[~region] = 1001
        markers[~region] = -1
        ws = ndi.watershed_ift(level, markers)
        owner = np.asarray(ws[pix[:, 0], pix[:, 1]], dtype=np.int64) - 1
        owner[owner < 0] = 0
    out: list[tuple[NDArray[np.bool_], NDArray[np.int64]]] = []
    part = np.zeros(sig.shape, dtype=np.int32)
    part[pix[:, 0], pix[:, 1]] = owner + 1
    # Keep each plume's piece containing its source; stray pieces go to the nearest plume.
    owned = np.zeros(sig.shape, dtype=np.int32)
    for k, (r, c) in enumerate(sources):
        lab, _ = ndi.label(part == k + 1, structure=_EIGHT)
        owned[lab == lab[r, c]] = k + 1
    stray = region & (owned == 0)
    if stray.any():
        _, (ir, ic) = ndi.distance_transform_edt(owned == 0, return_indices=True)
        owned[stray] = owned[ir[stray], ic[stray]]
    for k in range(sources.shape[0]):
        mask = owned == k + 1
        if mask.any():
            out.append((mask, sources[k]))
    return out


def segment(
    enhancement: NDArray[np.floating],
    uncertainty: NDArray[np.floating] | None,
    valid: NDArray[np.bool_],
    *,
    direction: NDArray[np.float64] | None = None,
    options: SegmentOptions | None = None,
) -> Segmentation:
    """Segment the plumes of an enhancement map.

    Parameters
    ----------
    enhancement : (rows, cols) ndarray, ppm·m (or any column unit)
    uncertainty : (rows, cols) ndarray or None
        One-sigma error of ``enhancement``, same units; None to estimate it from the map.
    valid : (rows, cols) ndarray of bool
        Pixels with a usable retrieval (not no-data, saturated or flare).
    direction : (2,) ndarray, optional
        Unit ``(drow, dcol)`` the wind blows to; None when unknown.
    options : SegmentOptions, optional

    Returns
    -------
    Segmentation
    """
    opts = options or SegmentOptions()
    enh = np.asarray(enhancement)
    if enh.ndim != 2:
        raise InvalidParameterError(f"the enhancement map must be 2-D, got shape {enh.shape}")
    if valid.shape != enh.shape or (uncertainty is not None and uncertainty.shape != enh.shape):
        raise InvalidParameterError("enhancement, uncertainty and validity shapes differ")
    sig = significance_map(enh, uncertainty, valid, opts.smooth_px)
    grow = sig >= opts.grow_sigma
    lab, n = ndi.label(grow, structure=_EIGHT)
    if n == 0:
        return Segmentation(np.zeros(enh.shape, np.int32), 0, sig, np.zeros((0, 2)))
    peak = ndi.maximum(sig, lab, index=np.arange(1, n + 1))
    sizes = ndi.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1))
    labels = np.zeros(enh.shape, dtype=np.int32)
    markers: list[NDArray[np.float64]] = []
    slices = ndi.find_objects(lab)
    for i, sl in enumerate(slices):
        if sl is None or peak[i] < opts.seed_sigma or sizes[i] < opts.min_pixels:
            continue
        pad = tuple(
            slice(max(s.start - 1, 0), min(s.stop + 1, dim))
            for s, dim in zip(sl, enh.shape, strict=True)
        )
        region = lab[pad] == i + 1
        for mask, marker in _split_region(region, sig[pad], opts, direction):
            if mask.sum() < opts.min_pixels:
                continue
            markers.append(
                np.array([marker[0] + pad[0].start + 0.5, marker[1] + pad[1].start + 0.5])
            )
            labels[pad][mask] = len(markers)
    if direction is not None:
        values = [float(sig[int(m[0]), int(m[1])]) for m in markers]
        labels, markers = _merge_fragments(labels, markers, values, direction, opts.cone_deg)
    count = len(markers)
    return Segmentation(
        labels=labels,
        count=count,
        significance=sig,
        markers=np.array(markers).reshape(count, 2),
    )
