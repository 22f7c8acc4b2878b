"""Authoritative maritime limits (e.g. Marine Regions' 12 nm territorial seas).

GeoJSON, Shapefile or GeoPackage polygons, one or more per country, with a country code
in an attribute: ``--code-field`` names it, else the first of ``ISO_TER1``, ``ISO_SOV1``,
``iso_a3``, ``ISO_A3``, ``code`` holding an alpha-3 code. Polygons of one code are merged.
Shapefiles and GeoPackages are read with pyogrio (GDAL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from plumetrace.errors import DataSourceError, FormatError
from plumetrace.io.geojson import geometry_shape, read_geojson

__all__ = ["CODE_FIELDS", "read_maritime_limits"]

CODE_FIELDS = ("ISO_TER1", "ISO_SOV1", "iso_a3", "ISO_A3", "code")


def _records(path: Path) -> list[tuple[dict[str, Any], BaseGeometry]]:
    ext = path.suffix.lower()
    if ext in (".geojson", ".json"):
        doc = read_geojson(path)
        return [
            (f.get("properties") or {}, geometry_shape(f["geometry"], path, f"features[{i}]"))
            for i, f in enumerate(doc["features"])
        ]
    if ext not in (".shp", ".gpkg", ".zip"):
        raise FormatError(path, f"unknown format {ext!r}: use .geojson, .shp or .gpkg")
    import pyogrio.errors
    import pyogrio.raw

    try:
        meta, _, wkb, fields = pyogrio.raw.read(str(path))
    except pyogrio.errors.DataSourceError as exc:
        raise DataSourceError(path, f"cannot read: {exc}") from exc
    except Exception as exc:  # GDAL raises several kinds for corrupt files
        raise FormatError(path, f"not a readable vector file: {exc}") from exc
    names = list(meta["fields"])
    geoms = shapely.from_wkb(wkb)
    return [({n: fields[k][i] for k, n in enumerate(names)}, geoms[i]) for i in range(len(geoms))]


def read_maritime_limits(
    path: str | Path, code_field: str | None = None
) -> dict[str, BaseGeometry]:
    """Read territorial-sea polygons by country code (lon/lat).

    Raises
    ------
    DataSourceError, FormatError
        One line naming the file: unreadable, no polygon, no country-code attribute.
    """
    p = Path(path)
    if not p.exists():
        raise DataSourceError(p, "maritime limits file not found")
    records = _records(p)
    out: dict[str, list[BaseGeometry]] = {}
    for i, (props, geom) in enumerate(records):
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        fields = [code_field] if code_field else list(CODE_FIELDS)
        code = next(
            (
                str(props[f]).upper()
                for f in fields
                if f in props and isinstance(props[f], str) and len(props[f].strip()) == 3
            ),
            None,
        )
        if code is None:
            want = code_field or " or ".join(CODE_FIELDS)
            raise FormatError(p, f"feature {i}: no alpha-3 country code in {want}")
        out.setdefault(code.strip(), []).append(shapely.make_valid(geom))
    if not out:
        raise FormatError(p, "no polygon")
    return {code: shapely.union_all(parts) for code, parts in out.items()}
