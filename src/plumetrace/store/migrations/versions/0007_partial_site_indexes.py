"""Sites: the assignee and compartment indexes hold only the sites that have one.

Most sites have neither an assignee nor a compartment. A fusion batch rewrites the
thousands of sites it moves; on PostgreSQL each rewritten row used to add an entry to
every index of the table, these two included, for a NULL no query looks up. Partial
indexes (``... IS NOT NULL``) skip those rows; ``assignee_id = x`` and ``compartment IS
NOT NULL`` imply the predicate, so the queries that used the indexes still do.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PARTIAL = {
    "ix_sites_assignee_id": ("assignee_id", "assignee_id IS NOT NULL"),
    "ix_sites_compartment": ("compartment", "compartment IS NOT NULL"),
}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("sites", schema=None) as batch_op:
        for name, (column, where) in _PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(
                name,
                [column],
                unique=False,
                postgresql_where=sa.text(where),
                sqlite_where=sa.text(where),
            )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("sites", schema=None) as batch_op:
        for name, (column, _where) in _PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False)
