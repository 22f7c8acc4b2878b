"""What we know about a lead (:class:`InternalLead`) and what may leave (:class:`ReleasableLead`).

An internal lead carries everything an analyst sees, sources and methods included; it
never leaves the program. :func:`plumetrace.share.redact.redact` turns it into a
releasable lead under a partner's policy, and every partner format is rendered from the
releasable lead only, so what a format cannot be given it never holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "InternalLead",
    "LeadSite",
    "OrgRef",
    "PassRecord",
    "ReleasableLead",
    "ReleasableSite",
    "SourceReport",
    "site_uid",
]

_SITE_NS = uuid.UUID("6f3c2d1e-8a4b-5c6d-9e0f-1a2b3c4d5e6f")


def site_uid(site_id: str) -> str:
    """Return the opaque, stable identifier a partner sees for one of our sites.

    A name-based UUID (RFC 9562 version 5) of the internal id: the same site always gets
    the same uid (Cursor-on-Target ``uid``, GeoJSON ``id``), and the internal id does not
    leave.
    """
    return f"plumetrace-site-{uuid.uuid5(_SITE_NS, site_id)}"


@dataclass(frozen=True)
class PassRecord:
    """One pass (flight) over a lead's site.

    Attributes
    ----------
    flight_id : str
        Our flight identifier.
    time : datetime, UTC
        When the pass observed the site.
    detected : bool
        Whether it detected an emission.
    operator, platform, platform_kind, sensor, sensor_kind : str or None
        Who flew what with which instrument.
    methods : tuple of str
        Detection and quantification methods of its detections.
    track : str or None
        The flight's track or footprint (GeoJSON text).
    """

    flight_id: str
    time: datetime
    detected: bool
    operator: str | None = None
    platform: str | None = None
    platform_kind: str | None = None
    sensor: str | None = None
    sensor_kind: str | None = None
    methods: tuple[str, ...] = ()
    track: str | None = None


@dataclass(frozen=True)
class SourceReport:
    """A report from another source linked to the site (Admiralty graded)."""

    id: str
    time: datetime
    reliability: str
    credibility: int
    text: str


@dataclass(frozen=True)
class OrgRef:
    """An organization a site is attributed to, with its designations."""

    name: str
    confidence: float
    designations: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeadSite:
    """One site of a lead, with all its evidence (internal).

    Attributes
    ----------
    site_id : str
        Our site identifier.
    lat, lon : float, degrees (WGS84)
    uncertainty_m : float, m
        1-sigma position uncertainty.
    first_seen, last_seen : datetime or None, UTC
        Observation window.
    n_passes, n_passes_detected : int
        Passes that covered the site, and those that detected it.
    rate_kg_h, rate_lo_kg_h, rate_hi_kg_h : float or None, kg/h
        Emission rate estimate and its range.
    confidence : float
        Calibrated probability that the site is real (a method output: internal).
    gas : str
        The gas detected (``"ch4"``...).
    exposure : str or None
        Civilian exposure class.
    advisory : str or None
        Plain-language advisory for responders.
    passes, reports, organizations : tuples
        Provenance (sources and methods).
    attachments : tuple of str
        Evidence file names (raw imagery, chips).
    reviewers : tuple of str
        Names of the analysts who reviewed the site.
    notes : tuple of str
        Analysts' review notes (internal).
    """

    site_id: str
    lat: float
    lon: float
    uncertainty_m: float
    first_seen: datetime | None
    last_seen: datetime | None
    n_passes: int
    n_passes_detected: int
    rate_kg_h: float | None
    rate_lo_kg_h: float | None
    rate_hi_kg_h: float | None
    confidence: float
    gas: str = "ch4"
    exposure: str | None = None
    advisory: str | None = None
    passes: tuple[PassRecord, ...] = ()
    reports: tuple[SourceReport, ...] = ()
    organizations: tuple[OrgRef, ...] = ()
    attachments: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class InternalLead:
    """Everything we hold about a lead; never leaves the program.

    Attributes
    ----------
    id : str
        ``lead-…``.
    partner_id, partner_name : str
        Whom it is for.
    tlp : str
        TLP 2.0 level of the lead.
    title, summary, recommended_action : str
        The liaison's releasable text (scrubbed of withheld identifiers on release).
    internal_note : str
        Never released.
    drafted_by, approved_by : str or None
        User names (analyst category).
    drafted, released : datetime or None, UTC
    sites : tuple of LeadSite
    staff : tuple of str
        Names of all the program's users: none of them leaves unless the policy releases
        the ``analyst`` category (free text mentioning one is scrubbed).
    """

    id: str
    partner_id: str
    partner_name: str
    tlp: str
    title: str
    summary: str
    recommended_action: str
    internal_note: str
    drafted_by: str | None
    approved_by: str | None
    drafted: datetime
    released: datetime | None
    sites: tuple[LeadSite, ...]
    staff: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleasableSite:
    """One site as a partner may see it.

    Attributes
    ----------
    uid : str
        Opaque stable identifier (:func:`site_uid`).
    lat, lon : float, degrees; uncertainty_m : float, m
    first_seen, last_seen : datetime or None, UTC
    n_observations : int
        Passes that saw the emission.
    rate_lo_kg_h, rate_hi_kg_h : float or None, kg/h
        Estimated emission-rate range (two significant figures).
    gas : str
    observed : str
        What was observed, in releasable terms.
    exposure : str or None; advisory : str or None
    collection : tuple of str
        Collection details the policy releases (platform, sensor, tracks, methods).
    organizations : tuple of str
        Attribution lines, if released.
    source_reports : tuple of str
        Other-source reports, if released.
    imagery : tuple of str
        Evidence file names, if released.
    """

    uid: str
    lat: float
    lon: float
    uncertainty_m: float
    first_seen: datetime | None
    last_seen: datetime | None
    n_observations: int
    rate_lo_kg_h: float | None
    rate_hi_kg_h: float | None
    gas: str
    observed: str
    exposure: str | None
    advisory: str | None
    collection: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    source_reports: tuple[str, ...] = ()
    imagery: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleasableLead:
    """A lead as its partner may see it: the only input of every partner format.

    Attributes
    ----------
    id : str
        ``lead-…`` (shared with the partner, who quotes it in feedback).
    partner_id, partner_name : str
    producer : str
        Our name as the partner knows it.
    tlp : str
        TLP 2.0 level of the whole lead.
    field_tlp : dict of str to str
        Fields marked at a stricter level (STIX granular markings).
    title, summary, recommended_action : str
    released : datetime or None, UTC
        Release time (None on a preview).
    sites : tuple of ReleasableSite
    cot_stale_hours : float, h
    """

    id: str
    partner_id: str
    partner_name: str
    producer: str
    tlp: str
    title: str
    summary: str
    recommended_action: str
    released: datetime | None
    sites: tuple[ReleasableSite, ...]
    field_tlp: Mapping[str, str] = field(default_factory=dict)
    cot_stale_hours: float = 24.0

    def to_dict(self) -> dict[str, Any]:
        """Return the lead as plain JSON types (times ISO 8601 UTC)."""
        out = asdict(self)
        out["field_tlp"] = dict(self.field_tlp)
        out["released"] = _iso(self.released)
        out["sites"] = list(out["sites"])
        for s in out["sites"]:
            s["first_seen"] = _iso(s["first_seen"])
            s["last_seen"] = _iso(s["last_seen"])
            for key in ("collection", "organizations", "source_reports", "imagery"):
                s[key] = list(s[key])
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleasableLead:
        """Rebuild a lead from :meth:`to_dict`'s output (the frozen release)."""
        sites = tuple(
            ReleasableSite(
                **{
                    **s,
                    "first_seen": _time(s["first_seen"]),
                    "last_seen": _time(s["last_seen"]),
                    **{
                        k: tuple(s[k])
                        for k in ("collection", "organizations", "source_reports", "imagery")
                    },
                }
            )
            for s in data["sites"]
        )
        return cls(
            **{
                **data,
                "released": _time(data["released"]),
                "sites": sites,
                "field_tlp": dict(data["field_tlp"]),
            }
        )


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))
