from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from plumetrace.errors import InvalidParameterError
from plumetrace.geo import local_projection
from plumetrace.pipeline.plumes import PLUME_PROPERTIES
from plumetrace.sim.campaign import (
    Campaign,
    CampaignSpec,
    format_time,
    probability_of_detection,
    simulate_campaign,
)

BIG = CampaignSpec(seed=11, sources=200, passes=40, reports=200, false_rate=0.05)


@pytest.fixture(scope="module")
def big() -> Campaign:
    return simulate_campaign(BIG)


def _coverage(c: Campaign) -> dict[str, tuple[int, int]]:
    """Per source id: (passes covering it, passes detecting it)."""
    out: dict[str, tuple[int, int]] = {}
    for s in c.sources:
        covered = [p for p in c.passes if bool(p.contains(s.x_m, s.y_m))]
        hits = sum(any(d.source == s.id for d in p.detections) for p in covered)
        out[s.id] = (len(covered), hits)
    return out


def test_same_seed_same_campaign_other_seed_differs() -> None:
    spec = CampaignSpec(seed=5, sources=10, passes=4, reports=5)
    assert simulate_campaign(spec) == simulate_campaign(spec)
    other = simulate_campaign(replace(spec, seed=6))
    assert other.sources != simulate_campaign(spec).sources


def test_streams_are_independent() -> None:
    spec = CampaignSpec(seed=5, sources=10, passes=4, reports=5)
    a, b = simulate_campaign(spec), simulate_campaign(replace(spec, reports=20))
    assert a.passes == b.passes and a.sources == b.sources and len(b.reports) == 20


def test_truth_is_as_specified(big: Campaign) -> None:
    rates = np.array([s.rate_kg_h for s in big.sources])
    assert len(big.sources) == 200 and rates.min() >= 5.0 and rates.max() <= 500.0
    assert np.mean(np.log10(rates) < 1.5) == pytest.approx(0.5, abs=0.12)  # log-uniform
    inter = [s for s in big.sources if s.intermittent]
    assert 0.3 < len(inter) / 200 < 0.5
    assert all(0.2 <= s.duty_cycle <= 0.7 for s in inter)
    assert all(s.duty_cycle == 1.0 for s in big.sources if not s.intermittent)
    assert 3 <= len(big.clutter) <= 5 and all(0.3 <= c.recurrence <= 0.5 for c in big.clutter)
    assert len({s.id for s in big.sources}) == 200
    # some sources are clustered 100-300 m apart, none closer than 60 m
    xy = np.array([[s.x_m, s.y_m] for s in big.sources])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    nearest = np.sort(d, axis=1)[:, 1]
    assert nearest.min() >= 60.0 and np.sum(nearest <= 300.0) >= 20
    half = BIG.area_km * 500
    assert np.all(np.abs(xy) <= half)


def test_passes_in_time_order_with_ids(big: Campaign) -> None:
    times = [p.time for p in big.passes]
    assert times == sorted(times)
    assert [p.flight for p in big.passes] == [f"flt-11-{k}" for k in range(1, 41)]
    start = BIG.start
    assert all(0 <= (t - start).total_seconds() < BIG.days * 86400 + 86400 for t in times)
    assert format_time(times[0]).endswith("Z") and len({p.platform for p in big.passes}) > 1
    assert {p.operator for p in big.passes} <= {"border-unit", "partner-program"}


def test_footprints_cover_30_to_80_percent(big: Campaign) -> None:
    half = BIG.area_km * 500
    g = np.linspace(-half, half, 81)
    gx, gy = np.meshgrid(g, g)
    for p in big.passes:
        assert 0.27 <= float(np.mean(p.contains(gx, gy))) <= 0.83
        ring = p.footprint
        assert ring[0] == ring[-1] and len(ring) > 5
        area2 = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
        assert area2 > 0  # counter-clockwise


def test_detections_inside_their_footprint_with_consistent_errors(big: Campaign) -> None:
    fwd, _ = local_projection(BIG.origin_lon, BIG.origin_lat)
    truth = {s.id: s for s in big.sources}
    z = []
    for p in big.passes:
        ids = [d.plume_id for d in p.detections]
        assert ids == [f"plume-{j}" for j in range(1, len(ids) + 1)]
        for d in p.detections:
            assert bool(p.contains(d.x_m, d.y_m))
            x, y = fwd.transform(d.lon, d.lat)
            assert math.hypot(x - d.x_m, y - d.y_m) < 0.01
            assert 10.0 <= d.source_uncertainty_m <= 60.0
            assert (d.source is not None) == (d.kind == "real")
            assert (d.clutter is not None) == (d.kind == "clutter")
            if d.kind == "real" and d.source is not None:
                s = truth[d.source]
                z += [(d.x_m - s.x_m) / d.source_uncertainty_m]
                z += [(d.y_m - s.y_m) / d.source_uncertainty_m]
    assert np.std(z) == pytest.approx(1.0, abs=0.1)


def test_properties_are_the_plumes_contract(big: Campaign) -> None:
    d = big.detections[0]
    props = d.properties()
    assert tuple(props) == PLUME_PROPERTIES
    assert props["method"] == "sim-campaign" and props["source_row"] is None
    lo, hi = props["flux_kg_h_ci68"]
    assert lo < props["flux_kg_h"] < hi and props["flux_kg_h_sigma"] > 0
    assert 0.0 <= props["confidence"] <= 1.0


def test_probability_of_detection_curve() -> None:
    pod = probability_of_detection(np.array([0.0, 5.0, 20.0, 100.0, 500.0]))
    assert pod[0] == 0.0 and pod[2] == pytest.approx(0.5)
    assert pod[3] == pytest.approx(0.95) and pod[4] > 0.99
    assert np.all(np.diff(pod) > 0)


def test_intermittent_sources_are_detected_less_often(big: Campaign) -> None:
    cov = _coverage(big)

    def hit_rate(intermittent: bool) -> float:
        # strong sources only, so that detectability does not confound
        sel = [
            cov[s.id]
            for s in big.sources
            if s.intermittent == intermittent and s.rate_kg_h >= 100.0 and cov[s.id][0] > 0
        ]
        return sum(h for _, h in sel) / sum(n for n, _ in sel)

    cont, inter = hit_rate(False), hit_rate(True)
    assert cont > 0.9 and inter < 0.7 * cont


def test_pod_increases_with_rate(big: Campaign) -> None:
    cov = _coverage(big)
    bins = [(5, 15), (15, 50), (50, 150), (150, 500)]
    rates = []
    for lo, hi in bins:
        sel = [
            cov[s.id]
            for s in big.sources
            if not s.intermittent and lo <= s.rate_kg_h < hi and cov[s.id][0] > 0
        ]
        rates.append(sum(h for _, h in sel) / sum(n for n, _ in sel))
    assert rates == sorted(rates) and rates[0] < 0.5 and rates[-1] > 0.9


def test_false_detections_at_the_requested_rate(big: Campaign) -> None:
    n = sum(d.kind == "false" for d in big.detections)
    expected = BIG.false_rate * sum(p.area_km2 for p in big.passes)
    assert n == pytest.approx(expected, rel=0.2)


def test_clutter_recurs_and_false_alarms_are_weaker_but_overlap(big: Campaign) -> None:
    clutter = [d for d in big.detections if d.kind == "clutter"]
    for c in big.clutter:
        covering = sum(bool(p.contains(c.x_m, c.y_m)) for p in big.passes)
        hits = sum(d.clutter == c.id for d in clutter)
        if covering >= 10:
            assert 0.1 < hits / covering < 0.7
    real = [d for d in big.detections if d.kind == "real"]
    fake = [d for d in big.detections if d.kind != "real"]
    for attr in ("confidence", "max_ppm_m", "flux_kg_h"):
        r = np.array([getattr(d, attr) for d in real])
        f = np.array([getattr(d, attr) for d in fake])
        assert np.median(f) < np.median(r)
        # not trivially separable
        assert np.mean(f > np.percentile(r, 25)) > 0.05
        assert np.mean(r < np.percentile(f, 75)) > 0.05


def test_reports_graded_and_placed(big: Campaign) -> None:
    truth = {s.id: s for s in big.sources}
    fwd, _ = local_projection(BIG.origin_lon, BIG.origin_lat)
    true = [r for r in big.reports if r.source is not None]
    false = [r for r in big.reports if r.source is None]
    assert 0.45 < len(true) / len(big.reports) < 0.75
    assert [r.id for r in big.reports] == [f"rpt-11-{k}" for k in range(1, 201)]
    z = []
    for r in true:
        assert r.source is not None
        s = truth[r.source]
        x, y = fwd.transform(r.lon, r.lat)
        z += [(x - s.x_m) / r.uncertainty_m, (y - s.y_m) / r.uncertainty_m]
    assert np.std(z) == pytest.approx(1.0, abs=0.15)
    assert all(50.0 <= r.uncertainty_m <= 500.0 for r in big.reports)

    def reliable(rs: list[object]) -> float:
        return float(np.mean([r.source_reliability in "AB" for r in rs]))

    assert reliable(list(true)) > reliable(list(false)) + 0.2
    cred_t = np.mean([r.credibility for r in true])
    cred_f = np.mean([r.credibility for r in false])
    assert cred_t < cred_f
    assert all(
        r.credibility in range(1, 7) and r.source_reliability in "ABCDEF" for r in big.reports
    )
    named = [r.organization for r in big.reports if r.organization is not None]
    assert 0 < len(named) < len(big.reports) and "Cartel del Norte" in named


def test_zero_everything_and_invalid_specs() -> None:
    c = simulate_campaign(CampaignSpec(sources=0, passes=0, reports=0))
    assert c.passes == () and c.reports == () and c.truth_dict()["sources"] == []
    only_false = simulate_campaign(CampaignSpec(sources=0, passes=3, reports=4, false_rate=0.1))
    assert all(d.kind != "real" for d in only_false.detections)
    assert all(r.source is None for r in only_false.reports)
    for bad in (
        {"sources": -1},
        {"days": 0},
        {"area_km": 0.0},
        {"false_rate": -0.1},
        {"origin_lat": 95.0},
        {"start": datetime(2025, 1, 1)},
    ):
        with pytest.raises(InvalidParameterError):
            CampaignSpec(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="cannot place"):
        simulate_campaign(CampaignSpec(sources=500, area_km=0.5))
    assert CampaignSpec().start == datetime(2025, 3, 3, tzinfo=UTC)
