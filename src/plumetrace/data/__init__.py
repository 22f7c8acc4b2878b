"""Reference data shipped with plumetrace (see ``NOTICE`` beside this file).

Each loader returns plain arrays in small frozen dataclasses and caches the result.
Provenance and licences are in ``NOTICE``; ``scripts/derive_data.py`` rebuilds the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

if TYPE_CHECKING:
    from plumetrace.sites.confidence import ConfidenceModel

__all__ = [
    "CountryLand",
    "GasLookupTable",
    "NoiseModel",
    "SensorBands",
    "SensorName",
    "SurfaceLibrary",
    "ch4_lookup_table",
    "confidence_model",
    "country_land",
    "palette_rgb",
    "real_avirisng_radiance",
    "sensor_bands",
    "sensor_noise_model",
    "surface_library",
]

SensorName = Literal["aviris-ng", "emit"]
_PREFIX: dict[str, str] = {"aviris-ng": "avirisng", "emit": "emit"}


def _load(name: str) -> dict[str, NDArray[np.generic]]:
    with resources.files(__name__).joinpath(name).open("rb") as f, np.load(f) as z:
        return {k: z[k] for k in z.files}


@dataclass(frozen=True)
class GasLookupTable:
    """Top-of-atmosphere radiance at high spectral resolution for several gas columns.

    Attributes
    ----------
    wavelength_nm : (n,) ndarray, nm
        High-resolution wavelength grid.
    enhancement_ppm_m : (k,) ndarray, ppm·m
        Column enhancements of the tabulated spectra, increasing, first 0.
    radiance : (k, n) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
        Radiance for a unit-reflectance surface at each enhancement.
    gas : str
        Gas name.
    """

    wavelength_nm: NDArray[np.float64]
    enhancement_ppm_m: NDArray[np.float64]
    radiance: NDArray[np.float64]
    gas: str = "ch4"


@dataclass(frozen=True)
class SurfaceLibrary:
    """Laboratory reflectance spectra for simulated backgrounds.

    Attributes
    ----------
    wavelength_nm : (n,) ndarray, nm
    reflectance : (m, n) ndarray, unitless 0-1
    names, category : (m,) ndarray of str
    """

    wavelength_nm: NDArray[np.float64]
    reflectance: NDArray[np.float64]
    names: NDArray[np.str_]
    category: NDArray[np.str_]


@dataclass(frozen=True)
class SensorBands:
    """Band centres and full widths at half maximum of an instrument class.

    Attributes
    ----------
    wavelength_nm, fwhm_nm : (bands,) ndarray, nm
    name : str
    """

    wavelength_nm: NDArray[np.float64]
    fwhm_nm: NDArray[np.float64]
    name: str


@dataclass(frozen=True)
class NoiseModel:
    """ISOFIT-style parametric noise: ``NEdL = |a·sqrt(b + L) + c|`` per band.

    Attributes
    ----------
    wavelength_nm : (p,) ndarray, nm
        Grid on which the coefficients are tabulated.
    a, b, c : (p,) ndarray
        Coefficients; ``b`` and ``c`` in µW cm⁻² sr⁻¹ nm⁻¹.
    """

    wavelength_nm: NDArray[np.float64]
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    c: NDArray[np.float64]


def _check_sensor(sensor: str) -> str:
    if sensor not in _PREFIX:
        raise InvalidParameterError(
            f"unknown sensor {sensor!r}; choose one of {', '.join(_PREFIX)}"
        )
    return _PREFIX[sensor]


@cache
def ch4_lookup_table() -> GasLookupTable:
    """Return the methane radiance lookup table (mag1c 1.2.0, BSD-3-Clause)."""
    z = _load("ch4_lut.npz")
    return GasLookupTable(
        wavelength_nm=z["wavelength_nm"].astype(np.float64),
        enhancement_ppm_m=z["enhancement_ppm_m"].astype(np.float64),
        radiance=z["radiance"].astype(np.float64),
    )


@cache
def surface_library() -> SurfaceLibrary:
    """Return the compact USGS splib07a reflectance library (1400-2500 nm, 2 nm)."""
    z = _load("surfaces.npz")
    return SurfaceLibrary(
        wavelength_nm=z["wavelength_nm"].astype(np.float64),
        reflectance=z["reflectance"].astype(np.float64),
        names=z["names"].astype(str),
        category=z["category"].astype(str),
    )


@cache
def _sensors() -> dict[str, NDArray[np.generic]]:
    return _load("sensors.npz")


def sensor_bands(sensor: str) -> SensorBands:
    """Return the band centres and FWHM of ``sensor`` (``"aviris-ng"`` or ``"emit"``)."""
    p = _check_sensor(sensor)
    z = _sensors()
    return SensorBands(
        wavelength_nm=z[f"{p}_wavelength_nm"].astype(np.float64),
        fwhm_nm=z[f"{p}_fwhm_nm"].astype(np.float64),
        name=sensor,
    )


def sensor_noise_model(sensor: str) -> NoiseModel:
    """Return the parametric noise model of ``sensor`` (ISOFIT coefficients)."""
    p = _check_sensor(sensor)
    w, a, b, c = _sensors()[f"{p}_noise"].astype(np.float64)
    return NoiseModel(wavelength_nm=w, a=a, b=b, c=c)


def real_avirisng_radiance() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """Return ten real AVIRIS-NG radiance spectra (Pasadena, 2017).

    Returns
    -------
    wavelength_nm : (425,) ndarray, nm
    radiance : (10, 425) ndarray, µW cm⁻² sr⁻¹ nm⁻¹
    names : (10,) ndarray of str
    """
    z = _sensors()
    return (
        z["avirisng_wavelength_nm"].astype(np.float64),
        z["real_radiance_avirisng"].astype(np.float64),
        z["real_radiance_names"].astype(str),
    )


@dataclass(frozen=True)
class CountryLand:
    """Country land areas (Natural Earth 1:10m admin-0).

    Attributes
    ----------
    code : (n,) ndarray of str
        ISO 3166-1 alpha-3 (Natural Earth adm0_a3 where there is none).
    name : (n,) ndarray of str
        Natural Earth's short name.
    geometry : (n,) ndarray of shapely MultiPolygon
        Land in lon/lat degrees (WGS 84).
    """

    code: NDArray[np.str_]
    name: NDArray[np.str_]
    geometry: NDArray[np.object_]


@cache
def country_land() -> CountryLand:
    """Load the packaged country land areas (cached)."""
    import shapely

    z = _load("countries.npz")
    wkb = z["wkb"]
    off = z["offsets"]
    blobs = [wkb[off[i] : off[i + 1]].tobytes() for i in range(off.shape[0] - 1)]
    geoms = shapely.from_wkb(np.array(blobs, dtype=object))
    return CountryLand(code=z["code"].astype(str), name=z["name"].astype(str), geometry=geoms)


@cache
def _palettes() -> dict[str, NDArray[np.generic]]:
    return _load("palettes.npz")


def palette_rgb(name: str) -> NDArray[np.uint8] | None:
    """Return a colormap sampled at even steps, (levels, 3) uint8 RGB, if it is packaged.

    ``None`` for a colormap that is not (callers sample it with matplotlib).
    """
    rgb = _palettes().get(name)
    return None if rgb is None else np.asarray(rgb, dtype=np.uint8)


@cache
def confidence_model() -> ConfidenceModel:
    """Return the fitted site-confidence model (``confidence.json``, see its provenance)."""
    import json

    from plumetrace.sites.confidence import ConfidenceModel

    text = resources.files(__name__).joinpath("confidence.json").read_text(encoding="utf-8")
    return ConfidenceModel.from_dict(json.loads(text))
