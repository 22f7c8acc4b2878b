"""Civilian context of candidate emission sites: people, buildings, schools, hospitals.

plumetrace is non-lethal by design. Clandestine labs are often inside homes in dense
neighbourhoods; this module tells responders who lives and works around a candidate site
so that the ground investigation plans for residents (toxic vapours, fire and explosion
risk) and for the responders themselves. Its output is a :class:`SiteContext` per site:
counts of people, the building the source may be in, nearby schools and hospitals, an
exposure class and a plain-language advisory.

Inputs are a population raster (:class:`PopulationGrid`, persons per pixel, e.g. WorldPop
or GHS-POP) and vector layers (:class:`Features`, WGS84 lon/lat: building footprints
with optional residential flags, schools, hospitals). Either may be missing.

Method
------
Every distance is measured in metres on an azimuthal equidistant projection
(:func:`plumetrace.geo.local_projection`) centred on the sites of a 1° x 1° cell: one
projection per cell and call (scale error below 3e-5 within the cell).

People within a radius R (100 m, 500 m)
    The integral of the persons-per-pixel field over the disk, with fractional pixel
    overlap. The disk is mapped to raster pixels through the raster's local Jacobian at
    the site (an ellipse in pixel space; exact for geographic, projected and rotated
    grids to ~1e-4 over 500 m) and cut by horizontal scan lines: one per pixel row, or
    several per row so that at least 40 lines cross the disk. Along each line the
    covered length of every pixel is exact (row prefix sums with the partial end pixels
    pro rata); across lines it is the midpoint rule, and the sum is rescaled so that the
    lines' area equals the disk's (a uniform density is counted exactly whatever the
    pixel size; against a fine sub-pixel reference the count is within 1 % for pixels
    from R/100 to R). No-data pixels (NaN) count as uninhabited. Parts of the disk off
    the raster are not covered: with at least half of the disk covered the count is
    scaled to the whole disk (the mean density of the covered part), otherwise it is
    ``None``. Counts are at the estimated position, not averaged over its uncertainty.

Buildings and the position uncertainty ``u`` (m)
    The distance to the nearest footprint is 0 when the position is inside one (boundary
    included). ``in_building`` is True when the position is inside a footprint, False
    when no footprint lies within ``u``, and None (cannot tell) when the position is
    outside every footprint but one lies within ``u``. The *plausible building* is the
    containing footprint or, failing that, the nearest footprint within ``u``;
    ``residential`` is its flag (True if any of several equally near ones is residential,
    else None if any is unknown), False when no footprint lies within ``u`` (the source
    is outdoors), None without a buildings layer. Footprints and facilities are searched
    within 5 km of the sites; beyond that the nearest one is chosen in degrees and only
    its distance measured in metres (approximate at high latitudes, irrelevant to the
    exposure rules).

Schools and hospitals
    Distances from the estimated position to the nearest facility (point or polygon, 0
    inside). A facility counts as *within 250 m* when ``distance - u <= 250 m``: the
    source may be that close.

Exposure rules (thresholds are module constants)
    * **unknown**: no layer covers the site (no buildings layer and no population count);
    * **high**: the plausible building is residential, or ``people_100m >= 50``, or a
      school or hospital lies within 250 m;
    * **medium**: ``people_500m >= 200``, or the plausible building is non-residential or
      of unknown use in a populated area (``people_500m >= 50``, or no population count:
      a building may be occupied), or ``people_100m >= 5``;
    * **low**: otherwise.

Each class has an advisory sentence naming its reasons, the schools and hospitals within
500 m by distance, and the missing layers. Advisories are about protecting residents,
bystanders and responders: ground investigation only, evacuation or shelter-in-place
with local authorities, protection against toxic vapours and the fire and explosion risk
of clandestine labs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from plumetrace.errors import InvalidParameterError
from plumetrace.geo import local_projection
from plumetrace.sites.population import people_in_disks

__all__ = [
    "DENSE_100M",
    "EXPOSURE_CLASSES",
    "FACILITY_HIGH_M",
    "FACILITY_MENTION_M",
    "OCCUPIED_500M",
    "POPULATED_100M",
    "POPULATED_500M",
    "RADII_M",
    "Features",
    "PopulationGrid",
    "SiteContext",
    "site_context",
    "site_contexts",
]

EXPOSURE_CLASSES: tuple[str, ...] = ("low", "medium", "high", "unknown")
"""The exposure classes of :attr:`SiteContext.exposure`."""

DENSE_100M = 50.0
"""People within 100 m from which the exposure is high (a dense neighbourhood)."""

POPULATED_100M = 5.0
"""People within 100 m from which the exposure is at least medium."""

POPULATED_500M = 200.0
"""People within 500 m from which the exposure is at least medium."""

OCCUPIED_500M = 50.0
"""People within 500 m that make a non-residential building's area populated (medium)."""

FACILITY_HIGH_M = 250.0
"""A school or hospital this close (m, less the position uncertainty) makes exposure high."""

FACILITY_MENTION_M = 500.0
"""Schools and hospitals this close (m) are named in every advisory."""

RADII_M: tuple[float, float] = (100.0, 500.0)
"""Radii (m) of :attr:`SiteContext.people_100m` and :attr:`SiteContext.people_500m`."""

_SEARCH_M = 5000.0  # footprints/facilities searched within this distance in metres
_CELL_DEG = 1.0  # sites of one cell share one projection
_POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon, MultiPolygon

# residential codes of a plausible building, ordered so that max() is the cautious merge
_RES_FALSE, _RES_UNKNOWN, _RES_TRUE, _RES_NONE = 0, 1, 2, -1


# --------------------------------------------------------------------------- value types


def _optional_float(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidParameterError(f"{name} must be a number or None, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number >= 0.0):
        raise InvalidParameterError(f"{name} must be finite and >= 0, got {number}")
    return number


def _optional_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool | np.bool_):
        return None if value is None else bool(value)
    raise InvalidParameterError(f"{name} must be true, false or None, got {value!r}")


@dataclass(frozen=True)
class SiteContext:
    """The civilian context of one candidate emission site.

    Attributes
    ----------
    people_100m, people_500m : float or None, persons
        People within 100 m and 500 m of the estimated position (from the population
        raster); None without a raster or when less than half of the disk lies on it.
    in_building : bool or None
        True: the position is inside a building footprint; False: no footprint within the
        position uncertainty; None: no buildings layer, or outside every footprint but
        with one within the uncertainty (cannot tell).
    residential : bool or None
        Whether the building that contains (or may contain) the source is residential;
        False when no footprint lies within the uncertainty; None when unknown.
    building_distance_m : float or None, m
        Distance to the nearest building footprint, 0 inside; None without footprints.
    nearest_school_m, nearest_hospital_m : float or None, m
        Distance to the nearest school / hospital, 0 inside; None without any.
    exposure : str
        ``"low"``, ``"medium"``, ``"high"`` or ``"unknown"`` (module docstring rules).
    advisory : str
        Plain-language guidance for responders on protecting residents and themselves.
    """

    people_100m: float | None
    people_500m: float | None
    in_building: bool | None
    residential: bool | None
    building_distance_m: float | None
    nearest_school_m: float | None
    nearest_hospital_m: float | None
    exposure: str
    advisory: str

    def __post_init__(self) -> None:
        for name in (
            "people_100m",
            "people_500m",
            "building_distance_m",
            "nearest_school_m",
            "nearest_hospital_m",
        ):
            value = getattr(self, name)
            if not (value is None or (type(value) is float and 0.0 <= value < math.inf)):
                object.__setattr__(self, name, _optional_float(name, value))
        for name in ("in_building", "residential"):
            object.__setattr__(self, name, _optional_bool(name, getattr(self, name)))
        if self.exposure not in EXPOSURE_CLASSES:
            raise InvalidParameterError(
                f"exposure must be one of {', '.join(EXPOSURE_CLASSES)}, got {self.exposure!r}"
            )
        if not isinstance(self.advisory, str):
            raise InvalidParameterError(f"advisory must be a string, got {self.advisory!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-able dict (None stays None)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SiteContext:
        """Build a context from :meth:`to_dict`'s output.

        Raises
        ------
        InvalidParameterError
            On a missing or unknown key or a value of the wrong type.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in data]
        unknown = sorted(set(data) - set(names))
        if missing or unknown:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(map(str, unknown))}"] if unknown else []
            )
            raise InvalidParameterError(f"not a site context: {'; '.join(parts)}")
        return cls(**{n: data[n] for n in names})


@dataclass(frozen=True, eq=False)
class PopulationGrid:
    """A population raster: persons per pixel on a regular grid.

    Attributes
    ----------
    values : (rows, cols) float ndarray, persons per pixel
        No-data pixels are NaN (counted as uninhabited); finite values must be >= 0.
    transform : tuple of 6 float
        Affine ``(a, b, c, d, e, f)`` in rasterio's order: ``x = a*col + b*row + c``,
        ``y = d*col + e*row + f`` for a pixel's upper-left corner, in ``crs`` units.
    crs : str
        ``"EPSG:4326"`` (lon/lat degrees), a projected CRS (``"EPSG:32633"``) or WKT.
    """

    values: NDArray[np.floating[Any]]
    transform: tuple[float, float, float, float, float, float]
    crs: str

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 2 or 0 in values.shape:
            raise InvalidParameterError(
                f"population values must be a non-empty (rows, cols) array, got {values.shape}"
            )
        if not np.issubdtype(values.dtype, np.floating):
            values = values.astype(np.float64)
        if np.nanmin(values, initial=0.0) < 0:
            raise InvalidParameterError("population values must be >= 0 persons (or NaN)")
        object.__setattr__(self, "values", values)
        coef = tuple(float(v) for v in self.transform)
        if len(coef) != 6 or not all(math.isfinite(v) for v in coef):
            raise InvalidParameterError(f"transform must be 6 finite floats, got {self.transform}")
        if coef[0] * coef[4] - coef[1] * coef[3] == 0:
            raise InvalidParameterError("the transform has zero pixel area")
        object.__setattr__(self, "transform", coef)
        try:
            CRS.from_user_input(self.crs)
        except CRSError as exc:
            raise InvalidParameterError(f"unknown CRS {self.crs!r}: {exc}") from None

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (int(self.values.shape[0]), int(self.values.shape[1]))


@dataclass(frozen=True, eq=False)
class Features:
    """Vector layers around the sites, in WGS84 lon/lat.

    Attributes
    ----------
    buildings : list of shapely Polygon or MultiPolygon
        Building footprints.
    residential : list of (bool or None)
        One flag per building (None: use unknown); an empty list means all unknown.
    schools, hospitals : list of shapely geometries
        Points or polygons. A facility polygon is not also a building: list the footprint
        among ``buildings`` too if it is one.
    """

    buildings: list[BaseGeometry] = field(default_factory=list)
    residential: list[bool | None] = field(default_factory=list)
    schools: list[BaseGeometry] = field(default_factory=list)
    hospitals: list[BaseGeometry] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("buildings", "schools", "hospitals"):
            geoms = list(getattr(self, name))
            arr = np.asarray(geoms, dtype=object)
            if arr.size and not np.all(shapely.is_geometry(arr)):
                raise InvalidParameterError(f"{name} must hold shapely geometries")
            bad = np.flatnonzero(shapely.is_empty(arr)) if arr.size else np.zeros(0, np.intp)
            if len(bad):
                raise InvalidParameterError(f"{name}[{bad[0]}] is an empty geometry")
            object.__setattr__(self, name, geoms)
        types = shapely.get_type_id(np.asarray(self.buildings, dtype=object))
        wrong = np.flatnonzero(~np.isin(types, _POLYGON_TYPES))
        if wrong.size:
            i = int(wrong[0])
            raise InvalidParameterError(
                f"buildings[{i}] is a {self.buildings[i].geom_type}, not a polygon"
            )
        flags = list(self.residential) or [None] * len(self.buildings)
        if len(flags) != len(self.buildings):
            raise InvalidParameterError(
                f"{len(flags)} residential flags for {len(self.buildings)} buildings"
            )
        object.__setattr__(
            self,
            "residential",
            [_optional_bool(f"residential[{i}]", f) for i, f in enumerate(flags)],
        )

    @cached_property
    def _layers(self) -> dict[str, _Layer]:
        codes = np.array(
            [
                _RES_UNKNOWN if f is None else _RES_TRUE if f else _RES_FALSE
                for f in self.residential
            ],
            dtype=np.int8,
        )
        return {
            "buildings": _Layer(self.buildings, codes),
            "schools": _Layer(self.schools),
            "hospitals": _Layer(self.hospitals),
        }


class _Layer:
    """Geometries in lon/lat with their STRtree and per-geometry codes."""

    def __init__(self, geoms: Sequence[BaseGeometry], codes: NDArray[np.int8] | None = None):
        self.geoms = np.asarray(list(geoms), dtype=object)
        self.codes = codes if codes is not None else np.full(self.geoms.size, _RES_UNKNOWN, np.int8)
        self.tree = STRtree(self.geoms)


# --------------------------------------------------------------------------- geometry helpers


def _project(geoms: NDArray[Any], fwd: Transformer) -> NDArray[Any]:
    def tr(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, tr), dtype=object)


def _cells(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> list[NDArray[np.intp]]:
    """Group the site indices by 1° x 1° cell."""
    key = np.floor(lat / _CELL_DEG) * 1000.0 + np.floor(lon / _CELL_DEG)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    return [np.asarray(part, dtype=np.intp) for part in np.split(order, bounds)]


def _nearest(
    layer: _Layer,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    fwd: Transformer,
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Return the distance (m) to the nearest geometry and its code (cautious merge of ties).

    Returns NaN and ``_RES_NONE`` when the layer is empty.
    """
    n = lon.size
    dist = np.full(n, np.nan)
    code = np.full(n, _RES_NONE, dtype=np.int8)
    if layer.geoms.size == 0:
        return dist, code
    lat_margin = _SEARCH_M / 110_000.0
    coslat = max(math.cos(math.radians(min(89.0, float(np.max(np.abs(lat))) + lat_margin))), 1e-3)
    lon_margin = min(_SEARCH_M / (111_000.0 * coslat), 180.0)
    box = shapely.box(
        float(lon.min()) - lon_margin,
        float(lat.min()) - lat_margin,
        float(lon.max()) + lon_margin,
        float(lat.max()) + lat_margin,
    )
    cand = layer.tree.query(box)
    pts = shapely.points(x, y)
    if cand.size:
        local = _project(layer.geoms[cand], fwd)
        (site, hit), d = STRtree(local).query_nearest(pts, return_distance=True, all_matches=True)
        dist[site] = d
        np.maximum.at(code, site, layer.codes[cand[hit]])
    far = np.flatnonzero(~(dist <= _SEARCH_M))
    if far.size:  # nearest in degrees, distance in metres
        site, hit = layer.tree.query_nearest(shapely.points(lon[far], lat[far]), all_matches=False)
        local = _project(layer.geoms[hit], fwd)
        d = shapely.distance(pts[far[site]], local)
        closer = np.isnan(dist[far[site]]) | (d < dist[far[site]])
        dist[far[site[closer]]] = d[closer]
        code[far[site[closer]]] = layer.codes[hit[closer]]
    return dist, code


# --------------------------------------------------------------------------- classification


def _about(people: float) -> str:
    """Write a people count in words, to two significant digits."""
    rounded = float(f"{people:.2g}") if people >= 10 else round(people)
    return f"about {rounded:.0f} {'person' if rounded == 1 else 'people'}"


def _facility_text(kind: str, dist: float | None) -> str | None:
    if dist is None or dist > FACILITY_MENTION_M:
        return None
    return f"a {kind} {'at the site' if dist == 0 else f'{dist:.0f} m away'}"


def _classify(
    p100: float | None,
    p500: float | None,
    in_building: bool | None,
    residential: bool | None,
    plausible: bool,
    school_m: float | None,
    hospital_m: float | None,
    uncertainty_m: float,
    has_population: bool,
    has_features: bool,
) -> tuple[str, str]:
    """Return the exposure class and advisory of one site (module docstring rules)."""
    if p100 is None and p500 is None and not has_features:
        return "unknown", (
            "no population or building layer covers this site, so civilian exposure is "
            "unknown: assume people live nearby; ground investigation only, with protection "
            "against toxic vapours and the fire and explosion risk of clandestine labs"
        )
    near = [
        t
        for t in (_facility_text("school", school_m), _facility_text("hospital", hospital_m))
        if t is not None
    ]
    notes: list[str] = []
    if not has_features:
        notes.append("no building layer loaded")
    if p100 is None and p500 is None:
        notes.append(
            "no population count (site off the raster)" if has_population else "no population layer"
        )
    high: list[str] = []
    if plausible and residential:
        high.append(
            "likely inside a dwelling"
            if in_building
            else f"possibly inside a dwelling (one lies within the {uncertainty_m:.0f} m "
            "position uncertainty)"
        )
    if p100 is not None and p100 >= DENSE_100M:
        high.append(f"in a dense neighbourhood ({_about(p100)} within 100 m)")
    for kind, dist in (("school", school_m), ("hospital", hospital_m)):
        if dist is not None and dist - uncertainty_m <= FACILITY_HIGH_M:
            high.append(f"a {kind} {'at the site' if dist == 0 else f'{dist:.0f} m away'}")
    if high:
        extra = [t for t in near if not any(t in h for h in high)]
        reasons = "; ".join(high + extra + notes)
        return "high", (
            f"{reasons}: ground investigation only; plan for residents and nearby occupants "
            "(evacuation or shelter-in-place with local authorities) and for toxic vapours "
            "and the fire and explosion risk of a clandestine lab"
        )
    medium: list[str] = []
    if p500 is not None and p500 >= POPULATED_500M:
        medium.append(f"populated surroundings ({_about(p500)} within 500 m)")
    populated = p500 is None or p500 >= OCCUPIED_500M
    if plausible and residential is not True and populated:
        use = (
            "a building of unknown use (it may be a home)"
            if residential is None
            else ("a non-residential building")
        )
        where = "inside" if in_building else "possibly inside"
        medium.append(f"{where} {use} in a populated area")
    if p100 is not None and p100 >= POPULATED_100M and not (p500 and p500 >= POPULATED_500M):
        medium.append(f"{_about(p100)} within 100 m")
    if medium:
        reasons = "; ".join(medium + near + notes)
        return "medium", (
            f"{reasons}: ground investigation only; keep bystanders away and plan for people "
            "nearby, toxic vapours and the fire and explosion risk of a clandestine lab"
        )
    counted = "; ".join(
        (["few people nearby on the loaded layers"] if p500 is not None else [])
        + (
            ["inside a building of unknown use (it may be a home)"]
            if plausible and residential is None
            else []
        )
        + near
        + notes
    )
    return "low", (
        f"{counted or 'no dwelling or crowd nearby on the loaded layers'}: ground "
        "investigation only, with protective equipment; a clandestine lab still poses "
        "toxic-vapour and fire and explosion risks to responders and passers-by"
    )


# --------------------------------------------------------------------------- public kernels


def _as_1d(name: str, values: ArrayLike, n: int | None = None) -> NDArray[np.float64]:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1:
        raise InvalidParameterError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if n is not None:
        if arr.size == 1 and n != 1:
            arr = np.full(n, arr[0])
        elif arr.size != n:
            raise InvalidParameterError(f"{name} has {arr.size} values for {n} sites")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite")
    return arr


def site_contexts(
    lats: ArrayLike,
    lons: ArrayLike,
    uncertainties: ArrayLike,
    population: PopulationGrid | None,
    features: Features | None,
) -> list[SiteContext]:
    """Compute the civilian context of many candidate sites at once.

    Parameters
    ----------
    lats, lons : (n,) array_like, degrees
        Estimated source positions, WGS84.
    uncertainties : (n,) array_like or float, m
        Radius of each position's uncertainty (e.g. the 68 % circle); a scalar applies
        to all sites.
    population : PopulationGrid or None
        Persons per pixel; None when no raster is loaded.
    features : Features or None
        Buildings, schools and hospitals; None when no layer is loaded.

    Returns
    -------
    list of SiteContext
        One per site, in order (rules and methods in the module docstring).

    Raises
    ------
    InvalidParameterError
        If the arrays differ in length, hold non-finite values, positions are out of
        range or an uncertainty is negative.

    Notes
    -----
    One projection, one STRtree nearest query per layer and one compiled scan of the
    raster per 1° cell of sites (numba; the first call of a session compiles or loads
    the cached kernel). The raster is copied once as row prefix sums (8 bytes a pixel):
    read it with a bounding box around the sites.
    """
    lat = _as_1d("lats", lats)
    lon = _as_1d("lons", lons, lat.size)
    unc = _as_1d("uncertainties", uncertainties, lat.size)
    if np.any(np.abs(lat) > 90.0) or np.any(np.abs(lon) > 180.0):
        raise InvalidParameterError("lats must lie in [-90, 90] and lons in [-180, 180]")
    if np.any(unc < 0):
        raise InvalidParameterError("uncertainties must be >= 0 m")
    n = lat.size
    p100 = np.full(n, np.nan)
    p500 = np.full(n, np.nan)
    dists = {name: np.full(n, np.nan) for name in ("buildings", "schools", "hospitals")}
    codes = np.full(n, _RES_NONE, dtype=np.int8)
    to_grid = (
        Transformer.from_crs("EPSG:4326", population.crs, always_xy=True)
        if population is not None
        else None
    )
    layers = features._layers if features is not None else {}
    for idx in _cells(lat, lon) if n else []:
        fwd, inv = local_projection(float(lon[idx].mean()), float(lat[idx].mean()))
        x, y = (np.asarray(v, dtype=np.float64) for v in fwd.transform(lon[idx], lat[idx]))
        if population is not None and to_grid is not None:
            p100[idx], p500[idx] = people_in_disks(population, to_grid, x, y, inv, RADII_M)
        for name, layer in layers.items():
            d, c = _nearest(layer, lon[idx], lat[idx], x, y, fwd)
            dists[name][idx] = d
            if name == "buildings":
                codes[idx] = c
    out = []
    has_features = features is not None
    for i in range(n):
        bd = dists["buildings"][i]
        has_building = not math.isnan(bd)
        plausible = has_building and bd <= unc[i]
        in_building: bool | None = None  # no layer, or a footprint within the uncertainty
        residential: bool | None = None
        if plausible:
            in_building = True if bd == 0.0 else None
            residential = None if codes[i] == _RES_UNKNOWN else bool(codes[i] == _RES_TRUE)
        elif has_features:
            in_building, residential = False, False
        p1, p5 = _or_none(p100[i]), _or_none(p500[i])
        school_m, hospital_m = _or_none(dists["schools"][i]), _or_none(dists["hospitals"][i])
        exposure, advisory = _classify(
            p1,
            p5,
            in_building,
            residential,
            plausible,
            school_m,
            hospital_m,
            float(unc[i]),
            population is not None,
            has_features,
        )
        out.append(
            SiteContext(
                people_100m=p1,
                people_500m=p5,
                in_building=in_building,
                residential=residential,
                building_distance_m=float(bd) if has_building else None,
                nearest_school_m=school_m,
                nearest_hospital_m=hospital_m,
                exposure=exposure,
                advisory=advisory[0].upper() + advisory[1:] + ".",
            )
        )
    return out


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def site_context(
    lat: float,
    lon: float,
    uncertainty_m: float,
    population: PopulationGrid | None,
    features: Features | None,
) -> SiteContext:
    """Compute the civilian context of one candidate site.

    Parameters
    ----------
    lat, lon : float, degrees
        Estimated source position, WGS84.
    uncertainty_m : float, m
        Radius of the position uncertainty (e.g. the 68 % circle).
    population : PopulationGrid or None
        Persons per pixel; None when no raster is loaded.
    features : Features or None
        Buildings, schools and hospitals; None when no layer is loaded.

    Returns
    -------
    SiteContext
        See :func:`site_contexts` and the module docstring.
    """
    return site_contexts([lat], [lon], [uncertainty_m], population, features)[0]
