"""The ``plumetrace`` command: the Typer app, global options and error presentation.

A :class:`~plumetrace.errors.PlumetraceError` becomes one line on stderr and exit code 2;
any other exception becomes one line and exit code 1. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from importlib import import_module
from typing import Annotated

import click
import typer

from plumetrace import __version__
from plumetrace.cli._store import dispose_all
from plumetrace.errors import PlumetraceError

__all__ = ["build_app", "main"]


def _group(module: str, attr: str, name: str) -> Callable[[typer.Typer], None]:
    def add(root: typer.Typer) -> None:
        root.add_typer(getattr(import_module(f"plumetrace.cli.{module}"), attr), name=name)

    return add


def _command(module: str, attr: str, name: str) -> Callable[[typer.Typer], None]:
    def add(root: typer.Typer) -> None:
        root.command(name)(getattr(import_module(f"plumetrace.cli.{module}"), attr))

    return add


def _registered(module: str) -> Callable[[typer.Typer], None]:
    def add(root: typer.Typer) -> None:
        import_module(f"plumetrace.cli.{module}").register(root)

    return add


_PLUMES = _registered("plumes")  # plumes and process
_BACKUP = _registered("backup")  # backup and restore
_COMMANDS: dict[str, Callable[[typer.Typer], None]] = {
    "sim": _group("sim", "app", "sim"),
    "airspace": _group("airspace", "app", "airspace"),
    "audit": _command("airspace", "audit", "audit"),
    "plan": _group("airspace", "plan_app", "plan"),
    "db": _group("db", "db_app", "db"),
    "audit-log": _group("db", "audit_app", "audit-log"),
    "users": _group("db", "users_app", "users"),
    "ingest": _group("ingest", "app", "ingest"),
    "sites": _group("sites", "app", "sites"),
    "context": _group("context", "app", "context"),
    "partners": _group("leads", "partners_app", "partners"),
    "leads": _group("leads", "leads_app", "leads"),
    "detect": _registered("detect"),
    "plumes": _PLUMES,
    "process": _PLUMES,
    "locate": _registered("locate"),
    "demo": _registered("demo"),
    "serve": _registered("serve"),
    "backup": _BACKUP,
    "restore": _BACKUP,
}
"""Each top-level command and how to add it (its module is imported only then)."""

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"plumetrace {__version__}")
        raise typer.Exit()


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


def build_app(only: str | None = None) -> typer.Typer:
    """Build the Typer app: every command, or just ``only`` (and its module's siblings).

    Building a command makes Typer read every annotation of its options, and importing
    its module imports what it needs; a command line names one command, so only that one
    is built (the full app answers ``--help`` and unknown commands).
    """
    root = typer.Typer(
        name="plumetrace",
        help="Aerial chemical-emission surveillance: simulate, detect, quantify, share.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    root.callback()(_root)
    adders = [_COMMANDS[only]] if only in _COMMANDS else list(dict.fromkeys(_COMMANDS.values()))
    for add in adders:
        add(root)
    return root


_GLOBAL_FLAGS = frozenset({"--debug", "--verbose", "-v"})


def _command_name(args: list[str]) -> str | None:
    """Return the top-level command a command line names (None for help or nothing)."""
    for a in args:
        if a in _GLOBAL_FLAGS:
            continue
        return None if a.startswith("-") else a
    return None


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
        app = build_app(_command_name(args))
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
