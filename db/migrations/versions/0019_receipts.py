"""receipts: the original print of each ticket (any later print is a recorded duplicate);
the till's printer came with 0017

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pos_receipt_print",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"],
                                name=op.f("fk_pos_receipt_print_company_id_company")),
        sa.ForeignKeyConstraint(["ticket_id"], ["pos_ticket.id"],
                                name=op.f("fk_pos_receipt_print_ticket_id_pos_ticket")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_pos_receipt_print_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_receipt_print")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_pos_receipt_print_ticket_id")),
    )
    with op.batch_alter_table("pos_receipt_print", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_receipt_print_company_id"), ["company_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_pos_receipt_print_staff_id"), ["staff_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pos_receipt_print", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_receipt_print_staff_id"))
        batch_op.drop_index(batch_op.f("ix_pos_receipt_print_company_id"))
    op.drop_table("pos_receipt_print")
