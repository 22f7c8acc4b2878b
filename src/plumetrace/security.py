"""Passwords and tokens: Argon2id hashing, one-time passwords, bearer tokens.

Argon2id (RFC 9106) through ``argon2-cffi`` with its default parameters, which follow the
RFC's recommendations; tokens are 256-bit random strings of which only the SHA-256 is
stored.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ROLES",
    "hash_password",
    "new_password",
    "new_token",
    "token_digest",
    "verify_password",
]

ROLES = ("analyst", "supervisor", "liaison", "partner", "admin")
"""Every role a user may hold."""

_HASHER = PasswordHasher()


def new_password() -> str:
    """Return a random one-time password (20 URL-safe characters, ~120 bits)."""
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    """Return the Argon2id hash (PHC string) of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Return True if ``password`` matches ``stored_hash`` (constant-time)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """Return a fresh bearer token (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Return the SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
