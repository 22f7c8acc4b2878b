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
=====================================  ======
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from plumetrace.errors import (
    AuthError,
    ConfigurationError,
    ConflictError,
    DataSourceError,
    InvalidParameterError,
    NotFoundError,
    PlumetraceError,
)

__all__ = ["install_error_handlers", "status_for"]

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


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(PlumetraceError, _plumetrace_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _integrity)
