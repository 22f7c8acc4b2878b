"""The one error hierarchy of plumetrace.

Every error the package raises on purpose derives from :class:`PlumetraceError`; each
subclass also inherits the builtin it resembles, so ``except ValueError`` keeps working.
The CLI prints ``str(error)`` as one line and exits with code 2; the API maps the classes
to HTTP statuses in one handler.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuthError",
    "ConfigurationError",
    "ConflictError",
    "DataSourceError",
    "FormatError",
    "InvalidParameterError",
    "InvalidRadianceError",
    "NotFoundError",
    "PlumetraceError",
    "RetrievalError",
    "TamperError",
    "TargetSpectrumError",
    "UnavailableError",
]


class PlumetraceError(Exception):
    """Root of every error plumetrace raises on purpose."""


class InvalidParameterError(PlumetraceError, ValueError):
    """An argument is out of range or inconsistent with the others."""


class ConfigurationError(PlumetraceError, ValueError):
    """A setting or option combination cannot work."""


_MAX_PROBLEM = 500
"""Longest problem text a message carries; longer ones (echoing a huge value) are cut."""


def _shorten(problem: str) -> str:
    """Cut the middle out of an overlong problem text, keeping its start and its end."""
    if len(problem) <= _MAX_PROBLEM:
        return problem
    return f"{problem[:320]} … {problem[-160:]}"


class DataSourceError(PlumetraceError, OSError):
    """A file or dataset cannot be read or written.

    Parameters
    ----------
    path : str or Path or None
        The file at fault; it is named in the message.
    problem : str
        What is wrong, in one sentence without a trailing full stop. A problem text
        longer than 500 characters (one quoting a huge value from the file) loses its
        middle, so the message stays one readable line.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        problem = _shorten(problem)
        self.problem = problem
        text = problem if path is None else f"{path}: {problem}"
        super().__init__(text)

    def __reduce__(self) -> tuple[type[DataSourceError], tuple[Path | None, str]]:
        return (type(self), (self.path, self.problem))


class FormatError(DataSourceError):
    """A file exists but its content does not follow the format it claims."""


class InvalidRadianceError(PlumetraceError, ValueError):
    """A radiance cube cannot be retrieved from (shape, wavelengths, values)."""


class TargetSpectrumError(PlumetraceError, ValueError):
    """A gas target signature cannot be built for the given bands."""


class RetrievalError(PlumetraceError, ArithmeticError):
    """A retrieval failed numerically (e.g. a singular background covariance)."""


class NotFoundError(PlumetraceError, LookupError):
    """A record (site, flight, user …) does not exist (HTTP 404)."""


class ConflictError(PlumetraceError, RuntimeError):
    """A stale update: the record changed since it was read (HTTP 409).

    Optimistic locking never overwrites silently; reload and retry.
    """


class AuthError(PlumetraceError, PermissionError):
    """Not logged in, a bad password or token, or a role not allowed (HTTP 401/403).

    Parameters
    ----------
    message : str
    status : int
        401 (who are you?) or 403 (you may not).
    """

    def __init__(self, message: str, status: int = 403) -> None:
        self.status = status
        super().__init__(message)

    def __reduce__(self) -> tuple[type[AuthError], tuple[str, int]]:
        return (type(self), (str(self), self.status))


class UnavailableError(PlumetraceError, ConnectionError):
    """A service plumetrace works with cannot be reached (e.g. a Dask scheduler)."""


class TamperError(PlumetraceError, RuntimeError):
    """Stored records fail their integrity check (e.g. a broken audit-log hash chain)."""
