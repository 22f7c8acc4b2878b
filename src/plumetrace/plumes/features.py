"""Features of a plume candidate that separate gas plumes from surface artefacts.

Every feature is a plain number an analyst can read (they are written, per candidate,
to ``candidates.geojson``):

``ime_snr``
    Background-corrected IME over its shifted-mask scatter: how unusual this much gas
    is anywhere else in the map.
``peak_sigma``
    Highest standardised significance in the candidate.
``log10_pixels``
    Size.
``elongation``
    ``sqrt(λ1/λ2)`` of the enhancement-weighted pixel cloud (plumes are elongated).
``wind_alignment``
    ``|cos|`` of the angle between the principal axis and the wind (plumes follow it);
    NaN without a wind direction.
``source_concentration``
    Mean enhancement of the upwind third over the whole candidate's (plumes are densest
    at the source).
``widening``
    Cross-wind spread of the downwind half over the upwind half (plumes widen).
``width_px``
    Pixels per pixel of length (thin straight features such as roads have ~1-2).
``albedo_edge``
    Fraction of the candidate's pixels on a brightness edge, over the scene's fraction
    (surface artefacts follow edges).
``albedo_contrast``
    ``|median ln albedo inside - median ln albedo in a 3-pixel ring|`` (bright roofs,
    dark ponds).
``albedo_corr``
    Correlation of enhancement and ln albedo inside the candidate (retrieval artefacts
    scale with brightness).
``flagged_fraction``
    Fraction of the candidate (grown by one pixel) flagged saturated, flare or dark.
``spectral_residual``
    ``ln`` of the median, over the candidate's pixels that have one, of the whitened
    residual of the target fit (``residual.tif`` of ``detect``,
    :mod:`plumetrace.detect.residual`): near 0 where the gas explains the spectra,
    positive on surfaces (tanks, caliche, plastics) whose spectra the matched filter
    partly projects onto the target; NaN without the layer or with fewer than 3 values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from plumetrace.plumes.geometry import along_cross, principal_axis

__all__ = ["FEATURE_NAMES", "EdgeMap", "candidate_features"]

FEATURE_NAMES = (
    "ime_snr",
    "peak_sigma",
    "log10_pixels",
    "elongation",
    "wind_alignment",
    "source_concentration",
    "widening",
    "width_px",
    "albedo_edge",
    "albedo_contrast",
    "albedo_corr",
    "flagged_fraction",
    "spectral_residual",
)

_EIGHT = np.ones((3, 3), dtype=bool)
_EDGE = 0.15
"""|∇ ln albedo| per pixel above which a pixel is on a brightness edge."""


@dataclass(frozen=True)
class EdgeMap:
    """Brightness edges of a scene, computed once for all candidates.

    Attributes
    ----------
    log_albedo : (rows, cols) ndarray
        ``ln albedo`` (NaN where unknown).
    edge : (rows, cols) ndarray of bool
    scene_fraction : float
        Fraction of the scene's pixels on an edge.
    """

    log_albedo: NDArray[np.float64]
    edge: NDArray[np.bool_]
    scene_fraction: float

    @classmethod
    def from_albedo(cls, albedo: NDArray[np.floating]) -> EdgeMap:
        """Compute the edges of an albedo layer ((rows, cols), 1 = column mean)."""
        a = np.asarray(albedo, dtype=np.float64)
        ok = np.isfinite(a) & (a > 0)
        la = np.where(ok, np.log(np.where(ok, a, 1.0)), np.nan)
        filled = np.where(ok, la, np.nanmedian(la) if ok.any() else 0.0)
        smooth = ndi.gaussian_filter(filled, 0.7)
        grad = np.hypot(ndi.sobel(smooth, axis=0), ndi.sobel(smooth, axis=1)) / 8.0
        edge = (grad > _EDGE) & ok
        return cls(la, edge, float(edge.mean()) if ok.any() else 0.0)

    def crop(self, window: tuple[slice, slice]) -> EdgeMap:
        """Return the edges of a window (the scene fraction stays the scene's)."""
        return EdgeMap(self.log_albedo[window], self.edge[window], self.scene_fraction)


def candidate_features(
    mask: NDArray[np.bool_],
    enhancement: NDArray[np.floating],
    significance: NDArray[np.float32],
    *,
    source: tuple[float, float],
    direction: NDArray[np.float64],
    wind_known: bool,
    ime_snr: float,
    edges: EdgeMap | None,
    flagged: NDArray[np.bool_] | None,
    residual: NDArray[np.floating] | None = None,
) -> dict[str, float]:
    """Compute the features of one candidate (see the module docstring).

    Parameters
    ----------
    mask : (rows, cols) ndarray of bool
    enhancement : (rows, cols) ndarray
    significance : (rows, cols) ndarray
        Standardised smoothed significance.
    source : (row, col)
    direction : (2,) ndarray
        Unit ``(drow, dcol)`` downwind (given or estimated).
    wind_known : bool
        Whether ``direction`` comes from a measured wind.
    ime_snr : float
    edges : EdgeMap or None
    flagged : (rows, cols) ndarray of bool or None
        Saturated, flare or dark pixels.
    residual : (rows, cols) ndarray or None
        Whitened target-fit residual per degree of freedom (NaN where not computed).

    Returns
    -------
    dict of str to float
        Keys :data:`FEATURE_NAMES`; NaN where a feature cannot be computed.
    """
    nan = float("nan")
    rc = np.argwhere(mask)
    centres = rc.astype(np.float64) + 0.5
    enh = np.nan_to_num(np.asarray(enhancement, np.float64)[mask])
    w = np.clip(enh, 0.0, None)
    axis, elongation = principal_axis(centres[:, 0], centres[:, 1], w)
    along, cross = along_cross(centres[:, 0], centres[:, 1], source, direction)
    length = max(float(np.percentile(along, 99.0)), 1.0)
    upwind = along <= length / 3.0
    mean_all = float(w.mean()) if w.size else 0.0
    source_conc = float(w[upwind].mean() / mean_all) if upwind.any() and mean_all > 0 else nan
    half = along <= length / 2.0
    widening = (
        float((np.std(cross[~half]) + 0.5) / (np.std(cross[half]) + 0.5))
        if half.sum() >= 3 and (~half).sum() >= 3
        else nan
    )
    feats = {
        "ime_snr": float(np.clip(ime_snr, -1e3, 1e3)),
        "peak_sigma": float(np.max(significance[mask])),
        "log10_pixels": float(np.log10(rc.shape[0])),
        "elongation": elongation,
        "wind_alignment": float(abs(axis @ direction)) if wind_known else nan,
        "source_concentration": source_conc,
        "widening": widening,
        "width_px": float(rc.shape[0] / (length + 1.0)),
        "albedo_edge": nan,
        "albedo_contrast": nan,
        "albedo_corr": nan,
        "flagged_fraction": nan,
        "spectral_residual": nan,
    }
    if edges is not None:
        la = edges.log_albedo
        inside = la[mask]
        ok = np.isfinite(inside)
        if ok.sum() >= 3:
            frac = float(edges.edge[mask].mean())
            feats["albedo_edge"] = float(np.log((frac + 0.01) / (edges.scene_fraction + 0.01)))
            ring = ndi.binary_dilation(mask, _EIGHT, iterations=3) & ~mask
            around = la[ring]
            around = around[np.isfinite(around)]
            if around.size >= 3:
                feats["albedo_contrast"] = float(abs(np.median(inside[ok]) - np.median(around)))
            x, y = enh[ok], inside[ok]
            if np.std(x) > 0 and np.std(y) > 0:
                feats["albedo_corr"] = float(abs(np.corrcoef(x, y)[0, 1]))
            else:
                feats["albedo_corr"] = 0.0
    if flagged is not None:
        grown = ndi.binary_dilation(mask, _EIGHT)
        feats["flagged_fraction"] = float(flagged[grown].mean())
    if residual is not None:
        rho = np.asarray(residual, dtype=np.float64)[mask]
        rho = rho[np.isfinite(rho) & (rho > 0)]
        if rho.size >= 3:
            feats["spectral_residual"] = float(np.log(np.median(rho)))
    return feats
