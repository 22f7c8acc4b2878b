"""GeoJSON feature collections (RFC 7946): plume outlines, sources, sites.

Writing
    :func:`write_geojson` writes a ``FeatureCollection`` atomically, one feature per line.
    Geometries are GeoJSON geometry mappings or objects with a ``__geo_interface__``
    (shapely geometries: the same mapping as :func:`shapely.geometry.mapping`).
    Coordinates, lon/lat in WGS84 (RFC 7946 section 4), are rounded to 7 decimals (about
    1 cm); numpy scalars and arrays become plain JSON and non-finite property values
    ``null``, so the file is strict JSON. Collection-level metadata goes into the foreign
    member ``"plumetrace"`` (RFC 7946 section 6.1).

Reading
    :func:`read_geojson` accepts a ``FeatureCollection``, a single ``Feature`` or a bare
    geometry and always returns a ``FeatureCollection`` dict whose features have the
    members ``type``, ``geometry``, ``properties`` (an object, ``{}`` if absent or null)
    and ``id`` if present. Coordinates are checked (nesting, finite numbers), not
    rounded. Foreign members of the collection are kept, those of features dropped.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import FormatError, InvalidParameterError
from plumetrace.io._atomic import atomic_write_bytes
from plumetrace.io.tables import read_json, to_jsonable

__all__ = ["FOREIGN_MEMBER", "GEOMETRY_TYPES", "geometry_shape", "read_geojson", "write_geojson"]

logger = logging.getLogger(__name__)

FOREIGN_MEMBER = "plumetrace"
"""Top-level member holding the collection's ``properties`` in written files."""

GEOMETRY_TYPES: Mapping[str, int] = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}
"""Geometry types with ``coordinates`` and the nesting depth of their arrays
(1: one position). ``GeometryCollection`` holds ``geometries`` instead."""

_DIGITS = 7  # decimals of written coordinates: 1e-7 degree is about 1 cm
_MAX_COLLECTION_DEPTH = 32  # GeometryCollections nested deeper are refused (RFC 7946 3.1.8)
_FEATURE_KEYS = frozenset({"type", "id", "geometry", "properties"})


class _GeoJSONError(ValueError):
    """A geometry or feature problem; the callers add where and raise their own error."""


# --------------------------------------------------------------------------- geometry


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _GeoJSONError(f"coordinate {value!r} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float's range
        raise _GeoJSONError("coordinate is a huge integer, not a finite number") from None
    if not math.isfinite(number):
        raise _GeoJSONError(f"coordinate {number} is not finite")
    return number


def _positions_fast(value: Any, digits: int | None) -> list[Any] | None:
    """Convert a long array of positions in numpy; None when it needs the careful path."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.dtype.kind not in "iuf":
        return None
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return None
    if digits is not None:
        arr = np.round(arr, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    out: list[Any] = arr.tolist()
    return out


def _coordinates(value: Any, depth: int, digits: int | None) -> list[Any]:
    """Check ``value`` as positions nested ``depth`` deep and return lists of floats."""
    if depth == 2 and isinstance(value, list | tuple | np.ndarray) and len(value) > 64:
        fast = _positions_fast(value, digits)
        if fast is not None:
            return fast
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        wanted = "a position [lon, lat]" if depth == 1 else "an array of positions or arrays"
        raise _GeoJSONError(f"expected {wanted}, got {type(value).__name__}")
    if depth > 1:
        return [_coordinates(item, depth - 1, digits) for item in value]
    if len(value) < 2:
        raise _GeoJSONError(f"a position needs at least 2 numbers (lon, lat), got {len(value)}")
    numbers = [_number(v) for v in value]
    if digits is None:
        return numbers
    return [round(v, digits) + 0.0 for v in numbers]  # + 0.0 turns -0.0 into 0.0


def _geometry(obj: Any, digits: int | None, depth: int = 0) -> dict[str, Any]:
    """Return a checked copy of a GeoJSON geometry (mapping or ``__geo_interface__``)."""
    if obj is None:
        raise _GeoJSONError("has no geometry")
    if not isinstance(obj, Mapping) and hasattr(obj, "__geo_interface__"):
        obj = obj.__geo_interface__
    if not isinstance(obj, Mapping):
        raise _GeoJSONError(f"geometry must be an object, got {type(obj).__name__}")
    kind = obj.get("type")
    if kind == "GeometryCollection":
        parts = obj.get("geometries")
        if not isinstance(parts, list | tuple):
            raise _GeoJSONError('GeometryCollection has no "geometries" array')
        if depth >= _MAX_COLLECTION_DEPTH:
            raise _GeoJSONError(
                f"GeometryCollections nested more than {_MAX_COLLECTION_DEPTH} deep"
            )
        return {
            "type": kind,
            "geometries": [_geometry(part, digits, depth + 1) for part in parts],
        }
    if not isinstance(kind, str) or kind not in GEOMETRY_TYPES:
        known = ", ".join([*GEOMETRY_TYPES, "GeometryCollection"])
        raise _GeoJSONError(f"geometry type {kind!r} is not one of {known}")
    coords = obj.get("coordinates")
    if isinstance(coords, list | tuple | np.ndarray) and len(coords) == 0:
        return {"type": kind, "coordinates": []}  # an empty geometry (RFC 7946 section 3.1)
    try:
        return {"type": kind, "coordinates": _coordinates(coords, GEOMETRY_TYPES[kind], digits)}
    except _GeoJSONError as exc:
        raise _GeoJSONError(f"{kind} coordinates: {exc}") from None


# --------------------------------------------------------------------------- write


def _jsonable(value: Any, member: str) -> Any:
    try:
        return to_jsonable(value)
    except InvalidParameterError as exc:
        raise _GeoJSONError(f"{member}: {exc}") from None


def _feature_text(feature: Any) -> str:
    """Return one feature as compact JSON (raise :class:`_GeoJSONError` if malformed)."""
    if not isinstance(feature, Mapping):
        raise _GeoJSONError(f"must be a mapping with a geometry, not a {type(feature).__name__}")
    unknown = sorted(str(k) for k in feature if k not in _FEATURE_KEYS)
    if unknown:
        raise _GeoJSONError(
            f"has an unknown member {', '.join(unknown)} (expected geometry, properties, id)"
        )
    if feature.get("type", "Feature") != "Feature":
        raise _GeoJSONError(f'type must be "Feature", got {feature["type"]!r}')
    out: dict[str, Any] = {"type": "Feature"}
    if "id" in feature:
        ident = _jsonable(feature["id"], "id")
        if isinstance(ident, bool) or not isinstance(ident, str | int | float):
            raise _GeoJSONError(f"id must be a string or a finite number, got {feature['id']!r}")
        out["id"] = ident
    out["geometry"] = _geometry(feature.get("geometry"), _DIGITS)
    props = feature.get("properties")
    if props is not None and not isinstance(props, Mapping):
        raise _GeoJSONError(f"properties must be a mapping, got {type(props).__name__}")
    out["properties"] = _jsonable(props, "properties") if props is not None else {}
    return json.dumps(out, ensure_ascii=False, allow_nan=False)


def write_geojson(
    path: str | Path,
    features: Sequence[Mapping[str, Any]],
    *,
    properties: Mapping[str, Any] | None = None,
) -> None:
    """Write ``features`` as a GeoJSON FeatureCollection, atomically.

    Parameters
    ----------
    path : str or Path
        Output ``.geojson``; an existing file is replaced only once the new one is
        complete.
    features : sequence of mapping
        Each with ``"geometry"``: a GeoJSON geometry mapping (lon, lat in degrees,
        WGS84; numpy arrays allowed) or a shapely geometry; ``"properties"``: a mapping
        of JSON-able values (numpy values converted, NaN and inf written as ``null``);
        optionally ``"id"`` (string or number) and ``"type": "Feature"``.
    properties : mapping or None
        Collection metadata, written as the foreign member ``"plumetrace"``.

    Raises
    ------
    InvalidParameterError
        Naming the feature (``features[i]``): a missing, unknown or malformed geometry,
        non-finite coordinates, an unknown member, or a value with no JSON form.
        Nothing is written.
    DataSourceError
        If the file cannot be written.
    """
    if isinstance(features, Mapping | str | bytes):
        raise InvalidParameterError(
            f"features must be a sequence of feature mappings, got {type(features).__name__}"
        )
    lines: list[str] = []
    for i, feature in enumerate(features):
        try:
            lines.append(_feature_text(feature))
        except _GeoJSONError as exc:
            raise InvalidParameterError(f"features[{i}] {exc}") from None
    head = ['"type": "FeatureCollection"']
    if properties is not None:
        if not isinstance(properties, Mapping):
            raise InvalidParameterError(
                f"properties must be a mapping, got {type(properties).__name__}"
            )
        meta = json.dumps(to_jsonable(properties), ensure_ascii=False, allow_nan=False)
        head.append(f'"{FOREIGN_MEMBER}": {meta}')
    body = ",\n".join(lines)
    text = "{" + ", ".join(head) + ', "features": [' + (f"\n{body}\n" if lines else "") + "]}\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    logger.debug("wrote %d features to %s", len(lines), path)


# --------------------------------------------------------------------------- read


def _read_feature(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict) or obj.get("type") != "Feature":
        got = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise _GeoJSONError(f"is not a Feature (type {got!r})")
    out: dict[str, Any] = {"type": "Feature"}
    if "id" in obj:
        out["id"] = obj["id"]
    out["geometry"] = _geometry(obj.get("geometry"), None)
    props = obj.get("properties")
    if props is not None and not isinstance(props, dict):
        raise _GeoJSONError(f"properties must be an object, got {type(props).__name__}")
    out["properties"] = props if props is not None else {}
    return out


def read_geojson(path: str | Path) -> dict[str, Any]:
    """Read a GeoJSON file as a FeatureCollection.

    Parameters
    ----------
    path : str or Path
        A ``FeatureCollection``, a ``Feature`` or a bare geometry (lon, lat in WGS84).

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}`` plus the collection's
        foreign members (e.g. ``"plumetrace"``). Each feature has ``type``,
        ``geometry``, ``properties`` (``{}`` if absent) and ``id`` if the file has one.

    Raises
    ------
    DataSourceError
        If the file is missing or cannot be read.
    FormatError
        With one line naming the file: invalid JSON (line and column), not GeoJSON
        (no or an unknown ``type``), or a feature (``features[i]``) without a geometry
        of a known type or with malformed coordinates.
    """
    p = Path(path)
    doc = read_json(p)
    if not isinstance(doc, dict):
        raise FormatError(p, f"not GeoJSON: the top level is a {type(doc).__name__}, not an object")
    if "type" not in doc:
        raise FormatError(p, 'not GeoJSON: no "type" member at the top level')
    kind = doc["type"]
    extra: dict[str, Any] = {}
    where: str | None = None  # how errors name the feature; None: by index
    if kind == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise FormatError(p, 'FeatureCollection has no "features" array')
        extra = {k: v for k, v in doc.items() if k not in ("type", "features")}
    elif kind == "Feature":
        items, where = [doc], "feature"
    elif kind == "GeometryCollection" or kind in GEOMETRY_TYPES:
        items, where = [{"type": "Feature", "geometry": doc, "properties": {}}], ""
    else:
        raise FormatError(p, f"not GeoJSON: unknown type {kind!r}")
    features: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            features.append(_read_feature(item))
        except _GeoJSONError as exc:
            label = f"features[{i}]" if where is None else where
            raise FormatError(p, f"{label} {exc}".strip()) from None
    return {"type": "FeatureCollection", **extra, "features": features}


def read_polygons(path: str | Path, what: str = "an area") -> Any:
    """Read the union of a GeoJSON file's polygons (lon/lat) as one shapely geometry.

    Parameters
    ----------
    path : str or Path
        A FeatureCollection, Feature or bare geometry.
    what : str
        What the polygons are for, used in error messages (e.g. ``"an AOI"``).

    Raises
    ------
    FormatError
        One line naming the file: a feature that is not a polygon, an invalid
        (e.g. self-intersecting) polygon, or no polygon at all.
    """
    import shapely

    p = Path(path)
    doc = read_geojson(p)
    geoms = []
    for i, feat in enumerate(doc["features"]):
        g = geometry_shape(feat["geometry"], p, f"features[{i}]")
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise FormatError(p, f"features[{i}] is a {g.geom_type}, not a polygon ({what})")
        if not g.is_valid:
            raise FormatError(
                p, f"features[{i}] is not a valid polygon: {shapely.is_valid_reason(g)}"
            )
        geoms.append(g)
    if not geoms:
        raise FormatError(p, f"no polygon ({what})")
    return shapely.union_all(geoms)


def geometry_shape(geometry: Mapping[str, Any], path: str | Path, label: str) -> Any:
    """Return the shapely geometry of a geometry :func:`read_geojson` checked.

    :func:`read_geojson` checks nesting and numbers; shapely refuses more (a ring of
    fewer than 4 positions, a line of one, positions of 2 and 3 numbers mixed).

    Raises
    ------
    FormatError
        Naming the file and ``label`` (e.g. ``features[3]``) when shapely refuses it.
    """
    import shapely.errors
    from shapely.geometry import shape

    try:
        return shape(geometry)
    except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
        problem = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise FormatError(Path(path), f"{label} is not a valid geometry: {problem}") from None
