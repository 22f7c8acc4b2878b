"""Bit flags of the retrieval quality mask (``mask.tif``, uint8).

A pixel's value is the bitwise OR of every flag that applies; 0 means a clean
retrieval. Pixels with :data:`NO_DATA`, :data:`SATURATED` or :data:`FLARE` set carry no
enhancement (nodata in ``enhancement.tif``) and are left out of the background
statistics; :data:`EXCLUDED_FROM_STATS` alone marks a pixel that was retrieved but not
used to estimate the background (it lies next to a saturated or flare pixel).
"""

from __future__ import annotations

__all__ = [
    "DARK",
    "EXCLUDED_FROM_STATS",
    "FLAG_DESCRIPTIONS",
    "FLARE",
    "INVALID",
    "NO_DATA",
    "SATURATED",
]

NO_DATA = 1
"""NaN or a fill value (<= -1000) in a band of the window, or an all-zero spectrum."""
SATURATED = 2
"""A band of the window is at the detector's clipping level."""
FLARE = 4
"""Thermal emission (gas flare, fire): anomalously bright, red-sloped SWIR spectrum."""
EXCLUDED_FROM_STATS = 8
"""Retrieved, but left out of the background mean/covariance (next to a flagged pixel)."""
DARK = 16
"""Albedo under 10 % of the column mean: the enhancement is noisy (see uncertainty)."""

INVALID = NO_DATA | SATURATED | FLARE
"""Flags that mean no enhancement was retrieved."""

FLAG_DESCRIPTIONS: dict[int, str] = {
    NO_DATA: "no_data",
    SATURATED: "saturated",
    FLARE: "flare",
    EXCLUDED_FROM_STATS: "excluded_from_background_stats",
    DARK: "dark",
}
"""Flag value -> short name, as written in ``detect.json``."""
