"""``plumetrace serve``: the analysts' API and the workbench page.

One worker serves from this process. With ``--workers N`` uvicorn starts N worker
processes that each build the app from the same ``PLUMETRACE_*`` environment
(:func:`plumetrace.api.create_app` as an import-string factory) and share the listening
socket; every worker keeps its own connection pool to the one database, so a team's
PostgreSQL should hold ``N × (PLUMETRACE_DB_POOL_SIZE + PLUMETRACE_DB_MAX_OVERFLOW)``
connections (``docs/deployment.md``). Several workers on SQLite work (WAL; writers
queue) but gain little: SQLite has one writer at a time.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from plumetrace.cli._progress import console
from plumetrace.cli._store import open_store, settings

__all__ = ["APP_FACTORY", "register"]

APP_FACTORY = "plumetrace.api:create_app"
"""What each uvicorn worker imports and calls (settings from the environment)."""


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (PostgreSQL; about one per core behind a reverse proxy).",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(help="Log every request (off when the reverse proxy keeps the log)."),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Proxies whose X-Forwarded-For/-Proto are trusted (comma-separated; "
            "the client address counts for login throttling)."
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the API (OpenAPI docs at /docs) until interrupted."""
    import uvicorn

    cfg = settings()
    open_store(cfg).dispose()  # create/migrate the embedded default; refuse a stale team DB
    console.print(
        f"plumetrace API on http://{host}:{port}  ({workers} worker{'s' * (workers > 1)}; "
        "docs: /docs; Ctrl-C stops)"
    )
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
    }
    if workers == 1:
        from plumetrace.api import create_app

        uvicorn.run(create_app(cfg), **common)
        return
    # each worker process builds its own app (and engine) from the same environment
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, **common)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""
    app.command("serve")(serve)
