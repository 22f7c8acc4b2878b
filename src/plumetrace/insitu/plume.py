"""Gaussian plume forward model over many candidate sources at once.

For source parameters θᵢ (one row per particle) and readings j, :meth:`ForwardModel.predict_ppm`
returns the (N, M) matrix of predicted enhancements:

* **point** readings: the steady Gaussian plume with ground reflection,
  ``C = Q / (2π u σy σz) · exp(-c²/2σy²) · [exp(-(z-h)²/2σz²) + exp(-(z+h)²/2σz²)]``,
  zero upwind of the source;
* **path** readings: the mean of ``C`` along the beam. Where the beam crosses the plume
  axis at an angle, the crosswind Gaussian is integrated in closed form (erf) with σ and
  the vertical term taken at the crossing; where it runs along the plume, it is cut into
  segments spaced geometrically in downwind distance (ratio 1.25, so the 1/x² fall-off
  near the source is integrated accurately), each integrated the same way. This stays
  accurate for a plume a fraction of a metre wide crossing a 100 m beam.

σ² = (s·σ(x; k))² + σ₀², with ``s`` the particle's dispersion scale factor, ``k`` its
stability (the reading's turbulence-derived index plus the particle's offset) and σ₀ the
source's initial spread. The wind blows towards ``wind_from + 180° + bias``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from plumetrace.constants import MOLAR_MASS_KG_MOL, kg_m3_per_ppm
from plumetrace.errors import InvalidParameterError
from plumetrace.insitu import _kernels
from plumetrace.insitu.dispersion import (
    SCHEMES,
    Scheme,
    kernel_tables,
    stability_from_sigma_theta,
)
from plumetrace.insitu.likelihood import NoiseModel
from plumetrace.insitu.observations import Observations

__all__ = ["DEFAULT_STABILITY", "ForwardModel", "SourceParams"]

DEFAULT_STABILITY = 2.5
"""Stability index used where a reading has no turbulence (between classes C and D)."""

_MAX_SEG = 6

_Array = NDArray[np.float64]
_Tables = tuple[int, _Array, _Array, _Array, _Array, float, float, int]
# numba dispatchers, typed for mypy
_predict = cast(Callable[..., _Array], _kernels.predict)
_loglik_sum = cast(Callable[..., _Array], _kernels.loglik_sum)


@dataclass(frozen=True)
class SourceParams:
    """N candidate sources (particles); every attribute has shape (N,).

    Attributes
    ----------
    x, y, z : ndarray, m
        Source position (z above ground).
    rate_kg_s : ndarray, kg/s
        Emission rate.
    wind_bias_rad : ndarray, rad
        Added to every reading's wind direction (clockwise).
    scale : ndarray
        Dispersion scale factor multiplying σy and σz.
    stability : ndarray
        Offset added to each reading's stability index (0 = A ... 5 = F).
    background_ppm : ndarray or None, ppm
        Offset of the background, subtracted from every observed enhancement (likelihood
        only); ``None`` means zero.
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    z: NDArray[np.float64]
    rate_kg_s: NDArray[np.float64]
    wind_bias_rad: NDArray[np.float64]
    scale: NDArray[np.float64]
    stability: NDArray[np.float64]
    background_ppm: NDArray[np.float64] | None = None

    @property
    def size(self) -> int:
        """Number of particles N."""
        return int(self.x.shape[0])

    @classmethod
    def single(
        cls,
        x: float,
        y: float,
        z: float,
        rate_kg_s: float,
        *,
        wind_bias_rad: float = 0.0,
        scale: float = 1.0,
        stability: float = 0.0,
    ) -> SourceParams:
        """One source (N = 1), e.g. the truth in a test."""

        def a(v: float) -> NDArray[np.float64]:
            return np.array([v], dtype=np.float64)

        return cls(a(x), a(y), a(z), a(rate_kg_s), a(wind_bias_rad), a(scale), a(stability))


@dataclass(frozen=True)
class ForwardModel:
    """The Gaussian plume and its settings.

    Attributes
    ----------
    scheme : {"briggs-rural", "briggs-urban", "pasquill-gifford"}
        Dispersion curves.
    molar_mass_kg_mol : float
        Of the gas (ppm <-> kg/m³).
    pressure_pa, temperature_k : float
        Air state for ppm <-> kg/m³.
    initial_sigma_m : float
        Spread at the source (m), added in quadrature; keeps near-source values finite.
    min_downwind_m : float
        Distances below this are treated as upwind (zero concentration).
    """

    scheme: Scheme = "briggs-rural"
    molar_mass_kg_mol: float = MOLAR_MASS_KG_MOL["ch4"]
    pressure_pa: float = 101325.0
    temperature_k: float = 288.15
    initial_sigma_m: float = 0.5
    min_downwind_m: float = 0.1

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise InvalidParameterError(
                f"unknown dispersion scheme {self.scheme!r}; choose one of {', '.join(SCHEMES)}"
            )
        if not self.initial_sigma_m >= 0.0 or not self.min_downwind_m > 0.0:
            raise InvalidParameterError("initial_sigma_m must be >= 0 and min_downwind_m > 0")

    @property
    def ppm_per_kg_m3(self) -> float:
        """Conversion from kg/m³ to ppm for this gas and air state."""
        rho = kg_m3_per_ppm(
            self.molar_mass_kg_mol, pressure_pa=self.pressure_pa, temperature_k=self.temperature_k
        )
        return 1.0 / rho

    def pack_particles(self, params: SourceParams) -> NDArray[np.float64]:
        """(N, 9) particle array in the layout of :mod:`plumetrace.insitu._kernels`."""
        return np.ascontiguousarray(
            np.column_stack(
                [
                    params.x,
                    params.y,
                    params.z,
                    params.rate_kg_s,
                    np.cos(params.wind_bias_rad),
                    np.sin(params.wind_bias_rad),
                    params.scale,
                    params.stability,
                    np.zeros(params.size)
                    if params.background_ppm is None
                    else params.background_ppm,
                ]
            ),
            dtype=np.float64,
        )

    @staticmethod
    def pack_readings(obs: Observations) -> NDArray[np.float64]:
        """(M, 11) reading array in the layout of :mod:`plumetrace.insitu._kernels`."""
        beam = obs.end - obs.start
        length = obs.path_length_m
        unit = np.zeros_like(beam)
        path = length > 1e-9
        unit[path] = beam[path] / length[path, None]
        to = np.deg2rad(obs.wind_from_deg + 180.0)
        k_base = stability_from_sigma_theta(obs.sigma_theta_deg)
        k_base = np.where(np.isnan(k_base), DEFAULT_STABILITY, k_base)
        return np.ascontiguousarray(
            np.column_stack(
                [
                    obs.start,
                    unit,
                    np.where(path, length, 0.0),
                    np.sin(to),
                    np.cos(to),
                    1.0 / obs.wind_speed_m_s,
                    k_base,
                ]
            ),
            dtype=np.float64,
        )

    def _tables(self) -> _Tables:
        code, ty, tz, pgy, pgz = kernel_tables(self.scheme)
        return (code, ty, tz, pgy, pgz, self.initial_sigma_m**2, self.min_downwind_m, _MAX_SEG)

    def predict_ppm(
        self, params: SourceParams | NDArray[np.float64], obs: Observations | NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Predicted enhancement of every reading for every candidate source.

        Parameters
        ----------
        params : SourceParams or (N, 9) ndarray
            N candidate sources (or already packed by :meth:`pack_particles`).
        obs : Observations or (M, 11) ndarray
            M readings, point or path (or already packed by :meth:`pack_readings`).

        Returns
        -------
        (N, M) ndarray, ppm
            Mean enhancement (path-averaged for path readings).
        """
        p = self.pack_particles(params) if isinstance(params, SourceParams) else params
        r = self.pack_readings(obs) if isinstance(obs, Observations) else obs
        if p.shape[0] == 0 or r.shape[0] == 0:
            return np.zeros((p.shape[0], r.shape[0]))
        out = _predict(p, r, *self._tables(), self.ppm_per_kg_m3)
        return np.asarray(out, dtype=np.float64)

    def log_likelihood(
        self,
        params: SourceParams | NDArray[np.float64],
        obs: Observations | NDArray[np.float64],
        enhancement_ppm: NDArray[np.float64],
        noise: NoiseModel,
    ) -> NDArray[np.float64]:
        """Sum over readings of log p(reading | source), for every candidate source.

        Parameters
        ----------
        params : SourceParams or (N, 9) ndarray
            Candidate sources.
        obs : Observations or (M, 11) ndarray
            Readings (geometry and wind).
        enhancement_ppm : (M,) ndarray, ppm
            Observed enhancements.
        noise : NoiseModel
            Sensor noise, threshold, model error and intermittency.

        Returns
        -------
        (N,) ndarray
            Log-likelihood per candidate.
        """
        p = self.pack_particles(params) if isinstance(params, SourceParams) else params
        r = self.pack_readings(obs) if isinstance(obs, Observations) else obs
        m = r.shape[0]
        if m == 0:
            return np.zeros(p.shape[0])
        sigma = np.broadcast_to(np.asarray(noise.sigma_ppm, dtype=np.float64), (m,))
        thr = np.broadcast_to(np.asarray(noise.threshold_ppm, dtype=np.float64), (m,))
        wgt = np.broadcast_to(np.asarray(noise.weight, dtype=np.float64), (m,))
        out = _loglik_sum(
            p,
            r,
            np.ascontiguousarray(enhancement_ppm, dtype=np.float64),
            np.ascontiguousarray(sigma),
            np.ascontiguousarray(thr),
            np.ascontiguousarray(wgt),
            noise.relative_error,
            noise.intermittency,
            *self._tables(),
            self.ppm_per_kg_m3,
        )
        return np.asarray(out, dtype=np.float64)
