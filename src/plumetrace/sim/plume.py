"""Instantaneous turbulent gas plumes: a meandering, filamented Gaussian puff model.

An instantaneous (snapshot) plume is rendered as the vertically integrated column of many
Gaussian puffs:

* **Release and advection.** Puffs carry the mass emitted during their release interval
  (rate x interval) and travel with the mean wind speed ``U``; a puff of age ``a`` is
  ``s = U·a`` downwind. Rather than releasing at a fixed time step, the age axis is
  discretised at nodes spaced by at most half the (sub-)puff width, each node carrying the
  mass of its interval (trapezoid weights). The mass per unit downwind length is then
  ``Q/U`` to well below 0.1 %, so the flux through any cross-section, ``∫ column dy · U``,
  equals the emission rate (mass conservation), while few puffs are needed far downwind.
* **Meander.** Large eddies move the whole plume: the cross-wind velocity is an
  Ornstein-Uhlenbeck process (std ``σ_v = U·tan σ_θ``, Lagrangian time scale ``T_L``),
  uniform in space, so a puff of age ``a`` is displaced by ``∫ v'(t) dt`` over its travel
  time -- the fluctuating-plume picture of Gifford (1959), whose ensemble spread grows
  like Taylor's (1921) ``2 σ_v² T_L² (a/T_L - 1 + e^{-a/T_L})``. ``σ_θ`` = 15° matches
  daytime convective conditions (Pasquill classes B-C).
* **Relative dispersion.** Puffs grow with travel distance ``x = U·a`` as
  ``σ(x) = σ0 + 0.14 x^0.92`` m: Slade's (1968) instantaneous-puff curve for unstable
  (daytime, convective) conditions, ``σ_y = 0.14 x^0.92`` (Slade, *Meteorology and Atomic
  Energy*, 1968, table 4-3; also Turner 1994), plus the source size ``σ0``. Meander plus
  puff growth gives a time-averaged plume width comparable to Briggs (1973) classes B-C.
* **Filaments.** Each puff is split into ``n`` sub-puffs of width ``f·σ`` whose cross-wind
  offsets follow smooth unit-variance random processes (correlated over
  ``filament_time_s`` of age) scaled by ``sqrt(1 - f²)·σ``: strands that braid and merge
  downwind. Averaged over realisations the column equals the single-puff Gaussian; each
  realisation shows the patchy structure of real instantaneous plumes, while the along-wind
  mass density (hence cross-section flux) stays exactly ``Q/U``.
* **Column.** A puff of mass ``m`` and width ``σ`` has the column ``m/(2πσ²)
  exp(-r²/2σ²)`` kg/m²; pixels receive its exact pixel-area average (products of error
  functions), so puffs much smaller than a pixel near the source are not aliased. Columns
  are converted to ppm·m with :func:`plumetrace.constants.kg_m2_per_ppm_m` at 101325 Pa
  and 288.15 K by default (the IME convention, Varon et al. 2018).

Wind directions are meteorological: degrees clockwise from north that the wind blows
FROM. Rasters are north-up, rows increasing southward, so a wind from 270° blows toward
+col (east) and one from 0° toward +row (south).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.special import ndtr

from plumetrace.constants import (
    SECONDS_PER_HOUR,
    STANDARD_PRESSURE_PA,
    STANDARD_TEMPERATURE_K,
    kg_m2_per_ppm_m,
)
from plumetrace.errors import InvalidParameterError

__all__ = [
    "PuffEnsemble",
    "PuffModel",
    "downwind_room_m",
    "render_plume",
    "render_puffs",
    "simulate_puffs",
    "wind_vector",
]


@dataclass(frozen=True)
class PuffModel:
    """Parameters of the meandering, filamented puff model (see the module docstring).

    Attributes
    ----------
    source_sigma_m : float, m
        Initial puff width σ0 (source size: vent, hatch, leak cloud).
    growth_coef, growth_exponent : float
        Relative dispersion ``σ = σ0 + growth_coef · x^growth_exponent`` (x in m);
        0.14 and 0.92 are Slade's (1968) unstable instantaneous-puff values.
    direction_std_deg : float, degrees
        Standard deviation σ_θ of the wind direction; ``σ_v = U·tan σ_θ``.
    lagrangian_time_s : float, s
        Integral time scale of the cross-wind velocity (meander correlation time).
    filaments : int
        Sub-puffs per puff (1 = plain meandering puffs).
    filament_width : float
        Sub-puff width as a fraction of the puff width, in (0, 1].
    filament_time_s : float, s
        Correlation time (in puff age) of the sub-puff offsets.
    max_length_m : float, m
        Longest plume rendered (travel distance of the oldest puff).
    spacing : float
        Node spacing along the wind in units of the sub-puff width.
    truncate : float
        Puffs are evaluated within ``truncate·σ`` of their centre.
    """

    source_sigma_m: float = 1.5
    growth_coef: float = 0.14
    growth_exponent: float = 0.92
    direction_std_deg: float = 15.0
    lagrangian_time_s: float = 100.0
    filaments: int = 5
    filament_width: float = 0.45
    filament_time_s: float = 15.0
    max_length_m: float = 2000.0
    spacing: float = 0.5
    truncate: float = 5.0

    def __post_init__(self) -> None:
        positive = {
            "source_sigma_m": self.source_sigma_m,
            "growth_coef": self.growth_coef,
            "growth_exponent": self.growth_exponent,
            "lagrangian_time_s": self.lagrangian_time_s,
            "filament_time_s": self.filament_time_s,
            "max_length_m": self.max_length_m,
            "spacing": self.spacing,
            "truncate": self.truncate,
        }
        for name, value in positive.items():
            if not (np.isfinite(value) and value > 0):
                raise InvalidParameterError(f"puff model {name} must be positive, got {value}")
        if not (0.0 <= self.direction_std_deg < 60.0):
            raise InvalidParameterError("puff model direction_std_deg must be in [0, 60)")
        if self.filaments < 1:
            raise InvalidParameterError("puff model needs at least one filament")
        if not (0.0 < self.filament_width <= 1.0):
            raise InvalidParameterError("puff model filament_width must be in (0, 1]")
        if self.spacing > 1.0:
            raise InvalidParameterError("puff model spacing must be at most 1 sub-puff width")

    def sigma(self, distance_m: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Puff width σ (m) after ``distance_m`` of travel."""
        x = np.asarray(distance_m, dtype=np.float64)
        return np.asarray(self.source_sigma_m + self.growth_coef * x**self.growth_exponent)

    def to_dict(self) -> dict[str, float | int]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, float | int]) -> PuffModel:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})  # type: ignore[arg-type]


@dataclass(frozen=True)
class PuffEnsemble:
    """Snapshot of one source's (sub-)puffs.

    Positions are in metres in the raster frame: ``x`` along +col (east) and ``y`` along
    +row (south) from the raster's upper-left corner.

    Attributes
    ----------
    x_m, y_m : (n,) ndarray, m
        Puff centres.
    sigma_m : (n,) ndarray, m
        Puff widths (isotropic horizontal Gaussians).
    mass_kg : (n,) ndarray, kg
    distance_m : (n,) ndarray, m
        Along-wind travel distance of each puff.
    """

    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    sigma_m: NDArray[np.float64]
    mass_kg: NDArray[np.float64]
    distance_m: NDArray[np.float64]


def wind_vector(wind_dir_deg: float) -> tuple[float, float]:
    """Return the unit vector (d_col, d_row) the wind blows *toward* on a north-up raster.

    Parameters
    ----------
    wind_dir_deg : float, degrees
        Meteorological direction: clockwise from north, the direction the wind blows FROM.
    """
    t = np.radians(wind_dir_deg)
    return float(-np.sin(t)), float(np.cos(t))


def _ou_series(
    n: int, dt: float, timescale: float, std: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Stationary Ornstein-Uhlenbeck series (exact AR(1) discretisation)."""
    rho = float(np.exp(-dt / timescale))
    xi = rng.standard_normal(n)
    xi[1:] *= np.sqrt(1.0 - rho**2)
    return np.asarray(lfilter([1.0], [1.0, -rho], xi) * std)


def simulate_puffs(
    source_x_m: float,
    source_y_m: float,
    rate_kg_h: float,
    wind_speed_m_s: float,
    wind_dir_deg: float,
    rng: np.random.Generator,
    *,
    model: PuffModel | None = None,
    length_m: float | None = None,
) -> PuffEnsemble:
    """Positions, widths and masses of one source's puffs at the snapshot time.

    Parameters
    ----------
    source_x_m, source_y_m : float, m
        Source position in the raster frame (x east along +col, y south along +row).
    rate_kg_h : float, kg/h
        Emission rate.
    wind_speed_m_s : float, m/s
        Mean wind speed.
    wind_dir_deg : float, degrees
        Meteorological direction (clockwise from north, the wind blows FROM).
    rng : numpy.random.Generator
        Meander and filament randomness.
    model : PuffModel, optional
        Model parameters (defaults: convective daytime conditions).
    length_m : float, optional, m
        Travel distance of the oldest puff; ``model.max_length_m`` by default.

    Returns
    -------
    PuffEnsemble
        The total mass is ``rate · length / U``.
    """
    m = model or PuffModel()
    if not (np.isfinite(rate_kg_h) and rate_kg_h >= 0):
        raise InvalidParameterError(f"emission rate must be non-negative, got {rate_kg_h} kg/h")
    if not (np.isfinite(wind_speed_m_s) and wind_speed_m_s > 0):
        raise InvalidParameterError(f"wind speed must be positive, got {wind_speed_m_s} m/s")
    length = m.max_length_m if length_m is None else min(length_m, m.max_length_m)
    if not length > 0:
        raise InvalidParameterError("plume length must be positive")
    u = wind_speed_m_s
    f = m.filament_width if m.filaments > 1 else 1.0

    # along-wind nodes, spaced by a fraction of the local sub-puff width
    nodes = [0.0]
    while nodes[-1] < length:
        nodes.append(nodes[-1] + m.spacing * f * float(m.sigma(nodes[-1])))
    s = np.array(nodes)
    s[-1] = max(length, s[-2] + 1e-9) if s.size > 1 else length
    weight = np.empty_like(s)
    gaps = np.diff(s)
    weight[0] = gaps[0] / 2 if s.size > 1 else 0.0
    weight[-1] = gaps[-1] / 2 if s.size > 1 else 0.0
    weight[1:-1] = (gaps[:-1] + gaps[1:]) / 2
    mass = rate_kg_h / SECONDS_PER_HOUR * weight / u
    age = s / u
    sigma = m.sigma(s)

    # meander: cross-wind displacement integrated over each puff's travel time
    sigma_v = u * np.tan(np.radians(m.direction_std_deg))
    dt = min(1.0, m.lagrangian_time_s / 20.0, max(age[-1], 1e-3) / 50.0)
    n_steps = int(np.ceil(age[-1] / dt)) + 2
    v = _ou_series(n_steps, dt, m.lagrangian_time_s, sigma_v, rng)
    tau = np.arange(n_steps) * dt
    disp = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2 * dt)])
    cross = np.interp(age, tau, disp)

    # filaments: smooth unit-variance offsets per strand, exact OU on the irregular ages
    n_fil = m.filaments
    offsets = np.zeros((n_fil, s.size))
    if n_fil > 1:
        rho = np.exp(-np.diff(age) / m.filament_time_s)
        xi = rng.standard_normal((n_fil, s.size))
        offsets[:, 0] = xi[:, 0]
        for j in range(1, s.size):
            offsets[:, j] = rho[j - 1] * offsets[:, j - 1] + np.sqrt(1 - rho[j - 1] ** 2) * xi[:, j]
    strand_cross = cross[None, :] + offsets * (np.sqrt(1.0 - f**2) * sigma)[None, :]

    dc, dr = wind_vector(wind_dir_deg)
    along = np.broadcast_to(s, strand_cross.shape)
    x = source_x_m + along * dc - strand_cross * dr
    y = source_y_m + along * dr + strand_cross * dc
    return PuffEnsemble(
        x_m=x.ravel(),
        y_m=y.ravel(),
        sigma_m=np.broadcast_to(f * sigma, strand_cross.shape).ravel().copy(),
        mass_kg=np.broadcast_to(mass / n_fil, strand_cross.shape).ravel().copy(),
        distance_m=along.ravel().copy(),
    )


def render_puffs(
    puffs: PuffEnsemble,
    rows: int,
    cols: int,
    pixel_size_m: float,
    *,
    truncate: float = 5.0,
    out: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Pixel-averaged column mass of Gaussian puffs on a raster.

    Each pixel receives the exact integral of each puff's Gaussian over its area divided by
    the area (a product of two error-function differences), so puffs smaller than a pixel
    keep their mass.

    Parameters
    ----------
    puffs : PuffEnsemble
    rows, cols : int
    pixel_size_m : float, m
    truncate : float
        Evaluate each puff within ``truncate·σ`` of its centre.
    out : (rows, cols) ndarray, optional
        Accumulate into this array (kg/m²).

    Returns
    -------
    (rows, cols) ndarray, kg/m²
    """
    px = pixel_size_m
    grid = np.zeros((rows, cols)) if out is None else out
    reach = truncate * puffs.sigma_m
    c_lo = np.maximum(np.floor((puffs.x_m - reach) / px), 0).astype(np.int64)
    c_hi = np.minimum(np.ceil((puffs.x_m + reach) / px), cols).astype(np.int64)
    r_lo = np.maximum(np.floor((puffs.y_m - reach) / px), 0).astype(np.int64)
    r_hi = np.minimum(np.ceil((puffs.y_m + reach) / px), rows).astype(np.int64)
    visible = np.flatnonzero((c_hi > c_lo) & (r_hi > r_lo) & (puffs.mass_kg > 0))
    area = px * px
    for i in visible:
        sig = puffs.sigma_m[i]
        ex = np.diff(ndtr((np.arange(c_lo[i], c_hi[i] + 1) * px - puffs.x_m[i]) / sig))
        ey = np.diff(ndtr((np.arange(r_lo[i], r_hi[i] + 1) * px - puffs.y_m[i]) / sig))
        grid[r_lo[i] : r_hi[i], c_lo[i] : c_hi[i]] += (puffs.mass_kg[i] / area) * np.outer(ey, ex)
    return grid


def downwind_room_m(
    rows: int,
    cols: int,
    pixel_size_m: float,
    source_row: float,
    source_col: float,
    wind_dir_deg: float,
) -> float:
    """Largest along-wind distance from a source to any point of the raster, m."""
    dc, dr = wind_vector(wind_dir_deg)
    corners_r = np.array([0.0, 0.0, rows, rows]) - source_row
    corners_c = np.array([0.0, cols, 0.0, cols]) - source_col
    return float(np.max(corners_c * dc + corners_r * dr) * pixel_size_m)


def render_plume(
    rows: int,
    cols: int,
    source_row: float,
    source_col: float,
    rate_kg_h: float,
    wind_speed_m_s: float,
    wind_dir_deg: float,
    pixel_size_m: float,
    rng: np.random.Generator,
    *,
    model: PuffModel | None = None,
    gas: str = "ch4",
    pressure_pa: float = STANDARD_PRESSURE_PA,
    temperature_k: float = STANDARD_TEMPERATURE_K,
) -> NDArray[np.float32]:
    """Column enhancement of one source's instantaneous plume on a north-up raster.

    Parameters
    ----------
    rows, cols : int
        Raster size.
    source_row, source_col : float
        Source position in fractional pixel coordinates (pixel ``(r, c)`` spans
        ``[r, r+1) × [c, c+1)``; its centre is ``(r + 0.5, c + 0.5)``).
    rate_kg_h : float, kg/h
        Emission rate.
    wind_speed_m_s : float, m/s
        Mean wind speed.
    wind_dir_deg : float, degrees
        Meteorological direction: clockwise from north, the direction the wind blows FROM.
    pixel_size_m : float, m
        Square pixel size.
    rng : numpy.random.Generator
        Randomness of meander and filaments.
    model : PuffModel, optional
        Dispersion parameters.
    gas : str
        Gas for the ppm·m conversion.
    pressure_pa, temperature_k : float
        Conditions of the ppm·m <-> kg/m² conversion (Pa, K).

    Returns
    -------
    (rows, cols) ndarray of float32, ppm·m
        Non-negative column enhancement; the plume runs until it leaves the raster or
        reaches ``model.max_length_m``.
    """
    if rows < 1 or cols < 1 or not pixel_size_m > 0:
        raise InvalidParameterError("the raster needs a positive size and pixel size")
    m = model or PuffModel()
    room = downwind_room_m(rows, cols, pixel_size_m, source_row, source_col, wind_dir_deg)
    length = min(m.max_length_m, max(room, pixel_size_m) + m.truncate * float(m.sigma(room)))
    puffs = simulate_puffs(
        source_col * pixel_size_m,
        source_row * pixel_size_m,
        rate_kg_h,
        wind_speed_m_s,
        wind_dir_deg,
        rng,
        model=m,
        length_m=length,
    )
    column = render_puffs(puffs, rows, cols, pixel_size_m, truncate=m.truncate)
    per_ppm_m = kg_m2_per_ppm_m(gas, pressure_pa=pressure_pa, temperature_k=temperature_k)
    return (column / per_ppm_m).astype(np.float32)
