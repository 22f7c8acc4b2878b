"""Effective-wind calibrations per sensor class and the plume-confidence model.

Both are fitted by ``scripts/calibrate_plumes.py`` on plumetrace-simulated scenes (seeds
disjoint from the validation benchmark) and shipped as ``data/plume_model.json``; the
file records the seeds, the number of plumes and the fit residuals. See
``docs/plumes.md`` for the method and its limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = [
    "ConfidenceModel",
    "WindCalibration",
    "confidence_model",
    "plume_model_metadata",
    "wind_calibration",
]


@dataclass(frozen=True)
class WindCalibration:
    """``U_eff = slope · U10 + intercept`` (m/s) with its relative residual scatter.

    Attributes
    ----------
    sensor : str
    slope : float
    intercept : float, m/s
    relative_sigma : float
        One-sigma relative scatter of true/estimated rates around the calibration.
    source : str
        Where the coefficients come from.
    """

    sensor: str
    slope: float
    intercept: float
    relative_sigma: float
    source: str

    @overload
    def effective_wind(self, u10: float) -> float: ...

    @overload
    def effective_wind(self, u10: NDArray[np.float64]) -> NDArray[np.float64]: ...

    def effective_wind(self, u10: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
        """Return ``U_eff`` (m/s) for 10 m wind speed(s) ``u10`` (m/s), at least 0.1 m/s."""
        if isinstance(u10, np.ndarray):
            return np.maximum(self.slope * u10 + self.intercept, 0.1)
        return max(self.slope * float(u10) + self.intercept, 0.1)


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic model: probability that a candidate is a real emission plume.

    ``p = 1 / (1 + exp(-(b0 + Σ w_i (g(f_i) - mean_i) / scale_i)))`` over the named
    features, with ``g(f) = sign(f) ln(1 + |f|)`` for the features in ``log_features`` and
    the identity otherwise; a missing or NaN feature contributes nothing.
    """

    features: tuple[str, ...]
    weights: NDArray[np.float64]
    intercept: float
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    log_features: tuple[str, ...] = ()

    def probability(self, values: dict[str, float]) -> float:
        """Return the probability for one candidate's feature values (missing -> mean)."""
        raw = []
        for name, m in zip(self.features, self.mean, strict=True):
            v = float(values.get(name, np.nan))
            if not np.isfinite(v):
                raw.append(float(m))
            elif name in self.log_features:
                raw.append(float(np.sign(v) * np.log1p(abs(v))))
            else:
                raw.append(v)
        x = np.array(raw)
        t = self.intercept + float(self.weights @ ((x - self.mean) / self.scale))
        return float(1.0 / (1.0 + np.exp(-np.clip(t, -50.0, 50.0))))


@cache
def _document() -> dict[str, Any]:
    path = resources.files("plumetrace.data").joinpath("plume_model.json")
    with path.open("r", encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def plume_model_metadata() -> dict[str, Any]:
    """Return the provenance block of the packaged plume model (seeds, counts, date)."""
    return dict(_document().get("metadata", {}))


def wind_calibration(sensor: str) -> WindCalibration:
    """Return the effective-wind calibration of a sensor class.

    Parameters
    ----------
    sensor : {"aviris-ng", "emit", "generic"}
    """
    table = _document()["ueff"]
    if sensor not in table:
        raise InvalidParameterError(
            f"unknown sensor class {sensor!r}; choose one of {', '.join(sorted(table))}"
        )
    d = table[sensor]
    return WindCalibration(
        sensor=sensor,
        slope=float(d["slope"]),
        intercept=float(d["intercept"]),
        relative_sigma=float(d["relative_sigma"]),
        source=str(d["source"]),
    )


def confidence_model(spectral: bool = True) -> ConfidenceModel:
    """Return the packaged plume-confidence model.

    Parameters
    ----------
    spectral : bool
        Whether the candidates have the ``spectral_residual`` feature (the map came with
        ``detect``'s ``residual.tif``). Without it, the model fitted on the other
        features alone is returned: the feature separates real plumes strongly, so
        standing in its mean would lower every real plume's confidence.
    """
    doc = _document()
    d = doc["confidence" if spectral else "confidence_without_residual"]
    return ConfidenceModel(
        features=tuple(d["features"]),
        weights=np.asarray(d["weights"], dtype=np.float64),
        intercept=float(d["intercept"]),
        mean=np.asarray(d["mean"], dtype=np.float64),
        scale=np.asarray(d["scale"], dtype=np.float64),
        log_features=tuple(
            name for name, how in d.get("transform", {}).items() if how == "signed log1p"
        ),
    )
