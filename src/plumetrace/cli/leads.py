"""``plumetrace partners`` and ``plumetrace leads``: sharing leads with partner authorities.

A liaison drafts a lead for a partner from confirmed sites; a supervisor other than the
drafter previews and approves it, which releases it under the partner's policy; the
release is frozen, so ``export`` and ``push`` send exactly what was released. Partner
responses are recorded (``record``) or verified by later surveys (``verify``), and
``metrics`` shows how partners respond. Roles and the two-person rule are enforced by the
store; ``--user`` names who does each step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from plumetrace.cli._progress import console
from plumetrace.cli._store import actor, open_store, print_json, settings
from plumetrace.errors import InvalidParameterError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from plumetrace.share.lead import ReleasableLead
    from plumetrace.store.models import User

__all__ = ["leads_app", "partners_app"]

partners_app = typer.Typer(
    help="Partner authorities that receive leads, and their release policies.",
    no_args_is_help=True,
)
leads_app = typer.Typer(
    help="Leads for partners: draft, review, release, export, track responses.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LeadArg = Annotated[str, typer.Argument(help="Lead id (lead-…).")]
UserOpt = Annotated[str, typer.Option("--user", help="Who does it (user name or id).")]
STATUSES = ("draft", "released")


def _t(t: datetime | None) -> str:
    """Return a time as ``YYYY-MM-DD HH:MMZ`` (UTC), or ``-``."""
    if t is None:
        return "-"
    utc = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%MZ")


def _f(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "none"


def _policy_text(policy: dict[str, Any]) -> str:
    t = policy["timeline"]
    text = (
        f"TLP:{policy['tlp'].upper()}; releases {', '.join(policy['release']) or 'nothing'}; "
        f"deadlines ack {t['acknowledge_days']:g} d, feedback {t['feedback_days']:g} d, "
        f"verify {t['verify_days']:g} d; CoT stale {policy['cot_stale_hours']:g} h"
    )
    if policy["field_tlp"]:
        marks = ", ".join(f"{k} TLP:{v.upper()}" for k, v in policy["field_tlp"].items())
        text += f"; fields {marks}"
    return text


def _table(*columns: str, title: str | None = None, caption: str | None = None) -> Table:
    """Return a table whose identifier columns never wrap."""
    table = Table(title=title, caption=caption)
    for column in columns:
        table.add_column(column, no_wrap=column in {"id", "lead", "partner"})
    return table


def _user(session: Session, name: str) -> User:
    from plumetrace.store.users import find_user

    return find_user(session, name)


# --------------------------------------------------------------------------- partners


@partners_app.command("add")
def partner_add_cmd(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    country: Annotated[str, typer.Option(help="ISO 3166 code (MX, MEX).")] = "",
    policy: Annotated[
        Path | None,
        typer.Option(help="Policy file (TOML, one [policy] table); default: release nothing."),
    ] = None,
) -> None:
    """Add a partner with its release policy (several at once: ``partners load``)."""
    from plumetrace.io.partners import read_policy
    from plumetrace.share.policy import ReleasePolicy
    from plumetrace.store.engine import session_scope
    from plumetrace.store.partners import add_partner

    pol = ReleasePolicy() if policy is None else read_policy(policy)
    with session_scope(open_store(), write=True) as s:
        p = add_partner(s, name, pol, country=country, actor=actor())
        pid, pname = p.id, p.name
    console.print(f"added {pid} ({escape(pname)}): {escape(_policy_text(pol.to_dict()))}")


@partners_app.command("load")
def partner_load_cmd(
    file: Annotated[Path, typer.Argument(help="Partners file (TOML, [[partner]] tables).")],
) -> None:
    """Add each partner of a file; a partner that exists gets the file's policy.

    All or nothing: one bad partner changes nothing.
    """
    from plumetrace.io.partners import read_partners
    from plumetrace.store.engine import session_scope
    from plumetrace.store.partners import add_partner, find_partner, partner_policy, set_policy

    specs = read_partners(file)
    who = actor()
    lines = []
    with session_scope(open_store(), write=True) as s:
        existing = {p["name"]: p for p in _list_partners(s)}
        for spec in specs:
            if spec.name not in existing:
                p = add_partner(s, spec.name, spec.policy, country=spec.country, actor=who)
                lines.append(f"added {p.id} ({spec.name})")
                continue
            p = find_partner(s, spec.name)
            note = ""
            if spec.country and spec.country != p.country:
                note = f" (country stays {p.country or 'unset'}; the file says {spec.country})"
            if partner_policy(p) == spec.policy:
                lines.append(f"unchanged {p.id} ({spec.name}){note}")
            else:
                set_policy(s, p.id, spec.policy, actor=who)
                lines.append(f"updated the policy of {p.id} ({spec.name}){note}")
    for line in lines:
        console.print(escape(line))
    console.print(f"{len(specs)} partners in {escape(str(file))}")


def _list_partners(session: Session) -> list[dict[str, Any]]:
    from plumetrace.store.partners import list_partners

    return list_partners(session)


@partners_app.command("list")
def partner_list_cmd(as_json: JsonOpt = False) -> None:
    """List partners and their release policies."""
    from plumetrace.store.engine import session_scope

    with session_scope(open_store()) as s:
        rows = _list_partners(s)
    if as_json:
        print_json(rows)
        return
    table = _table("id", "name", "country", "TLP", "releases", "ack/feedback/verify d")
    for r in rows:
        pol, t = r["policy"], r["policy"]["timeline"]
        table.add_row(
            r["id"],
            escape(r["name"]),
            r["country"] or "-",
            pol["tlp"].upper(),
            ", ".join(pol["release"]) or "nothing",
            f"{t['acknowledge_days']:g}/{t['feedback_days']:g}/{t['verify_days']:g}",
        )
    console.print(table)
    console.print(f"{len(rows)} partners")


@partners_app.command("show")
def partner_show_cmd(
    key: Annotated[str, typer.Argument(help="Partner id (partner-…) or name.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one partner: its policy and how many leads it has."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.lead_response import list_leads
    from plumetrace.store.partners import find_partner, partner_policy

    with session_scope(open_store()) as s:
        p = find_partner(s, key)
        leads = list_leads(s, partner=p.id)
        d: dict[str, Any] = {
            "id": p.id,
            "name": p.name,
            "country": p.country,
            "policy": partner_policy(p).to_dict(),
            "leads": {st: sum(r["status"] == st for r in leads) for st in STATUSES},
        }
    if as_json:
        print_json(d)
        return
    console.print(f"[bold]{d['id']}[/]  {escape(d['name'])}  country {d['country'] or '-'}")
    console.print(f"policy: {escape(_policy_text(d['policy']))}")
    console.print(f"leads: {_counts(d['leads'])}")


# --------------------------------------------------------------------------- leads


@leads_app.command("draft")
def draft_cmd(
    partner: Annotated[str, typer.Option(help="Partner id or name.")],
    site: Annotated[list[str], typer.Option("--site", help="A confirmed site (repeat).")],
    title: Annotated[str, typer.Option(help="Title (releasable).")],
    user: UserOpt,
    summary: Annotated[str, typer.Option(help="Summary (releasable).")] = "",
    action: Annotated[
        str | None, typer.Option("--action", help="Recommended action (releasable).")
    ] = None,
    internal_note: Annotated[str, typer.Option(help="Note that stays internal.")] = "",
    tlp: Annotated[
        str | None, typer.Option(help="TLP 2.0 level; the partner's default if omitted.")
    ] = None,
) -> None:
    """Draft a lead for a partner from confirmed sites (a liaison); print its id."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.leads import draft_lead

    extra = {} if action is None else {"recommended_action": action}
    with session_scope(open_store(), write=True) as s:
        lead = draft_lead(
            s,
            partner=partner,
            site_ids=site,
            by=_user(s, user),
            title=title,
            summary=summary,
            internal_note=internal_note,
            tlp=tlp,
            **extra,
        )
        lid, pid, level = lead.id, lead.partner_id, lead.tlp
    console.print(
        f"drafted for {pid} (TLP:{level.upper()}, {len(set(site))} sites); "
        "preview it, then a supervisor other than you approves it:"
    )
    typer.echo(lid)


@leads_app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a list of leads).")] = False,
    partner: Annotated[str | None, typer.Option(help="Only this partner's leads.")] = None,
    status: Annotated[str | None, typer.Option(help="draft or released.")] = None,
) -> None:
    """List leads (newest first) with their status and response state."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.lead_response import list_leads

    if status is not None and status not in STATUSES:
        raise InvalidParameterError(f"--status must be draft or released, got {status!r}")
    with session_scope(open_store()) as s:
        rows = list_leads(s, partner=partner, status=status)
    if as_json:
        print_json(rows)
        return
    table = _table("id", "partner", "state", "TLP", "sites", "released", "title")
    for r in rows:
        table.add_row(
            r["id"],
            r["partner"],
            r["state"],
            r["tlp"].upper(),
            str(len(r["sites"])),
            _t(r["released"])[:10],
            escape(r["title"]),
        )
    console.print(table)
    console.print(f"{len(rows)} leads")


@leads_app.command("show")
def show_cmd(lead_id: LeadArg, as_json: JsonOpt = False) -> None:
    """Show one lead: its text, sites, response, events and (once released) redaction."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.lead_response import lead_detail

    with session_scope(open_store()) as s:
        d = lead_detail(s, lead_id)
    if as_json:
        print_json(d)
        return
    console.print(
        f"[bold]{d['id']}[/]  {d['partner']}  {d['status']} ({d['state']})  TLP:{d['tlp'].upper()}"
    )
    console.print(f"[bold]{escape(d['title'])}[/]")
    console.print(f"sites: {', '.join(d['sites'])}")
    console.print(
        f"drafted {_t(d['drafted'])} by {d['drafted_by'] or '-'}; "
        f"released {_t(d['released'])} by {d['approved_by'] or '-'}"
    )
    for key in ("summary", "recommended_action", "internal_note"):
        if d[key]:
            console.print(f"{key.replace('_', ' ')}: {escape(d[key])}")
    console.print(
        f"response: acknowledged {_t(d['acknowledged'])}, feedback {_t(d['feedback'])} "
        f"({d['outcome'] or '-'}), action {_t(d['action_date'])}, "
        f"verified {_t(d['verified'])} ({d['verification'] or '-'})"
    )
    if d["redaction"]:
        console.print(
            f"redaction: withheld {_counts(d['redaction'].get('withheld', {}))}; "
            f"scrubbed {_counts(d['redaction'].get('scrubbed', {}))}"
        )
    for e in d["events"]:
        line = f"  {_t(e['time'])} {e['kind']:12} {e['channel']:8} {e['user'] or '-'}"
        if e["outcome"]:
            line += f" {e['outcome']}"
        if e["text"]:
            line += f": {e['text']}"
        console.print(escape(line))


def _print_releasable(lead: ReleasableLead) -> None:
    console.print(
        f"[bold]{lead.id}[/] for {escape(lead.partner_name)} from {escape(lead.producer)}  "
        f"TLP:{lead.tlp.upper()}"
    )
    console.print(f"[bold]{escape(lead.title)}[/]")
    for key in ("summary", "recommended_action"):
        if getattr(lead, key):
            console.print(f"{key.replace('_', ' ')}: {escape(getattr(lead, key))}")
    for key, level in lead.field_tlp.items():
        console.print(f"field {key} marked TLP:{level.upper()}")
    for site in lead.sites:
        console.print(
            f"  {site.uid}  {site.lat:.5f}, {site.lon:.5f} ± {site.uncertainty_m:.0f} m  "
            f"{site.gas} {_f(site.rate_lo_kg_h, '.2g')}-{_f(site.rate_hi_kg_h, '.2g')} kg/h  "
            f"seen {site.n_observations}x {_t(site.first_seen)} .. {_t(site.last_seen)}"
        )
        console.print(f"    observed: {escape(site.observed)}")
        if site.advisory:
            console.print(f"    advisory: {escape(site.advisory)}")
        for key in ("collection", "organizations", "source_reports", "imagery"):
            for value in getattr(site, key):
                console.print(f"    {key.replace('_', ' ')}: {escape(value)}")


@leads_app.command("preview")
def preview_cmd(
    lead_id: LeadArg,
    as_json: JsonOpt = False,
    user: Annotated[
        str | None, typer.Option("--user", help="The approver the release would name.")
    ] = None,
) -> None:
    """Show what releasing the lead would send now, and what redaction removed."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.leads import preview_lead

    producer = settings().producer
    with session_scope(open_store()) as s:
        approver = None if user is None else _user(s, user).name
        releasable, redaction = preview_lead(s, lead_id, producer=producer, approver=approver)
    if as_json:
        print_json(
            {
                "lead": releasable.to_dict(),
                "redaction": {"withheld": redaction.withheld, "scrubbed": redaction.scrubbed},
            }
        )
        return
    _print_releasable(releasable)
    console.print(
        f"redaction: withheld {_counts(redaction.withheld)}; scrubbed {_counts(redaction.scrubbed)}"
    )


@leads_app.command("approve")
def approve_cmd(lead_id: LeadArg, user: UserOpt) -> None:
    """Release a draft (a supervisor other than the drafter: two-person rule)."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.leads import approve_lead

    producer = settings().producer
    with session_scope(open_store(), write=True) as s:
        lead = approve_lead(s, lead_id, by=_user(s, user), producer=producer)
        pid, released, redaction = lead.partner_id, lead.released, dict(lead.redaction or {})
    console.print(
        f"released {lead_id} to {pid} at {_t(released)}; "
        f"withheld {_counts(redaction.get('withheld', {}))}, "
        f"scrubbed {_counts(redaction.get('scrubbed', {}))}"
    )


@leads_app.command("return")
def return_cmd(
    lead_id: LeadArg,
    user: UserOpt,
    note: Annotated[str, typer.Option(help="Why it goes back to the drafter.")],
) -> None:
    """Send a draft back to its drafter with the reasons (it stays a draft)."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.leads import reject_lead

    with session_scope(open_store(), write=True) as s:
        reject_lead(s, lead_id, by=_user(s, user), note=note)
    console.print(f"returned {lead_id} to its drafter")


@leads_app.command("record")
def record_cmd(
    lead_id: LeadArg,
    kind: Annotated[str, typer.Option(help="acknowledged, feedback, action or verified.")],
    user: UserOpt,
    time: Annotated[
        str | None, typer.Option(help="When it happened (ISO 8601, UTC); default now.")
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(help="For feedback: dismantled, arrests, nothing-found, declined, no-action."),
    ] = None,
    text: Annotated[str, typer.Option(help="Free text.")] = "",
    verification: Annotated[
        str | None, typer.Option(help="For verified: no-emission or still-emitting.")
    ] = None,
) -> None:
    """Record a step of the partner's response (a liaison, or the partner's user)."""
    from plumetrace.io.evidence import parse_time_option
    from plumetrace.share.metrics import lead_state
    from plumetrace.store.engine import session_scope
    from plumetrace.store.lead_response import record_event, timeline

    when = None if time is None else parse_time_option(time, "--time")
    with session_scope(open_store(), write=True) as s:
        lead = record_event(
            s,
            lead_id,
            kind,
            by=_user(s, user),
            time=when,
            outcome=outcome,
            text=text,
            verification=verification,
        )
        state = lead_state(timeline(lead))
    console.print(f"recorded {kind} on {lead_id}; it is now {state}")


@leads_app.command("export")
def export_cmd(
    lead_id: LeadArg,
    fmt: Annotated[str, typer.Option("--format", help="stix, geojson, kml or cot.")],
    out: Annotated[Path, typer.Option("--out", help="File to write (replaced atomically).")],
) -> None:
    """Write a released lead in a partner format, exactly as it was released."""
    from plumetrace.io._atomic import atomic_write_bytes
    from plumetrace.share.export import EXPORT_FORMATS, render_lead
    from plumetrace.store.engine import session_scope
    from plumetrace.store.leads import get_lead, release_of

    if fmt not in EXPORT_FORMATS:
        raise InvalidParameterError(
            f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}"
        )
    with session_scope(open_store()) as s:
        releasable = release_of(get_lead(s, lead_id))
    body, media_type = render_lead(releasable, fmt)
    atomic_write_bytes(out, body)
    console.print(f"wrote {escape(str(out))} ({len(body)} bytes, {media_type})")


@leads_app.command("push")
def push_cmd(
    lead_id: LeadArg,
    cot_url: Annotated[
        str, typer.Option("--cot-url", help="TAK server: tcp://host:port or tls://host:port.")
    ],
    cert: Annotated[Path | None, typer.Option(help="Client certificate, PEM (tls).")] = None,
    key: Annotated[Path | None, typer.Option(help="Its private key, PEM (tls).")] = None,
    cafile: Annotated[Path | None, typer.Option(help="CA that verifies the server, PEM.")] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify the server (test servers only).")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to connect and send.")] = 10.0,
) -> None:
    """Send a released lead's Cursor-on-Target events (one per site) to a TAK server.

    The events hold exactly what was released; their time is now and they go stale after
    the partner policy's ``cot_stale_hours``. The push is recorded in the audit log.
    """
    from urllib.parse import urlsplit

    from plumetrace.io.cot_push import push_cot
    from plumetrace.share.cot import cot_events
    from plumetrace.store.audit_log import append_event
    from plumetrace.store.engine import session_scope
    from plumetrace.store.leads import get_lead, release_of

    engine = open_store()
    with session_scope(engine) as s:
        releasable = release_of(get_lead(s, lead_id))
    events = cot_events(releasable, now=datetime.now(UTC))
    sent = push_cot(
        events, cot_url, cert=cert, key=key, cafile=cafile, insecure=insecure, timeout_s=timeout
    )
    parts = urlsplit(cot_url.strip())
    server = f"{parts.scheme.lower()}://{parts.hostname}:{parts.port}"
    with session_scope(engine, write=True) as s:
        append_event(
            s,
            actor=actor(),
            action="lead.push",
            entity="lead",
            entity_id=lead_id,
            after={"server": server, "events": sent, "partner": releasable.partner_id},
        )
    console.print(f"pushed {sent} CoT events of {lead_id} to {escape(server)}")


@leads_app.command("verify")
def verify_cmd(as_json: JsonOpt = False) -> None:
    """Verify acted-on leads from later survey passes over their sites."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.lead_response import verify_by_surveys
    from plumetrace.store.leads import get_lead

    with session_scope(open_store(), write=True) as s:
        leads = [get_lead(s, lid) for lid in verify_by_surveys(s)]
    if as_json:
        print_json(
            [{"id": x.id, "verified": x.verified, "verification": x.verification} for x in leads]
        )
        return
    for x in leads:
        console.print(f"{x.id}: {x.verification} (re-surveyed {_t(x.verified)})")
    console.print(f"{len(leads)} leads verified")


@leads_app.command("metrics")
def metrics_cmd(as_json: JsonOpt = False) -> None:
    """Show how partners respond: per partner, and the overdue leads."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.lead_response import lead_metrics

    with session_scope(open_store()) as s:
        m = lead_metrics(s)
    if as_json:
        print_json(m)
        return
    table = _table(
        "partner",
        "released",
        "acked",
        "response",
        "to ack",
        "to action",
        "to verify",
        "overdue",
        caption="response: share with substantive feedback; to …: median days from release",
    )
    rows = [*m["partners"].items(), ("all", m["overall"])]
    for name, r in rows:
        rate = r["response_rate"]
        table.add_row(
            name,
            str(r["released"]),
            str(r["acknowledged"]),
            "-" if rate is None else f"{rate:.0%}",
            _f(r["median_days_to_acknowledgement"], ".1f"),
            _f(r["median_days_to_action"], ".1f"),
            _f(r["median_days_to_verification"], ".1f"),
            str(r["overdue"]),
        )
    console.print(table)
    overdue = [lead for lead in m["leads"] if lead["overdue"]]
    if overdue:
        late = _table("lead", "partner", "state", "overdue", "released", title="overdue leads")
        for lead in overdue:
            late.add_row(
                lead["id"], lead["partner"], lead["state"], lead["overdue"], _t(lead["released"])
            )
        console.print(late)
    else:
        console.print("no overdue leads")
