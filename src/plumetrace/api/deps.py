"""Request dependencies: settings, sessions, the current user and role rules.

Every route declares who may call it with :func:`allow`, which both enforces the rule
(a :class:`RoleGuard` dependency that runs before anything else) and records it in the
route's OpenAPI operation as ``x-roles``, so the rules are machine readable and a test
can check that no route lacks one. ``allow(PUBLIC)`` marks the few routes that need no
token (login).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict, cast

from fastapi import Depends, Request, params
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from plumetrace.errors import AuthError, ConfigurationError, InvalidParameterError
from plumetrace.io.tables import to_jsonable
from plumetrace.security import ROLES
from plumetrace.settings import Settings
from plumetrace.store.compartments import view_as
from plumetrace.store.engine import session_scope
from plumetrace.store.models import User
from plumetrace.store.users import user_for_token

__all__ = [
    "MAX_DB_INT",
    "PASSWORD_ROUTE",
    "PUBLIC",
    "BearerToken",
    "CurrentUser",
    "PublicGuard",
    "ReadSession",
    "RoleGuard",
    "RouteRules",
    "SessionRoute",
    "WriteSession",
    "allow",
    "app_engine",
    "app_settings",
    "current_user",
    "parse_bbox",
    "present",
    "require",
]

PASSWORD_ROUTE = "/api/auth/password"

MAX_DB_INT = 2**31 - 1
"""Largest integer a request may carry into a query (versions, offsets, pages): a
portable 32-bit SQL integer; anything larger is refused with 422, not an overflow."""
"""The one route a user with a one-time password may use (to set their own)."""

PUBLIC = "public"
"""Pseudo-role of a route that needs no token."""

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/login")


def app_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def app_engine(request: Request) -> Engine:
    """Return the app's engine (for jobs that run their own units of work)."""
    return _engine(request)


def _engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise ConfigurationError("the API has no database: it was not started (lifespan)")
    return engine


def _viewer(request: Request) -> Callable[[], Sequence[str] | None]:
    """Return what a request's session may see (:mod:`plumetrace.store.compartments`).

    Read when the session runs its first statement, after the route's guard has put the
    user on the request: a staff user sees sites of no compartment and of theirs; a
    partner's session is not filtered (partner routes read only frozen releases).
    """

    def compartments() -> Sequence[str] | None:
        user: User | None = getattr(request.state, "user", None)
        if user is None:
            return ()  # fail closed: no known user sees no restricted site
        if user.role == "partner":
            return None
        return tuple(user.compartments or ())

    return compartments


def read_session(request: Request) -> Iterator[Session]:
    """Yield a session for one request (committed when the route returns)."""
    with session_scope(_engine(request)) as session:
        view_as(session, _viewer(request))
        yield session


def write_session(request: Request) -> Iterator[Session]:
    """Yield a writing session for one request (committed before the response is sent)."""
    with session_scope(_engine(request), write=True) as session:
        view_as(session, _viewer(request))
        yield session


def _ending_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a sync endpoint so that it commits its sessions before it returns.

    A sync endpoint runs on a thread of the server's pool; what follows it (validating
    the response, then the session dependency's exit) waits for threads too. Were the
    transaction still open then, its connection (and its locks: the audit chain's, a
    site's row) would be held while waiting for a thread, and threads can all be busy
    waiting for exactly that connection or lock: under load, a deadlock until the
    pool's timeout. Committing on the endpoint's own thread returns the connection
    first. On an error nothing is committed: the dependency rolls back as before.
    """
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def call(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    return call


class SessionRoute(APIRoute):
    """A route whose endpoint commits its sessions on its own thread (every router's)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _ending_sessions(endpoint), **kwargs)


ReadSession = Annotated[Session, Depends(read_session, scope="function")]
"""A session that reads (commits before the response, so errors reach the client)."""
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
"""A session that writes (SQLite: takes the write lock up front)."""


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """Return the bearer token of the request (on the event loop: no I/O, no thread).

    Raises
    ------
    AuthError
        (401) If there is no ``Authorization: Bearer`` header.
    """
    if credentials is None or not credentials.credentials:
        raise AuthError("not logged in: send Authorization: Bearer <token>", status=401)
    return credentials.credentials


BearerToken = Annotated[str, Depends(bearer_token)]


def current_user(request: Request, token: BearerToken) -> User:
    """Return the user whose token the request carries.

    Raises
    ------
    AuthError
        (401) If the token is missing, unknown or expired.
    """
    with session_scope(_engine(request)) as session:
        user = user_for_token(session, token)
    if user.must_change_password and request.url.path != PASSWORD_ROUTE:
        raise AuthError(f"change your one-time password first: POST {PASSWORD_ROUTE}", status=403)
    return user


CurrentUser = Annotated[User, Depends(current_user)]
"""The logged-in user (looked up once per request)."""


class RoleGuard:
    """A dependency that lets a request through only for users holding one of ``roles``.

    Parameters
    ----------
    roles : tuple of str
        Roles from :data:`plumetrace.security.ROLES`.
    """

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    async def __call__(self, request: Request, user: CurrentUser) -> User:
        """Return the current user if their role is allowed (on the event loop: no thread).

        The user is noted on the request: it decides what the request's session may see.

        Raises
        ------
        AuthError
            (401) Not logged in; (403) the role is not allowed here.
        """
        if user.role not in self.roles:
            raise AuthError(f"the {user.role} role may not use this route", status=403)
        request.state.user = user
        return user

    def __repr__(self) -> str:
        return f"RoleGuard({', '.join(self.roles)})"


class PublicGuard:
    """The explicit rule of a route open to everyone (no token needed)."""

    roles = (PUBLIC,)

    async def __call__(self) -> None:
        """Let every request through."""

    def __repr__(self) -> str:
        return "PublicGuard()"


def require(*roles: str) -> RoleGuard | PublicGuard:
    """Return a dependency admitting only users with one of ``roles``.

    Parameters
    ----------
    *roles : str
        Roles from :data:`plumetrace.security.ROLES`, or just ``"public"``.

    Raises
    ------
    ConfigurationError
        No role, an unknown role, or ``"public"`` mixed with roles (a programming error,
        raised when the routes are defined).
    """
    if not roles:
        raise ConfigurationError("a route must allow at least one role (or 'public')")
    unknown = [r for r in roles if r not in (*ROLES, PUBLIC)]
    if unknown:
        raise ConfigurationError(f"unknown role(s) {unknown}; roles are {', '.join(ROLES)}")
    if PUBLIC in roles and len(roles) > 1:
        raise ConfigurationError("a public route allows everyone: do not list roles with it")
    if roles == (PUBLIC,):
        return PublicGuard()
    return RoleGuard(tuple(roles))


class RouteRules(TypedDict):
    """Keyword arguments of a route decorator that carry its access rule."""

    dependencies: list[params.Depends]
    openapi_extra: dict[str, Any]


def allow(*roles: str) -> RouteRules:
    """Return route-decorator arguments enforcing and recording the allowed roles.

    Use as ``@router.get("/api/x", **allow("analyst", "supervisor"))``: the guard runs
    before any other dependency, and the roles appear as ``x-roles`` in OpenAPI.
    """
    guard = require(*roles)
    return {"dependencies": [Depends(guard)], "openapi_extra": {"x-roles": list(guard.roles)}}


def _plain(obj: Any) -> Any:
    """Return ``obj`` as :func:`~plumetrace.io.tables.to_jsonable` does, faster.

    A fast path for the exact types the store returns (rows of str, int, float, bool,
    None, aware datetimes, dicts with str keys and lists): every response goes through
    here. Anything else is left to ``to_jsonable``.
    """
    t = type(obj)
    if obj is None or t is str or t is int or t is bool:
        return obj
    if t is float:
        return obj if math.isfinite(obj) else None
    if t is dict:
        if all(type(k) is str for k in obj):
            return {k: _plain(v) for k, v in obj.items()}
    elif t is list or t is tuple:
        return [_plain(v) for v in obj]
    elif t is datetime and obj.tzinfo is not None:
        return obj.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return to_jsonable(obj)


def present(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``obj`` as plain JSON types (times ISO 8601 UTC with ``Z``; NaN as null)."""
    return cast(dict[str, Any], _plain(obj))


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Return ``west,south,east,north`` (degrees) of a query parameter, None if absent.

    Raises
    ------
    InvalidParameterError
        (422) Not four numbers, or not west <= east, south <= north within range.
    """
    if text is None:
        return None
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidParameterError(
            f"bbox must be west,south,east,north in degrees, got {text!r}"
        ) from None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise InvalidParameterError(f"bbox {text!r} is not west<=east, south<=north in range")
    return w, s, e, n
