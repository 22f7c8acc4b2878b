"""``sim scene`` job: simulate a radiance scene with plumes and write it with its truth.

Files written in the output directory:

``radiance`` + ``radiance.hdr`` (ENVI, BIL, float32, wavelengths/FWHM in nm, UTM ``map
info``) or ``radiance.nc`` (EMIT L1B layout, per-pixel lat/lon)
    At-sensor radiance, µW cm⁻² sr⁻¹ nm⁻¹.
``truth_enhancement.tif``
    True CH4 column enhancement, float32 ppm·m, UTM.
``truth_land_cover.tif``
    Dominant surface class per pixel, uint8 (codes in ``truth.json``), UTM.
``truth.json``
    Sources (position, rate, wind), flares, saturated pixels, the specification, the
    ppm·m <-> kg/m² conditions and the list of files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plumetrace.errors import DataSourceError
from plumetrace.io.envi import EnviWriter
from plumetrace.io.geotiff import write_geotiff
from plumetrace.io.netcdf import EmitNetcdfWriter
from plumetrace.io.tables import write_json
from plumetrace.sim import (
    LAND_COVER_CLASSES,
    Flare,
    ProgressCallback,
    SceneSpec,
    SimulatedScene,
    SimulatedSource,
    simulate_scene,
)

__all__ = ["SimSummary", "run_sim_scene", "write_scene"]

logger = logging.getLogger(__name__)

_WRITE_ROWS = 64


@dataclass(frozen=True)
class SimSummary:
    """What :func:`run_sim_scene` produced.

    Attributes
    ----------
    out_dir : Path
    files : tuple of Path
        Every file written (radiance data and header, truth rasters, truth.json).
    radiance_path : Path
        ``radiance.hdr`` (ENVI) or ``radiance.nc`` (netCDF).
    shape : (rows, cols, bands)
    sensor : str
    sources : tuple of SimulatedSource
    flares : tuple of Flare
    saturated_pixels : int
    seconds : float, s
        Wall-clock time of simulation and writing.
    """

    out_dir: Path
    files: tuple[Path, ...]
    radiance_path: Path
    shape: tuple[int, int, int]
    sensor: str
    sources: tuple[SimulatedSource, ...]
    flares: tuple[Flare, ...]
    saturated_pixels: int
    seconds: float


def _write_radiance(
    scene: SimulatedScene, out: Path, report: ProgressCallback
) -> tuple[Path, list[Path]]:
    cube = scene.radiance
    rows, cols, bands = cube.shape
    n_blocks = -(-rows // _WRITE_ROWS)
    report("writing", 0, n_blocks)
    if scene.spec.file_format == "netcdf":
        lon, lat = scene.georef.pixel_centers_lonlat(
            np.arange(rows, dtype=np.float64)[:, None] + 0.5 + np.zeros((1, cols)),
            np.arange(cols, dtype=np.float64)[None, :] + 0.5 + np.zeros((rows, 1)),
        )
        path = out / "radiance.nc"
        attrs = {
            "title": "plumetrace simulated radiance scene",
            "sensor": scene.spec.sensor,
            "seed": scene.spec.seed,
            "crs": scene.georef.crs or "",
            "geotransform": list(scene.georef.transform or ()),
            "pixel_size_m": scene.spec.pixel_size_m,
        }
        with EmitNetcdfWriter(
            path,
            rows,
            cols,
            bands,
            wavelength_nm=scene.wavelength_nm,
            fwhm_nm=scene.fwhm_nm,
            lat=lat,
            lon=lon,
            attrs=attrs,
        ) as nc:
            for i in range(n_blocks):
                nc.write_rows(i * _WRITE_ROWS, cube[i * _WRITE_ROWS : (i + 1) * _WRITE_ROWS])
                report("writing", i + 1, n_blocks)
        return path, [path]
    data = out / "radiance"
    with EnviWriter(
        data,
        rows,
        cols,
        bands,
        wavelength_nm=scene.wavelength_nm,
        fwhm_nm=scene.fwhm_nm,
        georef=scene.georef,
        interleave="bil",
        dtype="float32",
        byte_order=0,
        description=f"plumetrace simulated {scene.spec.sensor} radiance, seed {scene.spec.seed}",
    ) as envi:
        for i in range(n_blocks):
            envi.write_rows(i * _WRITE_ROWS, cube[i * _WRITE_ROWS : (i + 1) * _WRITE_ROWS])
            report("writing", i + 1, n_blocks)
    header = data.with_name("radiance.hdr")
    return header, [data, header]


def write_scene(
    scene: SimulatedScene, out_dir: str | Path, progress: ProgressCallback | None = None
) -> tuple[Path, list[Path]]:
    """Write a simulated scene's radiance and truth files into ``out_dir``.

    Parameters
    ----------
    scene : SimulatedScene
    out_dir : str or Path
        Created if missing.
    progress : callable, optional
        ``progress("writing", completed, total)`` as radiance rows are written.

    Returns
    -------
    radiance_path : Path
        The header (ENVI) or the netCDF file.
    files : list of Path
        Every file written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataSourceError(out, f"cannot create the output directory: {exc.strerror}") from exc
    report = progress or (lambda stage, done, total: None)
    radiance_path, files = _write_radiance(scene, out, report)

    enhancement = out / "truth_enhancement.tif"
    write_geotiff(
        enhancement,
        scene.truth_enhancement,
        scene.georef,
        dtype="float32",
        band_descriptions=["ch4 column enhancement (ppm m)"],
        tags={"units": "ppm m", "gas": "ch4", "source": "plumetrace simulated truth"},
    )
    land_cover = out / "truth_land_cover.tif"
    write_geotiff(
        land_cover,
        scene.land_cover,
        scene.georef,
        dtype="uint8",
        band_descriptions=["dominant land cover"],
        tags={f"class_{i}": name for i, name in enumerate(LAND_COVER_CLASSES)},
    )
    files += [enhancement, land_cover]
    truth = scene.truth_dict()
    truth_path = out / "truth.json"
    truth["files"] = {
        "radiance": radiance_path.name,
        "truth_enhancement": enhancement.name,
        "truth_land_cover": land_cover.name,
    }
    write_json(truth_path, truth)
    files.append(truth_path)
    return radiance_path, files


def run_sim_scene(
    out_dir: str | Path, spec: SceneSpec, progress: ProgressCallback | None = None
) -> SimSummary:
    """Simulate a scene from ``spec`` and write it into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Output directory (created if missing; existing files of the same names are
        replaced).
    spec : SceneSpec
        What to simulate, including the radiance file format.
    progress : callable, optional
        ``progress(stage, completed, total)`` for the stages ``"surface"``, ``"plumes"``,
        ``"radiance"`` and ``"writing"``.

    Returns
    -------
    SimSummary
    """
    start = time.perf_counter()
    scene = simulate_scene(spec, progress=progress)
    radiance_path, files = write_scene(scene, out_dir, progress)
    seconds = time.perf_counter() - start
    logger.info("simulated %s in %.1f s", radiance_path, seconds)
    return SimSummary(
        out_dir=Path(out_dir),
        files=tuple(files),
        radiance_path=radiance_path,
        shape=(spec.rows, spec.cols, int(scene.wavelength_nm.size)),
        sensor=spec.sensor,
        sources=scene.sources,
        flares=scene.flares,
        saturated_pixels=int(scene.saturated_mask.sum()),
        seconds=seconds,
    )
