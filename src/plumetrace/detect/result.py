"""The result of a retrieval."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["Retrieval"]


@dataclass(frozen=True)
class Retrieval:
    """Per-pixel gas enhancement with its uncertainty and quality flags.

    Attributes
    ----------
    enhancement : (rows, cols) ndarray of float32, ppm·m
        Column enhancement; NaN where not retrieved.
    uncertainty : (rows, cols) ndarray of float32, ppm·m
        One-sigma random error of ``enhancement`` from the background covariance
        (``1 / (r sqrt(tᵀC⁻¹t))``); NaN where not retrieved.
    flags : (rows, cols) ndarray of uint8
        Bit flags of :mod:`plumetrace.detect.flags`.
    albedo : (rows, cols) ndarray of float32
        Pixel brightness relative to its column mean (1 = average), the ``r`` above.
    score : (rows, cols) ndarray of float32 or None
        Method-specific detection statistic (ACE: cos² of the angle to the target, 0-1).
    residual : (rows, cols) ndarray of float32 or None
        Whitened residual of the target fit per degree of freedom
        (:func:`~plumetrace.detect.residual.fit_residual`; ~1 where background and gas
        explain the pixel, larger on surfaces they do not) on the enhanced pixels
        (``"iterative"``: enhancement > 0; ``"ace"``: > 2 sigma); NaN elsewhere; None
        for ``"mf"``.
    iterations : int
        Iterations run (0 for single-pass methods).
    extra : dict
        Method diagnostics for ``detect.json`` (e.g. mean shrinkage weight).
    """

    enhancement: NDArray[np.float32]
    uncertainty: NDArray[np.float32]
    flags: NDArray[np.uint8]
    albedo: NDArray[np.float32]
    score: NDArray[np.float32] | None = None
    residual: NDArray[np.float32] | None = None
    iterations: int = 0
    extra: dict[str, float] = field(default_factory=dict)
