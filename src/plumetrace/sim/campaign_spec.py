"""Value types of simulated campaigns: the specification, the truth and the evidence.

:class:`CampaignSpec` holds the parameters of a campaign and validates them on
construction; :class:`TrueSource` and :class:`Clutter` are the truth,
:class:`Pass` (with its :class:`Detection` records) and :class:`Report` the evidence, and
:class:`Campaign` all of them (:func:`plumetrace.sim.campaign.simulate_campaign`).
Positions in metres are in the campaign's local frame (x east, y north of the origin);
uncertainties in metres are the standard deviation of the error along each axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from plumetrace.errors import InvalidParameterError

__all__ = [
    "DETECTION_KINDS",
    "EDGE_M",
    "Campaign",
    "CampaignSpec",
    "Clutter",
    "Detection",
    "DetectionKind",
    "Pass",
    "Report",
    "TrueSource",
    "format_time",
    "from_strip",
    "strip_frame",
]

DetectionKind = Literal["real", "false", "clutter"]
DETECTION_KINDS: tuple[DetectionKind, ...] = ("real", "false", "clutter")
"""What caused a detection: a real source, a random false alarm, a persistent clutter."""

EDGE_M = 1.0
"""Simulated detections lie at least this far (m) inside their pass's footprint."""


def format_time(t: datetime) -> str:
    """Return ``t`` as UTC ISO 8601 with a ``Z`` suffix, to the second."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CampaignSpec:
    """What to simulate.

    Attributes
    ----------
    seed : int
    sources : int
        Number of true emission sources.
    passes : int
        Number of passes (flights).
    days : int
        Length of the campaign, days; passes and reports are spread over it.
    origin_lat, origin_lon : float, degrees
        Centre of the area (WGS84).
    area_km : float, km
        Side of the square area.
    reports : int
        Number of reports from other sources of information.
    false_rate : float, km⁻²
        Random false detections per km² of footprint per pass.
    start : datetime
        Start of the campaign (UTC).
    """

    seed: int = 0
    sources: int = 40
    passes: int = 12
    days: int = 30
    origin_lat: float = 31.75
    origin_lon: float = -106.45
    area_km: float = 20.0
    reports: int = 30
    false_rate: float = 0.01
    start: datetime = field(default_factory=lambda: datetime(2025, 3, 3, tzinfo=UTC))

    def __post_init__(self) -> None:
        for name in ("sources", "passes", "reports"):
            if getattr(self, name) < 0:
                raise InvalidParameterError(f"{name} must be zero or more")
        if self.days < 1:
            raise InvalidParameterError("days must be at least 1")
        if not (math.isfinite(self.area_km) and self.area_km > 0.0):
            raise InvalidParameterError("the area's side must be a positive number of km")
        if not (math.isfinite(self.false_rate) and self.false_rate >= 0.0):
            raise InvalidParameterError("the false detection rate must be zero or more")
        if not (-80.0 <= self.origin_lat <= 84.0 and -180.0 <= self.origin_lon <= 180.0):
            raise InvalidParameterError(
                f"origin must be LAT,LON in degrees (got {self.origin_lat},{self.origin_lon})"
            )
        if self.start.tzinfo is None:
            raise InvalidParameterError("the start time must be timezone-aware (UTC)")


@dataclass(frozen=True)
class TrueSource:
    """An emission source (truth).

    Attributes
    ----------
    id : str
        ``src-NNN``.
    x_m, y_m : float, m
        East and north of the origin.
    lat, lon : float, degrees
    rate_kg_h : float, kg/h
        Mean emission rate while emitting.
    duty_cycle : float
        Probability that it emits during a pass (1 for continuous sources).
    intermittent : bool
    """

    id: str
    x_m: float
    y_m: float
    lat: float
    lon: float
    rate_kg_h: float
    duty_cycle: float
    intermittent: bool

    def to_dict(self) -> dict[str, Any]:
        """Return the ``truth.json`` record."""
        return {
            "id": self.id,
            "lat": round(self.lat, 7),
            "lon": round(self.lon, 7),
            "rate_kg_h": self.rate_kg_h,
            "duty_cycle": self.duty_cycle,
            "intermittent": self.intermittent,
        }


@dataclass(frozen=True)
class Clutter:
    """A persistent clutter location (a bright surface causing false detections).

    Attributes
    ----------
    id : str
        ``clutter-N``.
    x_m, y_m : float, m
    lat, lon : float, degrees
    recurrence : float
        Probability of a false detection on a pass that covers it.
    """

    id: str
    x_m: float
    y_m: float
    lat: float
    lon: float
    recurrence: float

    def to_dict(self) -> dict[str, Any]:
        """Return the ``truth.json`` record."""
        return {
            "id": self.id,
            "lat": round(self.lat, 7),
            "lon": round(self.lon, 7),
            "recurrence": self.recurrence,
        }


@dataclass(frozen=True)
class Detection:
    """A simulated plume detection, with the properties of a ``plumes.geojson`` feature.

    Attributes
    ----------
    flight : str
    plume_id : str
        ``plume-N``, unique within the pass (order unrelated to the kind).
    kind : {"real", "false", "clutter"}
    source : str or None
        The true source's id for real detections.
    clutter : str or None
        The clutter's id for clutter detections.
    x_m, y_m : float, m
        Detected position in the local frame.
    lat, lon : float, degrees
    source_uncertainty_m : float, m
        σ of the position error along each axis.
    flux_kg_h, flux_kg_h_sigma : float, kg/h
    flux_kg_h_ci68 : (float, float), kg/h
    ime_kg : float, kg
    max_ppm_m : float, ppm·m
    n_pixels : int
    length_m : float, m
    wind_speed_m_s, u_eff_m_s : float, m/s
    confidence : float
        In [0, 1].
    """

    flight: str
    plume_id: str
    kind: DetectionKind
    source: str | None
    clutter: str | None
    x_m: float
    y_m: float
    lat: float
    lon: float
    source_uncertainty_m: float
    flux_kg_h: float
    flux_kg_h_sigma: float
    flux_kg_h_ci68: tuple[float, float]
    ime_kg: float
    max_ppm_m: float
    n_pixels: int
    length_m: float
    wind_speed_m_s: float
    u_eff_m_s: float
    confidence: float

    def properties(self) -> dict[str, Any]:
        """Return the feature properties, exactly the keys of ``plumes.geojson`` features."""
        return {
            "id": self.plume_id,
            "source_lon": round(self.lon, 7),
            "source_lat": round(self.lat, 7),
            "source_row": None,
            "source_col": None,
            "source_uncertainty_m": round(self.source_uncertainty_m, 2),
            "ime_kg": round(self.ime_kg, 4),
            "flux_kg_h": round(self.flux_kg_h, 2),
            "flux_kg_h_sigma": round(self.flux_kg_h_sigma, 2),
            "flux_kg_h_ci68": [round(v, 2) for v in self.flux_kg_h_ci68],
            "max_ppm_m": round(self.max_ppm_m, 1),
            "n_pixels": self.n_pixels,
            "length_m": round(self.length_m, 1),
            "wind_speed_m_s": round(self.wind_speed_m_s, 2),
            "u_eff_m_s": round(self.u_eff_m_s, 3),
            "confidence": round(self.confidence, 4),
            "method": "sim-campaign",
        }

    def truth_dict(self) -> dict[str, Any]:
        """Return the ``truth.json`` record of this detection."""
        return {
            "flight": self.flight,
            "plume_id": self.plume_id,
            "source": self.source,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Pass:
    """One flight over part of the area.

    Attributes
    ----------
    flight : str
        ``flt-<seed>-<k>``, k in time order from 1.
    time : datetime
        UTC.
    platform, sensor, operator : str
    center_m : (float, float), m
        Centre of the footprint (x east, y north).
    heading_deg : float, degrees
        Direction of the strip's long side, clockwise from north.
    length_m, width_m : float, m
        Along and across the heading.
    footprint : tuple of (lon, lat)
        Closed counter-clockwise ring of the footprint, degrees, with a vertex at least
        every 500 m so that it follows the straight sides of the strip in local metres.
    wind_speed_m_s : float, m/s
    detections : tuple of Detection
    """

    flight: str
    time: datetime
    platform: str
    sensor: str
    operator: str
    center_m: tuple[float, float]
    heading_deg: float
    length_m: float
    width_m: float
    footprint: tuple[tuple[float, float], ...]
    wind_speed_m_s: float
    detections: tuple[Detection, ...]

    @property
    def area_km2(self) -> float:
        """Area of the footprint, km²."""
        return self.length_m * self.width_m / 1e6

    def contains(
        self,
        x_m: NDArray[np.float64] | float,
        y_m: NDArray[np.float64] | float,
        inset_m: float = 0.0,
    ) -> NDArray[np.bool_]:
        """Return whether local points lie inside the footprint (shrunk by ``inset_m``).

        Parameters
        ----------
        x_m, y_m : float or ndarray, m
            East and north of the origin.
        inset_m : float, m
        """
        along, across = strip_frame(
            np.asarray(x_m, dtype=np.float64) - self.center_m[0],
            np.asarray(y_m, dtype=np.float64) - self.center_m[1],
            self.heading_deg,
        )
        return np.asarray(
            (np.abs(along) <= self.length_m / 2 - inset_m)
            & (np.abs(across) <= self.width_m / 2 - inset_m)
        )


@dataclass(frozen=True)
class Report:
    """A report from another source of information (Admiralty graded).

    Attributes
    ----------
    id : str
        ``rpt-<seed>-<k>``, k in time order from 1.
    time : datetime
        UTC.
    lat, lon : float, degrees
    uncertainty_m : float, m
        σ of the position error along each axis.
    source_reliability : str
        A (completely reliable) to F (cannot be judged).
    credibility : int
        1 (confirmed) to 6 (cannot be judged).
    text : str
    organization : str or None
    source : str or None
        The true source it is about (truth), None for a false report.
    """

    id: str
    time: datetime
    lat: float
    lon: float
    uncertainty_m: float
    source_reliability: str
    credibility: int
    text: str
    organization: str | None
    source: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the report file's content (without the truth)."""
        return {
            "id": self.id,
            "time": format_time(self.time),
            "lat": round(self.lat, 7),
            "lon": round(self.lon, 7),
            "uncertainty_m": round(self.uncertainty_m, 1),
            "source_reliability": self.source_reliability,
            "credibility": self.credibility,
            "text": self.text,
            "organization": self.organization,
        }


@dataclass(frozen=True)
class Campaign:
    """A simulated campaign: passes and reports (the evidence) and the truth.

    Attributes
    ----------
    spec : CampaignSpec
    sources : tuple of TrueSource
    clutter : tuple of Clutter
    passes : tuple of Pass
        In time order.
    reports : tuple of Report
        In time order.
    """

    spec: CampaignSpec
    sources: tuple[TrueSource, ...]
    clutter: tuple[Clutter, ...]
    passes: tuple[Pass, ...]
    reports: tuple[Report, ...]

    @property
    def detections(self) -> tuple[Detection, ...]:
        """Every detection of every pass, in pass order."""
        return tuple(d for p in self.passes for d in p.detections)

    def truth_dict(self) -> dict[str, Any]:
        """Return the truth as a JSON-ready dictionary (``truth.json``)."""
        return {
            "sources": [s.to_dict() for s in self.sources],
            "clutter": [c.to_dict() for c in self.clutter],
            "detections": [d.truth_dict() for d in self.detections],
            "reports": [{"id": r.id, "source": r.source} for r in self.reports],
        }


def strip_frame(
    dx: NDArray[np.float64], dy: NDArray[np.float64], heading_deg: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the along- and across-track coordinates of local offsets.

    Parameters
    ----------
    dx, dy : ndarray, m
        East and north offsets from the strip's centre.
    heading_deg : float, degrees
        Direction of the strip's long side, clockwise from north.

    Returns
    -------
    along, across : ndarray, m
        Along the heading and to its left.
    """
    h = math.radians(heading_deg)
    ux, uy = math.sin(h), math.cos(h)
    return dx * ux + dy * uy, -dx * uy + dy * ux


def from_strip(
    along: NDArray[np.float64], across: NDArray[np.float64], heading_deg: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the east and north offsets of along- and across-track coordinates (m).

    The inverse of :func:`strip_frame`.
    """
    h = math.radians(heading_deg)
    ux, uy = math.sin(h), math.cos(h)
    return along * ux - across * uy, along * uy + across * ux
