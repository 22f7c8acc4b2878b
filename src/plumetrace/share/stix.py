"""A releasable lead as a STIX 2.1 bundle, built with the OASIS ``stix2`` library.

Objects: our Identity and the partner's, the TLP 2.0 marking definitions used, and per
site a Location (``precision`` = uncertainty, m), an Indicator, a Sighting of it at the
Location (``first_seen``/``last_seen`` = observation window, ``count`` = passes that saw
the emission), a Relationship (indicator ``related-to`` location), a Note with the
civilian-context advisory, and where released, Notes for collection details, other-source
reports and evidence files, and Threat Actors (``indicates`` relationships) for attributed
organizations; one Note with the recommended action, and a Report that groups them all.

Every object carries the lead's TLP marking; fields the policy marks stricter carry
granular markings (``field_tlp``). Identifiers are UUIDv4-form hashes of the lead and site,
so exporting a lead twice gives the same objects. :func:`prune_references` is the last
step of every bundle: no reference points at an object the bundle does not hold.

The Indicator's pattern names the site by its opaque uid in a custom observable type
(``x-plumetrace-emission-site``): STIX patterns have no geographic test, so the geometry
is carried by the Location and the Sighting.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import stix2

from plumetrace.share.lead import ReleasableLead, ReleasableSite
from plumetrace.share.markings import TLP_IDS, stricter, tlp_marking

__all__ = ["lead_bundle", "lead_objects", "prune_references"]

_NS = uuid.UUID("0d7c8e3a-5b2f-5f4e-8c1d-2a3b4c5d6e7f")
_FIXED = datetime(2026, 1, 1, tzinfo=UTC)  # creation time of the two identities


def _id(kind: str, *parts: str) -> str:
    """Return a STIX id of ``kind`` derived from ``parts``, in UUIDv4 form.

    STIX 2.1 asks for version-4 identifiers on domain objects; a hash of the (random)
    lead id and the object's role, with the version bits set, is one, and the same
    lead exports to the same ids.
    """
    digest = hashlib.sha256("/".join((str(_NS), kind, *parts)).encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def _dump(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(obj.serialize())
    return out


class _Builder:
    """Collects the objects of one lead with their markings."""

    def __init__(self, lead: ReleasableLead, now: datetime) -> None:
        self.lead = lead
        self.now = now
        self.objects: list[dict[str, Any]] = []
        self.levels = {lead.tlp}
        self.us = _id("identity", "producer", lead.producer)
        self.partner = _id("identity", "partner", lead.partner_id)

    def granular(self, fields: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Return granular markings for the fields (field -> selectors) marked stricter."""
        out = []
        for name, selectors in fields.items():
            level = self.lead.field_tlp.get(name)
            if level is None or stricter(level, self.lead.tlp) == self.lead.tlp:
                continue
            self.levels.add(level)
            out.append({"marking_ref": TLP_IDS[level], "selectors": selectors})
        return out

    def add(
        self, cls: type[Any], field_selectors: dict[str, list[str]] | None = None, **kw: Any
    ) -> str:
        """Build one object with the common properties; return its id."""
        kw.setdefault("created", self.now)
        kw.setdefault("modified", kw["created"])
        kw.setdefault("created_by_ref", self.us)
        kw["object_marking_refs"] = [TLP_IDS[self.lead.tlp]]
        granular = self.granular(field_selectors or {})
        if granular:
            kw["granular_markings"] = granular
        obj = cls(**kw)
        self.objects.append(_dump(obj))
        return str(obj.id)

    def note(self, key: str, field: str, abstract: str, content: str, refs: list[str]) -> str:
        return self.add(
            stix2.Note,
            {field: ["content"]},
            id=_id("note", self.lead.id, key),
            abstract=abstract,
            content=content,
            object_refs=refs,
        )

    def site(self, n: int, site: ReleasableSite) -> list[str]:
        lead, uid = self.lead, site.uid
        first = site.first_seen or lead.released or self.now
        last = site.last_seen or first
        loc = self.add(
            stix2.Location,
            id=_id("location", lead.id, uid),
            name=f"{lead.title} — site {n}",
            latitude=site.lat,
            longitude=site.lon,
            precision=max(site.uncertainty_m, 0.0),
        )
        ind = self.add(
            stix2.Indicator,
            {"observed": ["description"]},
            id=_id("indicator", lead.id, uid),
            name=f"Suspected production site {n} ({lead.id})",
            description=site.observed,
            indicator_types=["anomalous-activity"],
            pattern=f"[x-plumetrace-emission-site:uid = '{uid}']",
            pattern_type="stix",
            valid_from=first,
        )
        refs = [loc, ind]
        refs.append(
            self.add(
                stix2.Sighting,
                id=_id("sighting", lead.id, uid),
                sighting_of_ref=ind,
                where_sighted_refs=[loc],
                first_seen=first,
                last_seen=max(last, first),
                count=max(site.n_observations, 0),
            )
        )
        refs.append(
            self.add(
                stix2.Relationship,
                id=_id("relationship", lead.id, uid, "located"),
                relationship_type="related-to",
                source_ref=ind,
                target_ref=loc,
            )
        )
        advisory = site.advisory or "No civilian-context assessment is available."
        exposure = f"Civilian exposure: {site.exposure}. " if site.exposure else ""
        refs.append(
            self.note(
                f"{uid}/advisory", "advisory", "Civilian context", exposure + advisory, [loc, ind]
            )
        )
        for key, abstract, lines in (
            ("collection", "Collection details", site.collection),
            ("source_reports", "Reports from other sources", site.source_reports),
            ("imagery", "Evidence files", site.imagery),
        ):
            if lines:
                refs.append(self.note(f"{uid}/{key}", key, abstract, "\n".join(lines), [ind]))
        for org in site.organizations:
            name = org.split(" (confidence", 1)[0]
            actor = self.add(
                stix2.ThreatActor,
                {"organizations": ["name", "description"]},
                id=_id("threat-actor", lead.id, name),
                name=name,
                description=org,
                threat_actor_types=["crime-syndicate"],
            )
            rel = self.add(
                stix2.Relationship,
                id=_id("relationship", lead.id, uid, "indicates", name),
                relationship_type="indicates",
                source_ref=ind,
                target_ref=actor,
            )
            refs += [actor, rel]
        return refs


def lead_objects(lead: ReleasableLead, now: datetime | None = None) -> list[dict[str, Any]]:
    """Return the STIX 2.1 objects of a lead (plain JSON dicts), references pruned.

    Parameters
    ----------
    lead : ReleasableLead
        What the partner may have.
    now : datetime, optional
        Creation time of the lead's objects; default the release time, else now.
    """
    t = now or lead.released or datetime.now(UTC)
    b = _Builder(lead, t)
    for ident, name, cls, sectors in (
        (b.us, lead.producer, "organization", None),
        (b.partner, lead.partner_name, "organization", ["government-national"]),
    ):
        kw: dict[str, Any] = {"sectors": sectors} if sectors else {}
        b.objects.append(
            _dump(
                stix2.Identity(
                    id=ident,
                    name=name,
                    identity_class=cls,
                    created=_FIXED,
                    modified=_FIXED,
                    object_marking_refs=[TLP_IDS[lead.tlp]],
                    **kw,
                )
            )
        )
    refs = [b.us, b.partner]
    for n, site in enumerate(lead.sites, start=1):
        refs += b.site(n, site)
    if lead.recommended_action:
        refs.append(
            b.note(
                "action",
                "recommended_action",
                "Recommended action",
                lead.recommended_action,
                refs[2:] or [b.partner],
            )
        )
    b.add(
        stix2.Report,
        {"summary": ["description"]},
        id=_id("report", lead.id),
        name=f"{lead.title} ({lead.id})",
        description=lead.summary or lead.title,
        report_types=["threat-report"],
        published=t,
        object_refs=refs,
    )
    markings = [tlp_marking(level) for level in sorted(b.levels)]
    return prune_references(markings + b.objects)


def lead_bundle(lead: ReleasableLead, now: datetime | None = None) -> dict[str, Any]:
    """Return the lead as a STIX 2.1 bundle (a JSON dict) for export or TAXII."""
    objects = lead_objects(lead, now)
    stamp = (now or lead.released or datetime.now(UTC)).isoformat()
    return {"type": "bundle", "id": _id("bundle", lead.id, stamp), "objects": objects}


_REQUIRED = {
    "relationship": ("source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "note": ("object_refs",),
    "report": ("object_refs",),
    "grouping": ("object_refs",),
    "opinion": ("object_refs",),
    "observed-data": ("object_refs",),
}


def _prune_once(objects: list[dict[str, Any]], present: set[str]) -> list[dict[str, Any]]:
    out = []
    for obj in objects:
        o = dict(obj)
        for key in list(o):
            if key.endswith("_refs") and isinstance(o[key], list):
                kept = [r for r in o[key] if r in present]
                if kept:
                    o[key] = kept
                else:
                    del o[key]
            elif key.endswith("_ref") and isinstance(o[key], str) and o[key] not in present:
                del o[key]
        if "granular_markings" in o:
            gm = [g for g in o["granular_markings"] if g.get("marking_ref") in present]
            if gm:
                o["granular_markings"] = gm
            else:
                del o["granular_markings"]
        if all(k in o for k in _REQUIRED.get(o["type"], ())):
            out.append(o)
    return out


def prune_references(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Remove every reference to an object not in ``objects``, and what it leaves invalid.

    A list of references loses the missing ones (and disappears if none remain); an
    optional single reference is dropped; an object whose required references are gone
    (a relationship without an end, a sighting of nothing, a note or report about
    nothing) is dropped, which may in turn prune references to it, until nothing changes.

    Parameters
    ----------
    objects : iterable of dict
        STIX 2.1 objects as JSON dicts.

    Returns
    -------
    list of dict
        The objects, in order, with no dangling reference.
    """
    objs = list(objects)
    while True:
        present = {o["id"] for o in objs}
        pruned = _prune_once(objs, present)
        if pruned == objs:
            return pruned
        objs = pruned
