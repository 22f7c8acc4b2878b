"""``plumetrace db``, ``plumetrace audit-log`` and ``plumetrace users``."""

from __future__ import annotations

from typing import Annotated

import typer

from plumetrace.cli._progress import console
from plumetrace.cli._store import actor, engine_for, open_store, print_json, settings
from plumetrace.errors import TamperError

__all__ = ["audit_app", "db_app", "users_app"]

db_app = typer.Typer(help="The database: create or migrate the schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles of the API.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_cmd(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the schema (PLUMETRACE_DATABASE_URL, else the embedded SQLite)."""
    from plumetrace.store.migrate import current_revision, upgrade

    cfg = settings()
    engine = engine_for(cfg.url)
    before = current_revision(engine)
    after = upgrade(engine, revision)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"{where}: already at revision {after}")
    else:
        console.print(f"{where}: {before or 'empty'} -> {after}")


@db_app.command("current")
def current_cmd() -> None:
    """Print the database's revision and the newest one."""
    from plumetrace.store.migrate import current_revision, head_revision

    engine = engine_for(settings().url)
    console.print(f"current {current_revision(engine) or 'none'}, newest {head_revision()}")


@audit_app.command("verify")
def verify_cmd(
    head: Annotated[
        str | None,
        typer.Option(help="A previously published head SEQ:HASH the chain must still contain."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute the audit log's hash chain; exit 2 on any edit or deletion."""
    from plumetrace.store.audit_log import verify
    from plumetrace.store.engine import session_scope

    with session_scope(open_store()) as s:
        v = verify(s, expect_head=head)
    if as_json:
        print_json(
            {
                "ok": v.ok,
                "events": v.events,
                "head": f"{v.head_seq}:{v.head_hash}",
                "problems": v.problems,
            }
        )
    elif v.ok:
        console.print(f"audit log intact: {v.events} events, head {v.head_seq}:{v.head_hash}")
    if not v.ok:
        raise TamperError(f"audit log BROKEN: {'; '.join(v.problems[:5])}")


@users_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        str, typer.Option(help="analyst, supervisor, liaison, partner or admin.")
    ] = "analyst",
    partner: Annotated[
        str | None, typer.Option(help="Partner (id or name) a partner user belongs to.")
    ] = None,
) -> None:
    """Create a user and print a one-time password (shown once, stored only hashed)."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.partners import find_partner
    from plumetrace.store.users import add_user

    with session_scope(open_store(), write=True) as s:
        pid = None if partner is None else find_partner(s, partner).id
        user, password = add_user(s, name, role, actor=actor(), partner_id=pid)
    console.print(
        f"user {user.name} ({user.role}) created; one-time password (it only lets "
        "them set their own, POST /api/auth/password):"
    )
    typer.echo(password)


@users_app.command("list")
def list_cmd() -> None:
    """List users and their roles."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.users import list_users

    with session_scope(open_store()) as s:
        for u in list_users(s):
            state = "active" if u["active"] else "disabled"
            console.print(f"{u['name']:24} {u['role']:11} {state}")


@users_app.command("revoke")
def revoke_cmd(name: Annotated[str, typer.Argument(help="User name or id.")]) -> None:
    """Log a user out everywhere: revoke every token they hold (audited)."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.users import find_user, revoke_tokens

    with session_scope(open_store(), write=True) as s:
        user = find_user(s, name)
        n = revoke_tokens(s, user, actor=actor())
    console.print(f"{user.name}: {n} token(s) revoked")


def _set_active(name: str, active: bool) -> None:
    from plumetrace.store.engine import session_scope
    from plumetrace.store.users import find_user, set_active

    with session_scope(open_store(), write=True) as s:
        user = find_user(s, name)
        set_active(s, user, active, actor=actor())
    console.print(f"{user.name} is now {'active' if active else 'disabled (tokens revoked)'}")


@users_app.command("deactivate")
def deactivate_cmd(name: Annotated[str, typer.Argument(help="User name or id.")]) -> None:
    """Stop a user from logging in and revoke their tokens at once (audited)."""
    _set_active(name, False)


@users_app.command("activate")
def activate_cmd(name: Annotated[str, typer.Argument(help="User name or id.")]) -> None:
    """Let a deactivated user log in again (audited)."""
    _set_active(name, True)


@db_app.command("purge")
def purge_cmd(
    unconfirmed_days: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Unconfirmed sites (candidate, rejected; in no lead, not attributed, no "
            "open collection request) last seen longer ago go, with their evidence "
            "[setting PLUMETRACE_RETENTION_UNCONFIRMED_DAYS, 365].",
        ),
    ] = None,
    tracks_days: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Flown track lines older than this go; incursions stay "
            "[PLUMETRACE_RETENTION_TRACKS_DAYS, 180].",
        ),
    ] = None,
    attachments_days: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Attachments of unconfirmed sites older than this go "
            "[PLUMETRACE_RETENTION_ATTACHMENTS_DAYS, 365].",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Purge data kept longer than the retention settings allow (one audited change)."""
    from plumetrace.pipeline.retention import RetentionDays, run_purge

    cfg = settings()
    days = RetentionDays(
        unconfirmed_sites=cfg.retention_unconfirmed_days
        if unconfirmed_days is None
        else unconfirmed_days,
        raw_tracks=cfg.retention_tracks_days if tracks_days is None else tracks_days,
        attachments=cfg.retention_attachments_days
        if attachments_days is None
        else attachments_days,
    )
    result, files = run_purge(
        open_store(cfg), cfg.evidence_dir, days, actor=actor(), dry_run=dry_run
    )
    counts = {**result.counts(), "files_deleted": files}
    if as_json:
        print_json({"dry_run": dry_run, **counts, "site_ids": result.sites})
        return
    verb = "would purge" if dry_run else "purged"
    console.print(
        f"{verb}: {counts['sites']} site(s) with {counts['detections']} detection(s) and "
        f"{counts['reports']} report(s), {counts['tracks']} track(s), "
        f"{counts['attachments']} attachment(s); {files} evidence file(s) deleted"
    )


@users_app.command("compartments")
def compartments_cmd(
    name: Annotated[str, typer.Argument(help="User name or id.")],
    compartments: Annotated[
        list[str] | None,
        typer.Argument(help="The compartments (teams) they belong to; none: no compartment."),
    ] = None,
) -> None:
    """Set the compartments a user belongs to: they see those restricted sites (audited)."""
    from plumetrace.store.compartments import set_user_compartments
    from plumetrace.store.engine import session_scope
    from plumetrace.store.users import find_user

    with session_scope(open_store(), write=True) as s:
        user = find_user(s, name)
        names = set_user_compartments(s, user, compartments or [], actor=actor())
    console.print(f"{user.name}: {', '.join(names) or 'no compartment'}")
