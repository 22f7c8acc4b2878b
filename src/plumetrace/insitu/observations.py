"""Readings ready for inference: receptor geometry, enhancement, wind, per reading.

The local frame is metres with x east, y north and z up (height above ground). A point
sensor's reading has ``start == end``; a path (open-path laser) reading averages the
concentration along the segment from ``start`` (the sensor) to ``end`` (the reflector).
Wind directions are meteorological: the bearing the wind blows *from*, degrees clockwise
from north (+y).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = ["MIN_WIND_SPEED_M_S", "Observations"]

MIN_WIND_SPEED_M_S = 0.5
"""Wind speeds below this (m/s) are raised to it: a Gaussian plume needs advection."""


@dataclass(frozen=True)
class Observations:
    """M readings of concentration enhancement with their geometry and wind.

    Attributes
    ----------
    start : (M, 3) ndarray, m
        Receptor position (point sensor) or path start (the laser's position).
    end : (M, 3) ndarray, m
        Equal to ``start`` for a point reading; the reflector for a path reading.
    enhancement_ppm : (M,) ndarray, ppm
        Concentration above background (path-averaged for paths); may be negative by noise.
    wind_speed_m_s : (M,) ndarray, m/s
        Mean wind speed during the reading (raised to :data:`MIN_WIND_SPEED_M_S`).
    wind_from_deg : (M,) ndarray, degrees
        Meteorological wind direction (from), clockwise from north.
    sigma_theta_deg : (M,) ndarray, degrees
        Standard deviation of the horizontal wind direction (turbulence); NaN where unknown.
    time_s : (M,) ndarray, s
        Reading times (any origin).
    """

    start: NDArray[np.float64]
    end: NDArray[np.float64]
    enhancement_ppm: NDArray[np.float64]
    wind_speed_m_s: NDArray[np.float64]
    wind_from_deg: NDArray[np.float64]
    sigma_theta_deg: NDArray[np.float64]
    time_s: NDArray[np.float64]

    def __post_init__(self) -> None:
        m = self.enhancement_ppm.shape[0] if self.enhancement_ppm.ndim == 1 else -1
        if m < 0:
            raise InvalidParameterError("enhancement_ppm must be one-dimensional")
        for name in ("start", "end"):
            if getattr(self, name).shape != (m, 3):
                raise InvalidParameterError(f"{name} must have shape ({m}, 3)")
        for name in ("wind_speed_m_s", "wind_from_deg", "sigma_theta_deg", "time_s"):
            if getattr(self, name).shape != (m,):
                raise InvalidParameterError(f"{name} must have shape ({m},)")
        finite = ("start", "end", "enhancement_ppm", "wind_speed_m_s", "wind_from_deg", "time_s")
        for name in finite:
            if not np.all(np.isfinite(getattr(self, name))):
                raise InvalidParameterError(f"{name} holds non-finite values")
        if np.any(self.wind_speed_m_s < 0.0):
            raise InvalidParameterError("wind speed must not be negative")

    @classmethod
    def create(
        cls,
        start: NDArray[np.float64],
        enhancement_ppm: NDArray[np.float64],
        wind_speed_m_s: NDArray[np.float64] | float,
        wind_from_deg: NDArray[np.float64] | float,
        *,
        end: NDArray[np.float64] | None = None,
        sigma_theta_deg: NDArray[np.float64] | float | None = None,
        time_s: NDArray[np.float64] | None = None,
    ) -> Observations:
        """Build observations, broadcasting scalars and defaulting what is optional.

        Parameters
        ----------
        start : (M, 3) array_like, m
            Receptor positions (or path starts).
        enhancement_ppm : (M,) array_like, ppm
            Enhancements above background.
        wind_speed_m_s, wind_from_deg : float or (M,) array_like
            Wind per reading (m/s; degrees from, clockwise from north).
        end : (M, 3) array_like, optional
            Path ends; omitted for point readings.
        sigma_theta_deg : float or (M,) array_like, optional
            Turbulence (std of wind direction, degrees); NaN/omitted where unknown.
        time_s : (M,) array_like, optional
            Reading times; ``0, 1, 2, ...`` by default.
        """
        start_a = np.atleast_2d(np.asarray(start, dtype=np.float64))
        enh = np.atleast_1d(np.asarray(enhancement_ppm, dtype=np.float64))
        m = enh.shape[0]
        end_a = start_a.copy() if end is None else np.atleast_2d(np.asarray(end, np.float64))

        def vec(value: NDArray[np.float64] | float | None, fill: float) -> NDArray[np.float64]:
            v = fill if value is None else value
            return np.broadcast_to(np.asarray(v, dtype=np.float64), (m,)).copy()

        speed = np.maximum(vec(wind_speed_m_s, np.nan), MIN_WIND_SPEED_M_S)
        times = np.arange(m, dtype=np.float64) if time_s is None else vec(time_s, 0.0)
        return cls(
            start=start_a,
            end=end_a,
            enhancement_ppm=enh,
            wind_speed_m_s=speed,
            wind_from_deg=np.mod(vec(wind_from_deg, np.nan), 360.0),
            sigma_theta_deg=vec(sigma_theta_deg, np.nan),
            time_s=times,
        )

    @property
    def size(self) -> int:
        """Number of readings M."""
        return int(self.enhancement_ppm.shape[0])

    @property
    def path_length_m(self) -> NDArray[np.float64]:
        """(M,) path length in m; 0 for point readings."""
        return np.asarray(np.linalg.norm(self.end - self.start, axis=1), dtype=np.float64)

    @property
    def is_path(self) -> NDArray[np.bool_]:
        """(M,) True where the reading is path-averaged."""
        return self.path_length_m > 1e-9

    def take(self, index: NDArray[np.intp] | slice) -> Observations:
        """Return the readings selected by ``index`` (in that order)."""
        return Observations(
            start=self.start[index],
            end=self.end[index],
            enhancement_ppm=self.enhancement_ppm[index],
            wind_speed_m_s=self.wind_speed_m_s[index],
            wind_from_deg=self.wind_from_deg[index],
            sigma_theta_deg=self.sigma_theta_deg[index],
            time_s=self.time_s[index],
        )

    @staticmethod
    def concat(parts: list[Observations]) -> Observations:
        """Concatenate readings in order."""
        if not parts:
            raise InvalidParameterError("no observations to concatenate")
        return Observations(
            start=np.concatenate([p.start for p in parts]),
            end=np.concatenate([p.end for p in parts]),
            enhancement_ppm=np.concatenate([p.enhancement_ppm for p in parts]),
            wind_speed_m_s=np.concatenate([p.wind_speed_m_s for p in parts]),
            wind_from_deg=np.concatenate([p.wind_from_deg for p in parts]),
            sigma_theta_deg=np.concatenate([p.sigma_theta_deg for p in parts]),
            time_s=np.concatenate([p.time_s for p in parts]),
        )
