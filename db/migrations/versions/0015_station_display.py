"""station displays: when a ticket reached its station (its waiting time), and each site's
two thresholds in minutes after which a waiting ticket turns amber, then red

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_amber_min", sa.Integer(), nullable=False,
                                      server_default="10"))
        batch_op.add_column(sa.Column("ticket_red_min", sa.Integer(), nullable=False,
                                      server_default="20"))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reached_at", sa.DateTime(timezone=True), nullable=True))
    # A ticket made before this knows only its last move: the best guess of its arrival.
    op.execute("UPDATE ticket SET reached_at = updated_at")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.alter_column("reached_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.create_index("ix_ticket_site_id_station_reached_at",
                              ["site_id", "station", "reached_at"])


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_site_id_station_reached_at")
        batch_op.drop_column("reached_at")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("ticket_red_min")
        batch_op.drop_column("ticket_amber_min")
