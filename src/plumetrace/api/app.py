"""The app factory: :func:`create_app` builds the API from settings.

Nothing happens at import: the engine is created when the app starts (its lifespan),
checked to be at the newest schema revision, kept on ``app.state.engine`` and disposed
when the app stops. Serve with ``uvicorn --factory plumetrace.api:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import plumetrace
from plumetrace.api.errors import install_error_handlers
from plumetrace.api.routes import ROUTERS
from plumetrace.api.web import mount_workbench
from plumetrace.settings import Settings
from plumetrace.store.engine import make_engine
from plumetrace.store.migrate import ensure_current

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the plumetrace API.

    Parameters
    ----------
    settings : Settings, optional
        Database URL, home directory (evidence files) and token lifetime; read from
        ``PLUMETRACE_*`` environment variables if omitted.

    Notes
    -----
    The database must already be migrated (``plumetrace db upgrade``); the app refuses to
    start otherwise. OpenAPI documentation is served at ``/docs``.
    """
    cfg = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(cfg.url)
        try:
            ensure_current(engine)
            app.state.engine = engine
            yield
        finally:
            app.state.engine = None
            engine.dispose()

    app = FastAPI(
        title="plumetrace",
        version=plumetrace.__version__,
        description=(
            "Analyst workbench API: candidate emission sites, review, evidence and "
            "organizations. Non-lethal by design. Every operation lists the roles it "
            "allows under `x-roles`."
        ),
        lifespan=lifespan,
    )
    app.state.settings = cfg
    app.state.engine = None
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_workbench(app)
    return app
