"""Users, roles and bearer tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.orm import Session, make_transient_to_detached

from plumetrace.errors import AuthError, ConflictError, InvalidParameterError, NotFoundError
from plumetrace.security import (
    ROLES,
    hash_password,
    new_password,
    new_token,
    token_digest,
    verify_password,
)
from plumetrace.store.audit_log import append_event
from plumetrace.store.models import Partner, Token, User
from plumetrace.store.types import utcnow

__all__ = [
    "add_user",
    "authenticate",
    "change_password",
    "find_user",
    "issue_token",
    "list_users",
    "revoke_token",
    "revoke_tokens",
    "set_active",
    "user_for_token",
]


@cache
def _dummy_hash() -> str:
    """Return a hash to verify against for unknown names (made once, when first needed)."""
    return hash_password(new_password())


def add_user(
    session: Session, name: str, role: str, *, actor: str, partner_id: str | None = None
) -> tuple[User, str]:
    """Create a user with a one-time password; return the user and the password.

    A ``partner`` user belongs to exactly one partner (``partner_id``), and only partner
    users belong to one.

    Raises
    ------
    InvalidParameterError
        Unknown role, unusable name, or a partner user without a partner (or another role
        with one).
    NotFoundError
        Unknown partner.
    ConflictError
        If the name is taken.
    """
    if role not in ROLES:
        raise InvalidParameterError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if (role == "partner") != (partner_id is not None):
        raise InvalidParameterError(
            "a partner user needs --partner (the partner it belongs to)"
            if role == "partner"
            else f"only partner users belong to a partner, not a {role}"
        )
    if partner_id is not None and session.get(Partner, partner_id) is None:
        raise NotFoundError(f"no partner {partner_id!r}")
    name = name.strip()
    if not name or len(name) > 120 or any(c.isspace() for c in name):
        raise InvalidParameterError(f"user name must be 1-120 characters without spaces: {name!r}")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise ConflictError(f"user {name!r} already exists")
    password = new_password()
    uid = "user-" + hashlib.sha256(name.encode()).hexdigest()[:10]
    user = User(
        id=uid, name=name, role=role, password_hash=hash_password(password), partner_id=partner_id
    )
    session.add(user)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="user.add",
        entity="user",
        entity_id=uid,
        after={"name": name, "role": role, "partner": partner_id},
    )
    return user, password


def authenticate(session: Session, name: str, password: str) -> User:
    """Return the active user with this name and password.

    Raises
    ------
    AuthError
        (401) on any mismatch; the message does not say which part was wrong.
    """
    user = session.scalars(select(User).where(User.name == name)).first()
    # an unknown name costs one hash verification too, so timing does not tell names apart
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active or not ok:
        raise AuthError("wrong user name or password", status=401)
    return user


def issue_token(session: Session, user: User, ttl: timedelta) -> tuple[str, datetime]:
    """Return a new bearer token for ``user`` and its expiry time."""
    token = new_token()
    expires = utcnow() + ttl
    session.add(Token(token_hash=token_digest(token), user_id=user.id, expires=expires))
    session.execute(delete(Token).where(Token.user_id == user.id, Token.expires < utcnow()))
    session.flush()
    return token, expires


_USERS, _TOKENS = User.__table__, Token.__table__
_USER_KEYS = tuple(c.key for c in _USERS.c)


def token_user_query(*also: Any) -> Select[Any]:
    """Return the statement finding a token's user (and ``also`` these columns).

    Parameters ``digest`` (:func:`~plumetrace.security.token_digest`) and ``now``. One
    round trip: the token, its expiry and its user together.
    """
    return (
        select(_USERS, *also)
        .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
        .where(_TOKENS.c.token_hash == bindparam("digest"), _TOKENS.c.expires > bindparam("now"))
        .where(_USERS.c.active)
    )


_BY_TOKEN = token_user_query()


def lookup_token(session: Session, token: str, query: Select[Any]) -> tuple[User, Any]:
    """Run a :func:`token_user_query`; return the user (in ``session``) and the row.

    Every API request asks this first, so it reads with a Core statement (an ORM query
    costs ~1 ms more of CPU) and places the user in the session as if the ORM had
    loaded it.

    Raises
    ------
    AuthError
        (401) if the token is unknown, expired or its user inactive.
    """
    params = {"digest": token_digest(token), "now": utcnow()}
    row = session.connection().execute(query, params).mappings().first()
    if row is None:
        raise AuthError("invalid or expired token: log in again", status=401)
    user = User(**{k: row[k] for k in _USER_KEYS})
    make_transient_to_detached(user)  # a clean, loaded row with its identity
    return session.merge(user, load=False), row


def user_for_token(session: Session, token: str) -> User:
    """Return the user a valid, unexpired token belongs to (in ``session``).

    Raises
    ------
    AuthError
        (401) if the token is unknown, expired or its user inactive.
    """
    return lookup_token(session, token, _BY_TOKEN)[0]


def revoke_token(session: Session, token: str) -> None:
    """Forget a token (logout)."""
    session.execute(delete(Token).where(Token.token_hash == token_digest(token)))


def revoke_tokens(session: Session, user: User, *, actor: str) -> int:
    """Revoke every token of ``user`` (logged out everywhere); return how many."""
    held = select(func.count()).select_from(Token).where(Token.user_id == user.id)
    n = int(session.scalar(held) or 0)
    session.execute(delete(Token).where(Token.user_id == user.id))
    append_event(
        session,
        actor=actor,
        action="user.revoke_tokens",
        entity="user",
        entity_id=user.id,
        after={"tokens": n},
    )
    return n


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    """Activate or deactivate ``user``; deactivating also revokes their tokens.

    Raises
    ------
    ConflictError
        Deactivating the last active admin (nobody could administer the users).
    """
    if user.active == active:
        return
    if not active and user.role == "admin":
        admins = session.scalars(
            select(User.id).where(User.role == "admin", User.active.is_(True))
        ).all()
        if list(admins) == [user.id]:
            raise ConflictError(f"{user.name} is the last active admin: add another first")
    before = {"active": user.active}
    user.active = active
    if not active:
        session.execute(delete(Token).where(Token.user_id == user.id))
    session.flush()
    append_event(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        entity="user",
        entity_id=user.id,
        before=before,
        after={"active": active},
    )


def find_user(session: Session, name_or_id: str) -> User:
    """Return the user with this id (``user-…``) or name.

    Raises
    ------
    NotFoundError
        If there is no such user.
    """
    user = session.get(User, name_or_id)
    if user is None:
        user = session.scalars(select(User).where(User.name == name_or_id)).first()
    if user is None:
        raise NotFoundError(f"no user {name_or_id!r}")
    return user


def list_users(session: Session) -> list[dict[str, Any]]:
    """Return every user (id, name, role, active, created), by name; never a password hash."""
    stmt = select(
        User.id, User.name, User.role, User.partner_id, User.active, User.created
    ).order_by(User.name)
    return [dict(r._mapping) for r in session.execute(stmt)]


MIN_PASSWORD = 12
"""Shortest password a user may choose."""


def change_password(session: Session, user: User, old: str, new: str) -> None:
    """Replace a user's password (the one-time one included) after checking the old one.

    Every token of the user is revoked: they log in again with the new password.

    Raises
    ------
    AuthError
        (401) The old password is wrong.
    InvalidParameterError
        The new password is shorter than :data:`MIN_PASSWORD` or equals the old one.
    """
    if not verify_password(user.password_hash, old):
        raise AuthError("wrong password", status=401)
    if len(new) < MIN_PASSWORD:
        raise InvalidParameterError(f"a password needs at least {MIN_PASSWORD} characters")
    if new == old:
        raise InvalidParameterError("the new password must differ from the old one")
    row = session.get(User, user.id)
    assert row is not None
    row.password_hash = hash_password(new)
    row.must_change_password = False
    session.execute(delete(Token).where(Token.user_id == user.id))
    session.flush()
    append_event(
        session,
        actor=user.name,
        action="user.password",
        entity="user",
        entity_id=user.id,
        after={"must_change_password": False},
    )
