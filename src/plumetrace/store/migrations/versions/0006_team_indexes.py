"""Team database: detections indexed by position, the queue's size counted in an index.

The map selects detections by bounding box (``ix_detections_lat_lon``: the box's
latitude band is one range of the index, longitude is checked inside it), and the
review queue's index (priority, recency, id) becomes partial: it holds only the sites
waiting for review, so a queue page reads only those and the queue's size is counted
in the index. Neither query scans its table on a team-sized PostgreSQL (1 M
detections, 50 k sites).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 05:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_IN_QUEUE = "status IN ('candidate', 'needs-collection')"


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.create_index("ix_detections_lat_lon", ["lat", "lon"], unique=False)

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("ix_sites_queue")
        batch_op.create_index(
            "ix_sites_queue",
            ["priority", "last_seen", "id"],
            unique=False,
            postgresql_where=sa.text(_IN_QUEUE),
            sqlite_where=sa.text(_IN_QUEUE),
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("ix_sites_queue")
        batch_op.create_index("ix_sites_queue", ["priority", "last_seen", "id"], unique=False)

    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.drop_index("ix_detections_lat_lon")
