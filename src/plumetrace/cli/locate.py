"""``plumetrace locate``: source position and rate from in-situ sniffer readings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from plumetrace.cli._options import parse_numbers
from plumetrace.cli._progress import console, progress_bar

if TYPE_CHECKING:
    from plumetrace.pipeline.locate import LocateResult

__all__ = ["register"]

Dispersion = Literal["briggs-rural", "briggs-urban", "pasquill-gifford", "isotropic"]


def _report(result: LocateResult) -> None:
    d = result.document
    s = result.summary
    where = f"x {s.x_m:.1f} m, y {s.y_m:.1f} m, z {s.z_m:.1f} m"
    if "lat" in d:
        where += f"  (lat {d['lat']:.6f}, lon {d['lon']:.6f})"
    console.print(f"[bold]source[/] {where}  ± {s.position_ci68_m:.1f} m (68 %)")
    console.print(
        f"[bold]rate[/]   {s.rate_kg_h:.3g} kg/h  68 % [{s.rate_kg_h_ci68[0]:.3g}, "
        f"{s.rate_kg_h_ci68[1]:.3g}]  95 % [{s.rate_kg_h_ci95[0]:.3g}, {s.rate_kg_h_ci95[1]:.3g}]"
    )
    console.print(
        f"{d['n_readings']} readings, {d['particles']} particles, {d['seconds']:.1f} s -> "
        f"{result.json_path}, {result.png_path}"
    )


def locate(
    readings: Annotated[Path, typer.Argument(help="READINGS.csv (point or beam readings).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="RESULT.json to write.")],
    beams: Annotated[
        Path | None, typer.Option(help="BEAMS.csv for path (open-path laser) readings.")
    ] = None,
    wind: Annotated[
        Path | None,
        typer.Option(help="WIND.csv: time,wind_speed_m_s,wind_dir_deg[,turbulence]."),
    ] = None,
    gas: Annotated[str, typer.Option(help="Gas (ch4, co2, nh3, h2s, n2o).")] = "ch4",
    molar_mass: Annotated[
        float | None, typer.Option(help="Molar mass of any other gas, kg/mol.")
    ] = None,
    source_box: Annotated[
        str | None,
        typer.Option(
            help="Prior region xmin,ymin,xmax,ymax in m (default: readings' extent plus "
            "a margin, larger upwind)."
        ),
    ] = None,
    source_height: Annotated[
        float | None, typer.Option(help="Known source height, m (default: estimated, 0-5 m).")
    ] = None,
    particles: Annotated[int, typer.Option(help="Number of particles.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    origin: Annotated[
        str | None, typer.Option(help="LAT,LON of the local frame's origin (adds lat/lon).")
    ] = None,
    dispersion: Annotated[
        Dispersion, typer.Option(help="Dispersion curves for sigma_y, sigma_z.")
    ] = "briggs-rural",
    noise_ppm: Annotated[
        float | None, typer.Option(help="Sensor noise, ppm (default: from the readings).")
    ] = None,
    threshold_ppm: Annotated[
        float, typer.Option(help="Detection threshold on the enhancement, ppm.")
    ] = 0.0,
    model_error: Annotated[
        float, typer.Option(help="Model error, fraction of the predicted enhancement.")
    ] = 0.5,
    intermittency: Annotated[
        float, typer.Option(help="Probability that a reading misses the plume.")
    ] = 0.1,
    rate_range: Annotated[
        str, typer.Option(help="Log-uniform rate prior LO,HI in kg/h.")
    ] = "0.001,10000",
    systematic_error: Annotated[
        float,
        typer.Option(
            help="Absolute calibration error of the plume model (1 sigma, ln units) "
            "folded into the rate intervals."
        ),
    ] = 0.35,
    correlation_time: Annotated[
        float,
        typer.Option(
            help="Readings of one beam or place within this many seconds count as one "
            "(their model errors are correlated; 0: independent)."
        ),
    ] = 300.0,
    temperature_k: Annotated[float, typer.Option(help="Air temperature, K.")] = 288.15,
    pressure_pa: Annotated[float, typer.Option(help="Air pressure, Pa.")] = 101325.0,
) -> None:
    """Estimate an emission source's position and rate from in-situ readings.

    Writes RESULT.json (position, 68 % radius, rate with 68 % and 95 % intervals) and a
    posterior map PNG beside it.
    """
    from plumetrace.pipeline.locate import LocateInputs, run_locate

    box = (
        parse_numbers(source_box, 4, "--source-box", "xmin,ymin,xmax,ymax") if source_box else None
    )
    org = parse_numbers(origin, 2, "--origin", "LAT,LON") if origin else None
    rates = parse_numbers(rate_range, 2, "--rate-range", "LO,HI in kg/h")
    inputs = LocateInputs(
        readings=readings,
        out=out,
        beams=beams,
        wind=wind,
        gas=gas,
        molar_mass=molar_mass,
        source_box=None if box is None else (box[0], box[1], box[2], box[3]),
        source_height=source_height,
        particles=particles,
        seed=seed,
        origin=None if org is None else (org[0], org[1]),
        dispersion=dispersion,
        noise_ppm=noise_ppm,
        threshold_ppm=threshold_ppm,
        model_error=model_error,
        intermittency=intermittency,
        rate_range_kg_h=(rates[0], rates[1]),
        systematic_error=systematic_error,
        correlation_time_s=correlation_time,
        temperature_k=temperature_k,
        pressure_pa=pressure_pa,
    )
    with progress_bar("assimilating readings") as update:
        result = run_locate(inputs, progress=update)
    _report(result)


def register(app: typer.Typer) -> None:
    """Add ``locate`` to the app."""
    app.command("locate")(locate)
