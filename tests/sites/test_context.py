from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from pyproj import Geod, Transformer

from plumetrace.errors import InvalidParameterError
from plumetrace.geo import local_projection, local_to_lonlat, utm_georef
from plumetrace.sim.context import TOWN_ZONES, synthetic_town
from plumetrace.sites.context import (
    EXPOSURE_CLASSES,
    Features,
    PopulationGrid,
    SiteContext,
    site_context,
    site_contexts,
)

LAT0, LON0 = 19.43, -99.13  # a dense city; any place works


def uniform_utm(value: float, pixel_m: float = 10.0, n: int = 300) -> PopulationGrid:
    g = utm_georef(LAT0, LON0, n, n, pixel_m)
    assert g.transform is not None and g.crs is not None
    return PopulationGrid(np.full((n, n), value), g.transform, g.crs)


def utm_scale() -> float:
    """UTM grid metres per ground metre at the test site (10 m pixels are not 10 m)."""
    from pyproj import Proj

    crs = utm_georef(LAT0, LON0, 1, 1, 1.0).crs
    return float(Proj(crs).get_factors(LON0, LAT0).meridional_scale)


def square(east: float, north: float, half: float) -> shapely.Polygon:
    """A lon/lat polygon of a square ``2*half`` m wide centred ``east``/``north`` m away."""
    x = np.array([-1, 1, 1, -1, -1]) * half + east
    y = np.array([-1, -1, 1, 1, -1]) * half + north
    lon, lat = local_to_lonlat(x, y, LAT0, LON0)
    return shapely.Polygon(np.column_stack([lon, lat]))


def at(east: float, north: float) -> tuple[float, float]:
    lon, lat = local_to_lonlat(east, north, LAT0, LON0)
    return float(lat), float(lon)


# --------------------------------------------------------------------------- people counts


def test_uniform_density_projected() -> None:
    # 1 person per 10 x 10 m pixel: pi * 100² / 100 = 314 within 100 m
    ctx = site_context(LAT0, LON0, 5.0, uniform_utm(1.0), None)
    k = utm_scale()  # UTM pixels are 10 m of grid, 10 / k m of ground
    assert ctx.people_100m == pytest.approx(math.pi * 100.0 * k**2, rel=1e-3)
    assert ctx.people_100m == pytest.approx(314.16, rel=0.02)
    assert ctx.people_500m == pytest.approx(math.pi * 2500.0 * k**2, rel=1e-3)


def test_uniform_density_geographic() -> None:
    res = 1e-4
    grid = PopulationGrid(
        np.ones((400, 400)), (res, 0.0, LON0 - 200 * res, 0.0, -res, LAT0 + 200 * res), "EPSG:4326"
    )
    lon = [LON0, LON0 + res, LON0 + res, LON0]
    lat = [LAT0, LAT0, LAT0 + res, LAT0 + res]
    pixel_area = abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0])
    ctx = site_context(LAT0, LON0, 0.0, grid, None)
    assert ctx.people_100m == pytest.approx(math.pi * 1e4 / pixel_area, rel=2e-3)
    assert ctx.people_500m == pytest.approx(math.pi * 25e4 / pixel_area, rel=2e-3)


def test_pixels_larger_than_the_disk_count_their_overlap() -> None:
    # 200 m pixels of 1000 persons; the 100 m disk lies inside one pixel
    g = utm_georef(LAT0, LON0, 11, 11, 200.0)
    assert g.transform is not None and g.crs is not None
    grid = PopulationGrid(np.full((11, 11), 1000.0), g.transform, g.crs)
    ctx = site_context(LAT0, LON0, 0.0, grid, None)
    k = utm_scale()
    assert ctx.people_100m == pytest.approx(1000.0 * math.pi * (100 * k) ** 2 / 200.0**2, rel=1e-3)


def test_rotated_grid() -> None:
    g = utm_georef(LAT0, LON0, 300, 300, 10.0)
    assert g.transform is not None and g.crs is not None
    a, _, c, _, e, f = g.transform
    t = math.radians(30.0)
    # rotate the grid by 30° about its centre
    xc, yc = c + a * 150, f + e * 150
    ra, rb, rd, re = a * math.cos(t), -e * math.sin(t), a * math.sin(t), e * math.cos(t)
    transform = (ra, rb, xc - 150 * (ra + rb), rd, re, yc - 150 * (rd + re))
    ctx = site_context(LAT0, LON0, 0.0, PopulationGrid(np.ones((300, 300)), transform, g.crs), None)
    assert ctx.people_100m == pytest.approx(math.pi * 100 * utm_scale() ** 2, rel=2e-3)


def test_hot_pixel_and_nodata() -> None:
    grid = uniform_utm(np.nan)
    values = grid.values.copy()
    values[150, 150] = 40.0  # the site's pixel
    ctx = site_context(LAT0, LON0, 0.0, PopulationGrid(values, grid.transform, grid.crs), None)
    assert ctx.people_100m == pytest.approx(40.0, rel=1e-3)
    assert ctx.people_500m == pytest.approx(40.0, rel=1e-3)


def test_random_field_against_fine_reference() -> None:
    rng = np.random.default_rng(3)
    g = utm_georef(LAT0, LON0, 120, 120, 25.0)
    assert g.transform is not None and g.crs is not None
    values = rng.gamma(0.5, 2.0, (120, 120))
    grid = PopulationGrid(values, g.transform, g.crs)
    x, y = rng.uniform(-600, 600, (2, 20))
    lon, lat = local_to_lonlat(x, y, LAT0, LON0)
    got = site_contexts(lat, lon, 0.0, grid, None)
    gx, gy = Transformer.from_crs("EPSG:4326", g.crs, always_xy=True).transform(lon, lat)
    a, _, c, _, e, f = g.transform
    radius = 100.0 * utm_scale()
    step = 1.0
    o = np.arange(-radius, radius + step, step)
    ox, oy = np.meshgrid(o, o)
    inside = ox**2 + oy**2 <= radius**2
    ox, oy = ox[inside], oy[inside]
    for s, ctx in enumerate(got):
        cols = np.floor((gx[s] + ox - c) / a).astype(int)
        rows = np.floor((gy[s] + oy - f) / e).astype(int)
        ref = values[rows, cols].mean() * math.pi * radius**2 / 25.0**2
        assert ctx.people_100m == pytest.approx(ref, rel=0.01)


def test_disk_off_the_raster() -> None:
    grid = uniform_utm(1.0, n=100)  # 1 km square centred on the site
    lat, lon = at(480.0, 0.0)  # 100 m disk a fifth off the raster, 500 m disk half off
    ctx = site_context(lat, lon, 0.0, grid, None)
    assert ctx.people_100m == pytest.approx(math.pi * 100 * utm_scale() ** 2, rel=2e-3)
    far_lat, far_lon = at(5000.0, 0.0)
    far = site_context(far_lat, far_lon, 0.0, grid, None)
    assert far.people_100m is None and far.people_500m is None
    assert far.exposure == "unknown"


# --------------------------------------------------------------------------- buildings


@pytest.mark.parametrize(
    ("flag", "exposure"), [(True, "high"), (False, "medium"), (None, "medium")]
)
def test_inside_building(flag: bool | None, exposure: str) -> None:
    feats = Features([square(0, 0, 10)], [flag])
    ctx = site_context(LAT0, LON0, 5.0, None, feats)
    assert ctx.in_building is True
    assert ctx.building_distance_m == 0.0
    assert ctx.residential is flag
    assert ctx.exposure == exposure
    if flag:
        assert ctx.advisory.startswith("Likely inside a dwelling")
    else:
        assert "building" in ctx.advisory and "populated area" in ctx.advisory
    if flag is None:
        assert "may be a home" in ctx.advisory


def test_outside_building_and_uncertainty() -> None:
    feats = Features([square(50, 0, 10)], [True])
    sure = site_context(LAT0, LON0, 10.0, None, feats)
    assert sure.in_building is False and sure.residential is False
    assert sure.building_distance_m == pytest.approx(40.0, abs=0.01)
    assert sure.exposure == "low"
    unsure = site_context(LAT0, LON0, 60.0, None, feats)
    assert unsure.in_building is None  # a home lies within the uncertainty
    assert unsure.residential is True
    assert unsure.exposure == "high"
    assert unsure.advisory.startswith("Possibly inside a dwelling")


def test_overlapping_buildings_merge_cautiously() -> None:
    feats = Features([square(0, 0, 10), square(5, 0, 10)], [False, True])
    ctx = site_context(LAT0, LON0, 0.0, None, feats)
    assert ctx.in_building is True and ctx.residential is True


def test_far_from_buildings_distance_in_metres() -> None:
    feats = Features([square(12_000, 0, 10)], [False], hospitals=[square(0, 9_000, 20)])
    ctx = site_context(LAT0, LON0, 0.0, None, feats)
    assert ctx.building_distance_m == pytest.approx(11_990.0, rel=1e-3)
    assert ctx.nearest_hospital_m == pytest.approx(8_980.0, rel=1e-3)
    assert ctx.nearest_school_m is None
    assert ctx.exposure == "low"


def test_containment_against_brute_force() -> None:
    lat0, lon0 = 52.37, 4.89
    _, feats = synthetic_town(lat0, lon0, seed=11)
    rng = np.random.default_rng(5)
    west, _, _, north = TOWN_ZONES["residential"]
    x = rng.uniform(west * 2000, 0.45 * 2000, 2000)
    y = rng.uniform(-0.35 * 2000, north * 2000, 2000)
    lon, lat = local_to_lonlat(x, y, lat0, lon0)
    got = site_contexts(lat, lon, 0.0, None, feats)
    buildings = np.asarray(feats.buildings, dtype=object)
    flags = np.array([2 if f is None else int(f) for f in feats.residential])
    fwd, _ = local_projection(lon0, lat0)

    def project(g: NDArray[np.object_]) -> NDArray[np.object_]:
        return np.asarray(
            shapely.transform(g, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
        )

    local = project(buildings)
    pts = project(np.asarray(shapely.points(lon, lat)))
    inside_count = 0
    for i, ctx in enumerate(got):
        hits = np.flatnonzero(shapely.intersects(buildings, shapely.Point(lon[i], lat[i])))
        assert ctx.in_building is bool(hits.size), i
        if hits.size:
            inside_count += 1
            flag = flags[hits[0]]
            assert ctx.residential is (None if flag == 2 else bool(flag))
            assert ctx.building_distance_m == 0.0
        elif i % 10 == 0:
            ref = float(shapely.distance(local, pts[i]).min())
            assert ctx.building_distance_m == pytest.approx(ref, abs=1e-6)
    assert 100 < inside_count < 1500


# --------------------------------------------------------------------------- exposure


@pytest.mark.parametrize(
    ("density", "exposure", "phrase"),
    [
        (0.2, "high", "dense neighbourhood"),  # 63 people within 100 m
        (0.03, "medium", "within 500 m"),  # 9 within 100 m, 236 within 500 m
        (0.018, "medium", "within 100 m"),  # 5.7 within 100 m, 141 within 500 m
        (0.001, "low", "few people"),
    ],
)
def test_population_rules(density: float, exposure: str, phrase: str) -> None:
    ctx = site_context(LAT0, LON0, 5.0, uniform_utm(density), None)
    assert ctx.exposure == exposure
    assert phrase in ctx.advisory.lower()
    assert "no building layer" in ctx.advisory
    assert ctx.in_building is None and ctx.residential is None


def test_non_residential_building_in_empty_area_is_low() -> None:
    feats = Features([square(0, 0, 10)], [False])
    ctx = site_context(LAT0, LON0, 0.0, uniform_utm(0.0001), feats)
    assert ctx.exposure == "low"


def test_unknown_without_layers() -> None:
    ctx = site_context(LAT0, LON0, 10.0, None, None)
    assert ctx.exposure == "unknown"
    assert ctx.people_100m is None and ctx.in_building is None
    assert ctx.residential is None and ctx.building_distance_m is None
    assert "unknown" in ctx.advisory and "ground investigation only" in ctx.advisory


def test_school_within_250_m_is_high() -> None:
    feats = Features(schools=[shapely.Point(*reversed(at(0.0, 200.0)))])
    ctx = site_context(LAT0, LON0, 0.0, None, feats)
    assert ctx.nearest_school_m == pytest.approx(200.0, abs=0.01)
    assert ctx.exposure == "high"
    assert "a school 200 m away" in ctx.advisory.lower()


def test_facility_distance_less_uncertainty() -> None:
    feats = Features(hospitals=[shapely.Point(*reversed(at(300.0, 0.0)))])
    low = site_context(LAT0, LON0, 0.0, uniform_utm(0.0), feats)
    assert low.exposure == "low"
    assert "a hospital 300 m away" in low.advisory  # named: within 500 m
    high = site_context(LAT0, LON0, 60.0, uniform_utm(0.0), feats)
    assert high.exposure == "high"


def test_advisories_are_protective() -> None:
    grid, feats = synthetic_town(LAT0, LON0, seed=2)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1200, 1200, (2, 400))
    lon, lat = local_to_lonlat(x, y, LAT0, LON0)
    contexts = site_contexts(lat, lon, rng.uniform(0, 50, 400), grid, feats)
    contexts += [site_context(LAT0, LON0, 0.0, None, None)]
    assert {c.exposure for c in contexts} == set(EXPOSURE_CLASSES)
    for ctx in contexts:
        text = ctx.advisory.lower()
        assert "ground investigation only" in text
        assert "toxic" in text
        assert not any(w in text for w in ("strike", "target", "attack", "weapon", "kill"))
        assert text.endswith(".") and "\n" not in text


# --------------------------------------------------------------------------- value types


def test_round_trip() -> None:
    grid, feats = synthetic_town(LAT0, LON0, seed=4)
    contexts = site_contexts([LAT0, LAT0 + 0.004], [LON0, LON0], [5.0, 30.0], grid, feats)
    for ctx in [*contexts, site_context(LAT0, LON0, 1.0, None, None)]:
        data = json.loads(json.dumps(ctx.to_dict()))
        assert SiteContext.from_dict(data) == ctx


def test_from_dict_rejects_bad_input() -> None:
    data = site_context(LAT0, LON0, 1.0, None, None).to_dict()
    with pytest.raises(InvalidParameterError, match="missing advisory"):
        SiteContext.from_dict({k: v for k, v in data.items() if k != "advisory"})
    with pytest.raises(InvalidParameterError, match="unknown extra"):
        SiteContext.from_dict({**data, "extra": 1})
    with pytest.raises(InvalidParameterError, match="exposure"):
        SiteContext.from_dict({**data, "exposure": "severe"})
    with pytest.raises(InvalidParameterError, match="people_100m"):
        SiteContext.from_dict({**data, "people_100m": -1.0})
    with pytest.raises(InvalidParameterError, match="in_building"):
        SiteContext.from_dict({**data, "in_building": "yes"})


def test_layer_validation() -> None:
    with pytest.raises(InvalidParameterError, match=r"buildings\[1\] is a Point"):
        Features([square(0, 0, 5), shapely.Point(LON0, LAT0)])
    with pytest.raises(InvalidParameterError, match="1 residential flags for 2 buildings"):
        Features([square(0, 0, 5), square(50, 0, 5)], [True])
    assert Features([square(0, 0, 5)]).residential == [None]
    with pytest.raises(InvalidParameterError, match="persons"):
        PopulationGrid(np.full((2, 2), -1.0), (1, 0, 0, 0, -1, 0), "EPSG:32614")
    with pytest.raises(InvalidParameterError, match="zero pixel area"):
        PopulationGrid(np.ones((2, 2)), (0, 0, 0, 0, -1, 0), "EPSG:32614")
    with pytest.raises(InvalidParameterError, match="unknown CRS"):
        PopulationGrid(np.ones((2, 2)), (1, 0, 0, 0, -1, 0), "EPSG:not")


def test_site_input_validation() -> None:
    with pytest.raises(InvalidParameterError, match="2 values for 3 sites"):
        site_contexts([1, 2, 3], [1, 2], 0.0, None, None)
    with pytest.raises(InvalidParameterError, match=">= 0"):
        site_contexts([1.0], [1.0], [-1.0], None, None)
    with pytest.raises(InvalidParameterError, match="finite"):
        site_contexts([np.nan], [1.0], 0.0, None, None)
    with pytest.raises(InvalidParameterError, match="lats must lie"):
        site_contexts([91.0], [1.0], 0.0, None, None)
    assert site_contexts([], [], [], None, None) == []


def test_vectorised_equals_single_and_spans_cells() -> None:
    grid, feats = synthetic_town(LAT0, LON0, seed=9)
    lats = [LAT0, LAT0 + 0.003, LAT0 - 2.0]  # the last one in another 1° cell, off the town
    lons = [LON0, LON0 - 0.004, LON0 + 3.0]
    many = site_contexts(lats, lons, [3.0, 20.0, 10.0], grid, feats)
    for ctx, la, lo, u in zip(many, lats, lons, [3.0, 20.0, 10.0], strict=True):
        one = site_context(la, lo, u, grid, feats).to_dict()
        # projections centred elsewhere: equal to rounding
        assert ctx.to_dict() == {
            k: pytest.approx(v, rel=1e-6, abs=1e-6) if isinstance(v, float) else v
            for k, v in one.items()
        }
    assert many[2].people_100m is None
    assert many[2].building_distance_m == pytest.approx(
        Geod(ellps="WGS84").inv(lons[2], lats[2], LON0, LAT0)[2], rel=0.01
    )
