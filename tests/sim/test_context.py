from __future__ import annotations

import numpy as np
import pytest
import shapely

from plumetrace.errors import InvalidParameterError
from plumetrace.sim.context import (
    HOSPITAL_AT,
    TOWN_DENSITY,
    TOWN_ZONES,
    synthetic_town,
    town_point,
)
from plumetrace.sites.context import site_context, site_contexts

LAT0, LON0 = 6.25, -75.57


def middle(zone: str) -> tuple[float, float]:
    w, s, e, n = TOWN_ZONES[zone]
    return town_point(LAT0, LON0, (w + e) / 2, (s + n) / 2)


def test_deterministic_per_seed() -> None:
    g1, f1 = synthetic_town(LAT0, LON0, seed=7)
    g2, f2 = synthetic_town(LAT0, LON0, seed=7)
    g3, _ = synthetic_town(LAT0, LON0, seed=8)
    np.testing.assert_array_equal(g1.values, g2.values)
    assert f1.residential == f2.residential
    assert all(a.equals(b) for a, b in zip(f1.buildings, f2.buildings, strict=True))
    assert not np.allclose(np.nan_to_num(g1.values), np.nan_to_num(g3.values))


def test_layout() -> None:
    grid, feats = synthetic_town(LAT0, LON0, seed=1)
    assert grid.shape == (200, 200)
    assert grid.crs == "EPSG:32618"
    lake = np.isnan(grid.values)
    assert 0.005 < lake.mean() < 0.03
    assert np.nanmean(grid.values) > 0
    polys = np.asarray(feats.buildings, dtype=object)
    assert np.all(shapely.is_valid(polys))
    tree = shapely.STRtree(polys)
    pairs = tree.query(polys, predicate="overlaps")
    assert pairs.shape[1] == 0  # no two buildings overlap
    flags = feats.residential
    assert 0.8 < sum(f is True for f in flags) / len(flags) < 0.95
    assert any(f is None for f in flags) and any(f is False for f in flags)
    assert len(feats.schools) == 1 and len(feats.hospitals) == 1
    assert feats.schools[0].equals(feats.buildings[-1])


def test_zone_densities() -> None:
    grid, _ = synthetic_town(LAT0, LON0, seed=3)
    res = site_context(*middle("residential"), 0.0, grid, None)
    assert res.people_100m == pytest.approx(np.pi * 100 * TOWN_DENSITY["residential"], rel=0.15)
    ind = site_context(*middle("industrial"), 0.0, grid, None)
    assert ind.people_100m == pytest.approx(np.pi * 100 * TOWN_DENSITY["industrial"], rel=0.3)


def test_exposure_by_zone() -> None:
    grid, feats = synthetic_town(LAT0, LON0, seed=4)
    homes = [i for i, f in enumerate(feats.residential) if f is True]
    house = feats.buildings[homes[len(homes) // 2]].centroid
    warehouse = feats.buildings[-2].centroid  # the last warehouse, before the school
    sites = [(house.y, house.x), (warehouse.y, warehouse.x), middle("open"), middle("school")]
    lats, lons = zip(*sites, strict=True)
    home, work, field, school = site_contexts(lats, lons, 5.0, grid, feats)
    assert home.in_building and home.residential and home.exposure == "high"
    assert work.in_building and work.residential is False and work.exposure == "medium"
    assert field.in_building is False and field.exposure == "low"
    assert school.nearest_school_m == 0.0 and school.exposure == "high"
    h_lat, h_lon = town_point(LAT0, LON0, *HOSPITAL_AT)
    hospital = site_context(h_lat + 0.001, h_lon, 5.0, grid, feats)
    assert hospital.nearest_hospital_m == pytest.approx(110.0, abs=2.0)
    assert "hospital" in hospital.advisory and hospital.exposure == "high"


def test_size_validation() -> None:
    with pytest.raises(InvalidParameterError, match="at least 500 m"):
        synthetic_town(LAT0, LON0, seed=0, size_m=100.0)
    grid, feats = synthetic_town(LAT0, LON0, seed=0, size_m=600.0)
    assert grid.shape == (60, 60)
    assert len(feats.buildings) > 50
