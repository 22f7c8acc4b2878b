"""``plumetrace serve``: the analysts' API (and, later, the workbench page)."""

from __future__ import annotations

from typing import Annotated

import typer

from plumetrace.cli._progress import console
from plumetrace.cli._store import open_store, settings

__all__ = ["register"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the API (OpenAPI docs at /docs) until interrupted."""
    import uvicorn

    from plumetrace.api import create_app

    cfg = settings()
    open_store(cfg)  # create/migrate the embedded default; refuse a stale team database
    console.print(f"plumetrace API on http://{host}:{port}  (docs: /docs; Ctrl-C stops)")
    uvicorn.run(create_app(cfg), host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""
    app.command("serve")(serve)
