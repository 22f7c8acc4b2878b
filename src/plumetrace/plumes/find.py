"""Find, locate and quantify every plume of an enhancement map (the ``plumes`` kernel)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from plumetrace.constants import kg_m2_per_ppm_m
from plumetrace.errors import InvalidParameterError
from plumetrace.plumes.calibration import confidence_model, wind_calibration
from plumetrace.plumes.features import EdgeMap, candidate_features
from plumetrace.plumes.geometry import downwind_unit_vector, mask_outline
from plumetrace.plumes.quantify import FluxEstimate, estimate_flux
from plumetrace.plumes.segment import SegmentOptions, segment
from plumetrace.plumes.source import SourceEstimate, pinpoint_source, plume_direction

__all__ = ["Plume", "PlumeOptions", "find_plumes"]

_PAD = 6


@dataclass(frozen=True)
class PlumeOptions:
    """Settings of :func:`find_plumes`.

    Attributes
    ----------
    segment : SegmentOptions
    wind_speed_m_s : float or None, m/s
        10 m wind speed; None leaves the rates unknown (NaN).
    wind_dir_deg : float or None, degrees
        Meteorological direction (from); None takes the direction from the shape of the
        scene's strongest plume (or of each plume when none is large enough).
    wind_speed_sigma_m_s : float or None, m/s
        One-sigma error of the wind speed; None for ``max(0.5, 0.2 U)``.
    sensor : {"aviris-ng", "emit", "generic"}
        Effective-wind calibration.
    gas : str
        Gas of the map, for ppm·m -> kg/m².
    min_confidence : float
        Candidates at or above this confidence are plumes.
    seed : int
        Seed of the shifted masks and Monte Carlo (same seed, same numbers).
    n_shifts, n_monte_carlo : int
    max_fetch_px : float or None, pixels
        The rate uses the plume within this distance downwind of the source (None: all
        of it). Near the source the mask holds the whole cross-section; far downwind the
        diluted edges fall below the noise, so a fixed fetch makes the rate far less
        sensitive to how much tail was segmented (validated in benchmarks/RESULTS.md).
    """

    segment: SegmentOptions = field(default_factory=SegmentOptions)
    wind_speed_m_s: float | None = None
    wind_dir_deg: float | None = None
    wind_speed_sigma_m_s: float | None = None
    sensor: str = "generic"
    gas: str = "ch4"
    min_confidence: float = 0.5
    seed: int = 0
    n_shifts: int = 64
    n_monte_carlo: int = 2000
    max_fetch_px: float | None = 30.0

    def __post_init__(self) -> None:
        u = self.wind_speed_m_s
        if u is not None and not (np.isfinite(u) and 0.0 < u <= 60.0):
            raise InvalidParameterError(f"--wind-speed must be in (0, 60] m/s, got {u}")
        d = self.wind_dir_deg
        if d is not None and not (np.isfinite(d) and 0.0 <= d <= 360.0):
            raise InvalidParameterError(f"--wind-dir must be 0-360 degrees, got {d}")
        s = self.wind_speed_sigma_m_s
        if s is not None and not (np.isfinite(s) and s >= 0.0):
            raise InvalidParameterError(f"--wind-speed-sigma must be >= 0 m/s, got {s}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InvalidParameterError(
                f"--min-confidence must be between 0 and 1, got {self.min_confidence}"
            )
        if self.max_fetch_px is not None and not self.max_fetch_px >= 3:
            raise InvalidParameterError(
                f"--fetch must be at least 3 pixels, got {self.max_fetch_px}"
            )
        if self.n_shifts < 5 or self.n_monte_carlo < 100:
            raise InvalidParameterError("use at least 5 mask shifts and 100 Monte Carlo draws")

    @property
    def wind_sigma(self) -> float:
        """The wind-speed error used, m/s."""
        if self.wind_speed_sigma_m_s is not None:
            return self.wind_speed_sigma_m_s
        return max(0.5, 0.2 * (self.wind_speed_m_s or 0.0))


@dataclass(frozen=True)
class Plume:
    """One plume candidate, located and quantified.

    Attributes
    ----------
    candidate : int
        1-based index among the candidates (segmentation order).
    pixels : (n, 2) ndarray of int
        The mask's ``(row, col)`` pixels.
    outline : (m, 2) ndarray
        Closed ring of grid-coordinate vertices ``(row, col)``.
    source : SourceEstimate
    flux : FluxEstimate
    max_ppm_m : float, ppm·m
        Highest enhancement in the mask.
    confidence : float
        Probability (0-1) that the candidate is a real emission plume.
    accepted : bool
        ``confidence >= min_confidence``.
    features : dict of str to float
        The inputs of the confidence model.
    wind_known : bool
        Whether the direction came from the wind (else from the plume's shape).
    """

    candidate: int
    pixels: NDArray[np.int64]
    outline: NDArray[np.float64]
    source: SourceEstimate
    flux: FluxEstimate
    max_ppm_m: float
    confidence: float
    accepted: bool
    features: dict[str, float]
    wind_known: bool

    @property
    def n_pixels(self) -> int:
        """Number of pixels in the mask."""
        return int(self.pixels.shape[0])


def find_plumes(
    enhancement: NDArray[np.floating],
    *,
    jacobian: NDArray[np.float64],
    uncertainty: NDArray[np.floating] | None = None,
    albedo: NDArray[np.floating] | None = None,
    flagged: NDArray[np.bool_] | None = None,
    no_data: NDArray[np.bool_] | None = None,
    residual: NDArray[np.floating] | None = None,
    options: PlumeOptions | None = None,
) -> list[Plume]:
    """Segment, locate and quantify the plumes of a column-enhancement map.

    Parameters
    ----------
    enhancement : (rows, cols) ndarray, ppm·m
        NaN where no data.
    jacobian : (2, 2) ndarray, m per pixel
        ``[east, north] = J @ [dcol, drow]`` (see :mod:`plumetrace.plumes.geometry`).
    uncertainty : (rows, cols) ndarray, ppm·m, optional
        One-sigma error; estimated from the map when absent.
    albedo : (rows, cols) ndarray, optional
        Brightness relative to the column mean, for the surface-feature tests.
    flagged : (rows, cols) ndarray of bool, optional
        Pixels that are saturated, flares or dark (excluded from segmentation).
    no_data : (rows, cols) ndarray of bool, optional
        Pixels without a retrieval (in addition to NaN).
    residual : (rows, cols) ndarray, optional
        Whitened residual of the target fit (``residual.tif`` of ``detect``; NaN where
        not computed), for the spectral surface-feature test.
    options : PlumeOptions, optional

    Returns
    -------
    list of Plume
        Every candidate, in segmentation order; ``accepted`` marks the plumes.
    """
    opts = options or PlumeOptions()
    enh = np.asarray(enhancement, dtype=np.float64)
    if enh.ndim != 2:
        raise InvalidParameterError(f"the enhancement map must be 2-D, got shape {enh.shape}")
    for name, layer in (
        ("uncertainty", uncertainty),
        ("albedo", albedo),
        ("flags", flagged),
        ("no-data mask", no_data),
        ("residual", residual),
    ):
        if layer is not None and layer.shape != enh.shape:
            raise InvalidParameterError(
                f"the {name} layer has shape {layer.shape}, the enhancement map {enh.shape}"
            )
    jac = np.asarray(jacobian, dtype=np.float64)
    area = float(abs(np.linalg.det(jac)))
    if not area > 0:
        raise InvalidParameterError("the grid has zero pixel area")
    valid = np.isfinite(enh)
    if uncertainty is not None:
        valid &= np.isfinite(uncertainty) & (uncertainty > 0)
    if no_data is not None:
        valid &= ~no_data
    usable = valid & ~flagged if flagged is not None else valid
    wind_dir = None if opts.wind_dir_deg is None else downwind_unit_vector(opts.wind_dir_deg, jac)
    seg = segment(enh, uncertainty, usable, direction=wind_dir, options=opts.segment)
    if seg.count == 0:
        return []
    scene_dir = wind_dir
    if wind_dir is None:
        # One wind carries every plume of a scene: take the direction of the largest
        # plume's shape and segment again with it (fragments then join their plume).
        weight = ndi.sum_labels(
            np.clip(seg.significance, 0.0, None), seg.labels, index=np.arange(1, seg.count + 1)
        )
        best = int(np.argmax(weight)) + 1
        strongest = seg.labels == best
        if strongest.sum() >= 3 * opts.segment.min_pixels:
            scene_dir = plume_direction(strongest, np.nan_to_num(enh))
            seg = segment(enh, uncertainty, usable, direction=scene_dir, options=opts.segment)
    column = np.where(valid, enh, np.nan) * kg_m2_per_ppm_m(opts.gas)
    allowed = valid & ~ndi.binary_dilation(seg.labels > 0, iterations=5)
    calibration = wind_calibration(opts.sensor)
    model = confidence_model(spectral=residual is not None)
    edges = None if albedo is None else EdgeMap.from_albedo(albedo)
    rng = np.random.default_rng(opts.seed)
    rows, cols = enh.shape
    plumes: list[Plume] = []
    for k, sl in enumerate(ndi.find_objects(seg.labels)):
        if sl is None:
            continue
        r0, r1 = max(sl[0].start - _PAD, 0), min(sl[0].stop + _PAD, rows)
        c0, c1 = max(sl[1].start - _PAD, 0), min(sl[1].stop + _PAD, cols)
        win = (slice(r0, r1), slice(c0, c1))
        mask = seg.labels[win] == k + 1
        sub_enh = enh[win]
        direction = scene_dir if scene_dir is not None else plume_direction(mask, sub_enh)
        src = pinpoint_source(mask, sub_enh, direction)
        src_full = (src.row + r0, src.col + c0)
        full_mask = np.zeros(enh.shape, dtype=bool)
        full_mask[win] = mask
        along_m = float(np.hypot(*(jac @ np.array([direction[1], direction[0]]))))
        flux = estimate_flux(
            full_mask,
            column,
            allowed,
            source=src_full,
            direction=direction,
            pixel_area_m2=area,
            along_m_per_px=along_m,
            wind_speed_m_s=opts.wind_speed_m_s,
            wind_speed_sigma_m_s=opts.wind_sigma,
            calibration=calibration,
            rng=rng,
            n_shifts=opts.n_shifts,
            n_monte_carlo=opts.n_monte_carlo,
            max_fetch_px=opts.max_fetch_px,
        )
        feats = candidate_features(
            mask,
            sub_enh,
            seg.significance[win],
            source=(src.row, src.col),
            direction=direction,
            wind_known=wind_dir is not None,
            ime_snr=flux.ime_snr,
            edges=None if edges is None else edges.crop(win),
            flagged=None if flagged is None else flagged[win],
            residual=None if residual is None else residual[win],
        )
        conf = model.probability(feats)
        vals = sub_enh[mask]
        outline = mask_outline(mask) + np.array([r0, c0], dtype=np.float64)
        plumes.append(
            Plume(
                candidate=k + 1,
                pixels=np.argwhere(mask) + np.array([r0, c0]),
                outline=outline,
                source=SourceEstimate(
                    row=src_full[0],
                    col=src_full[1],
                    radius_px=src.radius_px,
                    direction=src.direction,
                ),
                flux=flux,
                max_ppm_m=float(np.nanmax(vals)) if np.isfinite(vals).any() else float("nan"),
                confidence=conf,
                accepted=conf >= opts.min_confidence,
                features=feats,
                wind_known=wind_dir is not None,
            )
        )
    return plumes
