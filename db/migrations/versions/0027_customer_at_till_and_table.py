"""the customer identified at a till (on its ticket) and linked to a table's session, so
that their visit earns loyalty points

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch: recreating the table would drop its append-only triggers),
    # and no foreign key: a record is never updated, so a customer's deletion could not
    # clear it; the ticket keeps the number as data.
    op.add_column("pos_ticket", sa.Column("customer_id", ID, nullable=True))
    op.add_column("pos_ticket", sa.Column("reward_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_pos_ticket_reward_key"), "pos_ticket", ["reward_key"])
    with op.batch_alter_table("table_session") as batch_op:
        batch_op.add_column(sa.Column("customer_id", ID, nullable=True))
        batch_op.create_index(batch_op.f("ix_table_session_customer_id"), ["customer_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_table_session_customer_id_consumer"), "consumer", ["customer_id"],
            ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("table_session") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_table_session_customer_id_consumer"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_table_session_customer_id"))
        batch_op.drop_column("customer_id")
    op.drop_index(op.f("ix_pos_ticket_reward_key"), table_name="pos_ticket")
    op.drop_column("pos_ticket", "reward_key")
    op.drop_column("pos_ticket", "customer_id")
