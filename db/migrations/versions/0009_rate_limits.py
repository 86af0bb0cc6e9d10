"""counters of tries (web/ratelimit.py) in place of the table of wrong PINs

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_rate_limit")),
    )
    op.create_index(op.f("ix_rate_limit_expires_at"), "rate_limit", ["expires_at"])
    # Wrong PINs are counted there now; the failures of the last ten minutes are not carried
    # over (a table or phone blocked at the upgrade starts afresh).
    with op.batch_alter_table("pin_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pin_failure_table_id"))
        batch_op.drop_index(batch_op.f("ix_pin_failure_client_key"))
        batch_op.drop_index(batch_op.f("ix_pin_failure_at"))
    op.drop_table("pin_failure")


def downgrade() -> None:
    op.create_table(
        "pin_failure",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("table_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["table_id"], ["dining_table.id"],
                                name=op.f("fk_pin_failure_table_id_dining_table"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_failure")),
    )
    with op.batch_alter_table("pin_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pin_failure_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pin_failure_client_key"), ["client_key"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_pin_failure_table_id"), ["table_id"], unique=False)
    op.drop_index(op.f("ix_rate_limit_expires_at"), table_name="rate_limit")
    op.drop_table("rate_limit")
