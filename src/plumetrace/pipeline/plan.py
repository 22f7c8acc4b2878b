"""The ``plan survey`` job: AOI -> survey lines inside authorized airspace -> mission files.

Writes into PLAN_DIR: ``mission.plan`` (QGroundControl plan JSON: takeoff, the survey
waypoints, return to launch; the authorized airspace as geofence inclusion polygons and
its holes as exclusion polygons), ``mission.waypoints`` (QGC WPL 110 text, loadable by
pymavlink's ``mavwp``), ``plan.geojson`` (survey lines, the authorized part of the AOI, the
excluded part) and ``plan.json`` (the summary).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from plumetrace import __version__
from plumetrace.data import country_land
from plumetrace.errors import InvalidParameterError
from plumetrace.flight.airspace import build_zones
from plumetrace.flight.operators import Operator
from plumetrace.flight.survey import SurveyPlan, plan_survey
from plumetrace.io._atomic import ensure_dir
from plumetrace.io.geojson import read_polygons, write_geojson
from plumetrace.io.missions import write_qgc_plan, write_waypoints
from plumetrace.io.tables import write_json

__all__ = ["PlanOptions", "PlanResult", "run_plan_survey"]


@dataclass(frozen=True)
class PlanOptions:
    """Survey settings (CLI options map one to one)."""

    altitude_m: float = 120.0
    swath_m: float | None = None
    fov_deg: float | None = None
    side_overlap: float = 0.2
    speed_m_s: float = 15.0
    heading_deg: float | None = None
    turn_radius_m: float = 0.0
    boundary_margin_m: float = 5.0
    home: tuple[float, float] | None = None

    def swath(self) -> float:
        """Swath width (m) from ``swath_m`` or the field of view at the altitude."""
        if self.swath_m is not None and self.fov_deg is not None:
            raise InvalidParameterError("give --swath-m or --fov-deg, not both")
        if self.swath_m is not None:
            return self.swath_m
        if self.fov_deg is None:
            raise InvalidParameterError("give --swath-m or --fov-deg")
        if not 0.0 < self.fov_deg < 180.0:
            raise InvalidParameterError("--fov-deg must be in (0, 180)")
        return 2.0 * self.altitude_m * math.tan(math.radians(self.fov_deg) / 2.0)


@dataclass(frozen=True)
class PlanResult:
    """What ``plan survey`` wrote."""

    summary: dict[str, Any]
    plan: SurveyPlan
    out_dir: Path


def run_plan_survey(
    aoi_path: Path,
    operator: Operator,
    out_dir: Path,
    options: PlanOptions,
    seas: dict[str, BaseGeometry] | None = None,
) -> PlanResult:
    """Plan a survey of an AOI for an operator and write the mission files.

    Raises
    ------
    PlumetraceError
        On an unusable AOI, an AOI with no authorized part, bad options or unwritable files.
    """
    swath = options.swath()
    if not options.speed_m_s > 0.0 or not options.altitude_m > 0.0:
        raise InvalidParameterError("--speed-m-s and --altitude-m must be > 0")
    aoi_ll = read_polygons(aoi_path, "an AOI")
    margin = max(5_000.0, 2.0 * swath + options.turn_radius_m)
    b = aoi_ll.bounds
    zones = build_zones(country_land(), (b[0], b[1], b[2], b[3]), margin_m=margin, seas=seas)
    authorized = shapely.intersection(
        zones.authorized(
            operator.authorized, include=operator.include_extra, exclude=operator.exclude
        ),
        zones.region,
    )
    aoi = shapely.make_valid(zones.to_local_geometry(aoi_ll))
    plan = plan_survey(
        aoi,
        authorized,
        swath_m=swath,
        side_overlap=options.side_overlap,
        heading_deg=options.heading_deg,
        turn_radius_m=options.turn_radius_m,
        boundary_margin_m=options.boundary_margin_m,
    )
    wp_ll = np.asarray(shapely.get_coordinates(zones.to_lonlat(shapely.MultiPoint(plan.waypoints))))
    home = options.home if options.home is not None else (float(wp_ll[0, 1]), float(wp_ll[0, 0]))
    ensure_dir(out_dir)
    fence_ll = shapely.make_valid(
        zones.to_lonlat(shapely.intersection(authorized, shapely.buffer(aoi, margin)))
    )
    write_qgc_plan(
        out_dir / "mission.plan",
        wp_ll,
        home=home,
        altitude_m=options.altitude_m,
        speed_m_s=options.speed_m_s,
        fence=fence_ll,
    )
    write_waypoints(out_dir / "mission.waypoints", wp_ll, home=home, altitude_m=options.altitude_m)
    excluded = shapely.difference(aoi, authorized)
    feats = []
    for k, line in enumerate(plan.lines):
        ll = zones.to_lonlat(shapely.LineString(line))
        feats.append(
            {
                "type": "Feature",
                "geometry": mapping(ll),
                "properties": {"kind": "survey_line", "line": k + 1},
            }
        )
    for kind, geom in (("authorized_aoi", plan.target), ("excluded_aoi", excluded)):
        if not geom.is_empty and geom.area > 0:
            feats.append(
                {
                    "type": "Feature",
                    "geometry": mapping(shapely.make_valid(zones.to_lonlat(geom))),
                    "properties": {"kind": kind},
                }
            )
    write_geojson(out_dir / "plan.geojson", feats)
    length_km = plan.length_m / 1e3
    summary = {
        "operator": operator.id,
        "lines": len(plan.lines),
        "length_km": round(length_km, 3),
        "duration_min": round(plan.length_m / options.speed_m_s / 60.0, 2),
        "area_km2": round(aoi.area / 1e6, 4),
        "authorized_area_km2": round(plan.target.area / 1e6, 4),
        "excluded_area_km2": round(excluded.area / 1e6, 4),
        "coverage_fraction": round(plan.coverage_fraction, 5),
        "swath_m": swath,
        "spacing_m": plan.spacing_m,
        "heading_deg": plan.heading_deg,
        "altitude_m": options.altitude_m,
        "turn_radius_m": options.turn_radius_m,
        "boundary_margin_m": options.boundary_margin_m,
        "waypoints": int(plan.waypoints.shape[0]),
        "plumetrace_version": __version__,
    }
    write_json(out_dir / "plan.json", summary)
    return PlanResult(summary, plan, out_dir)
