"""The workbench page: the built single-page app served at ``/``.

The page is built from ``web/`` (TypeScript, Vite; libraries from the npm registry at
build time) into ``plumetrace/api/static`` by ``scripts/setup.sh``. It holds no data:
every datum comes from the API with the user's token, so the files are public. Without
a build, ``/`` says how to make one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "mount_workbench"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Where the built page lives."""

_NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>plumetrace</title>
</head><body><h1>plumetrace</h1><p>The workbench page is not built. Run
<code>scripts/setup.sh</code> (it needs Node.js and npm), then restart
<code>plumetrace serve</code>. The API is up: <a href="/docs">/docs</a>.</p></body></html>"""


def mount_workbench(app: FastAPI) -> None:
    """Serve the built page at ``/`` (after every API route), or a notice if unbuilt."""
    if (STATIC_DIR / "index.html").is_file():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="workbench")
        return

    async def not_built(_request: Request) -> Response:
        return HTMLResponse(_NOT_BUILT, status_code=503)

    app.add_route("/", not_built, include_in_schema=False)
