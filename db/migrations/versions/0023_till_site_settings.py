"""each site's till settings from the back office: after how many hours offline a till
warns (its discount limit came with 0017); a flagged sync issue dealt with, by whom, how

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_warn_hours", sa.Integer(), nullable=False,
                                      server_default="24"))
    with op.batch_alter_table("pos_sync_issue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dealt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dealt_by_id", ID, nullable=True))
        batch_op.add_column(sa.Column("dealt_note", sa.String(length=200), nullable=False,
                                      server_default=""))
        batch_op.create_foreign_key("fk_pos_sync_issue_dealt_by_id_staff", "staff",
                                    ["dealt_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("pos_sync_issue", schema=None) as batch_op:
        batch_op.drop_constraint("fk_pos_sync_issue_dealt_by_id_staff", type_="foreignkey")
        for column in ("dealt_note", "dealt_by_id", "dealt_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("offline_warn_hours")
