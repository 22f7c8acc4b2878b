"""Request dependencies: settings, sessions, the current user and role rules.

Every route declares who may call it with :func:`allow`, which both enforces the rule
(a :class:`RoleGuard` dependency that runs before anything else and refuses a request
without a token; the token and the role are checked first thing in the route's unit of
work) and records it in the route's OpenAPI operation as ``x-roles``, so the rules are
machine readable and a test can check that no route lacks one. ``allow(PUBLIC)`` marks
the few routes that need no token (login).

A request is one unit of work (:class:`SessionRoute`): one trip to the thread pool, one
session and one connection for the token's lookup, the role check and the route. A
request that is both unauthorized and invalid is answered as unauthorized
(:func:`admit_first`).
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict, cast

import pydantic_core
from fastapi import Depends, Request, Response, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.utils import is_body_allowed_for_status_code
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from plumetrace.errors import AuthError, ConfigurationError, InvalidParameterError
from plumetrace.io.tables import to_jsonable
from plumetrace.security import ROLES
from plumetrace.settings import Settings
from plumetrace.store.compartments import view_as, viewer_for_token
from plumetrace.store.engine import session_scope
from plumetrace.store.models import User

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
    "admit_first",
    "allow",
    "app_engine",
    "app_settings",
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


_REQUEST = "plumetrace_request"
"""The name under which a route's endpoint receives its request (reserved)."""
_TOKEN = "plumetrace_token"


class _Slot:
    """What a route's session or user parameter receives until its endpoint runs."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}: resolved when the endpoint runs>"


_READ_SLOT = _Slot("read session")
_WRITE_SLOT = _Slot("write session")
_USER_SLOT = _Slot("user")


async def _read_session() -> _Slot:
    return _READ_SLOT


async def _write_session() -> _Slot:
    return _WRITE_SLOT


async def _current_user() -> _Slot:
    return _USER_SLOT


ReadSession = Annotated[Session, Depends(_read_session)]
"""A read-only session (on PostgreSQL without a transaction round trip)."""
WriteSession = Annotated[Session, Depends(_write_session)]
"""A session that writes (SQLite: takes the write lock up front), committed before the
response is sent, so errors reach the client."""
CurrentUser = Annotated[User, Depends(_current_user)]
"""The logged-in user, looked up in the route's own session."""


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


class RoleGuard:
    """The rule of a route open to users holding one of ``roles``.

    As a dependency it runs first, on the event loop, and refuses a request without a
    token (401) before anything else; the token is checked, and the user's role, in the
    route's own unit of work (:class:`SessionRoute`), so that a request costs one trip
    to the thread pool and one database connection.

    Parameters
    ----------
    roles : tuple of str
        Roles from :data:`plumetrace.security.ROLES`.
    """

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    async def __call__(self, request: Request, token: BearerToken) -> None:
        """Note the request's token for the route's unit of work.

        Raises
        ------
        AuthError
            (401) Not logged in.
        """
        setattr(request.state, _TOKEN, token)

    def admit(self, session: Session, request: Request) -> User:
        """Return the request's user if their token is valid and their role allowed.

        Raises
        ------
        AuthError
            (401) The token is unknown or expired, or its user inactive; (403) the
            user must change a one-time password first (but for that very route), or
            the role is not allowed here.
        """
        user = viewer_for_token(session, getattr(request.state, _TOKEN))
        if user.must_change_password and request.url.path != PASSWORD_ROUTE:
            raise AuthError(
                f"change your one-time password first: POST {PASSWORD_ROUTE}", status=403
            )
        if user.role not in self.roles:
            raise AuthError(f"the {user.role} role may not use this route", status=403)
        request.state.user = user  # it decides what the session may see
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


def _guard_of(dependencies: Sequence[params.Depends] | None) -> RoleGuard | PublicGuard | None:
    found = [
        d.dependency
        for d in dependencies or ()
        if isinstance(d.dependency, RoleGuard | PublicGuard)
    ]
    return found[0] if len(found) == 1 else None


def _authenticate(guard: RoleGuard, request: Request) -> User:
    """Check the request's token and role in a short read-only unit of its own."""
    with session_scope(_engine(request), read_only=True) as session:
        return guard.admit(session, request)


def _unit_of_work(
    endpoint: Callable[..., Any],
    guard: RoleGuard | PublicGuard,
    *,
    status_code: int | None = None,
    encode: bool = True,
) -> Callable[..., Any]:
    """Wrap a sync endpoint so that it runs as one unit of work on its own thread.

    On the event loop a session or user parameter (:data:`ReadSession`,
    :data:`WriteSession`, :data:`CurrentUser`) resolves to a marker. The endpoint's
    thread opens one session, checks the token and the role (:meth:`RoleGuard.admit`),
    runs the endpoint and commits before returning: one hop to the thread pool and one
    connection per request (a thread hop costs ~0.5 ms of CPU here, a round trip to the
    database ~0.3 ms). Were the transaction still open after the endpoint returned, its
    connection (and its locks: the audit chain's, a site's row) would be held while
    waiting for a thread, and threads can all be busy waiting for exactly that
    connection or lock: under load, a deadlock until the pool's timeout. On an error
    nothing is committed: the session rolls back.

    A route without a write session runs read-only
    (:func:`~plumetrace.store.engine.session_scope`): on PostgreSQL without ``BEGIN``
    and ``COMMIT`` round trips, and a write through it is a programming error.

    A dict or list the endpoint returns is encoded to JSON here too (``encode``), as
    FastAPI would encode it (pydantic's JSON serializer, ``status_code`` or 200): FastAPI
    would otherwise check it against the route's ``dict[str, Any]`` annotation on a
    second trip to the thread pool, a check that cannot fail for a dict.
    """
    signature = inspect.signature(endpoint, eval_str=True)
    params = list(signature.parameters.values())
    if _REQUEST in signature.parameters:
        raise ConfigurationError(f"{endpoint.__qualname__}: {_REQUEST} is a reserved name")
    # FastAPI hands the request to one parameter only: the endpoint's own, if it has one
    own = next((p.name for p in params if p.annotation is Request), None)
    admit = guard.admit if isinstance(guard, RoleGuard) else None

    @functools.wraps(endpoint)
    def call(*args: Any, **kwargs: Any) -> Any:
        encoding = _ENCODING_HERE.set(encode)  # present() leaves its work to _encoded
        try:
            return _call(*args, **kwargs)
        finally:
            _ENCODING_HERE.reset(encoding)

    def _call(*args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs[own] if own else kwargs.pop(_REQUEST)
        slots = [k for k, v in kwargs.items() if isinstance(v, _Slot)]
        users = [k for k in slots if kwargs[k] is _USER_SLOT]
        if users and admit is None:
            raise ConfigurationError(f"{request.url.path}: a public route has no user")
        sessions = [k for k in slots if kwargs[k] is not _USER_SLOT]
        if not sessions:  # the route runs its own units of work (or none): check, let go
            if isinstance(guard, RoleGuard):
                kwargs.update(dict.fromkeys(users, _authenticate(guard, request)))
            result = endpoint(*args, **kwargs)
            return _encoded(result, status_code) if encode else result
        write = any(kwargs[k] is _WRITE_SLOT for k in sessions)
        with session_scope(_engine(request), write=write, read_only=not write) as session:
            if admit is not None:
                kwargs.update(dict.fromkeys(users, admit(session, request)))
            view_as(session, _viewer(request))
            kwargs.update(dict.fromkeys(sessions, session))
            result = endpoint(*args, **kwargs)
            session.commit()  # on this thread, before the response waits for another
        return _encoded(result, status_code) if encode else result

    if own is None:
        request_param = inspect.Parameter(
            _REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request
        )
        at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
        params[at:at] = [request_param]
    call.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return call


def _plain_json(annotation: Any) -> bool:
    """Whether a return annotation says plain JSON (dict, list, None; or a Response)."""
    if annotation is None or annotation is type(None):
        return True
    if isinstance(annotation, type) and issubclass(annotation, Response):
        return True
    origin = typing.get_origin(annotation)
    if origin in (dict, list) or annotation in (dict, list):
        return True
    if origin in (typing.Union, types.UnionType):
        return all(_plain_json(a) for a in typing.get_args(annotation))
    return False


_ENCODING_HERE: ContextVar[bool] = ContextVar("plumetrace_encoding_here", default=False)
"""True inside a unit of work whose result :func:`_encoded` turns into JSON."""

_OFFSET_TIME = re.compile(rb'T\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d"')
"""A time pydantic wrote with a zone offset (the store's UTC times are written ``Z``)."""


def _encoded(result: Any, status_code: int | None) -> Any:
    """Return a dict or list as a JSON response; anything else as it is.

    The JSON is what :func:`present` and pydantic's serializer together would give
    (times ISO 8601 UTC with ``Z``, NaN and infinities as null, NumPy values and paths
    through :func:`~plumetrace.io.tables.to_jsonable`), written by pydantic in one pass;
    a time with another zone (never one from the store) takes the exact slow path. A
    route whose status has no body (204) answers without one, as FastAPI does.
    """
    if result is not None and type(result) is not dict and type(result) is not list:
        return result
    if status_code is not None and not is_body_allowed_for_status_code(status_code):
        return Response(status_code=status_code)
    if result is None:
        return None  # FastAPI's own answer (null)
    content = pydantic_core.to_json(result, inf_nan_mode="null", fallback=to_jsonable)
    if _OFFSET_TIME.search(content):
        content = pydantic_core.to_json(_plain(result))
    return Response(content=content, status_code=status_code or 200, media_type="application/json")


async def admit_first(request: Request) -> None:
    """Refuse a request its guard would refuse, before saying its input is invalid.

    The token is checked in the route's unit of work, after FastAPI validated the
    input: a request that is both unauthorized and invalid is answered as unauthorized
    (401 or 403, as it would be with valid input), not with a 422 that would describe
    the route to someone who may not use it. Called by the validation-error handler.

    Raises
    ------
    AuthError
        The token is invalid or the role not allowed on this route.
    """
    route = request.scope.get("route")
    guard = _guard_of(getattr(route, "dependencies", None))
    if isinstance(guard, RoleGuard) and hasattr(request.state, _TOKEN):
        await run_in_threadpool(_authenticate, guard, request)


class SessionRoute(APIRoute):
    """A route that runs as one unit of work: every router's route class.

    Raises
    ------
    ConfigurationError
        The route has no single role guard (:func:`allow`), or an async endpoint (the
        unit of work runs on the thread pool).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        guard = _guard_of(kwargs.get("dependencies"))
        if guard is None:
            raise ConfigurationError(f"{path}: a route needs exactly one rule: **allow(...)")
        if inspect.iscoroutinefunction(endpoint):
            raise ConfigurationError(f"{path}: endpoints are sync: they run on the thread pool")
        # A route with its own response class or response model (which may leave fields
        # out), one whose annotation is a model, or one that sets headers on a Response
        # parameter keeps FastAPI's own response building.
        signature = inspect.signature(endpoint, eval_str=True)
        own_response = any(p.annotation is Response for p in signature.parameters.values())

        def default(name: str) -> bool:
            value = kwargs.get(name)
            return value is None or isinstance(value, DefaultPlaceholder)

        encode = (
            default("response_class")
            and default("response_model")
            and _plain_json(signature.return_annotation)
            and not own_response
        )
        wrapped = _unit_of_work(
            endpoint, guard, status_code=kwargs.get("status_code"), encode=encode
        )
        super().__init__(path, wrapped, **kwargs)


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
    """Return ``obj`` as plain JSON types (times ISO 8601 UTC with ``Z``; NaN as null).

    In a unit of work that encodes its result (:func:`_encoded`, which applies the same
    rules in pydantic's serializer, 4-6 times faster than this walk) a dict is
    returned as it is (another mapping, which :func:`_encoded` would not take, is
    converted here).
    """
    if type(obj) is dict and _ENCODING_HERE.get():
        return obj
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
