"""back office: sites' address, hours, archive and the mark of a chosen ordering mode, the
company's planned launch date

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("opening_hours", sa.Text(), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("mode_chosen_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(sa.Column("launch_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("launch_on")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("mode_chosen_at")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("address")
