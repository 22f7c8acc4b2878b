"""A releasable lead as Cursor-on-Target (CoT) 2.0 events, one per site.

Each site becomes one ``<event>`` document (UTF-8, with an XML declaration) that a TAK
client (ATAK, WinTAK, iTAK) draws as an unknown ground point (``type="a-u-G"``) derived by
fusing machine observations (``how="m-f"``). The event ``uid`` is the site's opaque uid,
so re-sending a lead updates the partner's map instead of adding a second marker; the
point's circular error ``ce`` is the site's 1-sigma position uncertainty, and the height
and linear error carry the CoT "unknown" value 9999999.0.

The ``<remarks>`` hold releasable text only: the TLP label, the lead's title, what was
observed, the civilian-context advisory, the recommended action and the lead id. CoT has
no per-field markings, so the label is the strictest of the lead's level and the levels
its policy gives those fields (``field_tlp``).

Event schema: MITRE, "Cursor-on-Target Message Router User's Guide" (MP090284, 2009) and
the CoT 2.0 event XSD shipped with the TAK server.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from plumetrace.errors import InvalidParameterError
from plumetrace.share.lead import ReleasableLead, ReleasableSite
from plumetrace.share.markings import stricter, tlp_label

__all__ = ["COT_HOW", "COT_TYPE", "COT_UNKNOWN", "cot_events", "cot_time", "remarks_tlp"]

COT_TYPE = "a-u-G"
"""CoT type of a site: atom, unknown affiliation, ground."""

COT_HOW = "m-f"
"""CoT ``how`` of a site: machine-derived, fused from several observations."""

COT_UNKNOWN = 9999999.0
"""The value CoT uses for an unknown height or error, m."""

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_REMARK_FIELDS = ("observed", "advisory", "recommended_action")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def cot_time(t: datetime) -> str:
    """Return ``t`` as CoT writes times: ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, milliseconds).

    A naive ``t`` is taken to be UTC already.
    """
    utc = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def cot_events(
    lead: ReleasableLead, now: datetime | None = None, stale_hours: float | None = None
) -> list[bytes]:
    """Render a releasable lead as one CoT 2.0 event document per site.

    Parameters
    ----------
    lead : ReleasableLead
        What the partner may receive; nothing else is read.
    now : datetime or None, UTC
        Event ``time`` and ``start``. Default: the lead's release time, or the current
        time for an unreleased preview. A naive datetime is taken to be UTC.
    stale_hours : float or None, h
        How long after ``start`` the partner's map should treat the events as stale.
        Default: the lead's ``cot_stale_hours`` (from the partner's release policy).

    Returns
    -------
    list of bytes
        One UTF-8 XML document (with declaration) per site, in the lead's site order.

    Raises
    ------
    InvalidParameterError
        If ``stale_hours`` is not a positive, finite number of hours, or a site's
        position or uncertainty is out of range.
    """
    hours = lead.cot_stale_hours if stale_hours is None else stale_hours
    if (
        isinstance(hours, bool)
        or not isinstance(hours, int | float)
        or not math.isfinite(hours)
        or hours <= 0
    ):
        raise InvalidParameterError(
            f"stale_hours must be a positive, finite number of hours, not {hours!r}"
        )
    start = now if now is not None else lead.released
    if start is None:
        start = datetime.now(UTC)
    stale = start + timedelta(hours=float(hours))
    times = {"time": cot_time(start), "start": cot_time(start), "stale": cot_time(stale)}
    label = remarks_tlp(lead)
    return [_event(lead, n, site, times, label) for n, site in enumerate(lead.sites, start=1)]


def remarks_tlp(lead: ReleasableLead) -> str:
    """Return the TLP label of a lead's CoT remarks.

    The strictest of the lead's level and the levels ``field_tlp`` gives the fields the
    remarks quote (observed, advisory, recommended action), e.g. ``"TLP:AMBER"``.
    """
    level = lead.tlp
    for name in _REMARK_FIELDS:
        marked = lead.field_tlp.get(name)
        if marked is not None:
            level = stricter(level, marked)
    return tlp_label(level)


def _event(
    lead: ReleasableLead, n: int, site: ReleasableSite, times: dict[str, str], label: str
) -> bytes:
    _check_site(site)
    ce = site.uncertainty_m if math.isfinite(site.uncertainty_m) else COT_UNKNOWN
    event = ET.Element(
        "event",
        {"version": "2.0", "uid": site.uid, "type": COT_TYPE, "how": COT_HOW, **times},
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": repr(float(site.lat)),
            "lon": repr(float(site.lon)),
            "hae": repr(COT_UNKNOWN),
            "ce": repr(float(ce)),
            "le": repr(COT_UNKNOWN),
        },
    )
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": _text(f"LEAD {lead.id} {n}")})
    remarks = ET.SubElement(detail, "remarks")
    remarks.text = _text(_remarks(lead, site, label))
    return _DECLARATION + ET.tostring(event, encoding="unicode").encode("utf-8")


def _remarks(lead: ReleasableLead, site: ReleasableSite, label: str) -> str:
    lines = [label, lead.title, f"Observed: {site.observed}"]
    if site.advisory:
        lines.append(f"Advisory: {site.advisory}")
    if lead.recommended_action:
        lines.append(f"Recommended action: {lead.recommended_action}")
    lines.append(f"Lead: {lead.id}")
    return "\n".join(lines)


def _check_site(site: ReleasableSite) -> None:
    if not (math.isfinite(site.lat) and -90.0 <= site.lat <= 90.0):
        raise InvalidParameterError(f"site {site.uid}: latitude {site.lat!r} is out of range")
    if not (math.isfinite(site.lon) and -180.0 <= site.lon <= 180.0):
        raise InvalidParameterError(f"site {site.uid}: longitude {site.lon!r} is out of range")
    if site.uncertainty_m < 0:
        raise InvalidParameterError(
            f"site {site.uid}: uncertainty {site.uncertainty_m!r} m is negative"
        )


def _text(value: str) -> str:
    """Return ``value`` with characters XML 1.0 cannot hold replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", value)
