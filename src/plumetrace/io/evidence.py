"""Evidence files for the store: detection files, coverage footprints, reports.

* detections: a ``plumes.geojson`` (each feature's ``source_lat``/``source_lon``,
  ``source_uncertainty_m``, ``flux_kg_h`` …) or a ``locate`` RESULT.json (``lat``/``lon``,
  ``position_ci68_m``, ``rate_kg_h`` …);
* coverage: a GeoJSON polygon (what a pass looked at);
* reports: ``{"id","time","lat","lon","uncertainty_m","source_reliability","credibility",
  "text","organization"}``.

Every problem is a :class:`~plumetrace.errors.FormatError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plumetrace.errors import DataSourceError, FormatError, InvalidParameterError
from plumetrace.io.geojson import read_polygons
from plumetrace.io.tables import read_json

__all__ = [
    "DetectionRecord",
    "ReportRecord",
    "file_digest",
    "parse_report",
    "parse_time",
    "parse_time_option",
    "read_coverage",
    "read_detections",
    "read_report",
]


@dataclass(frozen=True)
class DetectionRecord:
    """One detection as read from a file (units: deg, m, kg/h).

    Attributes
    ----------
    key : str
        Stable key within the file (plume id or ``"result"``): with the flight it makes
        the detection's identifier, so ingesting a file twice changes nothing.
    kind : str
        ``"plume"`` or ``"insitu"``.
    lat, lon : float, deg
    uncertainty_m : float, m
        1-sigma radius of the source position.
    rate_kg_h, rate_lo_kg_h, rate_hi_kg_h : float or None, kg/h
        Estimate and 68 % interval.
    score : float or None
        The detection's own confidence in [0, 1], if it has one.
    gas : str
    properties : dict
        The feature's remaining fields, kept as evidence.
    """

    key: str
    kind: str
    lat: float
    lon: float
    uncertainty_m: float
    rate_kg_h: float | None
    rate_lo_kg_h: float | None
    rate_hi_kg_h: float | None
    score: float | None
    gas: str = "ch4"
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportRecord:
    """A report from another source (see module docstring)."""

    id: str
    time: datetime
    lat: float
    lon: float
    uncertainty_m: float
    source_reliability: str
    credibility: int
    text: str
    organization: str | None
    digest: str


def file_digest(path: Path) -> str:
    """Return the SHA-256 (hex) of a file's bytes."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise DataSourceError(path, f"cannot be read: {exc.strerror or exc}") from None


def parse_time(text: str, where: str = "time") -> datetime:
    """Parse an ISO 8601 time; a time without a zone is UTC. Raises ValueError."""
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{text.strip()[:40]!r} is out of the range of dates") from None


def parse_time_option(text: str, name: str = "time") -> datetime:
    """Parse a time given as an option or form field; a bad one is one clear error.

    Raises
    ------
    InvalidParameterError
        If ``text`` is not ISO 8601 (``name`` says which value).
    """
    try:
        return parse_time(text)
    except ValueError:
        raise InvalidParameterError(
            f"{name} {text!r} is not ISO 8601 (e.g. 2026-05-01T17:00Z)"
        ) from None


def _num(path: Path, where: str, value: Any, *, positive: bool = False) -> float:
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float's range
            raise FormatError(
                path, f"{where} must be a finite number, got a huge integer"
            ) from None
    if not math.isfinite(number):
        raise FormatError(path, f"{where} must be a finite number, got {_show(value)}")
    if positive and number <= 0:
        raise FormatError(path, f"{where} must be > 0, got {value!r}")
    return number


def _show(value: Any) -> str:
    """``repr`` of a value from a document, cut short (and safe for huge integers)."""
    try:
        text = repr(value)
    except ValueError:  # an integer beyond int->str's digit limit
        return "a huge integer"
    return text if len(text) <= 60 else text[:60] + "…"


def _opt(path: Path, where: str, value: Any) -> float | None:
    return None if value is None else _num(path, where, value)


def _latlon(path: Path, where: str, lat: Any, lon: Any) -> tuple[float, float]:
    la = _num(path, f"{where} lat", lat)
    lo = _num(path, f"{where} lon", lon)
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise FormatError(path, f"{where} position ({la}, {lo}) is not a WGS84 lat, lon")
    return la, lo


def _interval(path: Path, where: str, value: Any) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    if not isinstance(value, list) or len(value) != 2:
        raise FormatError(path, f"{where} must be [lo, hi], got {value!r}")
    return _num(path, where, value[0]), _num(path, where, value[1])


def _plumes(path: Path, doc: dict[str, Any]) -> list[DetectionRecord]:
    out: list[DetectionRecord] = []
    for i, feat in enumerate(doc["features"]):
        p = feat["properties"]
        where = f"features[{i}]"
        for key in ("source_lat", "source_lon", "source_uncertainty_m", "flux_kg_h"):
            if key not in p:
                raise FormatError(path, f"{where} has no {key!r}: is this a plumes.geojson?")
        lat, lon = _latlon(path, where, p["source_lat"], p["source_lon"])
        rate = _opt(path, f"{where} flux_kg_h", p["flux_kg_h"])
        lo, hi = _interval(path, f"{where} flux_kg_h_ci68", p.get("flux_kg_h_ci68"))
        if lo is None and rate is not None and p.get("flux_kg_h_sigma") is not None:
            sigma = _num(path, f"{where} flux_kg_h_sigma", p["flux_kg_h_sigma"])
            lo, hi = max(rate - sigma, 0.0), rate + sigma
        score = _opt(path, f"{where} confidence", p.get("confidence"))
        key = str(p.get("id", feat.get("id", i)))
        keep = {k: v for k, v in p.items() if k not in ("source_lat", "source_lon")}
        geometry = feat.get("geometry")
        if isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon"):
            keep["outline"] = geometry  # the plume's outline, for the map
        out.append(
            DetectionRecord(
                key=key,
                kind="plume",
                lat=lat,
                lon=lon,
                uncertainty_m=_num(
                    path, f"{where} source_uncertainty_m", p["source_uncertainty_m"], positive=True
                ),
                rate_kg_h=rate,
                rate_lo_kg_h=lo,
                rate_hi_kg_h=hi,
                score=None if score is None else min(max(score, 0.0), 1.0),
                gas=str(p.get("gas", "ch4")),
                properties=keep,
            )
        )
    return out


def _locate(path: Path, doc: dict[str, Any]) -> list[DetectionRecord]:
    if "lat" not in doc or "lon" not in doc:
        raise FormatError(path, "a locate result without lat/lon: run locate with --origin LAT,LON")
    lat, lon = _latlon(path, "result", doc["lat"], doc["lon"])
    lo, hi = _interval(path, "rate_kg_h_ci68", doc.get("rate_kg_h_ci68"))
    # position_ci68_m is a 68 % radius; for a 2-D Gaussian r68 = 1.51 sigma
    r68 = _num(path, "position_ci68_m", doc.get("position_ci68_m"), positive=True)
    keep = {k: v for k, v in doc.items() if k not in ("lat", "lon")}
    return [
        DetectionRecord(
            key="result",
            kind="insitu",
            lat=lat,
            lon=lon,
            uncertainty_m=r68 / 1.51,
            rate_kg_h=_opt(path, "rate_kg_h", doc.get("rate_kg_h")),
            rate_lo_kg_h=lo,
            rate_hi_kg_h=hi,
            score=None,
            gas=str(doc.get("gas") or "ch4"),
            properties=keep,
        )
    ]


def _features(path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Return the features of a parsed GeoJSON document, each with a properties object.

    Only the properties are used (the source position is a property), so geometries
    are not validated here.
    """
    items = [doc] if doc["type"] == "Feature" else doc.get("features")
    if not isinstance(items, list):
        raise FormatError(path, 'FeatureCollection has no "features" array')
    for i, f in enumerate(items):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise FormatError(path, f"features[{i}] is not a Feature")
        props = f.get("properties")
        if props is None:
            f["properties"] = {}
        elif not isinstance(props, dict):
            raise FormatError(path, f"features[{i}] properties must be an object")
    return {"features": items}


def read_detections(path: str | Path) -> list[DetectionRecord]:
    """Read a ``plumes.geojson`` or a ``locate`` RESULT.json as detection records.

    Raises
    ------
    FormatError
        One line naming the file: neither format, or a field missing or out of range.
    """
    p = Path(path)
    raw = read_json(p)
    if isinstance(raw, dict) and raw.get("type") in ("FeatureCollection", "Feature"):
        return _plumes(p, _features(p, raw))
    if isinstance(raw, dict) and "rate_kg_h" in raw and "position_ci68_m" in raw:
        return _locate(p, raw)
    raise FormatError(p, "neither a plumes.geojson nor a locate RESULT.json")


def read_coverage(path: str | Path) -> Any:
    """Read a coverage footprint (GeoJSON polygons, lon/lat) as one shapely geometry."""
    return read_polygons(path, "a coverage footprint")


_REPORT_KEYS = ("id", "time", "lat", "lon", "uncertainty_m", "source_reliability", "credibility")


def read_report(path: str | Path) -> ReportRecord:
    """Read a report JSON (see module docstring).

    Raises
    ------
    FormatError
        One line naming the file and the field at fault.
    """
    p = Path(path)
    return parse_report(read_json(p), p)


def parse_report(doc: Any, where: Path | str) -> ReportRecord:
    """Validate a report already parsed from JSON; ``p`` names it in errors.

    Raises
    ------
    FormatError
        One line naming ``where`` and the field at fault.
    """
    p = Path(where)
    if not isinstance(doc, dict):
        raise FormatError(p, "a report must be a JSON object")
    missing = [k for k in _REPORT_KEYS if k not in doc]
    if missing:
        raise FormatError(p, f"report has no {', '.join(repr(k) for k in missing)}")
    rid = doc["id"]
    if not isinstance(rid, str) or not rid.strip() or len(rid) > 64:
        raise FormatError(p, f"id must be a non-empty string of <= 64 characters, got {rid!r}")
    try:
        t = parse_time(str(doc["time"]))
    except ValueError:
        raise FormatError(p, f"time {doc['time']!r} is not ISO 8601") from None
    lat, lon = _latlon(p, "report", doc["lat"], doc["lon"])
    rel = doc["source_reliability"]
    if rel not in ("A", "B", "C", "D", "E", "F"):
        raise FormatError(p, f"source_reliability must be A-F, got {rel!r}")
    cred = doc["credibility"]
    if isinstance(cred, bool) or cred not in (1, 2, 3, 4, 5, 6):
        raise FormatError(p, f"credibility must be an integer 1-6, got {cred!r}")
    org = doc.get("organization")
    if org is not None and (not isinstance(org, str) or not org.strip()):
        raise FormatError(p, f"organization must be a name or null, got {org!r}")
    text = doc.get("text") or ""
    if not isinstance(text, str):
        raise FormatError(p, "text must be a string")
    canonical = repr(sorted((k, repr(v)) for k, v in doc.items()))
    return ReportRecord(
        id=rid.strip(),
        time=t,
        lat=lat,
        lon=lon,
        uncertainty_m=_num(p, "uncertainty_m", doc["uncertainty_m"], positive=True),
        source_reliability=rel,
        credibility=int(cred),
        text=text,
        organization=org.strip() if org else None,
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
    )
