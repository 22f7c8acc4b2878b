"""Checks every STIX bundle of the test suite goes through."""

from __future__ import annotations

import json
from typing import Any

from stix2validator import ValidationOptions, validate_string

_OPTIONS = ValidationOptions(version="2.1")


def refs_of(obj: dict[str, Any]) -> list[str]:
    """Return every reference an object makes (``*_ref``, ``*_refs``, granular markings)."""
    out: list[str] = []
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            out.append(value)
        elif key.endswith("_refs") and isinstance(value, list):
            out += value
    out += [g["marking_ref"] for g in obj.get("granular_markings", [])]
    return out


def check_bundle(bundle: dict[str, Any]) -> None:
    """Assert the OASIS validator finds no error and no reference dangles."""
    result = validate_string(json.dumps(bundle), _OPTIONS)
    errors = [str(e) for e in result.errors]
    assert result.is_valid, errors
    ids = {o["id"] for o in bundle["objects"]}
    assert len(ids) == len(bundle["objects"]), "duplicate ids"
    for obj in bundle["objects"]:
        for ref in refs_of(obj):
            assert ref in ids, f"{obj['id']} points at missing {ref}"
