"""Value types of simulated scenes: the scene specification and the truth records.

:class:`SceneSpec` holds every parameter of a scene and validates it on construction
(one clear :class:`~plumetrace.errors.InvalidParameterError` per problem);
:class:`SimulatedSource` and :class:`Flare` are the truth records written to
``truth.json``. All round-trip through ``to_dict``/``from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from plumetrace.errors import InvalidParameterError
from plumetrace.sim.plume import PuffModel

__all__ = ["FORMATS", "SENSORS", "Flare", "SceneSpec", "SimulatedSource"]

SENSORS = ("aviris-ng", "emit")
"""Sensors the simulator knows (band sets and noise models in :mod:`plumetrace.data`)."""

FORMATS = ("envi", "netcdf")
"""Radiance file formats of :func:`plumetrace.pipeline.sim.run_sim_scene`."""


@dataclass(frozen=True)
class SceneSpec:
    """Everything that defines a simulated scene (validated on construction).

    Attributes
    ----------
    seed : int
        Random seed (non-negative); same seed, same scene.
    rows, cols : int
        Raster size (rows run south, columns east).
    sensor : {"aviris-ng", "emit"}
        Band centres, FWHM and noise model.
    sources : int
        Number of emission sources.
    rate_min_kg_h, rate_max_kg_h : float, kg/h
        Emission rates are log-uniform in this range.
    wind_speed_m_s : float, m/s
        Mean wind speed at every source.
    wind_dir_deg : float, degrees
        Meteorological wind direction: clockwise from north, the direction the wind blows
        FROM (270 = westerly wind, plumes extend east).
    pixel_size_m : float, m
        Ground sampling distance.
    origin_lat, origin_lon : float, degrees
        Scene centre (WGS84); the grid is north-up UTM.
    file_format : {"envi", "netcdf"}
        Radiance file format written by the pipeline.
    saturated_fraction : float
        Fraction of pixels turned into specular glints that saturate (bright roofs and
        tanks first).
    flares : int
        Number of gas-flare pixels (hot blackbodies).
    noise : bool
        Add instrument noise.
    illumination : float
        Scene-wide illumination factor (sun elevation, haze) multiplying the radiance.
    plume_model : PuffModel
        Dispersion parameters (plume length, meander, filaments).
    placed : tuple of (lat, lon, rate_kg_h)
        Sources at given positions (degrees, WGS84) and emission rates (kg/h), in addition
        to the ``sources`` placed at random; each must lie inside the scene.
    """

    seed: int = 0
    rows: int = 1000
    cols: int = 598
    sensor: str = "aviris-ng"
    sources: int = 3
    rate_min_kg_h: float = 100.0
    rate_max_kg_h: float = 1000.0
    wind_speed_m_s: float = 3.0
    wind_dir_deg: float = 270.0
    pixel_size_m: float = 5.0
    origin_lat: float = 31.9
    origin_lon: float = -102.2
    file_format: str = "envi"
    saturated_fraction: float = 0.0
    flares: int = 0
    noise: bool = True
    illumination: float = 1.0
    plume_model: PuffModel = field(default_factory=PuffModel)
    placed: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        def bad(message: str) -> InvalidParameterError:
            return InvalidParameterError(message)

        if not 0 <= self.seed < 2**63:
            raise bad(f"seed must be a non-negative integer, got {self.seed}")
        for name, value in (("rows", self.rows), ("cols", self.cols)):
            if not 16 <= value <= 20000:
                raise bad(f"{name} must be between 16 and 20000, got {value}")
        if self.sensor not in SENSORS:
            raise bad(f"unknown sensor {self.sensor!r}; choose one of {', '.join(SENSORS)}")
        if not 0 <= self.sources <= 100:
            raise bad(f"the number of sources must be between 0 and 100, got {self.sources}")
        lo, hi = self.rate_min_kg_h, self.rate_max_kg_h
        if not (np.isfinite(lo) and lo > 0):
            raise bad(f"the minimum emission rate must be positive, got {lo} kg/h")
        if not (np.isfinite(hi) and hi >= lo):
            raise bad(
                f"the maximum emission rate ({hi} kg/h) must be at least the minimum ({lo} kg/h)"
            )
        if not (np.isfinite(self.wind_speed_m_s) and 0.5 <= self.wind_speed_m_s <= 30.0):
            raise bad(f"wind speed must be between 0.5 and 30 m/s, got {self.wind_speed_m_s}")
        if not (np.isfinite(self.wind_dir_deg) and 0.0 <= self.wind_dir_deg <= 360.0):
            raise bad(f"wind direction must be between 0 and 360 degrees, got {self.wind_dir_deg}")
        if not (np.isfinite(self.pixel_size_m) and 0.1 <= self.pixel_size_m <= 500.0):
            raise bad(f"pixel size must be between 0.1 and 500 m, got {self.pixel_size_m}")
        if not (np.isfinite(self.origin_lat) and -80.0 <= self.origin_lat <= 84.0):
            raise bad(f"origin latitude must be between -80 and 84 (UTM), got {self.origin_lat}")
        if not (np.isfinite(self.origin_lon) and -180.0 <= self.origin_lon <= 180.0):
            raise bad(f"origin longitude must be between -180 and 180, got {self.origin_lon}")
        if self.file_format not in FORMATS:
            raise bad(f"unknown format {self.file_format!r}; choose one of {', '.join(FORMATS)}")
        if not (0.0 <= self.saturated_fraction <= 0.01):
            raise bad(
                f"saturated fraction must be between 0 and 0.01, got {self.saturated_fraction}"
            )
        if not 0 <= self.flares <= 100:
            raise bad(f"the number of flares must be between 0 and 100, got {self.flares}")
        if not (np.isfinite(self.illumination) and 0.2 <= self.illumination <= 1.5):
            raise bad(f"illumination factor must be between 0.2 and 1.5, got {self.illumination}")
        if self.sources + len(self.placed) > 100:
            raise bad(f"at most 100 sources in all, got {self.sources} + {len(self.placed)} placed")
        for i, item in enumerate(self.placed, 1):
            if len(item) != 3 or not all(np.isfinite(v) for v in item):
                raise bad(f"placed source {i} must be three finite numbers LAT,LON,RATE")
            lat, lon, rate = item
            if not (-80.0 <= lat <= 84.0 and -180.0 <= lon <= 180.0):
                raise bad(f"placed source {i} has no valid position: lat {lat}, lon {lon}")
            if not 0.0 < rate <= 1e6:
                raise bad(f"placed source {i} needs a rate in (0, 1e6] kg/h, got {rate}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        d = asdict(self)
        d["plume_model"] = self.plume_model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SceneSpec:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        if "plume_model" in kw:
            kw["plume_model"] = PuffModel.from_dict(kw["plume_model"])
        if "placed" in kw:
            kw["placed"] = tuple(tuple(float(v) for v in p) for p in kw["placed"])
        return cls(**kw)


@dataclass(frozen=True)
class SimulatedSource:
    """One emission source of a simulated scene.

    Attributes
    ----------
    id : str
        ``src-001``, ...
    row, col : int
        Pixel holding the source (the source is at the pixel centre).
    lat, lon : float, degrees
        WGS84 position of the pixel centre.
    rate_kg_h : float, kg/h
    wind_speed_m_s : float, m/s
    wind_dir_deg : float, degrees
        Meteorological: clockwise from north, the direction the wind blows FROM.
    easting_m, northing_m : float, m
        Position in the scene's UTM CRS.
    plume_length_m : float, m
        Travel distance of the oldest puff.
    mass_in_scene_kg : float, kg
        Plume mass inside the raster (the true integrated mass enhancement).
    """

    id: str
    row: int
    col: int
    lat: float
    lon: float
    rate_kg_h: float
    wind_speed_m_s: float
    wind_dir_deg: float
    easting_m: float = float("nan")
    northing_m: float = float("nan")
    plume_length_m: float = float("nan")
    mass_in_scene_kg: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SimulatedSource:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        return cls(**kw)


@dataclass(frozen=True)
class Flare:
    """A gas-flare pixel: a sub-pixel flame radiating as a blackbody.

    Attributes
    ----------
    id : str
    row, col : int
    lat, lon : float, degrees
    temperature_k : float, K
    flame_area_m2 : float, m²
    """

    id: str
    row: int
    col: int
    lat: float
    lon: float
    temperature_k: float
    flame_area_m2: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Flare:
        """Inverse of :meth:`to_dict`."""
        return cls(**{f.name: d[f.name] for f in fields(cls)})
