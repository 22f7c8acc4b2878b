"""Scoring plume results against a simulated truth (used by calibration and benchmarks).

A candidate is *real* when at least 20 % of its pixels carry true gas above half the
map's median noise. A true source is *found* by the candidate whose mask comes within
``radius_px`` of it and whose estimated source lies within ``source_radius_px`` (the most
confident one if several do); it is *detected* when that candidate is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.plumes.find import Plume

__all__ = ["SourceMatch", "candidate_is_real", "match_sources"]


@dataclass(frozen=True)
class SourceMatch:
    """The candidate found for one true source.

    Attributes
    ----------
    source : int
        Index of the true source.
    rate_kg_h : float, kg/h
        True emission rate.
    plume : Plume or None
        The matching candidate (None: missed).
    location_error_px : float, pixels
        Distance from the estimated to the true source (NaN when missed).
    """

    source: int
    rate_kg_h: float
    plume: Plume | None
    location_error_px: float

    @property
    def detected(self) -> bool:
        """True when a candidate matched and was accepted."""
        return self.plume is not None and self.plume.accepted


def candidate_is_real(plume: Plume, truth_ppm_m: NDArray[np.floating], noise_ppm_m: float) -> bool:
    """Return True when >= 20 % of the candidate's pixels hold true gas above noise/2."""
    vals = np.asarray(truth_ppm_m)[plume.pixels[:, 0], plume.pixels[:, 1]]
    return bool(np.mean(vals > 0.5 * noise_ppm_m) >= 0.2)


def match_sources(
    plumes: list[Plume],
    sources_rc: NDArray[np.float64],
    rates_kg_h: NDArray[np.float64],
    radius_px: float = 3.0,
    source_radius_px: float = 10.0,
) -> list[SourceMatch]:
    """Match true sources to candidates.

    Parameters
    ----------
    plumes : list of Plume
    sources_rc : (k, 2) ndarray
        True source positions, grid coordinates (pixel centre = index + 0.5).
    rates_kg_h : (k,) ndarray, kg/h
    radius_px : float, pixels
        Largest distance from the source to the candidate's nearest pixel centre.
    source_radius_px : float, pixels
        Largest distance from the true to the estimated source: a plume whose estimated
        source is further away belongs to another source (the two plumes merged) and
        does not find this one.
    """
    out = []
    for i, (r, c) in enumerate(np.asarray(sources_rc, dtype=np.float64)):
        best: Plume | None = None
        for p in plumes:
            d = np.hypot(p.pixels[:, 0] + 0.5 - r, p.pixels[:, 1] + 0.5 - c).min()
            near = np.hypot(p.source.row - r, p.source.col - c) <= source_radius_px
            if (
                d <= radius_px
                and near
                and (
                    best is None
                    or (p.accepted, p.confidence, p.flux.ime_kg)
                    > (best.accepted, best.confidence, best.flux.ime_kg)
                )
            ):
                best = p
        err = (
            float("nan")
            if best is None
            else float(np.hypot(best.source.row - r, best.source.col - c))
        )
        out.append(SourceMatch(i, float(rates_kg_h[i]), best, err))
    return out
