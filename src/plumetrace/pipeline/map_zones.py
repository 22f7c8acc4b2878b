"""The airspace layer of the workbench map: countries, territorial seas, authorizations.

For a box, each operator's :func:`~plumetrace.pipeline.airspace.export_zones`: the
country zones (land and 12 nm territorial sea), international airspace, and the area the
operator is authorized for. Building zones reads the packaged boundaries and takes about
a second, so results are cached per box (rounded to 0.01°) and operators file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from plumetrace.io.operators import default_operators_file, read_operators
from plumetrace.pipeline.airspace import export_zones

__all__ = ["zone_layer"]

Box = tuple[float, float, float, float]


@lru_cache(maxsize=32)
def _zones(box: Box, operators: str, mtime: float) -> dict[str, Any]:
    del mtime  # part of the cache key: an edited operators file is read again
    features: list[dict[str, Any]] = []
    seen_countries: set[str] = set()
    for op in read_operators(operators).values():
        for f in export_zones(op, box)["features"]:
            p = f["properties"]
            if p["zone"] == "authorized":
                kind, name = "authorized", f"{op.name}: authorized"
            else:
                if p["zone"] in seen_countries:
                    continue  # the same country zone for every operator: once
                seen_countries.add(p["zone"])
                kind = "international" if p["zone"] == "international" else "country"
                name = p["zone"]
            features.append(
                {
                    "type": "Feature",
                    "geometry": f["geometry"],
                    "properties": {
                        "zone": p["zone"],
                        "kind": kind,
                        "allowed": p["allowed"] if kind == "authorized" else None,
                        "operator": op.id if kind == "authorized" else None,
                        "name": name,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def zone_layer(box: Box, operators: Path | None = None) -> dict[str, Any]:
    """Return the airspace zones of ``box`` for every operator as a FeatureCollection.

    Parameters
    ----------
    box : (west, south, east, north), degrees
    operators : Path, optional
        The operators file (default: ``$PLUMETRACE_OPERATORS``, else the packaged one).
    """
    path = Path(operators) if operators is not None else default_operators_file()
    w, s, e, n = (round(v, 2) for v in box)
    rounded = (min(w, e - 0.01), min(s, n - 0.01), max(e, w + 0.01), max(n, s + 0.01))
    return _zones(rounded, str(path), path.stat().st_mtime if path.exists() else 0.0)
