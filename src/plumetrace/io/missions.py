"""Mission files for autopilots: QGroundControl plans and QGC WPL 110 waypoint lists.

* ``.plan``: QGroundControl's JSON plan (mission items with MAVLink commands, geofence,
  rally points);
* ``.waypoints``: the QGC WPL 110 text format that QGroundControl, Mission Planner and
  pymavlink's ``mavwp`` load (tab-separated: index, current, frame, command, 4 params,
  lat, lon, alt, autocontinue).

Coordinates come in as (lon, lat) rows and are written as lat, lon, as both formats want.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from plumetrace.io._atomic import atomic_write_bytes

__all__ = ["qgc_plan", "waypoints_text", "write_qgc_plan", "write_waypoints"]

_MAV_CMD_NAV_WAYPOINT = 16
_MAV_CMD_NAV_RETURN_TO_LAUNCH = 20
_MAV_CMD_NAV_TAKEOFF = 22
_MAV_FRAME_GLOBAL_RELATIVE_ALT = 3


def _fence_polygons(geom: BaseGeometry) -> list[dict[str, Any]]:
    """QGC geofence polygons ([lat, lon] vertices) of lon/lat polygons and their holes."""
    out = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        out.append(
            {
                "inclusion": True,
                "version": 1,
                "polygon": [[y, x] for x, y in list(poly.exterior.coords)[:-1]],
            }
        )
        for hole in poly.interiors:
            out.append(
                {
                    "inclusion": False,
                    "version": 1,
                    "polygon": [[y, x] for x, y in list(hole.coords)[:-1]],
                }
            )
    return out


def qgc_plan(
    waypoints_lonlat: NDArray[np.float64],
    *,
    home: tuple[float, float],
    altitude_m: float,
    speed_m_s: float,
    fence: BaseGeometry,
) -> dict[str, Any]:
    """Build the QGroundControl plan document (a JSON object) of a survey mission.

    Takeoff at ``home`` (lat, lon), the waypoints at ``altitude_m`` above launch, return to
    launch; ``fence`` (lon/lat polygons) as geofence inclusion polygons, holes as
    exclusion polygons.
    """
    alt = altitude_m
    wp_ll = waypoints_lonlat
    items: list[dict[str, Any]] = []

    def item(command: int, lat: float, lon: float, a: float) -> None:
        items.append(
            {
                "type": "SimpleItem",
                "autoContinue": True,
                "command": command,
                "doJumpId": len(items) + 1,
                "frame": _MAV_FRAME_GLOBAL_RELATIVE_ALT,
                "params": [0, 0, 0, None, lat, lon, a],
                "Altitude": a,
                "AltitudeMode": 1,
                "AMSLAltAboveTerrain": None,
            }
        )

    item(_MAV_CMD_NAV_TAKEOFF, home[0], home[1], alt)
    for lon, lat in wp_ll:
        item(_MAV_CMD_NAV_WAYPOINT, float(lat), float(lon), alt)
    item(_MAV_CMD_NAV_RETURN_TO_LAUNCH, 0.0, 0.0, 0.0)
    return {
        "fileType": "Plan",
        "version": 1,
        "groundStation": "plumetrace",
        "mission": {
            "version": 2,
            "firmwareType": 12,
            "vehicleType": 2,
            "cruiseSpeed": speed_m_s,
            "hoverSpeed": speed_m_s,
            "plannedHomePosition": [home[0], home[1], 0.0],
            "items": items,
        },
        "geoFence": {"version": 2, "circles": [], "polygons": _fence_polygons(fence)},
        "rallyPoints": {"version": 2, "points": []},
    }


def waypoints_text(
    waypoints_lonlat: NDArray[np.float64], *, home: tuple[float, float], altitude_m: float
) -> str:
    """Format the mission as QGC WPL 110 text (home, takeoff, waypoints, return to launch)."""
    wp_ll = waypoints_lonlat
    alt = altitude_m
    rows = ["QGC WPL 110"]
    rows.append(f"0\t1\t0\t{_MAV_CMD_NAV_WAYPOINT}\t0\t0\t0\t0\t{home[0]:.8f}\t{home[1]:.8f}\t0\t1")
    seq = 1
    rows.append(
        f"{seq}\t0\t{_MAV_FRAME_GLOBAL_RELATIVE_ALT}\t{_MAV_CMD_NAV_TAKEOFF}\t0\t0\t0\t0"
        f"\t{home[0]:.8f}\t{home[1]:.8f}\t{alt:g}\t1"
    )
    for lon, lat in wp_ll:
        seq += 1
        rows.append(
            f"{seq}\t0\t{_MAV_FRAME_GLOBAL_RELATIVE_ALT}\t{_MAV_CMD_NAV_WAYPOINT}\t0\t0\t0"
            f"\t0\t{lat:.8f}\t{lon:.8f}\t{alt:g}\t1"
        )
    seq += 1
    rows.append(
        f"{seq}\t0\t{_MAV_FRAME_GLOBAL_RELATIVE_ALT}\t{_MAV_CMD_NAV_RETURN_TO_LAUNCH}"
        "\t0\t0\t0\t0\t0\t0\t0\t1"
    )
    return "\n".join(rows) + "\n"


def write_qgc_plan(
    path: str | Path,
    waypoints_lonlat: NDArray[np.float64],
    *,
    home: tuple[float, float],
    altitude_m: float,
    speed_m_s: float,
    fence: BaseGeometry,
) -> None:
    """Write :func:`qgc_plan` as a ``.plan`` file, atomically."""
    doc = qgc_plan(
        waypoints_lonlat, home=home, altitude_m=altitude_m, speed_m_s=speed_m_s, fence=fence
    )
    atomic_write_bytes(path, json.dumps(doc, indent=2).encode())


def write_waypoints(
    path: str | Path,
    waypoints_lonlat: NDArray[np.float64],
    *,
    home: tuple[float, float],
    altitude_m: float,
) -> None:
    """Write :func:`waypoints_text` as a ``.waypoints`` file, atomically."""
    atomic_write_bytes(
        path, waypoints_text(waypoints_lonlat, home=home, altitude_m=altitude_m).encode()
    )
