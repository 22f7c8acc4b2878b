"""A simulated survey campaign: many passes over many sources, with false alarms and reports.

:func:`simulate_campaign` turns a :class:`CampaignSpec` into a :class:`Campaign`, the
evidence and the truth used to validate the fusion of detections into sites (precision,
recall, calibration of site confidence):

1. **Truth.** Sources at random positions in a square area, some in clusters 100-300 m
   apart (association and merging), emission rates log-uniform 5-500 kg/h; about 40 % are
   intermittent with a duty cycle of 0.2-0.7 (they emit during a pass with that
   probability), the others continuous. Three to five *persistent clutter* locations
   (bright surfaces) cause false detections on 30-50 % of the passes that cover them.
2. **Passes.** Each pass is a flight (``flt-<seed>-<k>``, in time order) at a daytime
   hour of a day of the campaign, by a platform with its sensor and operator, over a
   rotated rectangular strip that covers 30-80 % of the area. A covered source that emits
   during the pass is detected with :func:`probability_of_detection` of its
   instantaneous rate; the detection is displaced by Gaussian noise of a per-detection
   σ of 10-60 m (its ``source_uncertainty_m``) and its rate estimate is log-normal around
   the truth (about 30 %). False detections fall uniformly in the footprint at the
   requested rate per km², clutter detections near the clutter; both have lower rates,
   peak enhancements and confidences on average, with overlapping distributions.
3. **Reports** from other sources of information, graded on the Admiralty scale
   (``source_reliability`` A-F, ``credibility`` 1-6): true reports lie near a real
   source (error consistent with their ``uncertainty_m``) and come mostly from reliable
   sources; false reports lie anywhere and come mostly from unreliable ones. Some name an
   organization.

Positions are drawn in metres in a local azimuthal equidistant frame centred on the
origin (x east, y north) and converted to WGS84. Every uncertainty in metres is the
standard deviation of the position error along each axis. Each component draws from its
own random stream derived from the seed, so the same seed gives the same campaign and,
e.g., the number of reports does not change the passes.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError
from plumetrace.geo import local_projection
from plumetrace.sim.campaign_spec import (
    DETECTION_KINDS,
    EDGE_M,
    Campaign,
    CampaignSpec,
    Clutter,
    Detection,
    DetectionKind,
    Pass,
    Report,
    TrueSource,
    format_time,
    from_strip,
    strip_frame,
)

__all__ = [
    "DETECTION_KINDS",
    "ORGANIZATIONS",
    "PLATFORMS",
    "POD_RATE_50_KG_H",
    "POD_SLOPE",
    "Campaign",
    "CampaignSpec",
    "Clutter",
    "Detection",
    "Pass",
    "Report",
    "TrueSource",
    "format_time",
    "probability_of_detection",
    "simulate_campaign",
]

PLATFORMS: tuple[tuple[str, str, str], ...] = (
    ("ac-1", "aviris-ng", "border-unit"),
    ("ac-2", "aviris-ng", "partner-program"),
    ("uav-1", "aviris-ng", "border-unit"),
    ("uav-2", "emit", "partner-program"),
)
"""``(platform, sensor, operator)`` of the simulated fleet."""

ORGANIZATIONS: tuple[str, ...] = ("Cartel del Norte", "Los Hermanos", "La Linea Sur")
"""Organization names that reports may give."""

POD_RATE_50_KG_H = 20.0
"""Emission rate detected with probability 0.5 (kg/h)."""
POD_SLOPE = math.log(19.0) / math.log(5.0)
"""Logistic slope in ln(rate): probability 0.95 at five times :data:`POD_RATE_50_KG_H`."""

_RELIABILITY = ("A", "B", "C", "D", "E", "F")
# P(grade | true report) and P(grade | false report): overlapping, shifted
_RELIABILITY_P = {
    True: (0.25, 0.30, 0.25, 0.10, 0.05, 0.05),
    False: (0.04, 0.08, 0.20, 0.30, 0.23, 0.15),
}
_CREDIBILITY_P = {
    True: (0.22, 0.35, 0.25, 0.10, 0.05, 0.03),
    False: (0.04, 0.10, 0.24, 0.30, 0.20, 0.12),
}
_REPORT_TEXTS = (
    "Residents report a persistent smell of gas.",
    "Informant describes hoses from a buried pipeline to tanker trucks at night.",
    "Patrol heard hissing and saw a vapour cloud at a fenced yard.",
    "Repeated night-time tanker traffic at an unregistered compound.",
    "Farm workers report dead vegetation and a gas odour near a well.",
    "Anonymous tip: illegal tap and storage tanks behind a warehouse.",
    "Neighbours complain of headaches and a fuel smell after dark.",
)
_VERTEX_SPACING_M = 500.0  # footprint outlines: straight in metres, close to it in lon/lat
_TRUE_REPORT_FRACTION = 0.6
_CLUSTER_FRACTION = 0.3
_INTERMITTENT_FRACTION = 0.4
# independent random streams (SeedSequence([seed, stream, ...]))
_SOURCES, _CLUTTER, _PASSES, _DETECT, _REPORTS = 1, 2, 3, 4, 5


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def probability_of_detection(rate_kg_h: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Return the probability that an emitting source inside a footprint is detected.

    Logistic in the logarithm of the rate: 0.5 at 20 kg/h, 0.95 at 100 kg/h, 0.997 at
    500 kg/h (typical of airborne imaging spectrometers at a few metres' resolution,
    e.g. Cusworth et al. 2021, *Environ. Sci. Technol. Lett.* 8, 567).

    Parameters
    ----------
    rate_kg_h : float or ndarray, kg/h
        Instantaneous emission rate (non-positive rates are never detected).

    Returns
    -------
    ndarray of float, same shape
    """
    q = np.asarray(rate_kg_h, dtype=np.float64)
    with np.errstate(divide="ignore"):
        z = POD_SLOPE * (np.log(np.maximum(q, 0.0)) - math.log(POD_RATE_50_KG_H))
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


# --------------------------------------------------------------------------- frame
class _Frame:
    """The local metric frame of the campaign (AEQD on the origin)."""

    def __init__(self, lat: float, lon: float) -> None:
        self._inv = local_projection(lon, lat)[1]

    def lonlat(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[list[float], list[float]]:
        lon, lat = self._inv.transform(np.asarray(x, np.float64), np.asarray(y, np.float64))
        return [float(v) for v in np.ravel(lon)], [float(v) for v in np.ravel(lat)]


# --------------------------------------------------------------------------- truth


def _place_sources(spec: CampaignSpec, frame: _Frame) -> tuple[TrueSource, ...]:
    rng = _stream(spec.seed, _SOURCES)
    half = spec.area_km * 500.0
    margin = min(300.0, 0.05 * half)
    lo, hi = -half + margin, half - margin
    xy: list[tuple[float, float]] = []
    for _ in range(200 * spec.sources + 1000):
        if len(xy) == spec.sources:
            break
        if xy and rng.random() < _CLUSTER_FRACTION:
            px, py = xy[int(rng.integers(len(xy)))]
            d, a = rng.uniform(100.0, 300.0), rng.uniform(0.0, 2 * math.pi)
            x, y = px + d * math.sin(a), py + d * math.cos(a)
        else:
            x, y = rng.uniform(lo, hi), rng.uniform(lo, hi)
        if lo <= x <= hi and lo <= y <= hi and all(math.hypot(x - u, y - v) >= 60.0 for u, v in xy):
            xy.append((x, y))
    else:
        raise InvalidParameterError(
            f"cannot place {spec.sources} sources 60 m apart in {spec.area_km:g} km square; "
            "use fewer sources or a larger area"
        )
    n = len(xy)
    rates = np.exp(rng.uniform(math.log(5.0), math.log(500.0), n))
    intermittent = rng.random(n) < _INTERMITTENT_FRACTION
    duty = np.where(intermittent, rng.uniform(0.2, 0.7, n), 1.0)
    x_arr = np.array([p[0] for p in xy], dtype=np.float64)
    y_arr = np.array([p[1] for p in xy], dtype=np.float64)
    lons, lats = frame.lonlat(x_arr, y_arr)
    return tuple(
        TrueSource(
            id=f"src-{i + 1:03d}",
            x_m=float(x_arr[i]),
            y_m=float(y_arr[i]),
            lat=lats[i],
            lon=lons[i],
            rate_kg_h=round(float(rates[i]), 2),
            duty_cycle=round(float(duty[i]), 3),
            intermittent=bool(intermittent[i]),
        )
        for i in range(n)
    )


def _place_clutter(spec: CampaignSpec, frame: _Frame) -> tuple[Clutter, ...]:
    rng = _stream(spec.seed, _CLUTTER)
    half = spec.area_km * 500.0
    n = int(rng.integers(3, 6))
    x = rng.uniform(-0.95 * half, 0.95 * half, n)
    y = rng.uniform(-0.95 * half, 0.95 * half, n)
    recurrence = rng.uniform(0.3, 0.5, n)
    lons, lats = frame.lonlat(x, y)
    return tuple(
        Clutter(
            id=f"clutter-{i + 1}",
            x_m=float(x[i]),
            y_m=float(y[i]),
            lat=lats[i],
            lon=lons[i],
            recurrence=round(float(recurrence[i]), 3),
        )
        for i in range(n)
    )


# --------------------------------------------------------------------------- passes


def _footprint(
    rng: np.random.Generator, side_m: float
) -> tuple[tuple[float, float], float, float, float]:
    """Draw a rotated strip covering 30-80 % of the square: (centre, heading, length, width)."""
    half = side_m / 2
    g = (np.arange(48) + 0.5) / 48 * side_m - half
    gx, gy = np.meshgrid(g, g)
    for _ in range(1000):
        heading = float(rng.uniform(0.0, 180.0))
        length = float(rng.uniform(0.8, 1.5) * side_m)
        width = float(rng.uniform(0.25, 0.8) * side_m)
        cx, cy = (float(v) for v in rng.uniform(-0.3 * half, 0.3 * half, 2))
        along, across = strip_frame(gx - cx, gy - cy, heading)
        covered = float(np.mean((np.abs(along) <= length / 2) & (np.abs(across) <= width / 2)))
        if 0.3 <= covered <= 0.8:
            return (cx, cy), heading, length, width
    raise InvalidParameterError(
        "cannot draw a footprint covering 30-80 % of the area"
    )  # pragma: no cover


def _outline(length: float, width: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the strip's outline (along, across; m), densified so that lon/lat follow it."""
    corners = [(-length / 2, width / 2), (length / 2, width / 2)]
    corners += [(length / 2, -width / 2), (-length / 2, -width / 2)]
    along: list[float] = []
    across: list[float] = []
    for (a0, c0), (a1, c1) in zip(corners, corners[1:] + corners[:1], strict=True):
        n = max(1, math.ceil(math.hypot(a1 - a0, c1 - c0) / _VERTEX_SPACING_M))
        t = np.arange(n) / n
        along += list(a0 + t * (a1 - a0))
        across += list(c0 + t * (c1 - c0))
    return np.array(along), np.array(across)


def _pass_times(spec: CampaignSpec, rng: np.random.Generator) -> list[datetime]:
    days = rng.integers(0, spec.days, spec.passes)
    # 09:30-15:30 local solar time (good sun for SWIR imaging), as seconds into the UTC day
    solar_h = rng.uniform(9.5, 15.5, spec.passes) - spec.origin_lon / 15.0
    seconds = np.mod(solar_h * 3600.0, 86400.0)
    return sorted(
        spec.start + timedelta(days=int(d), seconds=round(float(s)))
        for d, s in zip(days, seconds, strict=True)
    )


def _inside(
    rng: np.random.Generator,
    pass_: Pass,
    x: float,
    y: float,
    sigma: float,
) -> tuple[float, float]:
    """Return a noisy position, re-drawn until it lies inside the footprint."""
    for _ in range(100):
        nx, ny = x + sigma * rng.standard_normal(), y + sigma * rng.standard_normal()
        if pass_.contains(nx, ny, EDGE_M):
            return nx, ny
    return x, y


def _confidence(rng: np.random.Generator, max_ppm_m: float, offset: float) -> float:
    """Return a detector confidence: logistic in the log peak, with shape noise."""
    z = 1.6 * (math.log(max_ppm_m) - math.log(300.0)) + offset + 0.8 * rng.standard_normal()
    return float(np.clip(1.0 / (1.0 + math.exp(-z)), 0.01, 0.999))


def _detection(
    rng: np.random.Generator,
    pass_: Pass,
    kind: DetectionKind,
    x: float,
    y: float,
    rate_kg_h: float,
    origin: str | None,
) -> dict[str, Any]:
    """Draw the measured properties of a detection (positions in metres, no id yet)."""
    sigma = float(rng.uniform(10.0, 60.0))
    dx, dy = _inside(rng, pass_, x, y, sigma)
    wind = pass_.wind_speed_m_s
    u_eff = wind * float(rng.uniform(0.55, 0.8))
    rel = float(rng.uniform(0.2, 0.45))  # relative flux uncertainty (log-normal σ)
    flux = rate_kg_h * math.exp(rel * rng.standard_normal())
    length = float(np.clip(55.0 * flux**0.4 * math.exp(0.3 * rng.standard_normal()), 30, 1500))
    peak = 160.0 * math.sqrt(flux / wind) * math.exp(0.35 * rng.standard_normal())
    if kind != "real":  # clutter and noise: compact, flatter, less plume-like
        length *= float(rng.uniform(0.5, 1.0))
    n_pixels = max(4, round(0.25 * length**2 / 25.0 * float(rng.uniform(0.6, 1.4))))
    offset = {"real": 0.0, "false": -0.8, "clutter": -0.4}[kind]
    return {
        "kind": kind,
        "source": origin if kind == "real" else None,
        "clutter": origin if kind == "clutter" else None,
        "x_m": dx,
        "y_m": dy,
        "source_uncertainty_m": sigma,
        "flux_kg_h": flux,
        "flux_kg_h_sigma": rel * flux,
        "flux_kg_h_ci68": (flux * math.exp(-rel), flux * math.exp(rel)),
        "ime_kg": flux / 3600.0 * length / u_eff,
        "max_ppm_m": peak,
        "n_pixels": n_pixels,
        "length_m": length,
        "wind_speed_m_s": wind,
        "u_eff_m_s": u_eff,
        "confidence": _confidence(rng, peak, offset),
    }


def _detections(
    spec: CampaignSpec,
    pass_: Pass,
    k: int,
    sources: tuple[TrueSource, ...],
    clutter: tuple[Clutter, ...],
    frame: _Frame,
) -> tuple[Detection, ...]:
    rng = _stream(spec.seed, _DETECT, k)
    raw: list[dict[str, Any]] = []
    for s in sources:
        emits = rng.random() < s.duty_cycle
        rate = s.rate_kg_h * math.exp(0.2 * rng.standard_normal())  # pass-to-pass variability
        seen = rng.random() < float(probability_of_detection(rate))
        if emits and seen and pass_.contains(s.x_m, s.y_m):
            raw.append(_detection(rng, pass_, "real", s.x_m, s.y_m, rate, s.id))
    for c in clutter:
        if rng.random() < c.recurrence and pass_.contains(c.x_m, c.y_m):
            rate = math.exp(rng.normal(math.log(20.0), 0.9))  # apparent, not emitted
            raw.append(_detection(rng, pass_, "clutter", c.x_m, c.y_m, rate, c.id))
    inset = EDGE_M + 1.0
    for _ in range(int(rng.poisson(spec.false_rate * pass_.area_km2))):
        along = rng.uniform(-pass_.length_m / 2 + inset, pass_.length_m / 2 - inset)
        across = rng.uniform(-pass_.width_m / 2 + inset, pass_.width_m / 2 - inset)
        fx, fy = from_strip(np.asarray(along), np.asarray(across), pass_.heading_deg)
        x, y = float(fx) + pass_.center_m[0], float(fy) + pass_.center_m[1]
        rate = math.exp(rng.normal(math.log(12.0), 1.0))
        raw.append(_detection(rng, pass_, "false", x, y, rate, None))
    order = rng.permutation(len(raw))
    raw = [raw[i] for i in order]
    lons, lats = frame.lonlat(
        np.array([r["x_m"] for r in raw], np.float64), np.array([r["y_m"] for r in raw], np.float64)
    )
    return tuple(
        Detection(flight=pass_.flight, plume_id=f"plume-{j + 1}", lat=lats[j], lon=lons[j], **r)
        for j, r in enumerate(raw)
    )


def _passes(
    spec: CampaignSpec,
    sources: tuple[TrueSource, ...],
    clutter: tuple[Clutter, ...],
    frame: _Frame,
) -> tuple[Pass, ...]:
    rng = _stream(spec.seed, _PASSES)
    side = spec.area_km * 1000.0
    out: list[Pass] = []
    for k, t in enumerate(_pass_times(spec, rng), start=1):
        platform, sensor, operator = PLATFORMS[int(rng.integers(len(PLATFORMS)))]
        center, heading, length, width = _footprint(rng, side)
        along, across = _outline(length, width)
        cx, cy = from_strip(along, across, heading)
        lons, lats = frame.lonlat(cx + center[0], cy + center[1])
        ring = list(zip(lons, lats, strict=True))
        # counter-clockwise (RFC 7946 right-hand rule), closed
        nxt = ring[1:] + ring[:1]
        area2 = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, nxt, strict=True))
        if area2 < 0:
            ring.reverse()
        shell = (*ring, ring[0])
        p = Pass(
            flight=f"flt-{spec.seed}-{k}",
            time=t,
            platform=platform,
            sensor=sensor,
            operator=operator,
            center_m=center,
            heading_deg=heading,
            length_m=length,
            width_m=width,
            footprint=tuple((round(x, 7), round(y, 7)) for x, y in shell),
            wind_speed_m_s=float(rng.uniform(1.5, 6.0)),
            detections=(),
        )
        out.append(replace(p, detections=_detections(spec, p, k, sources, clutter, frame)))
    return tuple(out)


# --------------------------------------------------------------------------- reports


def _reports(
    spec: CampaignSpec, sources: tuple[TrueSource, ...], frame: _Frame
) -> tuple[Report, ...]:
    rng = _stream(spec.seed, _REPORTS)
    half = spec.area_km * 500.0
    # each source is run by one organization, which true reports sometimes name
    owner = rng.integers(len(ORGANIZATIONS), size=len(sources))
    span_s = spec.days * 86400.0
    draws: list[dict[str, Any]] = []
    for _ in range(spec.reports):
        true = bool(sources) and rng.random() < _TRUE_REPORT_FRACTION
        sigma = math.exp(rng.uniform(math.log(50.0), math.log(500.0)))
        if true:
            i = int(rng.integers(len(sources)))
            src: TrueSource | None = sources[i]
            assert src is not None
            x = src.x_m + sigma * rng.standard_normal()
            y = src.y_m + sigma * rng.standard_normal()
            named = rng.random() < 0.45
            org = ORGANIZATIONS[int(owner[i])] if named else None
        else:
            src = None
            x, y = (float(v) for v in rng.uniform(-half, half, 2))
            org = (
                ORGANIZATIONS[int(rng.integers(len(ORGANIZATIONS)))] if rng.random() < 0.3 else None
            )
        draws.append(
            {
                "time": spec.start + timedelta(seconds=round(float(rng.uniform(0.0, span_s)))),
                "x": x,
                "y": y,
                "uncertainty_m": sigma,
                "source_reliability": _RELIABILITY[int(rng.choice(6, p=_RELIABILITY_P[true]))],
                "credibility": int(rng.choice(6, p=_CREDIBILITY_P[true])) + 1,
                "text": _REPORT_TEXTS[int(rng.integers(len(_REPORT_TEXTS)))],
                "organization": org,
                "source": None if src is None else src.id,
            }
        )
    draws.sort(key=lambda d: d["time"])
    lons, lats = frame.lonlat(
        np.array([d["x"] for d in draws], np.float64), np.array([d["y"] for d in draws], np.float64)
    )
    return tuple(
        Report(
            id=f"rpt-{spec.seed}-{k + 1}",
            time=d["time"],
            lat=lats[k],
            lon=lons[k],
            uncertainty_m=d["uncertainty_m"],
            source_reliability=d["source_reliability"],
            credibility=d["credibility"],
            text=d["text"],
            organization=d["organization"],
            source=d["source"],
        )
        for k, d in enumerate(draws)
    )


def simulate_campaign(spec: CampaignSpec) -> Campaign:
    """Simulate a survey campaign: truth, passes with their detections, and reports.

    Parameters
    ----------
    spec : CampaignSpec
        What to simulate; the same spec always gives the same campaign.

    Returns
    -------
    Campaign
        Passes in time order, each with its footprint and detections; reports in time
        order; the sources and clutter they came from.
    """
    frame = _Frame(spec.origin_lat, spec.origin_lon)
    sources = _place_sources(spec, frame)
    clutter = _place_clutter(spec, frame)
    passes = _passes(spec, sources, clutter, frame)
    reports = _reports(spec, sources, frame)
    return Campaign(spec=spec, sources=sources, clutter=clutter, passes=passes, reports=reports)
