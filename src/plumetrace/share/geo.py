"""A releasable lead as GeoJSON (RFC 7946) and KML 2.2, one point per site.

Both formats carry the same properties, built once by :func:`site_properties` from the
releasable lead alone: the lead's id, title, summary, recommended action, marking, release
time, producer and partner, and per site its observation window, emission-rate range,
gas, what was observed, civilian exposure and advisory, plus the collection details,
attributions, other-source reports and evidence files the partner's policy releases (only
when there are any).

GeoJSON: a ``FeatureCollection`` of ``Point`` features, coordinates ``[lon, lat]`` in
WGS84 (RFC 7946 section 3.1.1), feature ``id`` = the site's opaque uid. Non-finite numbers
become ``null`` so the result is strict JSON. Write it with
:func:`plumetrace.io.geojson.write_geojson`.

KML: OGC 07-147r2 (KML 2.2), namespace ``http://www.opengis.net/kml/2.2``; a ``Document``
named after the lead and its TLP label, one ``Placemark`` per site (``id`` = site uid) with
a plain-text description, a ``TimeSpan`` of the observation window, ``ExtendedData`` with
every property, and a ``Point`` at ``lon,lat,0``. The document is built with ElementTree,
so markup characters in any text are escaped.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from plumetrace.share.lead import ReleasableLead, ReleasableSite
from plumetrace.share.markings import TLP_LEVELS, parse_tlp, tlp_label

__all__ = ["KML_NS", "lead_geojson", "lead_kml", "site_properties"]

KML_NS = "http://www.opengis.net/kml/2.2"
"""The KML 2.2 namespace."""

_LISTS = ("collection", "organizations", "source_reports", "imagery")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_CAPTIONS = {
    "lead_id": "Lead",
    "title": "Title",
    "summary": "Summary",
    "observed": "Observed",
    "exposure": "Civilian exposure",
    "advisory": "Advisory",
    "recommended_action": "Recommended action",
    "gas": "Gas",
    "rate_lo_kg_h": "Emission rate, low (kg/h)",
    "rate_hi_kg_h": "Emission rate, high (kg/h)",
    "uncertainty_m": "Position uncertainty, 1-sigma (m)",
    "first_seen": "First seen (UTC)",
    "last_seen": "Last seen (UTC)",
    "n_observations": "Passes that saw the emission",
    "collection": "Collection",
    "organizations": "Organizations",
    "source_reports": "Reports from other sources",
    "imagery": "Evidence files",
    "released": "Released (UTC)",
    "producer": "Producer",
    "partner": "Partner",
}
"""Description captions, in the order the KML description lists them."""


def site_properties(lead: ReleasableLead, site: ReleasableSite) -> dict[str, Any]:
    """Return the releasable properties of one site of a lead, as plain JSON types.

    Parameters
    ----------
    lead : ReleasableLead
        What the partner may receive; nothing else is read.
    site : ReleasableSite
        One of ``lead.sites``.

    Returns
    -------
    dict
        ``lead_id``, ``title``, ``tlp`` (label, e.g. ``"TLP:AMBER"``), ``field_tlp``
        (field -> level, for fields marked stricter), ``uncertainty_m`` (m, 1-sigma),
        ``first_seen``, ``last_seen`` (ISO 8601 UTC with ``Z``, or None),
        ``n_observations``, ``rate_lo_kg_h``, ``rate_hi_kg_h`` (kg/h, or None), ``gas``,
        ``observed``, ``exposure``, ``advisory``, ``recommended_action``, ``summary``,
        ``released`` (ISO 8601 or None), ``producer``, ``partner`` (the partner's name),
        and the lists ``collection``, ``organizations``, ``source_reports`` and
        ``imagery`` only when not empty. Non-finite numbers are None.
    """
    props: dict[str, Any] = {
        "lead_id": lead.id,
        "title": lead.title,
        "tlp": tlp_label(lead.tlp),
        "field_tlp": {str(k): str(v) for k, v in lead.field_tlp.items()},
        "uncertainty_m": _number(site.uncertainty_m),
        "first_seen": _iso(site.first_seen),
        "last_seen": _iso(site.last_seen),
        "n_observations": int(site.n_observations),
        "rate_lo_kg_h": _number(site.rate_lo_kg_h),
        "rate_hi_kg_h": _number(site.rate_hi_kg_h),
        "gas": site.gas,
        "observed": site.observed,
        "exposure": site.exposure,
        "advisory": site.advisory,
        "recommended_action": lead.recommended_action,
        "summary": lead.summary,
        "released": _iso(lead.released),
        "producer": lead.producer,
        "partner": lead.partner_name,
    }
    for name in _LISTS:
        values = getattr(site, name)
        if values:
            props[name] = [str(v) for v in values]
    return props


def lead_geojson(lead: ReleasableLead) -> dict[str, Any]:
    """Return a releasable lead as a GeoJSON ``FeatureCollection`` (RFC 7946).

    Parameters
    ----------
    lead : ReleasableLead
        What the partner may receive; nothing else is read.

    Returns
    -------
    dict
        One ``Point`` feature per site, coordinates ``[lon, lat]`` in degrees (WGS84),
        ``id`` = the site's uid, ``properties`` from :func:`site_properties`.
    """
    features = [
        {
            "type": "Feature",
            "id": site.uid,
            "geometry": {"type": "Point", "coordinates": [float(site.lon), float(site.lat)]},
            "properties": site_properties(lead, site),
        }
        for site in lead.sites
    ]
    return {"type": "FeatureCollection", "features": features}


def lead_kml(lead: ReleasableLead) -> str:
    """Return a releasable lead as a KML 2.2 document.

    Parameters
    ----------
    lead : ReleasableLead
        What the partner may receive; nothing else is read.

    Returns
    -------
    str
        The document, with an XML declaration (encode it as UTF-8 to write a ``.kml``).
        ``Document/name`` is the lead's title with its TLP label; one ``Placemark`` per
        site with a plain-text ``description``, ``ExtendedData`` holding every
        :func:`site_properties` entry (lists and ``field_tlp`` as JSON text, None as an
        empty value) and a ``Point`` at ``lon,lat,0``.
    """
    label = tlp_label(lead.tlp)
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = ET.SubElement(root, "Document")
    _leaf(doc, "name", f"{lead.title} ({label})")
    _leaf(doc, "description", _description(lead, {"tlp": label, "summary": lead.summary}))
    for n, site in enumerate(lead.sites, start=1):
        props = site_properties(lead, site)
        mark = ET.SubElement(doc, "Placemark", {"id": _text(site.uid)})
        _leaf(mark, "name", f"{lead.title} — site {n}")
        _leaf(mark, "description", _description(lead, props))
        if site.first_seen is not None or site.last_seen is not None:
            span = ET.SubElement(mark, "TimeSpan")
            if props["first_seen"] is not None:
                _leaf(span, "begin", props["first_seen"])
            if props["last_seen"] is not None:
                _leaf(span, "end", props["last_seen"])
        extended = ET.SubElement(mark, "ExtendedData")
        for key, value in props.items():
            data = ET.SubElement(extended, "Data", {"name": key})
            _leaf(data, "value", _kml_value(value))
        point = ET.SubElement(mark, "Point")
        _leaf(point, "coordinates", f"{float(site.lon)!r},{float(site.lat)!r},0")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _description(lead: ReleasableLead, props: dict[str, Any]) -> str:
    """Return the plain-text description: the TLP label, then one entry per property.

    Fields the policy marks stricter than the lead carry their own label.
    """
    lines = [props["tlp"]]
    for key, caption in _CAPTIONS.items():
        value = props.get(key)
        if value is None or value == "" or value == []:
            continue
        level = lead.field_tlp.get(key)
        if level is not None and _stricter_than(level, lead.tlp):
            caption = f"{caption} [{tlp_label(level)}]"
        if isinstance(value, list):
            lines.append(f"{caption}:")
            lines.extend(f"  - {v}" for v in value)
        else:
            lines.append(f"{caption}: {value}")
    return "\n".join(lines)


def _stricter_than(level: str, base: str) -> bool:
    return TLP_LEVELS.index(parse_tlp(level)) > TLP_LEVELS.index(parse_tlp(base))


def _kml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _leaf(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _text(text)
    return element


def _text(value: str) -> str:
    """Return ``value`` with characters XML 1.0 cannot hold replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", value)


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _iso(t: datetime | None) -> str | None:
    """Return ``t`` as ISO 8601 UTC with ``Z`` (a naive ``t`` is taken to be UTC)."""
    if t is None:
        return None
    utc = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")
