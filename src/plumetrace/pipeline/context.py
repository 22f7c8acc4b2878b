"""Civilian-context jobs: load layers, (re)compute every site's context.

Sites are processed in chunks of nearby sites: for each chunk the population raster is
read in a window around it and the building footprints are fetched from the store by
bounding box, then :func:`plumetrace.sites.context.site_contexts` does the geometry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from plumetrace.geo import lonlat_box
from plumetrace.io.context import (
    population_bounds,
    read_buildings,
    read_population,
    store_population_file,
)
from plumetrace.sites.context import Features, PopulationGrid, site_contexts
from plumetrace.store.context import (
    active_layer,
    features_in_bbox,
    layer_extent,
    replace_layer,
    set_site_contexts,
    site_positions,
)
from plumetrace.store.engine import session_scope

__all__ = ["ContextLoad", "load_context", "refresh_contexts", "refresh_contexts_in"]

log = logging.getLogger(__name__)

_MARGIN_M = 5_000.0  # schools and hospitals looked for around a chunk of sites
_BUILDING_MARGIN_M = 1_000.0  # footprints and population pixels around a chunk
_RADIUS_68 = 1.51  # 68 % radius of a 2-D Gaussian, in units of the 1-sigma
_CHUNK = 2_000


@dataclass(frozen=True)
class ContextLoad:
    """What :func:`load_context` did."""

    population: str | None
    buildings: int | None
    sites: int


def _overlaps(
    box: tuple[float, float, float, float], bounds: tuple[float, float, float, float] | None
) -> bool:
    if bounds is None:
        return False
    return box[0] < bounds[2] and box[2] > bounds[0] and box[1] < bounds[3] and box[3] > bounds[1]


def _inside(
    lat: np.ndarray, lon: np.ndarray, extent: tuple[float, float, float, float] | None
) -> np.ndarray:
    """Which sites lie within a layer's extent (a 1 km margin around its features)."""
    if extent is None:
        return np.zeros(len(lat), dtype=bool)
    w, s, e, n = lonlat_box(extent[1::2], extent[0::2], _BUILDING_MARGIN_M)
    return np.asarray((lon >= w) & (lon <= e) & (lat >= s) & (lat <= n))


def _features(rows: list[tuple[str, bool | None, Any]]) -> Features:
    return Features(
        buildings=[g for k, _r, g in rows if k == "building"],
        residential=[r for k, r, _g in rows if k == "building"],
        schools=[g for k, _r, g in rows if k == "school"],
        hospitals=[g for k, _r, g in rows if k == "hospital"],
    )


def _chunks(sites: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group sites into chunks of neighbours (sorted by 0.1° cell)."""
    sites = sorted(sites, key=lambda s: (round(s["lat"], 1), round(s["lon"], 1), s["id"]))
    out: list[list[dict[str, Any]]] = []
    for s in sites:
        cell = (round(s["lat"], 1), round(s["lon"], 1))
        if (
            out
            and len(out[-1]) < _CHUNK
            and (
                round(out[-1][0]["lat"], 1),
                round(out[-1][0]["lon"], 1),
            )
            == cell
        ):
            out[-1].append(s)
        else:
            out.append([s])
    return out


@dataclass(frozen=True)
class _Layers:
    """The loaded context layers, as the per-chunk computation needs them."""

    pop_path: Path | None
    pop_bounds: tuple[float, float, float, float] | None
    buildings: bool
    extent: tuple[float, float, float, float] | None


def _layers(s: Session) -> _Layers | None:
    """Return the loaded layers (None when no context layer is loaded)."""
    pop_layer = active_layer(s, "population")
    bld_layer = active_layer(s, "buildings")
    if pop_layer is None and bld_layer is None:
        return None
    extent = layer_extent(s, bld_layer.id) if bld_layer is not None else None
    pop_path = Path(pop_layer.path) if pop_layer is not None and pop_layer.path else None
    pop_bounds = population_bounds(pop_path) if pop_path is not None else None
    return _Layers(pop_path, pop_bounds, bld_layer is not None, extent)


def _chunk_contexts(
    s: Session, layers: _Layers, chunk: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Compute the contexts of one chunk of neighbouring sites (features read with ``s``)."""
    lat = np.asarray([c["lat"] for c in chunk])
    lon = np.asarray([c["lon"] for c in chunk])
    sigma = np.asarray([c["uncertainty_m"] for c in chunk])
    grid: PopulationGrid | None = None
    box = lonlat_box(lat, lon, _BUILDING_MARGIN_M)
    if layers.pop_path is not None and _overlaps(box, layers.pop_bounds):
        grid = read_population(layers.pop_path, bbox=box)
    feats: Features | None = None
    if layers.buildings:
        rows = features_in_bbox(s, box, ("building",))
        rows += features_in_bbox(s, lonlat_box(lat, lon, _MARGIN_M), ("school", "hospital"))
        feats = _features(rows)
    # outside the buildings layer's extent nothing is known about buildings: those
    # sites get no features (unknown), not an empty neighbourhood (outdoors)
    covered = _inside(lat, lon, layers.extent)
    ctx = list(site_contexts(lat, lon, sigma * _RADIUS_68, grid, feats if covered.all() else None))
    if covered.any() and not covered.all():
        idx = np.flatnonzero(covered)
        inner = site_contexts(lat[idx], lon[idx], sigma[idx] * _RADIUS_68, grid, feats)
        for k, c in zip(idx, inner, strict=True):
            ctx[int(k)] = c
    return [(c, x.to_dict()) for c, x in zip(chunk, ctx, strict=True)]


def refresh_contexts(
    engine: Engine,
    *,
    site_ids: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute the civilian context of sites (all when ``site_ids`` is None).

    Does nothing when no context layer is loaded. Returns the number of sites updated.
    Each chunk of sites is its own transaction (see :func:`refresh_contexts_in` for a
    refresh inside the caller's transaction).
    """
    with session_scope(engine) as s:
        layers = _layers(s)
        if layers is None:
            return 0
        sites = site_positions(s, site_ids)
    done = 0
    for chunk in _chunks(sites):
        with session_scope(engine) as s:
            ctx = _chunk_contexts(s, layers, chunk)
        with session_scope(engine, write=True) as s:
            set_site_contexts(s, ctx)
        done += len(chunk)
        if progress:
            progress(done, len(sites))
    return done


def refresh_contexts_in(session: Session, site_ids: Sequence[str]) -> int:
    """Recompute the civilian context of ``site_ids`` in the caller's transaction.

    For the few sites an ingest changed: their context lands (or not) with the ingest
    itself, so an interrupted ingest never leaves sites without their context.
    Returns the number of sites updated (0 when no context layer is loaded).
    """
    if not site_ids:
        return 0
    layers = _layers(session)
    if layers is None:
        return 0
    sites = site_positions(session, site_ids)
    for chunk in _chunks(sites):
        set_site_contexts(session, _chunk_contexts(session, layers, chunk))
    return len(sites)


def load_context(
    engine: Engine,
    context_dir: Path,
    *,
    population: Path | None,
    buildings: Path | None,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> ContextLoad:
    """Load a population raster and/or building footprints, then recompute every site.

    The raster is validated, then copied under ``context_dir`` by content hash (the
    store keeps the path); the footprints go into the store.
    """
    n_buildings = None
    pop_name = None
    if population is not None:
        read_population(population)  # validate before anything is stored
    feats = read_buildings(buildings) if buildings is not None else None
    if population is not None:
        sha, dest = store_population_file(population, context_dir)
        with session_scope(engine, write=True) as s:
            replace_layer(
                s, kind="population", sha256=sha, name=population.name, path=str(dest), actor=actor
            )
        pop_name = population.name
    if feats is not None and buildings is not None:
        rows: list[tuple[str, bool | None, Any]] = [
            ("building", r, g) for g, r in zip(feats.buildings, feats.residential, strict=True)
        ]
        rows += [("school", None, g) for g in feats.schools]
        rows += [("hospital", None, g) for g in feats.hospitals]
        from plumetrace.io.evidence import file_digest

        with session_scope(engine, write=True) as s:
            replace_layer(
                s,
                kind="buildings",
                sha256=file_digest(buildings),
                name=buildings.name,
                path=None,
                features=rows,
                actor=actor,
            )
        n_buildings = len(feats.buildings)
    n = refresh_contexts(engine, progress=progress)
    log.info("context: %s sites recomputed", n)
    return ContextLoad(pop_name, n_buildings, n)
