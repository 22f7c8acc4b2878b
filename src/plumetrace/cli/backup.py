"""``plumetrace backup`` and ``plumetrace restore``: the embedded SQLite store to a file and back.

PostgreSQL stores are backed up with ``pg_dump`` and restored with ``pg_restore``; both
commands refuse them with one line naming that procedure (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plumetrace.cli._progress import console
from plumetrace.cli._store import settings

__all__ = ["backup", "register", "restore"]

ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing file or store.")]


def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (a SQLite database).")],
    force: ForceOpt = False,
) -> None:
    """Copy the embedded store to FILE: one consistent snapshot, safe while the server runs."""
    from plumetrace.store.backup import backup_store

    info = backup_store(settings().url, file, force=force)
    console.print(
        f"{file}: store at revision {info.revision}, {info.size_bytes:,} bytes, "
        f"{info.audit_events} audit events, head {info.audit_head}"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `plumetrace backup`.")],
    force: ForceOpt = False,
) -> None:
    """Replace the embedded store with FILE (checked, then swapped in atomically).

    FILE must be a plumetrace store at a known schema revision with an intact audit log.
    An existing store is replaced only with --force; stop `plumetrace serve` first.
    """
    from plumetrace.store.backup import restore_store

    info = restore_store(settings().url, file, force=force)
    console.print(
        f"{info.path}: restored from {file} (revision {info.revision}, "
        f"{info.audit_events} audit events intact, head {info.audit_head})"
    )
    if not info.current:
        console.print("the backup's schema is older than this version: run `plumetrace db upgrade`")


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to ``app``."""
    app.command("backup")(backup)
    app.command("restore")(restore)
