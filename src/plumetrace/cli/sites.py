"""``plumetrace sites``: the candidate sites in the store."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from plumetrace.cli._progress import console
from plumetrace.cli._store import open_store, print_json

__all__ = ["app"]

app = typer.Typer(help="Candidate emission sites.", no_args_is_help=True)


def _f(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a list of sites).")] = False,
    status: Annotated[
        str | None,
        typer.Option(help="candidate, confirmed, rejected, needs-collection or merged."),
    ] = None,
    min_confidence: Annotated[float | None, typer.Option(help="Only sites at least this.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 1000,
) -> None:
    """List sites, most confident first."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.sites import SITE_FIELDS, list_sites

    with session_scope(open_store()) as s:
        rows = list_sites(s, status=status, min_confidence=min_confidence, limit=limit)
    if as_json:
        print_json([{k: r[k] for k in SITE_FIELDS} for r in rows])
        return
    table = Table("id", "lat", "lon", "±m", "conf", "status", "det", "rep", "kg/h", "exposure")
    for r in rows:
        table.add_row(
            r["id"],
            f"{r['lat']:.5f}",
            f"{r['lon']:.5f}",
            f"{r['uncertainty_m']:.0f}",
            f"{r['confidence']:.2f}",
            r["status"],
            str(r["n_detections"]),
            str(r["n_reports"]),
            _f(r["rate_kg_h"], ".3g"),
            r["exposure"] or "-",
        )
    console.print(table)
    console.print(f"{len(rows)} sites")


@app.command("show")
def show_cmd(
    site_id: Annotated[str, typer.Argument(help="Site id (site-…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one site: evidence and why it is linked, passes, reviews, context."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.sites import site_detail

    with session_scope(open_store()) as s:
        d = site_detail(s, site_id)
    if as_json:
        print_json(d)
        return
    console.print(
        f"[bold]{d['id']}[/]  {d['lat']:.6f}, {d['lon']:.6f} ± {d['uncertainty_m']:.0f} m  "
        f"confidence {d['confidence']:.2f}  status {d['status']}"
    )
    console.print(
        f"rate {_f(d['rate_kg_h'], '.3g')} kg/h [{_f(d['rate_lo_kg_h'], '.3g')}, "
        f"{_f(d['rate_hi_kg_h'], '.3g')}]  passes {d['n_passes_detected']}/{d['n_passes']} "
        f"detected  reports {d['n_reports']}  exposure {d['exposure'] or '-'}"
    )
    terms = ", ".join(f"{k} {v:+.2f}" for k, v in (d["confidence_terms"] or {}).items())
    console.print(f"confidence terms (logit): {terms}")
    ctx = d.get("context") or {}
    if ctx.get("advisory"):
        console.print(f"[bold]advisory[/] {ctx['advisory']}")
    for e in d["evidence"][:20]:
        console.print(
            f"  {e['kind']:9} {e['evidence_id']}: {e['reason']} (weight {e['weight']:+.2f})"
        )
    for r in d["reviews"][:10]:
        console.print(f"  review {r['decision']} by {r['user']}: {r['note']}")


@app.command("restrict")
def restrict_cmd(
    site_id: Annotated[str, typer.Argument(help="Site id (site-…).")],
    user: Annotated[str, typer.Option("--user", help="The supervisor who decides it.")],
    compartment: Annotated[
        str | None,
        typer.Option(help="Compartment (team) the site is restricted to; omit to open it."),
    ] = None,
) -> None:
    """Restrict a site to a compartment (only its members see it), or open it to all staff."""
    from plumetrace.errors import AuthError
    from plumetrace.store.compartments import set_site_compartment
    from plumetrace.store.engine import session_scope
    from plumetrace.store.users import find_user

    with session_scope(open_store(), write=True) as s:
        by = find_user(s, user)
        if by.role != "supervisor":
            raise AuthError(f"{by.name} is a {by.role}: only a supervisor restricts sites")
        out = set_site_compartment(s, site_id, compartment, by=by, version=None)
    where = f"compartment {out['compartment']}" if out["compartment"] else "all staff"
    console.print(f"{site_id}: visible to {where}")
