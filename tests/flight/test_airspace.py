from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from plumetrace.data import country_land
from plumetrace.flight.airspace import INTERNATIONAL, TERRITORIAL_SEA_M, build_zones
from plumetrace.flight.operators import Operator
from plumetrace.pipeline.airspace import AirspaceChecker

BORDER = Operator("border-unit", "Border", ("USA", "international"))
PARTNER = Operator("partner-program", "Partner", ("USA", "MEX", "international"))

# (name, lat, lon, zone, allowed for border-unit)
PLACES = [
    ("El Paso, north of the Rio Grande", 31.85, -106.45, "USA", True),
    ("Ciudad Juarez, south of it", 31.65, -106.45, "MEX", False),
    ("Nogales AZ", 31.40, -110.94, "USA", True),
    ("Nogales Sonora", 31.28, -110.94, "MEX", False),
    ("Mexican territorial sea off Veracruz", 19.30, -96.00, "MEX", False),
    ("Mexican territorial sea off Tamaulipas", 24.00, -97.55, "MEX", False),
    ("US territorial sea off Texas", 27.50, -97.10, "USA", True),
    ("international Gulf of Mexico", 25.00, -92.00, INTERNATIONAL, True),
    ("international Gulf of California", 27.00, -111.00, INTERNATIONAL, True),
    ("Mexican territorial sea, Gulf of California", 27.85, -110.95, "MEX", False),
]


@pytest.fixture(scope="module")
def checkers() -> dict[str, AirspaceChecker]:
    return {"border": AirspaceChecker(BORDER), "partner": AirspaceChecker(PARTNER)}


def test_zones_and_authorization_on_real_geography(checkers: dict[str, AirspaceChecker]) -> None:
    lat = np.array([p[1] for p in PLACES])
    lon = np.array([p[2] for p in PLACES])
    border = checkers["border"].check(lat, lon)
    partner = checkers["partner"].check(lat, lon)
    for place, b, p in zip(PLACES, border, partner, strict=True):
        name, _, _, zone, allowed = place
        assert b.zone == zone, name
        assert b.allowed is allowed, name
        assert p.allowed is True, name  # the partner program may fly everywhere here
        assert (b.distance_to_unauthorized_m == 0.0) is (not allowed), name


def _geodesic_distance_to(geom_ll: shapely.Geometry, lon: float, lat: float) -> float:
    """Truth: geodesic distance (WGS 84) to a lon/lat polygon's densified boundary."""
    edge = shapely.segmentize(shapely.boundary(geom_ll), 0.002)
    xy = shapely.get_coordinates(edge)
    near = np.hypot(xy[:, 0] - lon, (xy[:, 1] - lat)) < 3.0
    xy = xy[near]
    _, _, d = Geod(ellps="WGS84").inv(
        np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1]
    )
    return float(np.min(d))


def test_distance_to_the_land_border_matches_a_geodesic_truth(
    checkers: dict[str, AirspaceChecker],
) -> None:
    land = country_land()
    mex = land.geometry[list(land.code).index("MEX")]
    for lat, lon in ((31.85, -106.45), (32.2, -111.5), (30.5, -104.5)):
        r = checkers["border"].check(np.array([lat]), np.array([lon]))[0]
        assert r.zone == "USA" and r.distance_to_unauthorized_m is not None
        truth = _geodesic_distance_to(mex, lon, lat)
        assert abs(r.distance_to_unauthorized_m - truth) < 1500.0, (lat, lon, truth)


def test_territorial_sea_is_12_nautical_miles_from_the_coast() -> None:
    land = country_land()
    zones = build_zones(land, (-97.0, 19.0, -96.0, 20.0))
    mex = zones.land[zones.codes.index("MEX")]
    sea = zones.sea[zones.codes.index("MEX")]
    # the outer edge of the belt is 22.224 km from the coast (far from other countries)
    outer = shapely.difference(shapely.boundary(sea), shapely.buffer(mex, 100.0))
    pts = shapely.get_coordinates(shapely.segmentize(outer, 5000.0))[::7]
    d = shapely.distance(shapely.points(pts), mex)
    inside = shapely.contains_xy(zones.region.buffer(-1000.0), pts[:, 0], pts[:, 1])
    assert np.all(np.abs(d[inside] - TERRITORIAL_SEA_M) < 50.0)


def test_overlapping_belts_are_split_by_the_nearer_coast() -> None:
    # the US-Mexico belts overlap at the mouth of the Rio Grande
    zones = build_zones(country_land(), (-97.5, 25.6, -96.8, 26.2))
    usa = zones.land[zones.codes.index("USA")]
    mex = zones.land[zones.codes.index("MEX")]
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = zones.region.bounds
    pts = np.column_stack([rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000)])
    zone = zones.zone_of(pts[:, 0], pts[:, 1])
    du = shapely.distance(shapely.points(pts), usa)
    dm = shapely.distance(shapely.points(pts), mex)
    sea = (np.minimum(du, dm) > 0) & (np.minimum(du, dm) < TERRITORIAL_SEA_M - 100)
    clear = sea & (np.abs(du - dm) > 600.0)  # away from the line, beyond the 500 m vertex spacing
    assert clear.sum() > 100
    assert np.all(zone[clear] == np.where(du[clear] < dm[clear], "USA", "MEX"))


def test_exclusions_and_extra_areas() -> None:
    no_fly = shapely.box(-106.6, 31.8, -106.3, 31.9)  # a box over El Paso
    corridor = shapely.box(-106.5, 31.6, -106.4, 31.7)  # a corridor into Juarez
    op = Operator("x", "x", ("USA",), exclude=no_fly, include_extra=corridor)
    res = AirspaceChecker(op).check(np.array([31.85, 31.65, 31.95]), np.array([-106.45] * 3))
    assert [r.allowed for r in res] == [False, True, True]
    assert res[1].zone == "MEX"


def test_distance_from_international_waters_to_a_territorial_sea(
    checkers: dict[str, AirspaceChecker],
) -> None:
    # off Veracruz, far from any other country: the distance to Mexico's sea is the
    # geodesic distance to its coast minus 12 nm
    land = country_land()
    mex = land.geometry[list(land.code).index("MEX")]
    for lat, lon in ((19.5, -95.3), (22.0, -96.6)):
        r = checkers["border"].check(np.array([lat]), np.array([lon]))[0]
        assert r.zone == INTERNATIONAL and r.allowed
        truth = _geodesic_distance_to(mex, lon, lat) - TERRITORIAL_SEA_M
        assert truth > 0
        assert r.distance_to_unauthorized_m is not None
        assert abs(r.distance_to_unauthorized_m - truth) < 1500.0, (lat, lon, truth)


def test_countries_across_the_antimeridian_are_cut_there() -> None:
    # Russia's Chukotka, Fiji and the Aleutians cross 180°: their land must not wrap the
    # globe (a ring jumping from +180 to -180 would cover every longitude)
    land = country_land()
    rus = land.geometry[list(land.code).index("RUS")]
    assert not shapely.contains_xy(rus, -150.0, 69.5)  # the north coast of Alaska
    assert shapely.contains_xy(rus, 175.0, 67.0)  # Chukotka west of 180°
    assert shapely.contains_xy(rus, -178.0, 67.0)  # and east of it
    fiji = land.geometry[list(land.code).index("FJI")]
    assert max(p.bounds[2] - p.bounds[0] for p in fiji.geoms) < 5.0
    res = AirspaceChecker(BORDER).check(np.array([70.0]), np.array([-150.0]))[0]
    assert res.zone == "USA" and res.distance_to_unauthorized_m is not None
    assert res.distance_to_unauthorized_m > 200_000.0  # Canada is ~350 km away


def test_zones_across_the_antimeridian() -> None:
    # Fiji straddles 180°: its islands on both sides, and their territorial sea, are found
    # from a tile on either side (an envelope in lon/lat would cover everything else)
    op = Operator("fiji", "Fiji", ("FJI",))
    res = AirspaceChecker(op).check(
        np.array([-17.8, -16.6, -16.6]), np.array([178.0, -179.95, 179.95])
    )
    assert [r.zone for r in res] == ["FJI", "FJI", "FJI"]
    assert all(r.allowed and r.distance_to_unauthorized_m for r in res)
    assert all(r.distance_to_unauthorized_m < 100_000.0 for r in res)  # type: ignore[operator]


def test_zones_at_the_poles() -> None:
    # Antarctica covers the South Pole (the source data stop at -85.2°, the package
    # extends it); the North Pole is international airspace
    res = AirspaceChecker(BORDER).check(
        np.array([-89.5, -86.0, 89.5]), np.array([0.0, -120.0, 10.0])
    )
    assert [r.zone for r in res] == ["ATA", "ATA", INTERNATIONAL]
    assert res[2].allowed and res[2].distance_to_unauthorized_m is not None
    assert 500_000.0 < res[2].distance_to_unauthorized_m < 800_000.0  # Greenland's sea
