"""The ``plumetrace`` command: the Typer app, global options and error presentation.

A :class:`~plumetrace.errors.PlumetraceError` becomes one line on stderr and exit code 2;
any other exception becomes one line and exit code 1. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import click
import typer

from plumetrace import __version__
from plumetrace.cli import (
    airspace,
    backup,
    context,
    db,
    demo,
    detect,
    ingest,
    leads,
    locate,
    plumes,
    serve,
    sim,
    sites,
)
from plumetrace.cli._store import dispose_all
from plumetrace.errors import PlumetraceError

__all__ = ["app", "main"]

app = typer.Typer(
    name="plumetrace",
    help="Aerial chemical-emission surveillance: simulate, detect, quantify, share.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(sim.app, name="sim")
app.add_typer(airspace.app, name="airspace")
app.command("audit")(airspace.audit)
app.add_typer(airspace.plan_app, name="plan")
app.add_typer(db.db_app, name="db")
app.add_typer(db.audit_app, name="audit-log")
app.add_typer(db.users_app, name="users")
app.add_typer(ingest.app, name="ingest")
app.add_typer(sites.app, name="sites")
app.add_typer(context.app, name="context")
app.add_typer(leads.partners_app, name="partners")
app.add_typer(leads.leads_app, name="leads")
detect.register(app)
plumes.register(app)
locate.register(app)
demo.register(app)
serve.register(app)
backup.register(app)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"plumetrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logging.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Aerial chemical-emission surveillance: simulate, detect, quantify, share."""
    _state["debug"] = debug
    level = logging.DEBUG if debug else (logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console-script entry point).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.
    """
    args = sys.argv[1:] if argv is None else argv
    _state["debug"] = "--debug" in args
    try:
        return _run(args)
    finally:
        dispose_all()


def _run(args: list[str]) -> int:
    try:
        # without standalone mode click *returns* the code of a typer.Exit raised inside
        # a command (it raises only from its own parsing)
        code = app(args=args, prog_name="plumetrace", standalone_mode=False)
    except (typer.Exit, click.exceptions.Exit) as exc:
        return int(exc.exit_code)
    except (typer.Abort, click.Abort):
        typer.echo("aborted", err=True)
        return 130
    except (click.ClickException, typer.TyperException) as exc:
        # usage errors (bad option values); Typer >= 0.29 vendors its own click
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except PlumetraceError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        return 2
    except Exception as exc:
        if _state["debug"]:
            raise
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            err=True,
        )
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
