"""Traffic Light Protocol 2.0 markings as STIX 2.1 marking definitions.

The five marking-definition objects are the ones the OASIS CTI TC published for TLP 2.0
(``oasis-open/cti-stix-common-objects``, ``extension-definition-specifications/tlp-2.0``):
their identifiers and creation time are fixed by that publication, so consumers can
recognise them by ``id``; each declares itself through the TLP 2.0 property extension.
TLP 2.0 itself is FIRST's standard (https://www.first.org/tlp/).
"""

from __future__ import annotations

from typing import Any

from plumetrace.errors import InvalidParameterError

__all__ = [
    "TLP_EXTENSION_ID",
    "TLP_IDS",
    "TLP_LEVELS",
    "parse_tlp",
    "stricter",
    "tlp_label",
    "tlp_marking",
]

TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
"""TLP 2.0 levels, from the least to the most restrictive."""

TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
"""The OASIS TLP 2.0 property extension every marking below declares."""

TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The official marking-definition id of each level."""

_CREATED = "2022-10-01T00:00:00.000Z"


def parse_tlp(value: str) -> str:
    """Return the TLP 2.0 level ``value`` names (``"AMBER+STRICT"``, ``"TLP:red"`` ...).

    Raises
    ------
    InvalidParameterError
        If it is not a TLP 2.0 level (TLP 1.0's WHITE included: TLP 2.0 calls it CLEAR).
    """
    level = str(value).strip().lower().removeprefix("tlp:")
    if level not in TLP_IDS:
        raise InvalidParameterError(
            f"unknown TLP level {value!r}; use one of {', '.join(t.upper() for t in TLP_LEVELS)}"
        )
    return level


def tlp_label(level: str) -> str:
    """Return the level's label as TLP 2.0 writes it, e.g. ``"TLP:AMBER+STRICT"``."""
    return f"TLP:{parse_tlp(level).upper()}"


def stricter(a: str, b: str) -> str:
    """Return the more restrictive of two levels."""
    la, lb = parse_tlp(a), parse_tlp(b)
    return la if TLP_LEVELS.index(la) >= TLP_LEVELS.index(lb) else lb


def tlp_marking(level: str) -> dict[str, Any]:
    """Return the official STIX 2.1 marking-definition object of a TLP 2.0 level."""
    lvl = parse_tlp(level)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[lvl],
        "created": _CREATED,
        "name": tlp_label(lvl),
        "extensions": {TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": lvl}},
    }
