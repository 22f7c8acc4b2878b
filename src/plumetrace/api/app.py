"""The app factory: :func:`create_app` builds the API from settings.

Nothing happens at import: the engine is created when the app starts (its lifespan),
checked to be at the newest schema revision, kept on ``app.state.engine`` and disposed
when the app stops. Serve with ``uvicorn --factory plumetrace.api:create_app``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

import plumetrace
from plumetrace.api.errors import install_error_handlers
from plumetrace.api.headers import install_security_headers
from plumetrace.api.routes import ROUTERS
from plumetrace.api.web import mount_workbench
from plumetrace.settings import Settings
from plumetrace.store.audit_log import AuditVerification, verify
from plumetrace.store.compartments import install_compartment_filter
from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import ensure_current

__all__ = ["create_app"]

_log = logging.getLogger(__name__)


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
    start otherwise. At start it verifies the audit log's hash chain (setting
    ``verify_audit_on_start``; the outcome is logged and kept on ``app.state.audit``).
    Every response carries security headers (:mod:`plumetrace.api.headers`). OpenAPI
    documentation is served at ``/docs``.
    """
    cfg = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            cfg.url,
            pool_size=cfg.db_pool_size,
            max_overflow=cfg.db_max_overflow,
            pool_timeout_s=cfg.db_pool_timeout_s,
        )
        try:
            ensure_current(engine)
            # the routes are synchronous: this many run at once (on this event loop)
            to_thread.current_default_thread_limiter().total_tokens = cfg.api_threads
            app.state.engine = engine
            app.state.audit = _verify_audit(engine) if cfg.verify_audit_on_start else None
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
    app.state.audit = None
    install_error_handlers(app)
    install_security_headers(app, cfg.basemap_url)
    install_compartment_filter()
    for router in ROUTERS:
        app.include_router(router)
    mount_workbench(app)
    return app


def _verify_audit(engine: Engine) -> AuditVerification:
    """Recompute the audit log's hash chain; log the outcome (an error if broken).

    A broken chain does not stop the API (that would let tampering deny service): it is
    reported in the log, at ``GET /api/audit/verify`` and by ``plumetrace audit-log
    verify``.
    """
    with session_scope(engine) as session:
        result = verify(session)
    if result.ok:
        _log.info("audit log intact: %d events, head %d", result.events, result.head_seq)
    else:
        _log.error("audit log BROKEN: %s", "; ".join(result.problems[:5]))
    return result
