"""Alembic environment: runs on the connection plumetrace hands it (see store.migrate)."""

from __future__ import annotations

from alembic import context

from plumetrace.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - plumetrace always passes one
    raise RuntimeError("run migrations through plumetrace.store.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
