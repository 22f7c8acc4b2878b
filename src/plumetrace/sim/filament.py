"""Instantaneous 3-D gas concentrations from a meandering filament (puff) model.

This is the *truth* model of simulated in-situ (sniffer) sorties. It follows the idea of
Farrell et al. (2002), "Filament-based atmospheric dispersion model to achieve short
time-scale structure of odor plumes", *Environmental Fluid Mechanics* 2, 143-169: the
source releases a steady stream of small Gaussian filaments that are carried by a
fluctuating wind, wander apart under small-scale turbulence and slowly grow. The
instantaneous field is the sum of the filaments, so a fixed sensor sees the intermittent
bursts and long near-zero gaps of real plumes; only the *time average* resembles a
Gaussian plume. It is deliberately not a Gaussian plume: the inference code uses one, and
this model is the independent truth it is tested against.

* **Release.** One filament every ``release_interval_s``, each carrying the mass
  ``rate · release_interval`` (kg). Filaments released inside an internal step are placed
  where they would have travelled since their exact release time.
* **Meander (large scales).** The wind is uniform in space and fluctuates in time: its
  direction departs from the mean by an Ornstein-Uhlenbeck (OU) process of standard
  deviation ``meander_sigma_deg`` and correlation time ``meander_time_s``; its speed is
  log-normal, ``U exp(a - s²/2)`` with ``a`` an independent OU process of standard
  deviation ``s = sqrt(ln(1 + speed_sigma_frac²))`` on the same time scale, so it stays
  positive with mean ``U`` and relative standard deviation ``speed_sigma_frac``. Every
  filament moves with the current wind, so the plume snakes as a whole: the
  fluctuating-plume picture of Gifford (1959), whose ensemble spread grows like Taylor's
  (1921) ``σ_y² = 2 σ_v² T² (t/T - 1 + e^{-t/T})`` with ``σ_v ≈ U tan σ_θ``. σ_θ = 15°
  is typical of daytime convective conditions (Pasquill classes B-C). Farrell et al.
  drive the filaments with a spatially varying wind field instead; a uniform one is much
  cheaper and differs mainly beyond ``U·T`` (about 100 m by default), where real eddies
  decorrelate in space.
* **Small-scale turbulence.** Each filament also has its own turbulent velocity, an OU
  (Langevin) process with time scale ``turbulence_time_s`` and standard deviation
  ``sqrt(K / T_s)``, so it disperses ballistically for ``t ≪ T_s`` and as a random walk of
  diffusivity ``K`` (``diffusivity_m2_s`` horizontally, ``vertical_diffusivity_m2_s``
  vertically) beyond. A new filament takes the turbulent velocity of the air at the
  source at its release (itself an OU process in time), so consecutive filaments start
  together and separate over ``T_s``: puffs break into strands, as in Farrell's
  relative-dispersion term. The defaults, ``K_h`` = 0.25 m²/s, ``K_z`` = 0.12 m²/s and
  ``T_s`` = 2 s (``σ_u`` ≈ 0.35 m/s, ``σ_w`` ≈ 0.25 m/s), are those of the surface layer
  a few metres above ground with ``u*`` ≈ 0.2-0.3 m/s (``σ_w ≈ 1.25 u*``, Panofsky and
  Dutton 1984). Filaments reflect at the ground (``z = 0``).
* **Filament growth.** Each filament is an isotropic 3-D Gaussian whose variance grows
  linearly with age, ``σ² = σ0² + γ·age`` (Farrell's ``dR²/dt`` law; ``γ = 2 K_f`` for
  the eddies smaller than the filament). With the Richardson-Obukhov scaling
  ``K_f ≈ ε^{1/3} ℓ^{4/3}`` for filament sizes ``ℓ`` ≈ 0.3-0.5 m and a surface-layer
  dissipation rate ``ε`` ≈ 0.01-0.03 m²/s³ this gives ``γ`` ≈ 0.05-0.15 m²/s; the
  default 0.1 m²/s makes a 0.2 m filament about 1 m wide after 10 s and 3 m after 90 s.
* **Concentration.** A filament of mass ``m`` at ``(x, y, z)`` contributes
  ``m / ((2π)^{3/2} σ³) [exp(-r²/2σ²) + exp(-r'²/2σ²)]`` kg/m³, where ``r'`` is the
  distance to its image below the ground (total reflection, so no mass is lost). The sum
  is converted to a ppm mole-fraction enhancement with
  :func:`plumetrace.constants.kg_m3_per_ppm` (101325 Pa, 288.15 K).
* **Removal.** Filaments older than ``max_age_s`` or farther than ``max_distance_m``
  (horizontally) from the source are dropped.

Frame: local metres, ``x`` east, ``y`` north, ``z`` up with the ground at ``z = 0``. Wind
directions are meteorological: degrees clockwise from north that the wind blows FROM, so
the plume travels toward bearing ``from + 180°``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumetrace.constants import MOLAR_MASS_KG_MOL, kg_m3_per_ppm
from plumetrace.errors import InvalidParameterError

__all__ = ["FilamentModel", "FilamentSpec"]

_TRUNCATE = 6.0
"""Filaments farther than this many σ (horizontally) from every query point are skipped."""

_Terms = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]
"""Per-filament horizontal reach (m), 1/(2σ²) (m⁻²), log relative amplitude; peak (ppm)."""

_POINTS_PER_CHUNK = 1024
"""Query points evaluated together (each chunk selects the filaments within its reach)."""

_MIN_EXPONENT = -87.0
"""Exponents are clipped here so that float32 ``exp`` stays normal (exp(-87) ≈ 1.6e-38)."""

_EXP_FLOOR = float(np.exp(np.float32(_MIN_EXPONENT)))


def _filament_sum(
    q: NDArray[np.float64],
    pos: NDArray[np.float64],
    reach: NDArray[np.float64],
    inv: NDArray[np.float64],
    log_amp: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Sum of reflected Gaussian filaments at points, relative to the largest amplitude.

    ``q`` (K, 3) are the points, ``pos`` (3, N) the filament centres, ``reach`` (N,) the
    horizontal distance beyond which a filament is ignored, ``inv`` (N,) = 1/(2σ²) and
    ``log_amp`` (N,) the log of each filament's peak density relative to the largest.
    Returns ``Σ_n exp(log_amp_n) [exp(-|q - f_n|² inv_n) + exp(-|q - f̄_n|² inv_n)]``,
    ``f̄`` being the image below the ground. The squared distance is expanded as
    ``|q|² + |f|² - 2 q·f`` about the chunk centre (a matrix product) and the exponential
    is taken in float32, which is vectorised where float64 is not (relative error ~1e-7).
    """
    lo = q[:, :2].min(axis=0)
    hi = q[:, :2].max(axis=0)
    fx, fy = pos[0], pos[1]
    near = np.flatnonzero(
        (fx >= lo[0] - reach)
        & (fx <= hi[0] + reach)
        & (fy >= lo[1] - reach)
        & (fy <= hi[1] + reach)
    )
    if near.size == 0:
        return np.zeros(q.shape[0])
    centre = np.array([0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), 0.0])
    qr = q - centre
    qr[:, 2] = np.maximum(qr[:, 2], 0.0)
    fr = pos[:, near] - centre[:, None]
    w = inv[near]
    # -|q - f|² w + log_amp, real filaments
    expo = qr @ (2.0 * w * fr)
    expo -= np.multiply.outer(np.einsum("ij,ij->i", qr, qr), w)
    expo += log_amp[near] - np.einsum("ij,ij->j", fr, fr) * w
    np.maximum(expo, _MIN_EXPONENT, out=expo)
    kernel = np.exp(expo.astype(np.float32))
    # image below the ground: |q - f̄|² = |q - f|² + 4 q_z f_z
    image = np.multiply.outer(-4.0 * qr[:, 2], fr[2] * w)
    np.maximum(image, _MIN_EXPONENT, out=image)
    factor = np.exp(image.astype(np.float32))
    factor += 1.0
    kernel *= factor
    total: NDArray[np.float64] = kernel.sum(axis=1, dtype=np.float64)
    # a point out of every filament's reach reads exactly 0, not the clipping floor
    total[total <= 2.5 * near.size * _EXP_FLOOR] = 0.0
    return total


@dataclass(frozen=True)
class FilamentSpec:
    """Parameters of one source's filament plume (see the module docstring).

    Attributes
    ----------
    source_xyz : (3,) tuple of float, m
        Source position (east, north, up); the height must be non-negative.
    rate_kg_s : float, kg/s
        Emission rate (non-negative).
    wind_speed_m_s : float, m/s
        Mean wind speed (positive).
    wind_from_deg : float, degrees
        Mean wind direction, meteorological: clockwise from north, the direction the wind
        blows FROM.
    meander_sigma_deg : float, degrees
        Standard deviation of the large-scale wind-direction fluctuation, in [0, 60).
    meander_time_s : float, s
        Correlation time of the direction and speed fluctuations.
    speed_sigma_frac : float
        Standard deviation of the (log-normal) speed fluctuation relative to the mean,
        in [0, 1].
    release_interval_s : float, s
        One filament is released per interval.
    initial_radius_m : float, m
        Initial filament size, as the Gaussian standard deviation σ0.
    growth_m2_s : float, m²/s
        Growth rate of the filament variance, ``σ² = σ0² + growth · age``.
    diffusivity_m2_s : float, m²/s
        Horizontal diffusivity of the filaments' own random walk (small-scale turbulence).
    vertical_diffusivity_m2_s : float, m²/s
        Vertical diffusivity of that random walk.
    turbulence_time_s : float, s
        Lagrangian time scale of the small-scale turbulent velocity.
    max_age_s : float, s
        Filaments older than this are dropped.
    max_distance_m : float, m
        Filaments farther than this (horizontally) from the source are dropped.
    time_step_s : float, s
        Largest internal time step, in (0, 0.5].
    molar_mass_kg_mol : float, kg/mol
        Molar mass of the gas (CH4 by default), for the ppm conversion.
    """

    source_xyz: tuple[float, float, float]
    rate_kg_s: float
    wind_speed_m_s: float
    wind_from_deg: float
    meander_sigma_deg: float = 15.0
    meander_time_s: float = 30.0
    speed_sigma_frac: float = 0.15
    release_interval_s: float = 0.2
    initial_radius_m: float = 0.2
    growth_m2_s: float = 0.1
    diffusivity_m2_s: float = 0.25
    vertical_diffusivity_m2_s: float = 0.12
    turbulence_time_s: float = 2.0
    max_age_s: float = 300.0
    max_distance_m: float = 2000.0
    time_step_s: float = 0.2
    molar_mass_kg_mol: float = MOLAR_MASS_KG_MOL["ch4"]

    def __post_init__(self) -> None:
        xyz = tuple(float(v) for v in self.source_xyz)
        if len(xyz) != 3 or not all(math.isfinite(v) for v in xyz):
            raise InvalidParameterError(f"source_xyz must be 3 finite metres, got {xyz}")
        if xyz[2] < 0.0:
            raise InvalidParameterError(f"source height must be >= 0 m, got {xyz[2]}")
        object.__setattr__(self, "source_xyz", xyz)

        inf = math.inf
        # name: (low, high, low included, high included)
        bounds: dict[str, tuple[float, float, bool, bool]] = {
            "rate_kg_s": (0.0, inf, True, False),
            "wind_speed_m_s": (0.0, inf, False, False),
            "wind_from_deg": (-inf, inf, False, False),
            "meander_sigma_deg": (0.0, 60.0, True, False),
            "meander_time_s": (0.0, inf, False, False),
            "speed_sigma_frac": (0.0, 1.0, True, True),
            "release_interval_s": (0.0, inf, False, False),
            "initial_radius_m": (0.0, inf, False, False),
            "growth_m2_s": (0.0, inf, True, False),
            "diffusivity_m2_s": (0.0, inf, True, False),
            "vertical_diffusivity_m2_s": (0.0, inf, True, False),
            "turbulence_time_s": (0.0, inf, False, False),
            "max_age_s": (0.0, inf, False, False),
            "max_distance_m": (0.0, inf, False, False),
            "time_step_s": (0.0, 0.5, False, True),
            "molar_mass_kg_mol": (0.0, 1.0, False, False),
        }
        for name, (low, high, low_in, high_in) in bounds.items():
            value = float(getattr(self, name))
            above = value >= low if low_in else value > low
            below = value <= high if high_in else value < high
            if not (math.isfinite(value) and above and below):
                interval = f"{'[' if low_in else '('}{low}, {high}{']' if high_in else ')'}"
                raise InvalidParameterError(
                    f"filament spec {name} must be finite and in {interval}, got {value}"
                )

    @property
    def filament_mass_kg(self) -> float:
        """Mass carried by one filament, kg (``rate · release_interval``)."""
        return self.rate_kg_s * self.release_interval_s

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (the source position as a list)."""
        d = asdict(self)
        d["source_xyz"] = list(self.source_xyz)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FilamentSpec:
        """Inverse of :meth:`to_dict`."""
        kwargs = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kwargs["source_xyz"] = tuple(float(v) for v in d["source_xyz"])
        return cls(**kwargs)


class FilamentModel:
    """A running filament plume: step it in time and read instantaneous concentrations.

    Parameters
    ----------
    spec : FilamentSpec
        Source, wind and dispersion parameters.
    rng : numpy.random.Generator
        The only source of randomness (meander, turbulence); the same seed gives the same
        plume.
    spinup_s : float, optional, s
        Simulated time before ``t = 0`` so that the plume is established when the model is
        returned; ``spec.max_age_s`` by default (every filament age is present). 0 starts
        with an empty plume.

    Notes
    -----
    The state is the large-scale wind (two OU processes), the turbulent velocity of the air
    at the source, and per filament its position (m), turbulent velocity (m/s) and release
    time (s), held in ring buffers ordered by release time.
    """

    def __init__(
        self, spec: FilamentSpec, rng: np.random.Generator, *, spinup_s: float | None = None
    ) -> None:
        spinup = spec.max_age_s if spinup_s is None else float(spinup_s)
        if not (math.isfinite(spinup) and spinup >= 0.0):
            raise InvalidParameterError(f"spin-up must be a non-negative time, got {spinup_s}")
        self._spec = spec
        self._rng = rng
        self._source = np.array(spec.source_xyz, dtype=np.float64)
        horizontal = math.sqrt(spec.diffusivity_m2_s / spec.turbulence_time_s)
        vertical = math.sqrt(spec.vertical_diffusivity_m2_s / spec.turbulence_time_s)
        self._turb_std = (horizontal, horizontal, vertical)
        self._dir_std = math.radians(spec.meander_sigma_deg)
        self._log_speed_std = math.sqrt(math.log1p(spec.speed_sigma_frac**2))
        self._ppm_per_kg_m3 = 1.0 / kg_m3_per_ppm(spec.molar_mass_kg_mol)
        # large-scale wind offsets (direction, rad; log speed) and the turbulent
        # velocity at the source (m/s), all drawn from their stationary distributions
        z = rng.standard_normal(5).tolist()
        self._dir = self._dir_std * z[0]
        self._spd = self._log_speed_std * z[1]
        self._src_turb = tuple(sd * zi for sd, zi in zip(self._turb_std, z[2:], strict=True))
        # filaments live in rows [lo, hi) of the buffers, oldest first
        cap = min(2 * math.ceil(spec.max_age_s / spec.release_interval_s) + 64, 1 << 16)
        self._pos_buf = np.empty((3, cap))  # rows east, north, up (contiguous)
        self._vel_buf = np.empty((3, cap))
        self._t0_buf = np.empty(cap)
        self._lo = 0
        self._hi = 0
        self._terms: _Terms | None = None
        self._clock = 0.0  # internal time since the start of the spin-up, s
        self._next_release = 0  # index of the next filament; released at index·interval
        self._spinup = spinup
        if spinup > 0.0:
            self.advance(spinup)

    # ------------------------------------------------------------------ state
    @property
    def spec(self) -> FilamentSpec:
        """The parameters this model runs with."""
        return self._spec

    @property
    def time_s(self) -> float:
        """Model time, s (0 when the spin-up ends)."""
        return self._clock - self._spinup

    @property
    def n_filaments(self) -> int:
        """Number of filaments alive."""
        return self._hi - self._lo

    def filaments(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Return copies of the filaments' state, for plots and diagnostics.

        Returns
        -------
        positions : (N, 3) ndarray, m
            Centres (east, north, up).
        sigma : (N,) ndarray, m
            Gaussian standard deviations.
        mass : (N,) ndarray, kg
        """
        age = self._clock - self._t0_buf[self._lo : self._hi]
        sigma = np.sqrt(self._spec.initial_radius_m**2 + self._spec.growth_m2_s * age)
        mass = np.full(sigma.shape, self._spec.filament_mass_kg)
        return self._pos_buf[:, self._lo : self._hi].T.copy(), sigma, mass

    def _wind_xy(self) -> tuple[float, float]:
        """Return the large-scale wind vector (east, north), m/s."""
        speed = self._spec.wind_speed_m_s * math.exp(self._spd - 0.5 * self._log_speed_std**2)
        frm = math.radians(self._spec.wind_from_deg) + self._dir
        return -speed * math.sin(frm), -speed * math.cos(frm)

    def wind(self) -> tuple[float, float]:
        """Instantaneous large-scale wind at the source, as an anemometer reads it.

        The small-scale (per-filament) turbulence is not included: this is the resolved,
        meandering wind that carries the plume, i.e. a reading averaged over about a second.

        Returns
        -------
        speed : float, m/s
        from_deg : float, degrees
            Meteorological direction in [0, 360): clockwise from north, the direction the
            wind blows FROM.
        """
        speed = self._spec.wind_speed_m_s * math.exp(self._spd - 0.5 * self._log_speed_std**2)
        frm = (self._spec.wind_from_deg + math.degrees(self._dir)) % 360.0
        return speed, frm

    # --------------------------------------------------------------- dynamics
    def advance(self, dt_s: float) -> None:
        """Step the plume forward by ``dt_s`` seconds.

        The interval is split into equal internal steps of at most ``spec.time_step_s``.
        Each step updates the wind, moves every filament with the wind plus its own
        turbulent velocity, releases the filaments due in the step, reflects filaments at
        the ground and drops those too old or too far away.

        Parameters
        ----------
        dt_s : float, s
            Non-negative time to advance by.
        """
        if not (math.isfinite(dt_s) and dt_s >= 0.0):
            raise InvalidParameterError(f"time step must be non-negative, got {dt_s}")
        if dt_s == 0.0:
            return
        n = max(1, math.ceil(dt_s / self._spec.time_step_s - 1e-9))
        h = dt_s / n
        for _ in range(n):
            self._step(h)

    def _step(self, h: float) -> None:
        s = self._spec
        lo, hi = self._lo, self._hi
        n = hi - lo
        noise = self._rng.standard_normal(5 + 3 * n)
        z = noise[:5].tolist()

        # large-scale wind, shared by all filaments: exact OU, trapezoid over the step
        ux0, uy0 = self._wind_xy()
        rho = math.exp(-h / s.meander_time_s)
        kick = math.sqrt(1.0 - rho * rho)
        self._dir = rho * self._dir + kick * self._dir_std * z[0]
        self._spd = rho * self._spd + kick * self._log_speed_std * z[1]
        ux1, uy1 = self._wind_xy()

        # small-scale turbulence: every filament has its own OU velocity
        rho = math.exp(-h / s.turbulence_time_s)
        kicks = [math.sqrt(1.0 - rho * rho) * sd for sd in self._turb_std]
        if n:
            pos = self._pos_buf[:, lo:hi]
            vel = self._vel_buf[:, lo:hi]
            inc = noise[5:].reshape(3, n)
            inc *= np.array(kicks)[:, None]
            pos += (0.5 * h) * vel
            vel *= rho
            vel += inc
            pos += (0.5 * h) * vel
            pos[0] += 0.5 * h * (ux0 + ux1)
            pos[1] += 0.5 * h * (uy0 + uy1)
        self._src_turb = tuple(
            rho * v + k * zi for v, k, zi in zip(self._src_turb, kicks, z[2:], strict=True)
        )

        # release the filaments due in (clock, clock + h], placed where they would be now
        self._clock += h
        interval = s.release_interval_s
        last = math.ceil(self._clock / interval - 1e-9)  # exclusive index bound
        m = last - self._next_release
        if m > 0:
            self._reserve(m)
            lo, hi = self._lo, self._hi
            t0 = np.arange(self._next_release, last) * interval
            age = np.maximum(self._clock - t0, 0.0)
            tu = self._src_turb
            start_vel = np.array([ux1 + tu[0], uy1 + tu[1], tu[2]])
            self._pos_buf[:, hi : hi + m] = self._source[:, None] + start_vel[:, None] * age
            self._vel_buf[:, hi : hi + m] = np.array(tu)[:, None]
            self._t0_buf[hi : hi + m] = t0
            self._hi = hi = hi + m
            self._next_release = last

        # reflect at the ground
        height = self._pos_buf[2, lo:hi]
        below = height < 0.0
        if below.any():
            height[below] *= -1.0
            self._vel_buf[2, lo:hi][below] *= -1.0

        # drop old filaments (release times increase along the buffer) and far ones
        self._lo = lo = lo + int(
            np.searchsorted(self._t0_buf[lo:hi], self._clock - s.max_age_s, side="left")
        )
        east = self._pos_buf[0, lo:hi] - self._source[0]
        north = self._pos_buf[1, lo:hi] - self._source[1]
        east *= east
        north *= north
        east += north
        far = east > s.max_distance_m**2
        if far.any():
            keep = np.flatnonzero(~far) + lo
            k = keep.size
            self._pos_buf[:, lo : lo + k] = self._pos_buf[:, keep]
            self._vel_buf[:, lo : lo + k] = self._vel_buf[:, keep]
            self._t0_buf[lo : lo + k] = self._t0_buf[keep]
            self._hi = lo + k
        self._terms = None

    def _reserve(self, m: int) -> None:
        """Make room for ``m`` more filaments at the end of the buffers."""
        n = self._hi - self._lo
        cap = self._t0_buf.size
        if self._hi + m <= cap:
            return
        if n + m > cap:
            cap = 2 * (n + m)
            pos, vel, t0 = np.empty((3, cap)), np.empty((3, cap)), np.empty(cap)
        else:
            pos, vel, t0 = self._pos_buf, self._vel_buf, self._t0_buf
        pos[:, :n] = self._pos_buf[:, self._lo : self._hi].copy()
        vel[:, :n] = self._vel_buf[:, self._lo : self._hi].copy()
        t0[:n] = self._t0_buf[self._lo : self._hi].copy()
        self._pos_buf, self._vel_buf, self._t0_buf = pos, vel, t0
        self._lo, self._hi = 0, n

    def _filament_terms(self) -> _Terms:
        """Per-filament (reach, 1/2σ², log relative amplitude) and the largest amplitude."""
        if self._terms is None:
            s = self._spec
            age = self._clock - self._t0_buf[self._lo : self._hi]
            var = s.initial_radius_m**2 + s.growth_m2_s * age
            var_min = float(var.min())
            peak = s.filament_mass_kg / ((2.0 * math.pi * var_min) ** 1.5) * self._ppm_per_kg_m3
            self._terms = (
                _TRUNCATE * np.sqrt(var),
                0.5 / var,
                -1.5 * np.log(var / var_min),
                peak,
            )
        return self._terms

    # ---------------------------------------------------------- concentration
    def concentration_ppm(self, points: ArrayLike) -> NDArray[np.float64]:
        """Instantaneous concentration enhancement at points.

        Parameters
        ----------
        points : (..., 3) array_like, m
            Query positions (east, north, up) in the local frame; points below ground
            (``z < 0``) read 0.

        Returns
        -------
        (...) ndarray, ppm
            Mole-fraction enhancement (ppm) at the points: the sum of all filaments'
            Gaussians with their ground-reflection images.
        """
        p = np.asarray(points, dtype=np.float64)
        if p.ndim < 1 or p.shape[-1] != 3:
            raise InvalidParameterError(f"points must have shape (..., 3), got {p.shape}")
        out_shape = p.shape[:-1]
        p = p.reshape(-1, 3)
        out = np.zeros(p.shape[0])
        if p.shape[0] == 0 or self._hi == self._lo or self._spec.rate_kg_s == 0.0:
            return out.reshape(out_shape)
        if not np.isfinite(p).all():
            raise InvalidParameterError("points must be finite")

        reach, inv, log_amp, peak = self._filament_terms()
        pos = self._pos_buf[:, self._lo : self._hi]
        for a in range(0, p.shape[0], _POINTS_PER_CHUNK):
            chunk = p[a : a + _POINTS_PER_CHUNK]
            out[a : a + _POINTS_PER_CHUNK] = _filament_sum(chunk, pos, reach, inv, log_amp)
        out *= peak
        out[p[:, 2] < 0.0] = 0.0
        return out.reshape(out_shape)

    def path_average_ppm(self, start: ArrayLike, end: ArrayLike, n: int = 64) -> float:
        """Mean instantaneous concentration along a straight segment (open-path sensor).

        Parameters
        ----------
        start, end : (3,) array_like, m
            Segment ends (east, north, up).
        n : int
            Number of samples, at the midpoints of ``n`` equal sub-segments.

        Returns
        -------
        float, ppm
            Path-averaged enhancement (multiply by the length for ppm·m).
        """
        a = np.asarray(start, dtype=np.float64)
        b = np.asarray(end, dtype=np.float64)
        if a.shape != (3,) or b.shape != (3,):
            raise InvalidParameterError("segment ends must be (3,) positions in metres")
        if n < 1:
            raise InvalidParameterError(f"need at least one sample on the path, got {n}")
        frac = (np.arange(n) + 0.5) / n
        pts = a[None, :] + frac[:, None] * (b - a)[None, :]
        return float(self.concentration_ppm(pts).mean())

    def mean_concentration_ppm(
        self, points: ArrayLike, duration_s: float, dt_s: float
    ) -> NDArray[np.float64]:
        """Time-averaged concentration, by stepping the model (advances its clock).

        Parameters
        ----------
        points : (..., 3) array_like, m
            Query positions (east, north, up).
        duration_s : float, s
            Averaging time; the model advances by ``round(duration / dt) · dt``.
        dt_s : float, s
            Sampling interval; the concentration is read after each advance.

        Returns
        -------
        (...) ndarray, ppm
            Mean enhancement at the points over the samples.
        """
        if not (math.isfinite(dt_s) and dt_s > 0.0):
            raise InvalidParameterError(f"sampling interval must be positive, got {dt_s}")
        if not (math.isfinite(duration_s) and duration_s >= dt_s):
            raise InvalidParameterError(
                f"averaging time must be at least one sampling interval, got {duration_s}"
            )
        n = max(1, round(duration_s / dt_s))
        total = np.zeros(np.shape(points)[:-1])
        for _ in range(n):
            self.advance(dt_s)
            total += self.concentration_ppm(points)
        return np.asarray(total / n)
