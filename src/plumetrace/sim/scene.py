"""Simulated imaging-spectrometer scenes with known methane plumes (the ground truth).

:func:`simulate_scene` turns a :class:`SceneSpec` into a :class:`SimulatedScene`:

1. a textured mixed-pixel surface (:mod:`plumetrace.sim.surface`);
2. sources on well pads, with log-uniform emission rates, and their instantaneous plumes
   (:mod:`plumetrace.sim.plume`), summed into the true column enhancement (ppm·m);
3. at-sensor radiance ``ρ_b · L_b(0) · T_b(ΔX) · illumination`` band by band, with the
   atmosphere and the exact Beer-Lambert band transmittance of :mod:`.atmosphere`;
4. optional specular glints and gas flares, signal-dependent noise and saturation
   (:mod:`plumetrace.sim.sensor`).

Every random component draws from its own stream derived from the seed, so the surface
and the noise of a scene do not change with the number, rates or wind of its sources:
``sources=0`` with the same seed gives the exact plume-free background. The same seed
always gives identical arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer

from plumetrace.constants import (
    STANDARD_PRESSURE_PA,
    STANDARD_TEMPERATURE_K,
    kg_m2_per_ppm_m,
)
from plumetrace.data import GasLookupTable, NoiseModel, SensorBands, SurfaceLibrary
from plumetrace.errors import InvalidParameterError
from plumetrace.geo import Georef, utm_crs_for, utm_georef
from plumetrace.sim.atmosphere import atmosphere_radiance, band_transmittance
from plumetrace.sim.plume import downwind_room_m, render_plume, wind_vector
from plumetrace.sim.sensor import add_noise, band_noise, continuum, planck_radiance
from plumetrace.sim.spec import Flare, SceneSpec, SimulatedSource
from plumetrace.sim.surface import LAND_COVER_CLASSES, SurfaceMap, generate_surface

__all__ = [
    "SATURATION_FACTOR",
    "ProgressCallback",
    "SceneInputs",
    "SimulatedScene",
    "place_sources",
    "simulate_scene",
]


ProgressCallback = Callable[[str, int, int], None]
"""``progress(stage, completed, total)``: called as the long steps advance."""

SATURATION_FACTOR = 1.25
"""Sensor saturation radiance per band, as a multiple of the continuum of a
unit-reflectance surface's radiance (the signal of a 125 % Lambertian reflector)."""

_BLOCK_ROWS = 64
# independent random streams (SeedSequence([seed, stream, ...]))
_SURFACE, _SOURCES, _PLUMES, _NOISE, _ARTEFACTS = 1, 2, 3, 4, 5


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


@dataclass(frozen=True)
class SceneInputs:
    """Reference data a scene is simulated from.

    Attributes
    ----------
    lut : GasLookupTable
        High-resolution radiance for several CH4 enhancements (unit reflectance).
    library : SurfaceLibrary
        Reflectance spectra for the surface.
    bands : SensorBands
        The simulated sensor's band centres and FWHM.
    noise : NoiseModel
        Its parametric noise model.
    real_wavelength_nm, real_fwhm_nm : (m,) ndarray, nm
        Bands of real at-sensor spectra used for the VNIR atmosphere.
    real_radiance : (p, m) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
    """

    lut: GasLookupTable
    library: SurfaceLibrary
    bands: SensorBands
    noise: NoiseModel
    real_wavelength_nm: NDArray[np.float64]
    real_fwhm_nm: NDArray[np.float64]
    real_radiance: NDArray[np.float64]

    @classmethod
    def packaged(cls, sensor: str) -> SceneInputs:
        """Load the reference data shipped with plumetrace for ``sensor``."""
        from plumetrace import data

        wl, rad, _ = data.real_avirisng_radiance()
        return cls(
            lut=data.ch4_lookup_table(),
            library=data.surface_library(),
            bands=data.sensor_bands(sensor),
            noise=data.sensor_noise_model(sensor),
            real_wavelength_nm=wl,
            real_fwhm_nm=data.sensor_bands("aviris-ng").fwhm_nm,
            real_radiance=rad,
        )


@dataclass(frozen=True)
class SimulatedScene:
    """A simulated radiance cube and its truth.

    Attributes
    ----------
    spec : SceneSpec
    radiance : (rows, cols, bands) ndarray of float32, µW cm⁻² sr⁻¹ nm⁻¹
    wavelength_nm, fwhm_nm : (bands,) ndarray, nm
    truth_enhancement : (rows, cols) ndarray of float32, ppm·m
        True CH4 column enhancement (sum over sources).
    sources : tuple of SimulatedSource
    flares : tuple of Flare
    georef : Georef
        North-up UTM grid.
    saturated_mask : (rows, cols) ndarray of bool
        Pixels with at least one band clipped at the sensor's saturation radiance.
    flare_mask : (rows, cols) ndarray of bool
    land_cover : (rows, cols) ndarray of uint8
        Codes of :data:`plumetrace.sim.surface.LAND_COVER_CLASSES`.
    atmosphere : (bands,) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        Radiance of a unit-reflectance surface without plume (illumination included).
    endmember_names : tuple of str
    """

    spec: SceneSpec
    radiance: NDArray[np.float32]
    wavelength_nm: NDArray[np.float64]
    fwhm_nm: NDArray[np.float64]
    truth_enhancement: NDArray[np.float32]
    sources: tuple[SimulatedSource, ...]
    flares: tuple[Flare, ...]
    georef: Georef
    saturated_mask: NDArray[np.bool_]
    flare_mask: NDArray[np.bool_]
    land_cover: NDArray[np.uint8]
    atmosphere: NDArray[np.float64]
    endmember_names: tuple[str, ...]

    def truth_dict(self) -> dict[str, Any]:
        """Return the scene's truth as a JSON-ready dictionary (``truth.json``)."""
        s = self.spec
        tr = self.georef.transform
        sat_r, sat_c = np.nonzero(self.saturated_mask)
        return {
            "generator": "plumetrace.sim",
            "seed": s.seed,
            "sensor": s.sensor,
            "rows": s.rows,
            "cols": s.cols,
            "bands": int(self.wavelength_nm.size),
            "pixel_size_m": s.pixel_size_m,
            "crs": self.georef.crs,
            "transform": list(tr) if tr is not None else None,
            "center": {"lat": s.origin_lat, "lon": s.origin_lon},
            "gas": "ch4",
            "enhancement_units": "ppm m",
            "radiance_units": "uW cm-2 sr-1 nm-1",
            "conversion": {
                "pressure_pa": STANDARD_PRESSURE_PA,
                "temperature_k": STANDARD_TEMPERATURE_K,
                "kg_m2_per_ppm_m": kg_m2_per_ppm_m("ch4"),
            },
            "wind_dir_convention": (
                "meteorological: degrees clockwise from north, direction the wind blows from"
            ),
            "noise": s.noise,
            "illumination": s.illumination,
            "saturation_factor": SATURATION_FACTOR,
            "plume_model": s.plume_model.to_dict(),
            "sources": [src.to_dict() for src in self.sources],
            "flares": [f.to_dict() for f in self.flares],
            "saturated_pixels": [[int(r), int(c)] for r, c in zip(sat_r, sat_c, strict=True)],
            "land_cover_classes": list(LAND_COVER_CLASSES),
            "endmembers": list(self.endmember_names),
            "spec": s.to_dict(),
        }


def place_sources(
    n: int,
    rows: int,
    cols: int,
    pixel_size_m: float,
    wind_dir_deg: float,
    sites: NDArray[np.int64],
    rng: np.random.Generator,
    fixed: Sequence[tuple[int, int]] = (),
) -> list[tuple[int, int]]:
    """Choose source pixels: on well pads where possible, spread out, with room downwind.

    Every source is at least ``max(3 px, 25 m)`` from the edges, has at least
    ``min(600 m, half the scene's along-wind extent)`` of scene downwind, and lies at least
    ``min(250 m, crosswind extent / 2n)`` cross-wind from every other source (so plumes
    rarely overlap).

    Parameters
    ----------
    n : int
        Number of sources.
    rows, cols : int
    pixel_size_m : float, m
    wind_dir_deg : float, degrees
        Meteorological (clockwise from north, blowing FROM).
    sites : (m, 2) ndarray of int
        Preferred (row, col) pixels (pad centres).
    rng : numpy.random.Generator
    fixed : sequence of (row, col), optional
        Sources already placed: the new ones keep their cross-wind distance from them.

    Returns
    -------
    list of (row, col)
        The ``n`` new sources (``fixed`` not included).

    Raises
    ------
    InvalidParameterError
        When the constraints cannot be met.
    """
    if n == 0:
        return []
    px = pixel_size_m
    dc, dr = wind_vector(wind_dir_deg)
    along_extent = (abs(dc) * cols + abs(dr) * rows) * px
    cross_extent = (abs(dr) * cols + abs(dc) * rows) * px
    min_room = min(600.0, 0.5 * along_extent)
    min_sep = min(250.0, cross_extent / (2.0 * n))
    margin = max(3.0, 25.0 / px)

    def ok(r: int, c: int, chosen: list[tuple[int, int]]) -> bool:
        if not (margin <= r + 0.5 <= rows - margin and margin <= c + 0.5 <= cols - margin):
            return False
        if downwind_room_m(rows, cols, px, r + 0.5, c + 0.5, wind_dir_deg) < min_room:
            return False
        for r2, c2 in chosen:
            d_r, d_c = (r - r2) * px, (c - c2) * px
            if abs(-d_c * dr + d_r * dc) < min_sep:
                return False
        return True

    chosen: list[tuple[int, int]] = list(fixed)
    want = n + len(chosen)
    for i in rng.permutation(len(sites)):
        r, c = int(sites[i, 0]), int(sites[i, 1])
        if len(chosen) < want and ok(r, c, chosen):
            chosen.append((r, c))
    attempts = 0
    while len(chosen) < want and attempts < 5000:
        r, c = int(rng.integers(0, rows)), int(rng.integers(0, cols))
        if ok(r, c, chosen):
            chosen.append((r, c))
        attempts += 1
    if len(chosen) < want:
        raise InvalidParameterError(
            f"cannot place {n} sources {min_sep:.0f} m apart cross-wind with {min_room:.0f} m "
            f"of scene downwind in a {rows} x {cols} scene; use fewer sources or a larger scene"
        )
    return chosen[len(fixed) :]


def _placed_pixels(spec: SceneSpec, georef: Georef) -> list[tuple[int, int]]:
    """Pixels of ``spec.placed`` (row, col); an error names a source outside the scene."""
    if not spec.placed:
        return []
    assert georef.transform is not None
    a, _, c, _, e, f = georef.transform
    tr = Transformer.from_crs("EPSG:4326", georef.crs, always_xy=True)
    out = []
    for i, (lat, lon, _rate) in enumerate(spec.placed, 1):
        x, y = tr.transform(lon, lat)
        row, col = int(np.floor((y - f) / e)), int(np.floor((x - c) / a))
        if not (0 <= row < spec.rows and 0 <= col < spec.cols):
            raise InvalidParameterError(
                f"placed source {i} at {lat:.5f},{lon:.5f} lies outside the "
                f"{spec.rows} x {spec.cols} scene centred at {spec.origin_lat},{spec.origin_lon}"
            )
        out.append((row, col))
    return out


def _lonlat(georef: Georef, rows: list[int], cols: list[int]) -> tuple[list[float], list[float]]:
    if not rows:
        return [], []
    lon, lat = georef.pixel_centers_lonlat(
        np.asarray(rows, dtype=np.float64) + 0.5, np.asarray(cols, dtype=np.float64) + 0.5
    )
    return [float(v) for v in np.ravel(lat)], [float(v) for v in np.ravel(lon)]


def _utm(georef: Georef, row: int, col: int) -> tuple[float, float]:
    assert georef.transform is not None
    a, b, c, d, e, f = georef.transform
    return a * (col + 0.5) + b * (row + 0.5) + c, d * (col + 0.5) + e * (row + 0.5) + f


def _flare_positions(
    spec: SceneSpec,
    surface: SurfaceMap,
    used: list[tuple[int, int]],
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    free = [tuple(int(v) for v in s) for s in surface.sites if tuple(s) not in set(used)]
    out: list[tuple[int, int]] = []
    for i in rng.permutation(len(free))[: spec.flares]:
        r, c = free[i]
        off = rng.integers(-3, 4, size=2)
        out.append(
            (int(np.clip(r + off[0], 0, spec.rows - 1)), int(np.clip(c + off[1], 0, spec.cols - 1)))
        )
    while len(out) < spec.flares:
        out.append((int(rng.integers(spec.rows)), int(rng.integers(spec.cols))))
    return out


def simulate_scene(
    spec: SceneSpec,
    inputs: SceneInputs | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> SimulatedScene:
    """Simulate a radiance scene with methane plumes and return it with its truth.

    Parameters
    ----------
    spec : SceneSpec
        What to simulate.
    inputs : SceneInputs, optional
        Reference data; the packaged data for ``spec.sensor`` by default.
    progress : callable, optional
        ``progress(stage, completed, total)`` for the stages ``"surface"``, ``"plumes"``
        and ``"radiance"``.

    Returns
    -------
    SimulatedScene
    """
    report = progress or (lambda stage, done, total: None)
    inp = inputs or SceneInputs.packaged(spec.sensor)
    centers = inp.bands.wavelength_nm
    fwhm = inp.bands.fwhm_nm
    rows, cols, px = spec.rows, spec.cols, spec.pixel_size_m
    georef = utm_georef(spec.origin_lat, spec.origin_lon, rows, cols, px)
    if georef.crs != utm_crs_for(spec.origin_lat, spec.origin_lon):  # pragma: no cover
        raise InvalidParameterError("inconsistent UTM zone")

    report("surface", 0, 1)
    surface = generate_surface(
        inp.library, rows, cols, px, centers, fwhm, _stream(spec.seed, _SURFACE)
    )
    report("surface", 1, 1)

    # --- sources and plumes ------------------------------------------------------------
    placed = _placed_pixels(spec, georef)
    positions = place_sources(
        spec.sources,
        rows,
        cols,
        px,
        spec.wind_dir_deg,
        surface.sites,
        _stream(spec.seed, _SOURCES),
        fixed=placed,
    )
    rate_rng = _stream(spec.seed, _SOURCES, 1)
    lo, hi = np.log(spec.rate_min_kg_h), np.log(spec.rate_max_kg_h)
    rates = [float(p[2]) for p in spec.placed] + [
        float(np.clip(np.exp(rate_rng.uniform(lo, hi)), spec.rate_min_kg_h, spec.rate_max_kg_h))
        for _ in positions
    ]
    positions = placed + positions
    truth = np.zeros((rows, cols), dtype=np.float32)
    lats, lons = _lonlat(georef, [p[0] for p in positions], [p[1] for p in positions])
    per_ppm_m = kg_m2_per_ppm_m("ch4")
    sources = []
    report("plumes", 0, len(positions))
    for i, ((r, c), rate) in enumerate(zip(positions, rates, strict=True)):
        room = downwind_room_m(rows, cols, px, r + 0.5, c + 0.5, spec.wind_dir_deg)
        model = spec.plume_model
        column = render_plume(
            rows,
            cols,
            r + 0.5,
            c + 0.5,
            rate,
            spec.wind_speed_m_s,
            spec.wind_dir_deg,
            px,
            _stream(spec.seed, _PLUMES, i),
            model=model,
        )
        truth += column
        east, north = _utm(georef, r, c)
        sources.append(
            SimulatedSource(
                id=f"src-{i + 1:03d}",
                row=r,
                col=c,
                lat=lats[i],
                lon=lons[i],
                rate_kg_h=rate,
                wind_speed_m_s=spec.wind_speed_m_s,
                wind_dir_deg=spec.wind_dir_deg,
                easting_m=east,
                northing_m=north,
                plume_length_m=min(
                    model.max_length_m, room + model.truncate * float(model.sigma(room))
                ),
                mass_in_scene_kg=float(column.sum(dtype=np.float64) * per_ppm_m * px * px),
            )
        )
        report("plumes", i + 1, len(positions))

    # --- atmosphere, plume transmittance, artefacts --------------------------------------
    atm = spec.illumination * atmosphere_radiance(
        inp.lut.wavelength_nm,
        inp.lut.radiance[0],
        inp.real_wavelength_nm,
        inp.real_fwhm_nm,
        inp.real_radiance,
        centers,
        fwhm,
    )
    transmittance = band_transmittance(
        inp.lut.wavelength_nm, inp.lut.enhancement_ppm_m, inp.lut.radiance, centers, fwhm
    )
    cont = continuum(atm)
    saturation = (SATURATION_FACTOR * cont).astype(np.float32)
    one_way = np.sqrt(np.clip(atm / cont, 0.0, 1.0))

    art_rng = _stream(spec.seed, _ARTEFACTS)
    extra: dict[tuple[int, int], NDArray[np.float64]] = {}
    n_glint = round(spec.saturated_fraction * rows * cols)
    if spec.saturated_fraction > 0:
        n_glint = max(n_glint, 1)
        codes = [LAND_COVER_CLASSES.index("roof"), LAND_COVER_CLASSES.index("tank")]
        bright = np.flatnonzero(np.isin(surface.land_cover.ravel(), codes))
        pool = bright if bright.size >= n_glint else np.arange(rows * cols)
        for p in art_rng.choice(pool, size=n_glint, replace=False):
            extra[(int(p // cols), int(p % cols))] = art_rng.uniform(1.5, 4.0) * atm
    flare_pos = _flare_positions(spec, surface, positions, art_rng)
    flare_lat, flare_lon = _lonlat(georef, [p[0] for p in flare_pos], [p[1] for p in flare_pos])
    flares = []
    flare_mask = np.zeros((rows, cols), dtype=bool)
    for j, (r, c) in enumerate(flare_pos):
        temp = float(art_rng.uniform(1000.0, 1500.0))
        area = float(art_rng.uniform(0.5, 5.0))
        emitted = min(area / (px * px), 1.0) * planck_radiance(centers, temp) * one_way
        extra[(r, c)] = extra.get((r, c), np.zeros_like(emitted)) + emitted
        flare_mask[r, c] = True
        flares.append(Flare(f"flare-{j + 1:03d}", r, c, flare_lat[j], flare_lon[j], temp, area))

    # --- radiance, block by block ------------------------------------------------------
    endmember_radiance = (surface.reflectance * atm[None, :]).astype(np.float32)
    noise = band_noise(inp.noise, centers)
    radiance = np.empty((rows, cols, centers.size), dtype=np.float32)
    saturated = np.zeros((rows, cols), dtype=bool)
    n_blocks = -(-rows // _BLOCK_ROWS)
    report("radiance", 0, n_blocks)
    for blk in range(n_blocks):
        r0, r1 = blk * _BLOCK_ROWS, min((blk + 1) * _BLOCK_ROWS, rows)
        ab = surface.abundance[r0:r1].reshape(-1, surface.abundance.shape[2])
        block = (ab @ endmember_radiance).reshape(r1 - r0, cols, -1)
        dx = truth[r0:r1]
        plume = dx > 0
        if plume.any():
            block[plume] *= transmittance(dx[plume]).astype(np.float32)
        for (r, c), add in extra.items():
            if r0 <= r < r1:
                block[r - r0, c] += add.astype(np.float32)
        if spec.noise:
            add_noise(block, noise, _stream(spec.seed, _NOISE, blk))
        over = block > saturation
        if over.any():
            np.minimum(block, saturation, out=block)
            saturated[r0:r1] = over.any(axis=2)
        radiance[r0:r1] = block
        report("radiance", blk + 1, n_blocks)

    return SimulatedScene(
        spec=spec,
        radiance=radiance,
        wavelength_nm=np.asarray(centers, dtype=np.float64),
        fwhm_nm=np.asarray(fwhm, dtype=np.float64),
        truth_enhancement=truth,
        sources=tuple(sources),
        flares=tuple(flares),
        georef=georef,
        saturated_mask=saturated,
        flare_mask=flare_mask,
        land_cover=surface.land_cover,
        atmosphere=atm,
        endmember_names=surface.endmember_names,
    )
