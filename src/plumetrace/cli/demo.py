"""``plumetrace demo``: the end-to-end demonstration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from plumetrace.cli._progress import console, err_console

__all__ = ["register"]


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Seed of every simulation.")] = 7,
    rows: Annotated[int, typer.Option(help="Town scene rows (down-track).")] = 1000,
    cols: Annotated[int, typer.Option(help="Town scene columns (cross-track).")] = 598,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the workbench when built.")
    ] = True,
    host: Annotated[str, typer.Option(help="Interface the workbench listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Workbench TCP port.")] = 8000,
) -> None:
    """Run the whole chain so far and summarise it.

    Simulates AVIRIS-NG-like passes staged over El Paso - Ciudad Juarez (two labs in a
    dense neighbourhood, a rural lab, an industrial leak, an intermittent lab flown
    twice), retrieves their CH4 enhancement, finds the plumes and their rates, compares
    them with the truth; flies simulated sniffer sorties at two candidates and locates
    their sources; plans surveys over the US-Mexico border and the Gulf of California for
    each operator and audits a track that strays across; simulates a surveillance campaign and fuses
    it into candidate sites in an embedded SQLite store with their civilian context;
    releases the top site to a partner as a lead (STIX, GeoJSON, KML, CoT in OUT/share)
    and follows the partner's response to a verifying re-survey. Then serves the
    workbench on the demo's store and prints the logins (``--no-serve``: only build).
    """
    from plumetrace.pipeline.demo import run_demo
    from plumetrace.pipeline.demo_scenes import MATCH_RADIUS_M

    with err_console.status("starting") as status:
        summary = run_demo(out, seed=seed, rows=rows, cols=cols, step=status.update)
    d = summary.detect
    console.print(
        f"[bold]Retrieval[/] {d.method}, {d.bands_used} bands; town scene {d.rows} x {d.cols} "
        f"pixels in {d.seconds:.2f} s (compute {d.seconds_compute:.2f} s), background RMSE "
        f"{summary.background_rmse_ppm_m:.0f} ppm·m, median 1σ "
        f"{d.median_uncertainty_ppm_m:.0f} ppm·m"
    )
    passes = Table(title="Spectrometer passes (staged scenes)")
    numeric = ("plumes", "kg/h", "false")
    for col in ("scene", "what it shows", "flown by", *numeric):
        passes.add_column(
            col, justify="right" if col in numeric else "left", no_wrap=col == "scene"
        )
    for r in summary.scenes:
        passes.add_row(
            r.scene.name,
            r.scene.story,
            r.scene.operator,
            str(r.plumes.plumes),
            f"{r.plumes.total_flux_kg_h:,.0f}",
            f"{r.false_plumes} ({r.false_flux_kg_h:,.0f})" if r.false_plumes else "0",
        )
    console.print(passes)
    if any(r.false_plumes for r in summary.scenes):
        console.print(
            "[dim]false (their kg/h): plumes whose source is not within "
            f"{MATCH_RADIUS_M:.0f} m of a simulated source: mostly surface artefacts "
            "(tanks, caliche pads, roads). Their sites wait in the review queue for an "
            "analyst to reject.[/]"
        )
    table = Table(
        title=f"CH4 sources: truth and retrieval (mass within {summary.sources[0].radius_m:.0f} m)"
        if summary.sources
        else "CH4 sources"
    )
    for col in ("source", "rate kg/h", "plume kg/h ±1σ", "mass kg", "found kg"):
        table.add_column(col, justify="left" if col == "source" else "right", no_wrap=True)
    for s in summary.sources:
        flux = (
            "not found"
            if s.flux_kg_h is None
            else f"{s.flux_kg_h:,.0f} ± {s.flux_kg_h_sigma or 0.0:,.0f}"
        )
        table.add_row(
            f"{s.id}\n[dim]{s.label}[/]",
            f"{s.rate_kg_h:,.0f}",
            flux,
            f"{s.true_mass_kg:.2f}",
            f"{s.retrieved_mass_kg:.2f}",
        )
    console.print(table)
    console.print(
        f"Scenes, retrievals, plumes and quicklooks: {Path(out) / 'scenes'}/<scene>/"
        "{scene,detect,plumes}"
    )
    if summary.locate is not None and summary.sniff_truth is not None:
        loc, tru = summary.locate, summary.sniff_truth
        err = ((loc["x_m"] - tru["x_m"]) ** 2 + (loc["y_m"] - tru["y_m"]) ** 2) ** 0.5
        console.print(
            f"[bold]Sniffer[/] {loc['n_readings']} readings: source within {err:.1f} m of the "
            f"truth (68 % radius {loc['position_ci68_m']:.1f} m), {loc['rate_kg_h']:.2f} kg/h "
            f"[{loc['rate_kg_h_ci95'][0]:.2f}, {loc['rate_kg_h_ci95'][1]:.2f}] vs true "
            f"{tru['rate_kg_h']:.2f} -> {Path(out) / 'sniff'}"
        )
    if summary.plan is not None and summary.audit is not None:
        pl, au = summary.plan, summary.audit
        inc = au["incursions"]
        console.print(
            f"[bold]Flight ops[/] border unit: survey of {pl['authorized_area_km2']:.0f} km² "
            f"authorized ({pl['excluded_area_km2']:.0f} km² across the border excluded), "
            f"{pl['lines']} lines, coverage {100 * pl['coverage_fraction']:.1f} %; audit: "
            f"{len(inc)} incursion(s)"
            + (
                f", {inc[0]['duration_s']:.0f} s and {inc[0]['max_depth_m']:.0f} m into "
                f"{inc[0]['zone']}"
                if inc
                else ""
            )
            + f" -> {Path(out) / 'flight'}"
        )
    if summary.plan_gulf is not None:
        pg = summary.plan_gulf
        console.print(
            f"[bold]Flight ops[/] border unit over the northern Gulf of California: "
            f"{pg['authorized_area_km2']:,.0f} km² of international waters authorized, "
            f"{pg['excluded_area_km2']:,.0f} km² of Mexican land and 12 nm territorial sea "
            f"excluded, {pg['lines']} lines -> {Path(out) / 'flight' / 'plan-gulf'}"
        )
    if summary.plan_joint is not None:
        pj = summary.plan_joint
        console.print(
            f"[bold]Flight ops[/] joint program (authorized over Mexico by agreement): "
            f"{pj['authorized_area_km2']:.0f} km² authorized, {pj['lines']} lines, coverage "
            f"{100 * pj['coverage_fraction']:.1f} % -> {Path(out) / 'flight' / 'plan-joint'}"
        )
    if summary.sites is not None:
        st = summary.sites
        exp = ", ".join(f"{v} {k}" for k, v in sorted(st["exposure"].items()))
        console.print(
            f"[bold]Sites[/] campaign of {st['passes']} passes, {st['detections']} detections, "
            f"{st['reports']} reports -> {st['sites']} candidate sites, {st['confident']} with "
            f"confidence >= 0.5; exposure: {exp}"
        )
        queue = Table(title="Review queue (top 5)")
        for col in ("site", "confidence", "kg/h", "exposure", "detections", "reports"):
            queue.add_column(col, justify="right")
        for q in st["top"]:
            rate = "-" if q["rate_kg_h"] is None else f"{q['rate_kg_h']:,.0f}"
            queue.add_row(
                q["id"],
                f"{q['confidence']:.2f}",
                rate,
                q["exposure"] or "-",
                str(q["n_detections"]),
                str(q["n_reports"]),
            )
        console.print(queue)
        console.print(
            f"Store: {st['home']}/plumetrace.db  (browse it: "
            f"PLUMETRACE_HOME={st['home']} plumetrace sites list)"
        )
        sh = st.get("share")
        if sh:
            withheld = ", ".join(sorted(sh["withheld"])) or "nothing"
            console.print(
                f"[bold]Lead[/] {sh['lead']} (site {sh['site']}, TLP:{sh['tlp'].upper()}) "
                f"released to the partner with {withheld} withheld; response: {sh['state']} "
                f"({sh['verification'] or 'not verified'}) -> {Path(out) / 'share'}"
            )
    if summary.sites is not None and summary.sites.get("share"):
        home = Path(summary.sites["home"])
        _logins(summary.sites["share"]["logins"])
        if serve:
            _serve(home, host, port)
        else:
            console.print(f"Serve the workbench later: PLUMETRACE_HOME={home} plumetrace serve")


def _logins(logins: dict[str, tuple[str, str]]) -> None:
    """Print the demo users' logins (valid on the demo's store only)."""
    table = Table(title="Workbench logins (this demo's store only)")
    for col in ("user", "role", "password"):
        table.add_column(col)
    for name, (role, password) in logins.items():
        table.add_row(name, role, password)
    console.print(table)


def _serve(home: Path, host: str, port: int) -> None:
    """Serve the workbench on the demo's store until interrupted."""
    import uvicorn

    from plumetrace.api import create_app
    from plumetrace.settings import Settings

    console.print(
        f"[bold]Workbench[/] http://{host}:{port}  (API docs /docs; Ctrl-C stops; "
        f"later: PLUMETRACE_HOME={home} plumetrace serve)"
    )
    uvicorn.run(create_app(Settings(home=home)), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
