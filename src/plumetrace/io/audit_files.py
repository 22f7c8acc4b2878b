"""An audit's files as the store keeps them: ``REPORT.json`` and ``REPORT.geojson``.

``plumetrace audit TRACK --out REPORT.json`` writes both; the store keeps the report and
the map features (the simplified track, each incursion's segment, the deepest points).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from plumetrace.errors import FormatError
from plumetrace.io.evidence import file_digest
from plumetrace.io.geojson import geometry_shape, read_geojson
from plumetrace.io.tables import read_json

__all__ = ["AuditRecord", "read_audit"]

_KEYS = ("operator", "incursions", "total_unauthorized_s")


@dataclass(frozen=True)
class AuditRecord:
    """A track audit read back.

    Attributes
    ----------
    report : dict
        ``REPORT.json`` (operator, incursions with zone, times, duration_s, max_depth_m).
    features : list of dict
        ``REPORT.geojson``'s features (lon/lat).
    bbox : tuple of float
        (west, south, east, north) of the features, degrees.
    digest : str
        SHA-256 of the report file (the audit's identity).
    """

    report: dict[str, Any]
    features: list[dict[str, Any]]
    bbox: tuple[float, float, float, float]
    digest: str


def read_audit(path: str | Path) -> AuditRecord:
    """Read ``REPORT.json`` and the ``REPORT.geojson`` beside it.

    Raises
    ------
    FormatError
        Not an audit report, or its GeoJSON is missing or holds no track.
    DataSourceError
        Unreadable files.
    """
    p = Path(path)
    report = read_json(p)
    if not isinstance(report, dict) or any(k not in report for k in _KEYS):
        raise FormatError(p, f"not an audit report (needs {', '.join(_KEYS)})")
    geo = p.with_suffix(".geojson")
    if not geo.exists():
        raise FormatError(p, f"its map features {geo.name} are missing (audit writes both)")
    features = read_geojson(geo)["features"]
    if not any(f["properties"].get("kind") == "track" for f in features):
        raise FormatError(geo, "no track feature: is this an audit's GeoJSON?")
    bounds = shapely.total_bounds(
        [geometry_shape(f["geometry"], geo, f"features[{i}]") for i, f in enumerate(features)]
    )
    return AuditRecord(
        report=report,
        features=features,
        bbox=(float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3])),
        digest=file_digest(p),
    )
