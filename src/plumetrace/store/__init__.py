"""The store: SQLAlchemy models, repository functions and Alembic migrations.

The only package that speaks SQL. Callers pass an engine made from a URL
(:func:`make_engine`) and work in :func:`session_scope` units of work.
"""

from plumetrace.store.engine import make_engine, session_scope
from plumetrace.store.migrate import ensure_current, head_revision, upgrade

__all__ = ["ensure_current", "head_revision", "make_engine", "session_scope", "upgrade"]
