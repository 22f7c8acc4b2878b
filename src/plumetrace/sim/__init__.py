"""Scenario simulator: radiance scenes with known gas plumes (the validation truth).

* :mod:`~plumetrace.sim.spec` -- :class:`SceneSpec` and the truth records;
* :mod:`~plumetrace.sim.scene` -- :func:`simulate_scene` -> :class:`SimulatedScene`
  (radiance cube, true enhancement, sources, masks);
* :mod:`~plumetrace.sim.plume` -- meandering, filamented Gaussian puff plumes;
* :mod:`~plumetrace.sim.surface` -- textured mixed-pixel reflectance maps;
* :mod:`~plumetrace.sim.atmosphere` -- atmosphere shape and exact Beer-Lambert plumes;
* :mod:`~plumetrace.sim.sensor` -- noise, saturation and flare radiance;
* :mod:`~plumetrace.sim.filament` -- 3-D filament/puff truth for in-situ sniffer sorties.

Files are written by :func:`plumetrace.pipeline.sim.run_sim_scene`.
"""

from plumetrace.sim.atmosphere import (
    BandTransmittance,
    atmosphere_radiance,
    band_transmittance,
    resample_spectra,
)
from plumetrace.sim.filament import FilamentModel, FilamentSpec
from plumetrace.sim.plume import (
    PuffEnsemble,
    PuffModel,
    downwind_room_m,
    render_plume,
    render_puffs,
    simulate_puffs,
    wind_vector,
)
from plumetrace.sim.scene import (
    SATURATION_FACTOR,
    ProgressCallback,
    SceneInputs,
    SimulatedScene,
    place_sources,
    simulate_scene,
)
from plumetrace.sim.sensor import (
    BandNoise,
    add_noise,
    band_noise,
    continuum,
    noise_equivalent_radiance,
    planck_radiance,
)
from plumetrace.sim.spec import FORMATS, SENSORS, Flare, SceneSpec, SimulatedSource
from plumetrace.sim.surface import (
    LAND_COVER_CLASSES,
    SurfaceMap,
    band_reflectance,
    generate_surface,
    smooth_field,
)

__all__ = [
    "FORMATS",
    "LAND_COVER_CLASSES",
    "SATURATION_FACTOR",
    "SENSORS",
    "BandNoise",
    "BandTransmittance",
    "FilamentModel",
    "FilamentSpec",
    "Flare",
    "ProgressCallback",
    "PuffEnsemble",
    "PuffModel",
    "SceneInputs",
    "SceneSpec",
    "SimulatedScene",
    "SimulatedSource",
    "SurfaceMap",
    "add_noise",
    "atmosphere_radiance",
    "band_noise",
    "band_reflectance",
    "band_transmittance",
    "continuum",
    "downwind_room_m",
    "generate_surface",
    "noise_equivalent_radiance",
    "place_sources",
    "planck_radiance",
    "render_plume",
    "render_puffs",
    "resample_spectra",
    "simulate_puffs",
    "simulate_scene",
    "smooth_field",
    "wind_vector",
]
