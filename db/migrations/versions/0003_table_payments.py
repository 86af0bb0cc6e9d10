"""table payments: provider payments for a table's round or bill

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING_AT_TABLE = "status = 'pending' AND table_session_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("table_session_id", ID, nullable=True))
        batch_op.add_column(sa.Column("round_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_provider_payment_table_session_id_table_session"),
            "table_session", ["table_session_id"], ["id"], ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_provider_payment_round_id_round"),
            "round", ["round_id"], ["id"], ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_provider_payment_table_session_id"), ["table_session_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_provider_payment_round_id"), ["round_id"], unique=False)
    # At most one payment in progress per table session, whoever starts it.
    op.create_index(
        "uq_provider_payment_table_pending",
        "provider_payment",
        ["table_session_id"],
        unique=True,
        sqlite_where=sa.text(PENDING_AT_TABLE),
        postgresql_where=sa.text(PENDING_AT_TABLE),
    )


def downgrade() -> None:
    op.drop_index("uq_provider_payment_table_pending", table_name="provider_payment")
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_payment_round_id"))
        batch_op.drop_index(batch_op.f("ix_provider_payment_table_session_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_provider_payment_round_id_round"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_provider_payment_table_session_id_table_session"), type_="foreignkey"
        )
        batch_op.drop_column("round_id")
        batch_op.drop_column("table_session_id")
