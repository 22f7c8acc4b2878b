"""The one configuration object: ``PLUMETRACE_`` environment variables.

Read only by ``cli`` and ``api`` and passed down as plain arguments (the store, the
pipeline and the kernels never read the environment).

``PLUMETRACE_HOME``
    Where the embedded database, evidence files and context layers live; the user data
    directory (``platformdirs``) by default.
``PLUMETRACE_DATABASE_URL``
    A SQLAlchemy URL; ``sqlite:///$PLUMETRACE_HOME/plumetrace.db`` by default, e.g.
    ``postgresql+psycopg://user@127.0.0.1:5432/plumetrace`` for a team.
``PLUMETRACE_TOKEN_TTL_H``
    Lifetime of an API bearer token in hours (12 by default).
``PLUMETRACE_DB_POOL_SIZE``, ``PLUMETRACE_DB_MAX_OVERFLOW``, ``PLUMETRACE_DB_POOL_TIMEOUT_S``
    PostgreSQL connections each API worker keeps open (10), may open beyond them under a
    burst (10), and how long a request waits for one (30 s). A server with ``W``
    workers holds up to ``W × (pool + overflow)`` connections (``docs/deployment.md``).
``PLUMETRACE_API_THREADS``
    Routes each API worker runs at once (20).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("plumetrace", appauthor=False))


class Settings(BaseSettings):
    """plumetrace settings from ``PLUMETRACE_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PLUMETRACE_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = None
    token_ttl_h: float = Field(default=12.0, gt=0)
    basemap_url: str | None = None
    """An XYZ tile URL template for the workbench map (connected deployments); none by
    default: the map works offline on its own layers."""
    producer: str = Field(default="plumetrace surveillance program", min_length=1, max_length=200)
    """Our name as partners see it (the STIX identity that creates every shared object)."""
    login_window_min: float = Field(default=15.0, gt=0, le=24 * 60)
    """Failed logins count against the limits below for this many minutes."""
    login_failures_per_user_client: int = Field(default=5, ge=1)
    """Failed logins for one user name from one client address before it must wait."""
    login_failures_per_client: int = Field(default=20, ge=1)
    """Failed logins from one client address (any names) before it must wait."""
    login_failures_per_user: int = Field(default=50, ge=1)
    """Failed logins for one user name (any clients) before it must wait: caps a guessing
    attack spread over many addresses without letting one address lock a user out."""
    retention_unconfirmed_days: float | None = Field(default=365.0, ge=0)
    """``plumetrace purge``: unconfirmed sites (candidate, rejected; in no lead, not
    attributed, no open collection request) last seen longer ago go, with their evidence.
    Unset (empty) keeps them."""
    retention_tracks_days: float | None = Field(default=180.0, ge=0)
    """``plumetrace purge``: flown track lines older than this go (incursions stay)."""
    retention_attachments_days: float | None = Field(default=365.0, ge=0)
    """``plumetrace purge``: attachments of unconfirmed sites older than this go."""
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    """PostgreSQL connections each process (API worker) keeps open."""
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    """PostgreSQL connections each process may open beyond the pool under a burst."""
    db_pool_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    """Seconds a request waits for a free PostgreSQL connection before failing."""
    api_threads: int = Field(default=8, ge=1, le=1000)
    """Threads each API worker runs its (synchronous) routes on; requests beyond them
    wait their turn. A request is mostly Python holding the interpreter lock: under the
    load test 8 threads per worker served 1.2x the requests of 20 with half the p99
    (``benchmarks/RESULTS.md``). Keep it at most ``db_pool_size``."""
    verify_audit_on_start: bool = True
    """Recompute the audit log's hash chain when the API starts (logged; also at
    GET /api/audit/verify and by ``plumetrace audit-log verify``)."""

    @property
    def url(self) -> str:
        """Return the database URL: the configured one, else SQLite under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'plumetrace.db'}"

    @property
    def evidence_dir(self) -> Path:
        """Return the directory of content-addressed evidence files."""
        return self.home / "evidence"

    @property
    def context_dir(self) -> Path:
        """Return the directory of loaded context layers (population rasters)."""
        return self.home / "context"
