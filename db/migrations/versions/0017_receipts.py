"""receipts: a till's network receipt printer, and the original print of each ticket (any
later print is a recorded duplicate)

Revision ID: 0017_receipts
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_receipts"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.add_column(sa.Column("printer", sa.String(length=255), nullable=True))
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
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.drop_column("printer")
