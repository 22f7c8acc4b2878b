"""Source pinpointing: the emission point of a segmented plume and its uncertainty.

The source is at the concentration maximum of the plume's upwind end: near the emission
point the gas has not yet spread, so the column there is highest. Among the plume's
pixels within ``max(3 px, 15 %)`` of its length from the upwind edge, the maximum of the
lightly smoothed enhancement is taken, refined by the enhancement-weighted centroid of
its 3 x 3 neighbourhood, then moved upwind to where the smoothed column falls to half
the maximum (the plume's start, which smoothing turns from a step into a ramp). The
uncertainty radius combines the pixel's own extent with the weighted spread of the plume
within 3 pixels of it (a diffuse or noisy source region is less certain).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from plumetrace.plumes.geometry import along_cross, principal_axis

__all__ = ["SourceEstimate", "pinpoint_source", "plume_direction"]


@dataclass(frozen=True)
class SourceEstimate:
    """Where a plume's emission point is.

    Attributes
    ----------
    row, col : float
        Grid coordinates of the source (pixel ``(r, c)`` centre is ``(r + 0.5, c + 0.5)``).
    radius_px : float, pixels
        One-sigma-like (68 %) radius of the position error.
    direction : (2,) ndarray
        Unit ``(drow, dcol)`` the plume extends towards (downwind).
    """

    row: float
    col: float
    radius_px: float
    direction: NDArray[np.float64]


def plume_direction(
    mask: NDArray[np.bool_], enhancement: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Estimate the downwind direction of a plume from its shape when the wind is unknown.

    The principal axis of the enhancement-weighted pixels gives the line; the end holding
    more gas (mean enhancement of the outer thirds) is taken as the source.

    Parameters
    ----------
    mask : (rows, cols) ndarray of bool
    enhancement : (rows, cols) ndarray

    Returns
    -------
    (2,) ndarray
        Unit ``(drow, dcol)``.
    """
    rc = np.argwhere(mask).astype(np.float64) + 0.5
    w = np.clip(np.nan_to_num(np.asarray(enhancement, np.float64)[mask]), 0.0, None)
    axis, _ = principal_axis(rc[:, 0], rc[:, 1], w)
    along, _ = along_cross(
        rc[:, 0], rc[:, 1], (float(rc[:, 0].mean()), float(rc[:, 1].mean())), axis
    )
    lo, hi = np.percentile(along, [33.3, 66.7])
    head = w[along <= lo].mean() if (along <= lo).any() else 0.0
    tail = w[along >= hi].mean() if (along >= hi).any() else 0.0
    return np.asarray(axis if head >= tail else -axis)


def _upwind_half_maximum(
    smooth: NDArray[np.float64], row: float, col: float, direction: NDArray[np.float64]
) -> tuple[float, float]:
    """Step upwind from a maximum to where the smoothed column falls to half of it.

    A plume starts at its source: along the wind its column is a step at the source,
    which smoothing turns into a ramp whose half-height is the step's position. The
    maximum itself lies downwind of the source (by about the smoothing width).
    """
    steps = np.arange(0.0, 6.01, 0.25)
    rr = row - steps * direction[0] - 0.5
    cc = col - steps * direction[1] - 0.5
    prof = ndi.map_coordinates(smooth, np.vstack([rr, cc]), order=1, mode="nearest")
    below = np.flatnonzero(prof < 0.5 * prof[0])
    if prof[0] <= 0 or below.size == 0:
        return row, col
    k = int(below[0])
    # Linear interpolation between the last sample above and the first below half.
    f = (prof[k - 1] - 0.5 * prof[0]) / max(prof[k - 1] - prof[k], 1e-12)
    t = steps[k - 1] + f * (steps[k] - steps[k - 1])
    return row - t * direction[0], col - t * direction[1]


def pinpoint_source(
    mask: NDArray[np.bool_],
    enhancement: NDArray[np.floating],
    direction: NDArray[np.float64],
) -> SourceEstimate:
    """Locate the emission point of one plume.

    Parameters
    ----------
    mask : (rows, cols) ndarray of bool
        The plume's pixels.
    enhancement : (rows, cols) ndarray
        Enhancement map (NaN where no data).
    direction : (2,) ndarray
        Unit ``(drow, dcol)`` the wind blows to.

    Returns
    -------
    SourceEstimate
    """
    enh = np.nan_to_num(np.asarray(enhancement, dtype=np.float64))
    rc = np.argwhere(mask)
    r0, c0 = rc.min(axis=0)
    r1, c1 = rc.max(axis=0) + 1
    pad = 3
    r0, c0 = max(r0 - pad, 0), max(c0 - pad, 0)
    r1, c1 = min(r1 + pad, enh.shape[0]), min(c1 + pad, enh.shape[1])
    sub = enh[r0:r1, c0:c1]
    m = mask[r0:r1, c0:c1]
    smooth = ndi.gaussian_filter(np.clip(sub, 0.0, None), 1.0, mode="nearest")
    pr = np.argwhere(m)
    centres = pr.astype(np.float64) + 0.5
    along, _ = along_cross(centres[:, 0], centres[:, 1], (0.0, 0.0), direction)
    start = float(along.min())
    length = float(np.percentile(along, 99.0) - start)
    end_zone = along <= start + max(3.0, 0.15 * length)
    cand = pr[end_zone]
    best = cand[int(np.argmax(smooth[cand[:, 0], cand[:, 1]]))]
    # 3 x 3 weighted centroid around the maximum (coordinates of the sub-window).
    rr, cc = np.meshgrid(
        np.arange(best[0] - 1, best[0] + 2), np.arange(best[1] - 1, best[1] + 2), indexing="ij"
    )
    inside = (rr >= 0) & (rr < sub.shape[0]) & (cc >= 0) & (cc < sub.shape[1])
    rr, cc = rr[inside], cc[inside]
    w = smooth[rr, cc] ** 2
    if not w.sum() > 0:
        w = np.ones_like(w)
    row = float((w @ (rr + 0.5)) / w.sum())
    col = float((w @ (cc + 0.5)) / w.sum())
    row, col = _upwind_half_maximum(smooth, row, col, direction)
    # Spread of the plume pixels within 3 pixels of the source, weighted by the squared
    # column: a sharp maximum is a well-defined source, a flat or noisy one is not.
    near = np.hypot(pr[:, 0] + 0.5 - row, pr[:, 1] + 0.5 - col) <= 3.0
    near_px = pr[near] if near.sum() >= 2 else cand
    wz = smooth[near_px[:, 0], near_px[:, 1]] ** 2
    if not wz.sum() > 0:
        wz = np.ones(near_px.shape[0])
    spread2 = float(
        wz @ ((near_px[:, 0] + 0.5 - row) ** 2 + (near_px[:, 1] + 0.5 - col) ** 2) / wz.sum()
    )
    radius = float(np.sqrt(0.5**2 + spread2))
    return SourceEstimate(
        row=row + r0,
        col=col + c0,
        radius_px=radius,
        direction=np.asarray(direction, dtype=np.float64),
    )
