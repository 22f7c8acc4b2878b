"""A partner's release policy: what may leave, at which marking, and the response timeline.

Sources and methods are withheld by default: every category in :data:`CATEGORIES` stays
home unless the partner's policy lists it under ``release``. A policy may also mark single
fields at a stricter TLP than the lead (STIX granular markings), and sets the timeline
against which unanswered leads count as overdue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from plumetrace.errors import InvalidParameterError
from plumetrace.share.markings import parse_tlp

__all__ = ["CATEGORIES", "FIELDS", "ReleasePolicy", "Timeline"]

CATEGORIES = {
    "platform": "aircraft and drone identities and types, and their operators",
    "sensor": "sensor identities and types",
    "flight_track": "flight identifiers, tracks and footprints",
    "method": "detection and quantification methods and their scores",
    "analyst": "names of analysts, supervisors and liaisons",
    "imagery": "raw imagery and evidence files",
    "internal": "anything marked for internal use (internal notes, internal identifiers)",
    "reports": "reports from other sources: their text and grading",
    "attribution": "organizations the sites are attributed to, and their designations",
}
"""Withholdable categories and what each covers; all are withheld unless released."""

FIELDS = (
    "summary",
    "observed",
    "advisory",
    "recommended_action",
    "collection",
    "organizations",
    "source_reports",
    "imagery",
)
"""Releasable fields a policy may mark at a stricter TLP than the lead's."""


@dataclass(frozen=True)
class Timeline:
    """How long a partner has before a lead counts as overdue at each step.

    Attributes
    ----------
    acknowledge_days, feedback_days, verify_days : float, days
        From release to acknowledgement, to substantive feedback, and from the partner's
        action to a verifying re-survey.
    """

    acknowledge_days: float = 3.0
    feedback_days: float = 30.0
    verify_days: float = 60.0

    def __post_init__(self) -> None:
        for name in ("acknowledge_days", "feedback_days", "verify_days"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise InvalidParameterError(f"timeline {name} must be a positive number of days")


@dataclass(frozen=True)
class ReleasePolicy:
    """What one partner may receive.

    Attributes
    ----------
    tlp : str
        Default TLP 2.0 level of its leads (``"amber"`` unless set).
    release : frozenset of str
        Categories of :data:`CATEGORIES` released to this partner (default none).
    field_tlp : dict of str to str
        Fields of :data:`FIELDS` marked at a stricter level than the lead.
    timeline : Timeline
        Response deadlines.
    cot_stale_hours : float, h
        How long a Cursor-on-Target event stays valid (its ``stale`` time).
    """

    tlp: str = "amber"
    release: frozenset[str] = frozenset()
    field_tlp: Mapping[str, str] = field(default_factory=dict)
    timeline: Timeline = field(default_factory=Timeline)
    cot_stale_hours: float = 24.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tlp", parse_tlp(self.tlp))
        unknown = sorted(set(self.release) - set(CATEGORIES))
        if unknown:
            raise InvalidParameterError(
                f"unknown release categories {unknown}; they are {', '.join(CATEGORIES)}"
            )
        object.__setattr__(self, "release", frozenset(self.release))
        bad = sorted(set(self.field_tlp) - set(FIELDS))
        if bad:
            raise InvalidParameterError(f"unknown fields {bad} in field_tlp; they are {FIELDS}")
        object.__setattr__(
            self, "field_tlp", {k: parse_tlp(v) for k, v in sorted(self.field_tlp.items())}
        )
        if not (isinstance(self.cot_stale_hours, int | float) and self.cot_stale_hours > 0):
            raise InvalidParameterError("cot_stale_hours must be a positive number of hours")

    def releases(self, category: str) -> bool:
        """Return True if ``category`` is released to this partner."""
        if category not in CATEGORIES:
            raise InvalidParameterError(f"unknown category {category!r}")
        return category in self.release

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as plain JSON types (the ``policy`` table of a partner file)."""
        return {
            "tlp": self.tlp,
            "release": sorted(self.release),
            "field_tlp": dict(self.field_tlp),
            "timeline": {
                "acknowledge_days": self.timeline.acknowledge_days,
                "feedback_days": self.timeline.feedback_days,
                "verify_days": self.timeline.verify_days,
            },
            "cot_stale_hours": self.cot_stale_hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleasePolicy:
        """Build a policy from :meth:`to_dict`'s shape (every key optional).

        Raises
        ------
        InvalidParameterError
            On an unknown key or a bad value; the message names it.
        """
        known = {"tlp", "release", "field_tlp", "timeline", "cot_stale_hours"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParameterError(f"unknown policy keys {unknown}; known: {sorted(known)}")
        release = data.get("release", [])
        if not isinstance(release, list | tuple | frozenset | set) or not all(
            isinstance(c, str) for c in release
        ):
            raise InvalidParameterError("policy release must be a list of category names")
        field_tlp = data.get("field_tlp", {})
        if not isinstance(field_tlp, Mapping):
            raise InvalidParameterError("policy field_tlp must be a table of field = level")
        timeline = data.get("timeline", {})
        if not isinstance(timeline, Mapping):
            raise InvalidParameterError("policy timeline must be a table")
        t_unknown = sorted(set(timeline) - {"acknowledge_days", "feedback_days", "verify_days"})
        if t_unknown:
            raise InvalidParameterError(f"unknown timeline keys {t_unknown}")
        return cls(
            tlp=str(data.get("tlp", "amber")),
            release=frozenset(release),
            field_tlp=dict(field_tlp),
            timeline=Timeline(**timeline),
            cot_stale_hours=data.get("cot_stale_hours", 24.0),
        )
