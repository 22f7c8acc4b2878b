"""The prior over a source: where it may be, how strong, and the nuisance parameters.

A particle is a row of :data:`STATE` in unconstrained-ish coordinates:
``x, y, z`` (m), ``ln_rate`` (ln kg/s), ``bias`` (rad, added to the wind direction),
``ln_scale`` (ln of the dispersion scale factor) and ``stability`` (offset of the stability
index from each reading's turbulence-derived value; with no turbulence the offset spans
every class) and ``background`` (ppm subtracted from every reading's enhancement, when
the background is estimated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plumetrace.constants import SECONDS_PER_HOUR
from plumetrace.errors import InvalidParameterError
from plumetrace.insitu.plume import DEFAULT_STABILITY, SourceParams

__all__ = ["STATE", "Prior", "to_params"]

STATE = ("x", "y", "z", "ln_rate", "bias", "ln_scale", "stability", "background")
"""Names of the particle state columns, in order."""

X, Y, Z, LN_RATE, BIAS, LN_SCALE, STAB, BG = range(8)


@dataclass(frozen=True)
class Prior:
    """Independent priors on each state component.

    Attributes
    ----------
    box : tuple of 4 floats, m
        ``(xmin, ymin, xmax, ymax)``: uniform prior on the source's horizontal position.
    z_range : tuple of 2 floats, m
        Uniform prior on source height; equal bounds fix it.
    rate_kg_h : tuple of 2 floats, kg/h
        Log-uniform prior on the emission rate.
    bias_sigma_deg : float
        Std of the Gaussian prior on the wind-direction bias (degrees).
    ln_scale_sigma : float
        Std of the Gaussian prior on ln(dispersion scale factor).
    stability_sigma : float or None
        Std of the Gaussian prior on the stability offset when turbulence is measured;
        ``None`` means no turbulence: the offset is uniform so that every class A-F is
        equally likely (stability marginalised).
    background_ppm : tuple of 2 floats
        Uniform prior on the background offset (ppm); ``(0, 0)`` when the background is
        known.
    """

    box: tuple[float, float, float, float]
    z_range: tuple[float, float] = (0.0, 5.0)
    rate_kg_h: tuple[float, float] = (1e-3, 1e4)
    bias_sigma_deg: float = 10.0
    ln_scale_sigma: float = 0.5
    stability_sigma: float | None = None
    background_ppm: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = self.box
        if not (np.all(np.isfinite(self.box)) and x1 > x0 and y1 > y0):
            raise InvalidParameterError(
                f"source box must be xmin,ymin,xmax,ymax with xmin < xmax and ymin < ymax "
                f"(got {','.join(f'{v:g}' for v in self.box)})"
            )
        z0, z1 = self.z_range
        if not (0.0 <= z0 <= z1 and np.isfinite(z1)):
            raise InvalidParameterError(
                f"source height range must be 0 <= lo <= hi (got {z0}, {z1})"
            )
        r0, r1 = self.rate_kg_h
        if not (0.0 < r0 < r1 and np.isfinite(r1)):
            raise InvalidParameterError(f"rate prior must be 0 < lo < hi kg/h (got {r0}, {r1})")
        b0, b1 = self.background_ppm
        if not (np.isfinite(b0) and np.isfinite(b1) and b0 <= b1):
            raise InvalidParameterError(f"background prior must be lo <= hi (got {b0}, {b1})")
        if not (self.bias_sigma_deg >= 0.0 and self.ln_scale_sigma >= 0.0):
            raise InvalidParameterError("prior widths must be non-negative")

    @property
    def _ln_rate_bounds(self) -> tuple[float, float]:
        return (
            float(np.log(self.rate_kg_h[0] / SECONDS_PER_HOUR)),
            float(np.log(self.rate_kg_h[1] / SECONDS_PER_HOUR)),
        )

    @property
    def _stability_bounds(self) -> tuple[float, float]:
        return (-DEFAULT_STABILITY - 0.5, 5.0 - DEFAULT_STABILITY + 0.5)

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """Draw ``n`` particles.

        Returns
        -------
        (n, 8) ndarray
            Columns as in :data:`STATE`.
        """
        out = np.empty((n, len(STATE)))
        x0, y0, x1, y1 = self.box
        out[:, X] = rng.uniform(x0, x1, n)
        out[:, Y] = rng.uniform(y0, y1, n)
        out[:, Z] = rng.uniform(*self.z_range, n)
        out[:, LN_RATE] = rng.uniform(*self._ln_rate_bounds, n)
        out[:, BIAS] = rng.normal(0.0, np.deg2rad(self.bias_sigma_deg), n)
        out[:, LN_SCALE] = rng.normal(0.0, self.ln_scale_sigma, n)
        if self.stability_sigma is None:
            out[:, STAB] = rng.uniform(*self._stability_bounds, n)
        else:
            out[:, STAB] = rng.normal(0.0, self.stability_sigma, n)
        out[:, BG] = rng.uniform(*self.background_ppm, n)
        return out

    def log_density(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log prior density (up to a constant) of each particle; -inf outside the support.

        Parameters
        ----------
        theta : (N, 8) ndarray
            Particles.

        Returns
        -------
        (N,) ndarray
        """
        x0, y0, x1, y1 = self.box
        z0, z1 = self.z_range
        r0, r1 = self._ln_rate_bounds
        inside = (
            (theta[:, X] >= x0)
            & (theta[:, X] <= x1)
            & (theta[:, Y] >= y0)
            & (theta[:, Y] <= y1)
            & (theta[:, Z] >= z0)
            & (theta[:, Z] <= z1)
            & (theta[:, LN_RATE] >= r0)
            & (theta[:, LN_RATE] <= r1)
            & (theta[:, BG] >= self.background_ppm[0])
            & (theta[:, BG] <= self.background_ppm[1])
        )
        out = np.zeros(theta.shape[0])
        sb = np.deg2rad(self.bias_sigma_deg)
        if sb > 0.0:
            out -= 0.5 * (theta[:, BIAS] / sb) ** 2
        if self.ln_scale_sigma > 0.0:
            out -= 0.5 * (theta[:, LN_SCALE] / self.ln_scale_sigma) ** 2
        if self.stability_sigma is None:
            lo, hi = self._stability_bounds
            inside &= (theta[:, STAB] >= lo) & (theta[:, STAB] <= hi)
        elif self.stability_sigma > 0.0:
            out -= 0.5 * (theta[:, STAB] / self.stability_sigma) ** 2
        return np.where(inside, out, -np.inf)

    def fixed(self) -> NDArray[np.bool_]:
        """(8,) True for state components the prior pins to one value."""
        return np.array(
            [
                False,
                False,
                self.z_range[0] == self.z_range[1],
                False,
                self.bias_sigma_deg == 0.0,
                self.ln_scale_sigma == 0.0,
                self.stability_sigma == 0.0,
                self.background_ppm[0] == self.background_ppm[1],
            ]
        )


def to_params(theta: NDArray[np.float64]) -> SourceParams:
    """Convert particles (N, 8) to the forward model's :class:`SourceParams`."""
    return SourceParams(
        x=theta[:, X],
        y=theta[:, Y],
        z=theta[:, Z],
        rate_kg_s=np.exp(theta[:, LN_RATE]),
        wind_bias_rad=theta[:, BIAS],
        scale=np.exp(theta[:, LN_SCALE]),
        stability=theta[:, STAB],
        background_ppm=theta[:, BG],
    )
