"""Airspace zones: country land, territorial seas and international airspace, per region.

Zones are built for a region (a lon/lat box) in a local azimuthal-equidistant projection
centred on it (metres; exact for distances from the centre, within ~0.4 % across 1,000 km):

* **land** of every country (Natural Earth 1:10m, :func:`plumetrace.data.country_land`);
* **territorial sea** of a country: within 12 nautical miles (22,224 m) of its coast and
  not land; where two countries' belts overlap, each point belongs to the nearer coast
  (the equidistance line, from the Voronoi cells of both coasts' vertices);
* **international**: everything else.

Built zones answer "which zone is this point in" for many points at once, and give the
region an operator may fly in (:meth:`Zones.authorized`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.errors
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from plumetrace.data import CountryLand
from plumetrace.errors import InvalidParameterError
from plumetrace.geo import local_projection

__all__ = ["INTERNATIONAL", "TERRITORIAL_SEA_M", "Zones", "build_zones"]

TERRITORIAL_SEA_M = 22_224.0
"""Breadth of the territorial sea: 12 nautical miles (UNCLOS art. 3), m."""

INTERNATIONAL = "international"
"""Zone name of all airspace outside every country's land and territorial sea."""

_COAST_SPACING_M = 500.0
_GRID_M = 1.0  # precision grid of the projected set operations (robustness)
_MAX_SPAN_DEG = 60.0  # widest region one azimuthal-equidistant projection serves
_THREADED_POINTS = 100_000  # transform more points than this in two threads


def _transform(
    tr: Transformer, a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transform coordinate arrays, many points in two threads.

    pyproj releases the GIL, and a Transformer is thread-safe (each thread gets its own
    PROJ object).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    n = a.shape[0] if a.ndim == 1 else 0
    if n < _THREADED_POINTS:
        x, y = tr.transform(a, b)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    h = n // 2
    with ThreadPoolExecutor(2) as pool:
        second = pool.submit(tr.transform, a[h:], b[h:])
        x0, y0 = tr.transform(a[:h], b[:h])
        x1, y1 = second.result()
    return np.concatenate([x0, x1]), np.concatenate([y0, y1])


def _project(geom: BaseGeometry, tr: Transformer) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class Zones:
    """Land and territorial-sea polygons of the countries around a region.

    Attributes
    ----------
    centre : tuple of 2 floats
        (lon, lat) of the projection centre.
    region : shapely Polygon
        The region covered (projected, m); outside it nothing is known.
    codes : tuple of str
        Country codes, one per entry of ``land`` and ``sea``.
    land, sea : tuple of shapely geometries
        Projected (m) land and territorial sea of each country, clipped to the region.
    """

    centre: tuple[float, float]
    region: BaseGeometry
    codes: tuple[str, ...]
    land: tuple[BaseGeometry, ...]
    sea: tuple[BaseGeometry, ...]
    _fwd: Transformer = field(repr=False, compare=False)
    _inv: Transformer = field(repr=False, compare=False)
    _zone_geoms: tuple[BaseGeometry, ...] = field(repr=False, compare=False)
    _labels: tuple[str, ...] = field(repr=False, compare=False)

    def to_local(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Project lon/lat (degrees) to the zones' metres."""
        return _transform(self._fwd, lon, lat)

    def to_local_geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a lon/lat geometry to the zones' metres."""
        return _project(geom, self._fwd)

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        """Unproject a geometry from the zones' metres to lon/lat."""
        return _project(geom, self._inv)

    def zone_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.str_]:
        """Zone of projected points: a country code or :data:`INTERNATIONAL`.

        Parameters
        ----------
        x, y : (n,) ndarray, m
            Projected coordinates (:meth:`to_local`).

        Returns
        -------
        (n,) ndarray of str
        """
        xa = np.asarray(x, np.float64)
        ya = np.asarray(y, np.float64)
        out = np.full(xa.shape[0], INTERNATIONAL, dtype="<U13")
        todo = np.ones(xa.shape[0], dtype=bool)
        for geom, label in zip(self._zone_geoms, self._labels, strict=True):
            x0, y0, x1, y1 = geom.bounds
            cand = np.flatnonzero(todo & (xa >= x0) & (xa <= x1) & (ya >= y0) & (ya <= y1))
            if cand.size == 0:
                continue
            shapely.prepare(geom)
            hit = cand[shapely.intersects_xy(geom, xa[cand], ya[cand])]
            out[hit] = label
            todo[hit] = False
        return out

    def country_area(self, code: str) -> BaseGeometry:
        """Land plus territorial sea of one country in the region (projected)."""
        parts = [
            shapely.union(land, sea)
            for c, land, sea in zip(self.codes, self.land, self.sea, strict=True)
            if c == code
        ]
        return shapely.union_all(parts) if parts else shapely.Polygon()

    def international(self) -> BaseGeometry:
        """International airspace in the region (projected)."""
        national = shapely.union_all([*self.land, *self.sea])
        return shapely.difference(self.region, national)

    def authorized(
        self,
        codes: Sequence[str],
        *,
        include: BaseGeometry | None = None,
        exclude: BaseGeometry | None = None,
    ) -> BaseGeometry:
        """Where an operator authorized for ``codes`` may fly, within the region.

        Parameters
        ----------
        codes : sequence of str
            Country codes and/or :data:`INTERNATIONAL`.
        include, exclude : shapely geometry, optional
            Extra authorized areas and no-fly areas, lon/lat (they are projected here).
        """
        parts = [self.country_area(c) for c in codes if c != INTERNATIONAL]
        if INTERNATIONAL in codes:
            parts.append(self.international())
        area = shapely.union_all(parts) if parts else shapely.Polygon()
        if include is not None:
            area = shapely.union(
                area, shapely.intersection(_project(include, self._fwd), self.region)
            )
        if exclude is not None:
            area = shapely.difference(area, _project(exclude, self._fwd))
        return area


def _lonlat_cover(
    area: BaseGeometry, fwd: Transformer, inv: Transformer, clon: float
) -> BaseGeometry:
    """Lon/lat box(es) covering a projected area, cut at the antimeridian when it crosses.

    Longitudes are unwrapped around the centre first: a plain envelope of an area
    straddling ±180° would cover every longitude *but* the area's own.
    """
    xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(area), 5_000.0))
    lon, lat = inv.transform(xy[:, 0], xy[:, 1])
    lon = (np.asarray(lon) - clon + 180.0) % 360.0 - 180.0 + clon
    a, b = float(np.min(lon)), float(np.max(lon))
    y0, y1 = float(np.min(lat)), float(np.max(lat))
    for pole in (90.0, -90.0):  # an area around a pole: every longitude, up to the pole
        px, py = fwd.transform(0.0, pole)
        if shapely.contains_xy(area, px, py):
            a, b = -180.0, 180.0
            y0, y1 = min(y0, pole), max(y1, pole)
    boxes = [shapely.box(max(a, -180.0), y0, min(b, 180.0), y1)]
    if a < -180.0:
        boxes.append(shapely.box(a + 360.0, y0, 180.0, y1))
    if b > 180.0:
        boxes.append(shapely.box(-180.0, y0, b - 360.0, y1))
    return shapely.union_all(boxes)


def _touches_pole(geom: BaseGeometry) -> bool:
    """Whether a lon/lat geometry reaches latitude ±90° (a polar cap)."""
    _, y0, _, y1 = geom.bounds
    return bool(y0 <= -89.999999 or y1 >= 89.999999)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal parts of a geometry (set operations may leave lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [
        p
        for p in shapely.get_parts(shapely.get_parts(geom))
        if p.geom_type == "Polygon" and not p.is_empty
    ]
    return shapely.MultiPolygon(parts) if parts else shapely.Polygon()


def _coast_points(
    land: BaseGeometry, other: BaseGeometry, near: BaseGeometry
) -> NDArray[np.float64]:
    """Vertices of a coastline near ``near``, densified to ~500 m.

    The land border with ``other`` is not coast: its vertices would claim the sea on
    both sides of the equidistance line for whichever country came first.
    """
    coast = shapely.difference(shapely.boundary(land), shapely.buffer(other, 10.0))
    boundary = shapely.intersection(coast, near)
    if boundary.is_empty:
        return np.zeros((0, 2))
    dense = shapely.segmentize(boundary, _COAST_SPACING_M)
    return np.asarray(shapely.get_coordinates(dense), dtype=np.float64)


def _split_overlap(
    sea_a: BaseGeometry, sea_b: BaseGeometry, land_a: BaseGeometry, land_b: BaseGeometry
) -> tuple[BaseGeometry, BaseGeometry]:
    """Give each point of the belts' overlap to the nearer coast."""
    overlap = _polygonal(shapely.intersection(sea_a, sea_b, grid_size=_GRID_M))
    if overlap.is_empty or overlap.area < 1.0:
        return sea_a, sea_b
    near = shapely.buffer(overlap, TERRITORIAL_SEA_M + 1000.0)
    pa = _coast_points(land_a, land_b, near)
    pb = _coast_points(land_b, land_a, near)
    if pa.shape[0] == 0 or pb.shape[0] == 0:
        return sea_a, sea_b
    pts = np.concatenate([pa, pb])
    owner = np.concatenate([np.zeros(pa.shape[0], bool), np.ones(pb.shape[0], bool)])
    pts, keep = np.unique(pts, axis=0, return_index=True)
    owner = owner[keep]
    cells = None
    for tol in (1.0, 10.0, 100.0):  # snapping tolerance: GEOS needs it on dense coasts
        try:
            cells = shapely.voronoi_polygons(
                shapely.multipoints(pts), tolerance=tol, extend_to=near
            )
            break
        except shapely.errors.GEOSException:
            continue
    if cells is None:
        return sea_a, sea_b
    cell_geoms = np.asarray(shapely.get_parts(cells))
    # match each cell to its generating point
    tree = shapely.STRtree(shapely.points(pts))
    cell_idx, pt_idx = tree.query(cell_geoms, predicate="contains")
    mine = cell_geoms[cell_idx[~owner[pt_idx]]]
    try:
        to_a = shapely.union_all(mine, grid_size=_GRID_M)
        part_a = _polygonal(shapely.intersection(overlap, to_a, grid_size=_GRID_M))
        part_b = _polygonal(shapely.difference(overlap, part_a, grid_size=_GRID_M))
    except shapely.errors.GEOSException:
        return sea_a, sea_b
    rest_a = _polygonal(shapely.difference(sea_a, overlap, grid_size=_GRID_M))
    rest_b = _polygonal(shapely.difference(sea_b, overlap, grid_size=_GRID_M))
    return (
        _polygonal(shapely.union(rest_a, part_a, grid_size=_GRID_M)),
        _polygonal(shapely.union(rest_b, part_b, grid_size=_GRID_M)),
    )


def build_zones(
    countries: CountryLand,
    bbox: tuple[float, float, float, float],
    *,
    margin_m: float = 60_000.0,
    seas: dict[str, BaseGeometry] | None = None,
) -> Zones:
    """Build the zones of a lon/lat box (plus a margin).

    Parameters
    ----------
    countries : CountryLand
        Country land areas.
    bbox : tuple of 4 floats, degrees
        ``(lon_min, lat_min, lon_max, lat_max)``.
    margin_m : float
        The region extends this far beyond the box (m), so distances to nearby zones
        are known.
    seas : dict of str to shapely geometry, optional
        Authoritative territorial seas (lon/lat) by country code; they replace the
        computed 12 nm belts of those countries (minus land).

    Raises
    ------
    InvalidParameterError
        If the box is not a valid lon/lat box.
    """
    lon0, lat0, lon1, lat1 = bbox
    if not (-180.0 <= lon0 <= lon1 <= 180.0 and -90.0 <= lat0 <= lat1 <= 90.0):
        raise InvalidParameterError(f"not a lon/lat box: {bbox}")
    if lon1 - lon0 > _MAX_SPAN_DEG or lat1 - lat0 > _MAX_SPAN_DEG:
        raise InvalidParameterError(
            f"region {lon0:g},{lat0:g},{lon1:g},{lat1:g} is too large for one local "
            f"projection (at most {_MAX_SPAN_DEG:g}° across); split it"
        )
    clon, clat = 0.5 * (lon0 + lon1), 0.5 * (lat0 + lat1)
    fwd, inv = local_projection(clon, clat)
    ring = shapely.LineString(
        [(lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1), (lon0, lat0)]
    )  # a line, so that a box of zero width or height still has a margin around it
    corners = _project(shapely.segmentize(ring, 0.05), fwd)
    region = shapely.envelope(shapely.buffer(corners, max(margin_m, 1.0)))
    # countries that can matter: land within the region plus a belt's breadth
    reach = shapely.buffer(region, TERRITORIAL_SEA_M * 2.0)
    reach_ll = _lonlat_cover(reach, fwd, inv, clon)
    tree = shapely.STRtree(countries.geometry)
    cand = tree.query(reach_ll, predicate="intersects")
    codes: list[str] = []
    lands: list[BaseGeometry] = []
    for i in sorted(cand):
        clip_ll = shapely.intersection(countries.geometry[i], reach_ll)
        if clip_ll.is_empty:
            continue
        if _touches_pole(clip_ll):
            # a lon/lat polygon around a pole does not project (its pole edge collapses
            # to a point): project what is not land instead, and take the rest
            rest = _polygonal(
                shapely.make_valid(_project(shapely.difference(reach_ll, clip_ll), fwd))
            )
            land = _polygonal(shapely.difference(reach, rest, grid_size=_GRID_M))
        else:
            land = _polygonal(
                shapely.intersection(
                    _polygonal(shapely.make_valid(_project(clip_ll, fwd))),
                    reach,
                    grid_size=_GRID_M,
                )
            )
        if land.is_empty or land.area <= 0.0:
            continue
        codes.append(str(countries.code[i]))
        lands.append(land)
    all_land = shapely.union_all(lands, grid_size=_GRID_M) if lands else shapely.Polygon()
    sea_parts = [
        _polygonal(
            shapely.difference(
                shapely.buffer(land, TERRITORIAL_SEA_M, quad_segs=16),
                all_land,
                grid_size=_GRID_M,
            )
        )
        for land in lands
    ]
    given = {} if seas is None else seas
    for a in range(len(sea_parts)):
        if codes[a] in given:
            official = _polygonal(
                shapely.make_valid(_project(shapely.intersection(given[codes[a]], reach_ll), fwd))
            )
            sea_parts[a] = _polygonal(shapely.difference(official, all_land, grid_size=_GRID_M))
    for a in range(len(sea_parts)):
        for b in range(a + 1, len(sea_parts)):
            if codes[a] in given and codes[b] in given:
                continue  # official limits do not overlap
            if shapely.intersects(sea_parts[a], sea_parts[b]):
                sea_parts[a], sea_parts[b] = _split_overlap(
                    sea_parts[a], sea_parts[b], lands[a], lands[b]
                )
    lands = [_polygonal(shapely.intersection(g, region, grid_size=_GRID_M)) for g in lands]
    clipped = [_polygonal(shapely.intersection(g, region, grid_size=_GRID_M)) for g in sea_parts]
    geoms = [*lands, *clipped]
    labels = (*codes, *codes)
    keep = [k for k, g in enumerate(geoms) if not g.is_empty]
    return Zones(
        centre=(clon, clat),
        region=region,
        codes=tuple(codes),
        land=tuple(lands),
        sea=tuple(clipped),
        _fwd=fwd,
        _inv=inv,
        _zone_geoms=tuple(geoms[k] for k in keep),
        _labels=tuple(labels[k] for k in keep),
    )
