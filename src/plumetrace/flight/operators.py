"""Operators and what they are authorized to fly over."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

__all__ = ["Operator"]


@dataclass(frozen=True)
class Operator:
    """One operator of the operators file.

    Attributes
    ----------
    id : str
        The key in the file (``[operator.<id>]``).
    name : str
        Human-readable name.
    authorized : tuple of str
        ISO 3166-1 alpha-3 codes and/or ``"international"``.
    exclude : shapely geometry or None
        No-fly areas (lon/lat) removed from the authorized airspace.
    include_extra : shapely geometry or None
        Areas (lon/lat) authorized in addition.
    """

    id: str
    name: str
    authorized: tuple[str, ...]
    exclude: BaseGeometry | None = None
    include_extra: BaseGeometry | None = None
