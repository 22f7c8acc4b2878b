"""``plumetrace airspace``: zones, authorization and distances for an operator."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from plumetrace.cli._options import parse_numbers
from plumetrace.errors import InvalidParameterError
from plumetrace.io.points import parse_latlon_lines

__all__ = ["app", "operator_option_help"]

app = typer.Typer(help="Airspace zones and authorization.", no_args_is_help=True)

operator_option_help = "Operators file (TOML); default: the packaged one (the demo's)."
OperatorsOpt = Annotated[Path | None, typer.Option("--operators", help=operator_option_help)]
OperatorOpt = Annotated[str, typer.Option("--operator", help="Operator id in the operators file.")]
MaritimeOpt = Annotated[
    Path | None,
    typer.Option(
        "--maritime",
        help="Authoritative territorial seas (GeoJSON, Shapefile or GeoPackage; country "
        "code in ISO_TER1/ISO_SOV1/iso_a3/code) replacing the computed 12 nm belts.",
    ),
]


def _seas(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        return None
    from plumetrace.io.maritime import read_maritime_limits

    return read_maritime_limits(path)


def _operator(operators: Path | None, operator: str):  # type: ignore[no-untyped-def]
    from plumetrace.io.operators import default_operators_file, read_operators

    ops = read_operators(operators)
    if operator not in ops:
        where = operators if operators is not None else default_operators_file()
        raise InvalidParameterError(
            f"no operator {operator!r} in {where}; known: {', '.join(sorted(ops))}"
        )
    return ops[operator]


@app.command("check", context_settings={"ignore_unknown_options": True})
def check(
    lat: Annotated[float | None, typer.Argument(help="Latitude, degrees.")] = None,
    lon: Annotated[float | None, typer.Argument(help="Longitude, degrees.")] = None,
    operator: OperatorOpt = ...,  # type: ignore[assignment]
    operators: OperatorsOpt = None,
    json_lines: Annotated[
        bool,
        typer.Option("--json-lines", help="Read lat,lon lines from stdin; one JSON line each."),
    ] = False,
    maritime: MaritimeOpt = None,
) -> None:
    """Which zone a point is in, whether the operator may fly there, and how far out.

    Prints {"lat","lon","zone","allowed","distance_to_unauthorized_m"}; zone is an ISO
    3166-1 alpha-3 code or "international".
    """
    from plumetrace.io.check_lines import check_json_lines
    from plumetrace.pipeline.airspace import AirspaceChecker

    op = _operator(operators, operator)
    if json_lines:
        if lat is not None or lon is not None:
            raise InvalidParameterError("give LAT LON or --json-lines, not both")
        lats, lons = parse_latlon_lines(sys.stdin.read(), "stdin")
    else:
        if lat is None or lon is None:
            raise InvalidParameterError("give LAT LON (or --json-lines with lat,lon on stdin)")
        lats, lons = np.array([lat]), np.array([lon])
    zone, allowed, dist = AirspaceChecker(op, seas=_seas(maritime)).check_arrays(lats, lons)
    text = check_json_lines(lats, lons, zone, allowed, dist)
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(text.decode())
    else:
        sys.stdout.flush()
        out.write(text)
        out.flush()


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="zones.geojson to write.")],
    operator: OperatorOpt = ...,  # type: ignore[assignment]
    operators: OperatorsOpt = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            help="lon_min,lat_min,lon_max,lat_max (default: the operator's countries plus 1°)."
        ),
    ] = None,
    maritime: MaritimeOpt = None,
) -> None:
    """Write the zones of a region as GeoJSON, each marked allowed or not for the operator."""
    from plumetrace.data import country_land
    from plumetrace.io.geojson import write_geojson
    from plumetrace.pipeline.airspace import export_zones

    op = _operator(operators, operator)
    if bbox is not None:
        b = parse_numbers(bbox, 4, "--bbox", "lon_min,lat_min,lon_max,lat_max")
        box = (b[0], b[1], b[2], b[3])
    else:
        import shapely

        land = country_land()
        sel = [g for c, g in zip(land.code, land.geometry, strict=True) if c in op.authorized]
        if not sel:
            raise InvalidParameterError("the operator has no country: give --bbox")
        x0, y0, x1, y1 = shapely.total_bounds(np.array(sel, dtype=object))
        box = (max(-180.0, x0 - 1), max(-90.0, y0 - 1), min(180.0, x1 + 1), min(90.0, y1 + 1))
        if box[2] - box[0] > 60.0 or box[3] - box[1] > 60.0:
            raise InvalidParameterError(
                f"the operator's countries span {box[2] - box[0]:.0f}° x {box[3] - box[1]:.0f}°; "
                "give --bbox lon_min,lat_min,lon_max,lat_max (at most 60° across)"
            )
    doc = export_zones(op, box, seas=_seas(maritime))
    write_geojson(out, doc["features"])
    typer.echo(f"{len(doc['features'])} zones -> {out}")


def audit(
    track: Annotated[
        Path, typer.Argument(help="Track: GPX, CSV (time,lat,lon,alt_m), .tlog or .bin.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="REPORT.json to write.")],
    operator: OperatorOpt = ...,  # type: ignore[assignment]
    operators: OperatorsOpt = None,
    maritime: MaritimeOpt = None,
) -> None:
    """Audit a flown track: every incursion into unauthorized airspace, how deep, how long.

    Writes REPORT.json, REPORT.geojson and REPORT.png.
    """
    from concurrent.futures import ThreadPoolExecutor

    from plumetrace.io.tracks import read_track
    from plumetrace.pipeline.audit import run_audit

    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(read_track, track)  # while the operator and countries load
        op = _operator(operators, operator)
        res = run_audit(track, op, out, seas=_seas(maritime), reading=reading)
    r = res.report
    typer.echo(
        f"{r['points']} points, {len(r['incursions'])} incursion(s), "
        f"{r['total_unauthorized_s']:.1f} s unauthorized -> {res.json_path}"
    )
    for w in r["warnings"]:
        typer.echo(f"warning: {w}", err=True)


plan_app = typer.Typer(help="Plan flights inside authorized airspace.", no_args_is_help=True)


@plan_app.command("survey", context_settings={"ignore_unknown_options": True})
def survey(
    aoi: Annotated[Path, typer.Argument(help="AOI: GeoJSON polygon(s), lon/lat.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    operator: OperatorOpt = ...,  # type: ignore[assignment]
    operators: OperatorsOpt = None,
    altitude_m: Annotated[float, typer.Option(help="Flight altitude above launch, m.")] = 120.0,
    swath_m: Annotated[float | None, typer.Option(help="Swath width on the ground, m.")] = None,
    fov_deg: Annotated[
        float | None, typer.Option(help="Cross-track field of view, degrees (sets the swath).")
    ] = None,
    side_overlap: Annotated[float, typer.Option(help="Side overlap of swaths, 0-0.9.")] = 0.2,
    speed_m_s: Annotated[float, typer.Option(help="Ground speed, m/s.")] = 15.0,
    heading_deg: Annotated[
        float | None, typer.Option(help="Line heading, degrees (default: fewest turns).")
    ] = None,
    turn_radius_m: Annotated[
        float,
        typer.Option(
            help="Turn radius, m (0: a multirotor turning on the spot). Lines stop this far "
            "inside authorized airspace so that turns stay inside."
        ),
    ] = 0.0,
    boundary_margin_m: Annotated[
        float, typer.Option(help="Keep waypoints this far inside authorized airspace, m.")
    ] = 5.0,
    home: Annotated[
        str | None, typer.Option(help="LAT,LON of launch (default: first line).")
    ] = None,
    maritime: MaritimeOpt = None,
) -> None:
    """Plan survey lines over an AOI, clipped to the operator's authorized airspace.

    Writes mission.plan (QGroundControl), mission.waypoints (QGC WPL 110), plan.geojson and
    plan.json.
    """
    from plumetrace.pipeline.plan import PlanOptions, run_plan_survey

    op = _operator(operators, operator)
    h = parse_numbers(home, 2, "--home", "LAT,LON") if home else None
    opts = PlanOptions(
        altitude_m=altitude_m,
        swath_m=swath_m,
        fov_deg=fov_deg,
        side_overlap=side_overlap,
        speed_m_s=speed_m_s,
        heading_deg=heading_deg,
        turn_radius_m=turn_radius_m,
        boundary_margin_m=boundary_margin_m,
        home=None if h is None else (h[0], h[1]),
    )
    res = run_plan_survey(aoi, op, out, opts, seas=_seas(maritime))
    s = res.summary
    typer.echo(
        f"{s['lines']} lines, {s['length_km']:.1f} km, {s['duration_min']:.0f} min, coverage "
        f"{100 * s['coverage_fraction']:.1f} % of {s['authorized_area_km2']:.2f} km² authorized "
        f"({s['excluded_area_km2']:.2f} km² excluded) -> {out}"
    )
