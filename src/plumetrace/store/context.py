"""Civilian-context layers in the store: the population raster's record, footprints.

One layer of each kind is active: loading a new population raster or a new building
set replaces the previous one (its record and features are removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from plumetrace.sites.priority import site_priority
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import ContextFeature, ContextLayer, Site

__all__ = [
    "active_layer",
    "features_in_bbox",
    "layer_extent",
    "replace_layer",
    "set_site_contexts",
    "site_positions",
]


def active_layer(session: Session, kind: str) -> ContextLayer | None:
    """Return the loaded layer of ``kind`` (``population`` or ``buildings``), if any."""
    return session.scalars(
        select(ContextLayer).where(ContextLayer.kind == kind).order_by(ContextLayer.loaded.desc())
    ).first()


def replace_layer(
    session: Session,
    *,
    kind: str,
    sha256: str,
    name: str,
    path: str | None,
    features: Sequence[tuple[str, bool | None, Any]] = (),
    actor: str,
) -> ContextLayer:
    """Make a new layer the active one of its kind; store its features.

    Parameters
    ----------
    kind : str
        ``population`` or ``buildings``.
    features : sequence of (kind, residential, shapely geometry)
        For a buildings layer: ``building``, ``school`` or ``hospital`` features (lon/lat).
    """
    old = session.scalars(select(ContextLayer).where(ContextLayer.kind == kind)).all()
    for layer in old:
        session.execute(delete(ContextFeature).where(ContextFeature.layer_id == layer.id))
        session.delete(layer)
    session.flush()
    layer = ContextLayer(
        id=f"ctx-{kind[:3]}-{sha256[:12]}", kind=kind, sha256=sha256, name=name, path=path
    )
    session.add(layer)
    session.flush()
    if features:
        geoms = np.asarray([g for _k, _r, g in features], dtype=object)
        bounds = shapely.bounds(geoms)
        texts = shapely.to_geojson(geoms)
        rows = [
            {
                "layer_id": layer.id,
                "kind": k,
                "residential": r,
                "min_lon": float(b[0]),
                "min_lat": float(b[1]),
                "max_lon": float(b[2]),
                "max_lat": float(b[3]),
                "geojson": str(t),
            }
            for (k, r, _g), b, t in zip(features, bounds, texts, strict=True)
        ]
        for i in range(0, len(rows), 5000):
            session.execute(insert(ContextFeature), rows[i : i + 5000])
    append_event(
        session,
        actor=actor,
        action="context.load",
        entity="context_layer",
        entity_id=layer.id,
        before={"replaced": [x.id for x in old]} if old else None,
        after={"kind": kind, "name": name, "sha256": sha256, "features": len(features)},
    )
    return layer


def layer_extent(session: Session, layer_id: str) -> tuple[float, float, float, float] | None:
    """Return a features layer's extent (W, S, E, N) in degrees; None if it is empty."""
    row = session.execute(
        select(
            func.min(ContextFeature.min_lon),
            func.min(ContextFeature.min_lat),
            func.max(ContextFeature.max_lon),
            func.max(ContextFeature.max_lat),
        ).where(ContextFeature.layer_id == layer_id)
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def features_in_bbox(
    session: Session, bbox: tuple[float, float, float, float], kinds: Sequence[str]
) -> list[tuple[str, bool | None, Any]]:
    """Return the features of ``kinds`` overlapping a (W, S, E, N) box (lon/lat)."""
    w, s, e, n = bbox
    rows = session.execute(
        select(ContextFeature.kind, ContextFeature.residential, ContextFeature.geojson).where(
            ContextFeature.kind.in_(list(kinds)),
            ContextFeature.min_lat <= n,
            ContextFeature.max_lat >= s,
            ContextFeature.min_lon <= e,
            ContextFeature.max_lon >= w,
        )
    ).all()
    if not rows:
        return []
    geoms = shapely.from_geojson([r[2] for r in rows])
    return [(r[0], r[1], g) for r, g in zip(rows, geoms, strict=True)]


def site_positions(session: Session, site_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Return id, lat, lon, uncertainty, confidence and rate of sites (all live ones)."""
    stmt = select(
        Site.id, Site.lat, Site.lon, Site.uncertainty_m, Site.confidence, Site.rate_kg_h
    ).where(Site.status != "merged")
    if site_ids is None:
        return [dict(r._mapping) for r in session.execute(stmt)]
    out: list[dict[str, Any]] = []
    ids = list(site_ids)
    for i in range(0, len(ids), 900):
        out.extend(
            dict(r._mapping) for r in session.execute(stmt.where(Site.id.in_(ids[i : i + 900])))
        )
    return out


def set_site_contexts(
    session: Session, contexts: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    """Store each site's context and exposure; its review priority follows the exposure.

    Parameters
    ----------
    contexts : sequence of (site position dict, context dict)
        As returned by :func:`site_positions` and ``SiteContext.to_dict()``. Derived data:
        the site's version is not bumped (no analyst field changes).
    """
    rows = [
        {
            "id": site["id"],
            "context": ctx,
            "exposure": ctx["exposure"],
            "priority": site_priority(site["confidence"], site["rate_kg_h"], ctx["exposure"]),
        }
        for site, ctx in contexts
    ]
    for r in rows:
        session.execute(
            update(Site)
            .where(Site.id == r["id"])
            .values(context=r["context"], exposure=r["exposure"], priority=r["priority"])
            .execution_options(synchronize_session=False)
        )
