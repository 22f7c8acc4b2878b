"""Render a releasable lead in one of the partner formats (bytes and media type)."""

from __future__ import annotations

import json
from typing import Literal, get_args

from plumetrace.errors import InvalidParameterError
from plumetrace.share.cot import cot_events
from plumetrace.share.geo import lead_geojson, lead_kml
from plumetrace.share.lead import ReleasableLead
from plumetrace.share.stix import lead_bundle

__all__ = ["EXPORT_FORMATS", "ExportFormat", "render_lead"]

ExportFormat = Literal["stix", "geojson", "kml", "cot"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
"""Formats a lead exports to."""

MEDIA_TYPES = {
    "stix": "application/stix+json;version=2.1",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "cot": "application/xml",
}


def render_lead(lead: ReleasableLead, fmt: str) -> tuple[bytes, str]:
    """Return ``lead`` rendered as ``fmt`` and the media type.

    Cursor-on-Target gives one ``<event>`` per site; a file holds them one per line (the
    stream form TAK servers read).

    Raises
    ------
    InvalidParameterError
        An unknown format.
    """
    if fmt == "stix":
        body = json.dumps(lead_bundle(lead), indent=2, sort_keys=True).encode()
    elif fmt == "geojson":
        body = json.dumps(lead_geojson(lead), indent=2).encode()
    elif fmt == "kml":
        body = lead_kml(lead).encode()
    elif fmt == "cot":
        body = b"\n".join(cot_events(lead)) + b"\n"
    else:
        raise InvalidParameterError(
            f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}"
        )
    return body, MEDIA_TYPES[fmt]
