"""One place that turns plumetrace errors into HTTP responses ``{"detail": "..."}``.

=====================================  ======
error                                  status
=====================================  ======
AuthError                              its own (401 or 403)
NotFoundError                          404
ConflictError, a stale ORM update,     409
a unique-constraint violation
InvalidParameterError                  422
ConfigurationError, other errors       400
DataSourceError (a server-side file)   500
the database unreachable, locked or    503 (``Retry-After``)
failing (OperationalError,
InterfaceError, pool timeout)
=====================================  ======

A database outage never shows a traceback: the answer is a 503 with one JSON sentence,
the request's transaction is rolled back (no partial write), and the next request after
the database is back succeeds without restarting the server (the pool discards broken
connections; a PostgreSQL connection idle in the pool is pinged before use).

A request both unauthorized and invalid is answered as unauthorized (401/403), not 422:
the token is checked first (:func:`plumetrace.api.deps.admit_first`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError

from plumetrace.api.deps import admit_first
from plumetrace.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    DataSourceError,
    InvalidParameterError,
    NotFoundError,
    PlumetraceError,
)

__all__ = ["DB_UNAVAILABLE", "install_error_handlers", "status_for"]

DB_UNAVAILABLE = "the database is unavailable; nothing was changed, try again shortly"
"""The ``detail`` of a 503 answer."""

_RETRY_AFTER_S = "5"

logger = logging.getLogger(__name__)


def status_for(exc: PlumetraceError) -> int:
    """Return the HTTP status of a plumetrace error."""
    if isinstance(exc, AuthError):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, InvalidParameterError):
        return 422
    if isinstance(exc, DataSourceError):
        return 500
    if isinstance(exc, ConfigurationError):
        return 400
    return 400


async def _plumetrace_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlumetraceError)
    status = status_for(exc)
    detail = str(exc)
    if status >= 500:
        logger.error("%s %s: %s", request.method, request.url.path, exc)
        detail = "the server could not read or write a file it needs; see its log"
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _stale(request: Request, exc: Exception) -> JSONResponse:
    logger.info("%s %s: stale update: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the record was changed by someone else: reload it and try again"},
        status_code=409,
    )


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    logger.info("%s %s: integrity error: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the change conflicts with a record saved at the same time: reload and retry"},
        status_code=409,
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    # one line in the log, no traceback: the driver's message says what failed
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    logger.error(
        "%s %s: database unavailable: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        first[0] if first else "",
    )
    return JSONResponse(
        {"detail": DB_UNAVAILABLE}, status_code=503, headers={"Retry-After": _RETRY_AFTER_S}
    )


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    try:
        await admit_first(request)  # unauthorized before invalid
    except AuthError as refused:
        return await _plumetrace_error(request, refused)
    return await request_validation_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(PlumetraceError, _plumetrace_error)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(InterfaceError, _unavailable)
    app.add_exception_handler(PoolTimeoutError, _unavailable)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _integrity)
