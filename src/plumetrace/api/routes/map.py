"""The workbench map (every layer of an area in one request) and the flights list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from plumetrace.api.deps import ReadSession, SessionRoute, allow, app_settings, parse_bbox, present
from plumetrace.errors import InvalidParameterError
from plumetrace.io.evidence_files import evidence_file_path
from plumetrace.pipeline.map_zones import zone_layer
from plumetrace.settings import Settings
from plumetrace.store import map as map_store
from plumetrace.store.flights import list_flights
from plumetrace.store.map import data_extent, map_layers

__all__ = ["router"]

router = APIRouter(tags=["map"], route_class=SessionRoute)

READERS = ("analyst", "supervisor", "liaison")

DEFAULT_BOX = (-106.6, 31.6, -106.3, 31.9)
"""Shown when the store holds no site yet (El Paso - Ciudad Juarez)."""

_MARGIN_DEG = 0.05


@router.get("/api/map/layers", **allow(*READERS))
def layers(
    session: ReadSession,
    settings: Annotated[Settings, Depends(app_settings)],
    bbox: Annotated[str | None, Query(description="west,south,east,north (deg)")] = None,
) -> dict[str, Any]:
    """Return the map's layers in ``bbox`` (default: around every site).

    ``zones`` (countries with their territorial seas, international airspace, each
    operator's authorized area), ``tracks`` and ``incursions`` (audited flights),
    ``plumes`` (outlines), ``insitu`` (68 % credible regions), ``sites``; and the
    optional XYZ ``basemap`` URL (none by default: the map works offline).
    """
    box = parse_bbox(bbox)
    if box is None:
        extent = data_extent(session)
        box = (
            DEFAULT_BOX
            if extent is None
            else (
                max(extent[0] - _MARGIN_DEG, -180.0),
                max(extent[1] - _MARGIN_DEG, -90.0),
                min(extent[2] + _MARGIN_DEG, 180.0),
                min(extent[3] + _MARGIN_DEG, 90.0),
            )
        )
    if (box[2] - box[0]) * (box[3] - box[1]) > 100.0:
        raise InvalidParameterError("bbox is larger than 100 square degrees: zoom in")
    out = map_layers(session, box)
    try:
        out["zones"] = zone_layer(box)
    except InvalidParameterError:  # a box with no zone to draw (open ocean far out)
        out["zones"] = {"type": "FeatureCollection", "features": []}
    return present({"bbox": list(box), "basemap": settings.basemap_url, "layers": out})


@router.get("/api/detections/{detection_id}/image", response_class=FileResponse, **allow(*READERS))
def detection_image(
    detection_id: str,
    session: ReadSession,
    settings: Annotated[Settings, Depends(app_settings)],
) -> FileResponse:
    """Return a plume's enhancement overlay (PNG on the lon/lat ``image_bounds``)."""
    sha = map_store.detection_image(session, detection_id)
    path = evidence_file_path(settings.evidence_dir, sha, must_exist=True)
    return FileResponse(path, media_type="image/png")


@router.get("/api/flights", **allow(*READERS))
def flights(session: ReadSession) -> dict[str, Any]:
    """List flights with their latest audit (incursions, time outside authorization)."""
    return present({"flights": list_flights(session)})
