"""The ``plumes`` job: enhancement map -> plumes.geojson, candidates.geojson, pictures.

Reads ``enhancement.tif`` and, when present beside it or given, ``uncertainty.tif``,
``albedo.tif``, ``mask.tif`` and ``residual.tif`` (the outputs of ``detect``); runs
:func:`plumetrace.plumes.find_plumes`; writes the plumes (confidence at or above the
threshold) with exactly the contract's properties, every candidate with its features,
the overview picture and one chip per plume.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from plumetrace import __version__
from plumetrace.detect import flags as flag_bits
from plumetrace.errors import DataSourceError
from plumetrace.geo import Georef
from plumetrace.io.geojson import write_geojson
from plumetrace.io.geotiff import Raster, read_geotiff
from plumetrace.io.plume_png import write_plume_chip, write_plumes_png
from plumetrace.io.tables import write_json
from plumetrace.plumes import Plume, PlumeOptions, find_plumes, north_up_jacobian
from plumetrace.plumes.calibration import plume_model_metadata, wind_calibration

__all__ = ["PLUME_PROPERTIES", "PlumesInputs", "PlumesSummary", "run_plumes"]

log = logging.getLogger(__name__)

PLUME_PROPERTIES = (
    "id",
    "source_lon",
    "source_lat",
    "source_row",
    "source_col",
    "source_uncertainty_m",
    "ime_kg",
    "flux_kg_h",
    "flux_kg_h_sigma",
    "flux_kg_h_ci68",
    "max_ppm_m",
    "n_pixels",
    "length_m",
    "wind_speed_m_s",
    "u_eff_m_s",
    "confidence",
    "method",
)
"""The properties of each ``plumes.geojson`` feature, exactly (the contract)."""


@dataclass(frozen=True)
class PlumesInputs:
    """Files of a ``plumes`` run; None sidecars are looked for beside the enhancement.

    Attributes
    ----------
    enhancement : Path
    uncertainty, albedo, mask, residual : Path or None
    discover : bool
        Look for ``uncertainty.tif``, ``albedo.tif``, ``mask.tif`` and
        ``residual.tif`` beside the enhancement when not given.
    pixel_size_m : float or None, m
        For maps without georeferencing (north-up square pixels assumed).
    """

    enhancement: Path
    uncertainty: Path | None = None
    albedo: Path | None = None
    mask: Path | None = None
    discover: bool = True
    pixel_size_m: float | None = None
    residual: Path | None = None


@dataclass(frozen=True)
class PlumesSummary:
    """What a ``plumes`` run found and wrote (also written as ``plumes.json``)."""

    input: str
    layers: dict[str, str]
    plumes: int
    candidates: int
    total_flux_kg_h: float
    seconds: float
    seconds_compute: float
    sensor: str
    wind_speed_m_s: float | None
    wind_dir_deg: float | None
    wind_speed_sigma_m_s: float
    calibration: dict[str, Any]
    min_confidence: float
    outputs: dict[str, str] = field(default_factory=dict)
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document of ``plumes.json``."""
        from dataclasses import asdict

        return asdict(self)


def _layer(path: Path, shape: tuple[int, int], name: str) -> Raster:
    raster = read_geotiff(path)
    if raster.data.shape != shape:
        raise DataSourceError(
            path,
            f"the {name} layer is {raster.data.shape[0]} x {raster.data.shape[1]} "
            f"pixels, the enhancement map {shape[0]} x {shape[1]}",
        )
    return raster


def _as_float(raster: Raster) -> NDArray[np.float64]:
    data = np.asarray(raster.data, dtype=np.float64)
    if raster.nodata is not None and np.isfinite(raster.nodata):
        data = np.where(data == raster.nodata, np.nan, data)
    return data


def _resolve(inputs: PlumesInputs) -> dict[str, Path]:
    found = {"enhancement": inputs.enhancement}
    for name in ("uncertainty", "albedo", "mask", "residual"):
        given = getattr(inputs, name)
        if given is not None:
            found[name] = Path(given)
        elif inputs.discover:
            beside = inputs.enhancement.with_name(f"{name}.tif")
            if beside.exists() and beside != inputs.enhancement:
                found[name] = beside
    return found


def _feature(
    plume: Plume,
    pid: int,
    georef: Georef | None,
    jac: NDArray[np.float64],
    method: str,
    wind_speed: float | None,
) -> dict[str, Any]:
    px = float(np.sqrt(abs(np.linalg.det(jac))))
    src = plume.source
    if georef is not None:
        lon, lat = georef.grid_to_lonlat(plume.outline[:, 0], plume.outline[:, 1])
        slon, slat = georef.grid_to_lonlat(np.array([src.row]), np.array([src.col]))
        geometry: Any = orient(Polygon(np.column_stack([lon, lat])), sign=1.0)
        source_lon, source_lat = float(slon[0]), float(slat[0])
    else:
        geometry = None
        source_lon = source_lat = float("nan")
    f = plume.flux
    props = {
        "id": pid,
        "source_lon": round(source_lon, 7),
        "source_lat": round(source_lat, 7),
        "source_row": int(np.floor(src.row)),
        "source_col": int(np.floor(src.col)),
        "source_uncertainty_m": round(src.radius_px * px, 2),
        "ime_kg": round(f.ime_kg, 4),
        "flux_kg_h": round(f.flux_kg_h, 2),
        "flux_kg_h_sigma": round(f.flux_kg_h_sigma, 2),
        "flux_kg_h_ci68": [round(f.flux_kg_h_ci68[0], 2), round(f.flux_kg_h_ci68[1], 2)],
        "max_ppm_m": round(plume.max_ppm_m, 1),
        "n_pixels": plume.n_pixels,
        "length_m": round(f.length_m, 1),
        "wind_speed_m_s": wind_speed,
        "u_eff_m_s": round(f.u_eff_m_s, 3),
        "confidence": round(plume.confidence, 4),
        "method": method,
    }
    return {"type": "Feature", "id": pid, "geometry": geometry, "properties": props}


def _footprint(georef: Georef, shape: tuple[int, int]) -> Any:
    """Return the scene's outline (lon/lat polygon, counter-clockwise), 64 points a side."""
    rows, cols = shape
    t = np.linspace(0.0, 1.0, 65)[:-1]
    r = np.concatenate([t * rows, np.full(64, rows), (1 - t) * rows, np.zeros(64)])
    c = np.concatenate([np.zeros(64), t * cols, np.full(64, cols), (1 - t) * cols])
    lon, lat = georef.grid_to_lonlat(r, c)
    return orient(Polygon(np.column_stack([lon, lat])), sign=1.0)


def run_plumes(
    inputs: PlumesInputs,
    out_dir: str | Path,
    options: PlumeOptions | None = None,
    *,
    pictures: bool = True,
) -> PlumesSummary:
    """Find, locate and quantify the plumes of an enhancement map and write the products.

    Parameters
    ----------
    inputs : PlumesInputs
    out_dir : str or Path
        Created if missing; receives ``plumes.geojson``, ``candidates.geojson``,
        ``plumes.json``, ``plumes.png`` and ``plume_<id>.png``.
    options : PlumeOptions, optional
        The gas defaults to the map's ``gas`` tag when the options keep the default.
    pictures : bool
        Write the PNG pictures.

    Returns
    -------
    PlumesSummary
    """
    t0 = time.perf_counter()
    opts = options or PlumeOptions()
    paths = _resolve(inputs)
    enh_r = read_geotiff(paths["enhancement"])
    if enh_r.data.ndim != 2:
        raise DataSourceError(paths["enhancement"], "expected a single-band enhancement map")
    shape = (int(enh_r.data.shape[0]), int(enh_r.data.shape[1]))
    enh = _as_float(enh_r)
    if not np.isfinite(enh).any():
        raise DataSourceError(paths["enhancement"], "the map has no valid pixel")
    unc = (
        _as_float(_layer(paths["uncertainty"], shape, "uncertainty"))
        if "uncertainty" in paths
        else None
    )
    albedo = _as_float(_layer(paths["albedo"], shape, "albedo")) if "albedo" in paths else None
    residual = (
        _as_float(_layer(paths["residual"], shape, "residual")) if "residual" in paths else None
    )
    flagged = no_data = None
    if "mask" in paths:
        bits = np.asarray(_layer(paths["mask"], shape, "mask").data).astype(np.uint8)
        no_data = (bits & flag_bits.NO_DATA) > 0
        flagged = (bits & (flag_bits.SATURATED | flag_bits.FLARE | flag_bits.DARK)) > 0
    georef = enh_r.georef if enh_r.georef.is_referenced else None
    if georef is not None:
        jac = georef.jacobian_m(shape)
    elif inputs.pixel_size_m is not None:
        jac = north_up_jacobian(inputs.pixel_size_m)
    else:
        raise DataSourceError(
            paths["enhancement"], "the map is not georeferenced; give --pixel-size"
        )
    gas = enh_r.tags.get("gas", opts.gas) if opts.gas == "ch4" else opts.gas
    opts = replace(opts, gas=gas)
    t1 = time.perf_counter()
    found = find_plumes(
        enh,
        jacobian=jac,
        uncertainty=unc,
        albedo=albedo,
        flagged=flagged,
        no_data=no_data,
        residual=residual,
        options=opts,
    )
    compute = time.perf_counter() - t1
    accepted = [p for p in found if p.accepted]
    accepted.sort(
        key=lambda p: -(p.flux.flux_kg_h if np.isfinite(p.flux.flux_kg_h) else p.flux.ime_kg)
    )
    ids = {p.candidate: i + 1 for i, p in enumerate(accepted)}
    calib = wind_calibration(opts.sensor)
    method = f"ime-ueff:{opts.sensor}"
    features = [
        _feature(p, ids[p.candidate], georef, jac, method, opts.wind_speed_m_s) for p in accepted
    ]

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataSourceError(out, f"cannot create the output directory: {exc.strerror}") from exc
    for old in out.glob("plume_*.png"):
        old.unlink()
    files = {"plumes": out / "plumes.geojson", "candidates": out / "candidates.geojson"}
    write_geojson(
        files["plumes"],
        features,
        properties={
            "units": {"ime_kg": "kg", "flux_kg_h": "kg/h"},
            "input": str(paths["enhancement"]),
        },
    )
    cand_features = []
    for p in found:
        f = _feature(p, ids.get(p.candidate, 0), georef, jac, method, opts.wind_speed_m_s)
        props = dict(f["properties"])
        props.pop("id")
        props.update(
            {
                "candidate": p.candidate,
                "plume_id": ids.get(p.candidate),
                "accepted": p.accepted,
                "direction_from": "wind" if p.wind_known else "plume shape",
                "ime_sigma_kg": round(p.flux.ime_sigma_kg, 4),
                "background_bias_kg": round(p.flux.background_bias_kg, 4),
                "relative_errors": {k: round(v, 4) for k, v in p.flux.relative_errors.items()},
                "features": {k: round(v, 4) for k, v in p.features.items()},
            }
        )
        cand_features.append(
            {"type": "Feature", "id": p.candidate, "geometry": f["geometry"], "properties": props}
        )
    write_geojson(files["candidates"], cand_features)
    if georef is not None:
        # what this scene looked at: `plumetrace ingest coverage` records it as the pass's
        # negative evidence for sites inside without a plume
        files["footprint"] = out / "footprint.geojson"
        write_geojson(
            files["footprint"],
            [
                {
                    "geometry": _footprint(georef, shape),
                    "properties": {"rows": shape[0], "cols": shape[1]},
                }
            ],
        )
    if pictures:
        grey = albedo if albedo is not None else np.where(np.isfinite(enh), 1.0, np.nan)
        files["picture"] = out / "plumes.png"
        write_plumes_png(
            files["picture"],
            grey,
            enh,
            [[p.outline] for p in accepted],
            [(p.source.row, p.source.col) for p in accepted],
            [str(ids[p.candidate]) for p in accepted],
            title=f"{gas.upper()} plumes - {paths['enhancement'].name}",
        )
        for p in accepted:
            pid = ids[p.candidate]
            r0, c0 = p.pixels.min(axis=0) - 10
            r1, c1 = p.pixels.max(axis=0) + 11
            window = (
                max(int(r0), 0),
                min(int(r1), shape[0]),
                max(int(c0), 0),
                min(int(c1), shape[1]),
            )
            write_plume_chip(
                out / f"plume_{pid}.png",
                grey,
                enh,
                [p.outline],
                (p.source.row, p.source.col),
                str(pid),
                window=window,
                title=f"plume {pid}: {p.flux.flux_kg_h:,.0f} kg/h"
                if np.isfinite(p.flux.flux_kg_h)
                else f"plume {pid}",
            )
    files["summary"] = out / "plumes.json"
    total = float(np.nansum([p.flux.flux_kg_h for p in accepted])) if accepted else 0.0
    summary = PlumesSummary(
        input=str(paths["enhancement"]),
        layers={k: str(v) for k, v in paths.items()},
        plumes=len(accepted),
        candidates=len(found),
        total_flux_kg_h=round(total, 2),
        seconds=round(time.perf_counter() - t0, 3),
        seconds_compute=round(compute, 3),
        sensor=opts.sensor,
        wind_speed_m_s=opts.wind_speed_m_s,
        wind_dir_deg=opts.wind_dir_deg,
        wind_speed_sigma_m_s=opts.wind_sigma,
        calibration={
            "model": plume_model_metadata(),
            "slope": calib.slope,
            "intercept": calib.intercept,
            "relative_sigma": calib.relative_sigma,
            "source": calib.source,
        },
        min_confidence=opts.min_confidence,
        outputs={k: str(v) for k, v in files.items()},
    )
    write_json(files["summary"], summary.to_dict())
    return summary
