"""The workbench map's layers from the store, as GeoJSON, selected by bounding box.

Sites and detections are selected on their indexed latitude/longitude columns, audits on
their stored boxes; every layer is capped (``limit``) so a continental box cannot
exhaust the browser.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from plumetrace.errors import NotFoundError
from plumetrace.store.models import Detection, Flight, FlightAudit, Site

__all__ = ["data_extent", "detection_image", "map_layers", "overlay_sha", "overlay_sha_sql"]

Box = tuple[float, float, float, float]
_R68 = 1.51  # 68 % radius of a 2-D Gaussian, in sigmas


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _circle(lon: float, lat: float, radius_m: float, n: int = 32) -> dict[str, Any]:
    """Return a polygon approximating a circle (m) around a point (small radii)."""
    dlat = radius_m / 111_320.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    ring = [
        [lon + dlon * math.cos(2 * math.pi * k / n), lat + dlat * math.sin(2 * math.pi * k / n)]
        for k in range(n)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def data_extent(session: Session) -> Box | None:
    """Return (west, south, east, north) of the live sites, or None without sites."""
    row = session.execute(
        select(
            func.min(Site.lon), func.min(Site.lat), func.max(Site.lon), func.max(Site.lat)
        ).where(Site.status != "merged")
    ).one()
    if row[0] is None:
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def _sites(session: Session, box: Box, limit: int) -> list[dict[str, Any]]:
    w, s, e, n = box
    rows = session.scalars(
        select(Site)
        .where(Site.lat.between(s, n), Site.lon.between(w, e), Site.status != "merged")
        .order_by(Site.priority.desc(), Site.id)
        .limit(limit)
    )
    return [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": {
                "id": r.id,
                "status": r.status,
                "confidence": r.confidence,
                "priority": r.priority,
                "rate_kg_h": r.rate_kg_h,
                "exposure": r.exposure,
                "n_detections": r.n_detections,
                "uncertainty_m": r.uncertainty_m,
            },
        }
        for r in rows
    ]


def _detections(session: Session, box: Box, kind: str, limit: int) -> list[dict[str, Any]]:
    w, s, e, n = box
    rows = session.scalars(
        select(Detection)
        .where(Detection.kind == kind, Detection.lat.between(s, n), Detection.lon.between(w, e))
        .order_by(Detection.time.desc())
        .limit(limit)
    )
    out = []
    for d in rows:
        props = d.properties or {}
        common = {
            "id": d.id,
            "site_id": d.site_id,
            "flight": d.flight_id,
            "time": d.time,
            "rate_kg_h": d.rate_kg_h,
        }
        if kind == "plume":
            geom = props.get("outline") or {"type": "Point", "coordinates": [d.lon, d.lat]}
            image = props.get("image")
            extra = {
                "rate_lo_kg_h": d.rate_lo_kg_h,
                "rate_hi_kg_h": d.rate_hi_kg_h,
                "max_ppm_m": props.get("max_ppm_m"),
                "image": None if image is None else f"/api/detections/{d.id}/image",
                "image_bounds": None if image is None else image["bounds"],
            }
        else:
            radius = _R68 * d.uncertainty_m
            geom, extra = _circle(d.lon, d.lat, radius), {"radius_m": round(radius, 1)}
        out.append(
            {"type": "Feature", "id": d.id, "geometry": geom, "properties": {**common, **extra}}
        )
    return out


def _audits(session: Session, box: Box, limit: int) -> tuple[list[Any], list[Any]]:
    w, s, e, n = box
    rows = session.execute(
        select(FlightAudit, Flight)
        .join(Flight, Flight.id == FlightAudit.flight_id)
        .where(
            FlightAudit.max_lat >= s,
            FlightAudit.min_lat <= n,
            FlightAudit.max_lon >= w,
            FlightAudit.min_lon <= e,
        )
        .order_by(FlightAudit.time.desc())
        .limit(limit)
    ).all()
    tracks, incursions = [], []
    for audit, flight in rows:
        base = {"flight": flight.id, "operator": audit.operator_id}
        for f in json.loads(audit.features)["features"]:
            kind = f["properties"].get("kind")
            if kind == "track":
                tracks.append(
                    {
                        "type": "Feature",
                        "geometry": f["geometry"],
                        "properties": {
                            **base,
                            "platform": flight.platform_id,
                            "sensor": flight.sensor_id,
                            "start": flight.start,
                            "end": flight.end,
                        },
                    }
                )
            elif kind == "incursion":
                p = f["properties"]
                incursions.append(
                    {
                        "type": "Feature",
                        "geometry": f["geometry"],
                        "properties": {
                            **base,
                            "zone": p.get("zone"),
                            "duration_s": p.get("duration_s"),
                            "max_depth_m": p.get("max_depth_m"),
                        },
                    }
                )
    return tracks, incursions


def detection_image(session: Session, detection_id: str) -> str:
    """Return the SHA-256 of a plume's map overlay image.

    Raises
    ------
    NotFoundError
        No such detection, or it has no overlay.
    """
    props = session.scalar(select(Detection.properties).where(Detection.id == detection_id))
    sha = overlay_sha(props)
    if sha is None:
        raise NotFoundError(f"no overlay image for detection {detection_id!r}")
    return sha


def overlay_sha(properties: dict[str, Any] | None) -> str | None:
    """Return the SHA-256 of the overlay image a detection's properties name, if any."""
    image = (properties or {}).get("image")
    if not isinstance(image, dict) or "sha256" not in image:
        return None
    return str(image["sha256"])


def overlay_sha_sql() -> ColumnElement[str]:
    """Return :func:`overlay_sha` as a SQL expression on ``detections.properties``."""
    expr: ColumnElement[str] = Detection.properties["image"]["sha256"].as_string()
    return expr


def map_layers(session: Session, box: Box, limit: int = 20_000) -> dict[str, Any]:
    """Return the store's layers inside ``box`` (west, south, east, north; degrees).

    Returns
    -------
    dict
        ``sites``, ``plumes`` (outlines where known, else the source point),
        ``insitu`` (68 % credible circles), ``tracks`` and ``incursions`` (from audits),
        each a GeoJSON FeatureCollection of at most ``limit`` features.
    """
    tracks, incursions = _audits(session, box, limit)
    return {
        "sites": _fc(_sites(session, box, limit)),
        "plumes": _fc(_detections(session, box, "plume", limit)),
        "insitu": _fc(_detections(session, box, "insitu", limit)),
        "tracks": _fc(tracks),
        "incursions": _fc(incursions),
    }
