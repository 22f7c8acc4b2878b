"""Derive the packaged country boundaries from ../shared/data/boundaries (Natural Earth).

Decodes the world-atlas TopoJSON (Natural Earth 4.1.0 admin-0 countries, 1:10m), maps
each country's ISO 3166-1 numeric id to its alpha-3 code (pycountry), and writes
``src/plumetrace/data/countries.npz``: ``code`` (alpha-3), ``name``, ``wkb`` (all
geometries' WKB concatenated) and ``offsets``. Features without an ISO id (disputed or
special areas) get Natural Earth's own ``adm0_a3`` code from the table below.

    python scripts/derive_boundaries.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "boundaries" / "countries-10m.json"
OUT = ROOT / "src" / "plumetrace" / "data" / "countries.npz"

# Natural Earth adm0_a3 codes of the features that have no ISO 3166-1 numeric id
NO_ISO = {
    "Dhekelia": "ESB",
    "Somaliland": "SOL",
    "Kosovo": "KOS",
    "USNB Guantanamo Bay": "USG",
    "N. Cyprus": "CYN",
    "Cyprus U.N. Buffer Zone": "CNM",
    "Siachen Glacier": "KAS",
    "Baikonur": "KAB",
    "Akrotiri": "WSB",
    "Indian Ocean Ter.": "IOA",
    "Coral Sea Is.": "CSI",
    "Spratly Is.": "PGA",
    "Clipperton I.": "CLP",
    "Bajo Nuevo Bank": "BJN",
    "Serranilla Bank": "SER",
    "Scarborough Reef": "SCR",
}


def decode_arcs(topo: dict) -> list[np.ndarray]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        q = np.cumsum(np.asarray(arc, dtype=np.float64), axis=0)
        out.append(np.column_stack([q[:, 0] * sx + tx, q[:, 1] * sy + ty]))
    return out


def ring(arcs: list[np.ndarray], idx: list[int]) -> np.ndarray:
    parts = []
    for i in idx:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if not parts else a[1:])
    return np.concatenate(parts)


def unwrap(ring: np.ndarray) -> np.ndarray:
    """Make a ring's longitudes continuous across the antimeridian (may leave [-180, 180])."""
    lon = ring[:, 0].copy()
    jumps = np.diff(lon)
    shift = np.concatenate([[0.0], -360.0 * np.round(jumps / 360.0)])
    lon = lon + np.cumsum(shift)
    return np.column_stack([lon, ring[:, 1]])


def fold(poly: Polygon) -> list[Polygon]:
    """Cut a polygon that extends beyond +-180 degrees at the antimeridian and fold it back."""
    x0, _, x1, _ = poly.bounds
    if x0 >= -180.0 and x1 <= 180.0:
        return [poly]
    out: list[Polygon] = []
    for k in (-1, 0, 1):
        window = shapely.box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
        part = shapely.intersection(poly, window)
        if part.is_empty:
            continue
        moved = shapely.transform(part, lambda xy, k=k: xy - np.array([360.0 * k, 0.0]))
        out.extend(polygons(moved))
    return out


def polygons(geom: shapely.Geometry) -> list[Polygon]:
    """Every polygon inside a geometry (collections and multi-parts flattened)."""
    if isinstance(geom, Polygon):
        return [geom]
    out: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        out.extend(polygons(part))
    return out


def geometry(arcs: list[np.ndarray], g: dict) -> MultiPolygon:
    polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
    out = []
    for p in polys:
        rings = [unwrap(ring(arcs, r)) for r in p]
        rings = [r for r in rings if len(np.unique(r, axis=0)) >= 3]
        if not rings:
            continue  # an islet smaller than the quantization
        # holes unwrapped next to their shell
        shell = rings[0]
        holes = []
        for h in rings[1:]:
            h = h + np.array([360.0 * np.round((shell[:, 0].mean() - h[:, 0].mean()) / 360.0), 0])
            holes.append(h)
        poly = Polygon(shell, holes)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        for part in polygons(poly):
            out.extend(fold(part))
    out = [p for p in out if isinstance(p, Polygon) and p.area > 0]
    return MultiPolygon(polygons(shapely.union_all(out)))


def main() -> None:
    topo = json.loads(SRC.read_text())
    arcs = decode_arcs(topo)
    codes, names, blobs = [], [], []
    for g in topo["objects"]["countries"]["geometries"]:
        name = g["properties"]["name"]
        if g.get("id"):
            c = pycountry.countries.get(numeric=g["id"])
            code = c.alpha_3 if c is not None else NO_ISO[name]
        else:
            code = NO_ISO[name]
        geom = geometry(arcs, g)
        assert geom.is_valid, name
        codes.append(code)
        names.append(name)
        blobs.append(shapely.to_wkb(geom))
    # one feature per code: territories sharing a code (e.g. Ashmore and Cartier Is. -> AUS)
    merged: dict[str, tuple[str, list[bytes]]] = {}
    for code, name, blob in zip(codes, names, blobs, strict=True):
        merged.setdefault(code, (name, []))[1].append(blob)
    codes, names, blobs = [], [], []
    for code, (name, parts) in merged.items():
        union = shapely.union_all([shapely.from_wkb(b) for b in parts])
        if code == "ATA":
            # world-atlas stops Antarctica at its Mercator limit (-85.22 degrees): the land
            # goes on to the pole
            south = union.bounds[1]
            union = shapely.union(union, shapely.box(-180.0, -90.0, 180.0, south + 1e-6))
        geom = MultiPolygon(polygons(union))
        codes.append(code)
        names.append(name)
        blobs.append(shapely.to_wkb(geom))
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    np.savez_compressed(
        OUT,
        code=np.array(codes),
        name=np.array(names),
        wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8),
        offsets=offsets,
    )
    print(f"{len(codes)} countries -> {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")
    dup = {c for c in codes if codes.count(c) > 1}
    if dup:
        print("duplicate codes:", sorted(dup))


if __name__ == "__main__":
    main()
