"""back office: the audit log, sites' address, hours, archive and onboarding marks, the
company's launch date

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"  # chained after 0010 (sessions) when both are merged
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("actor_staff_id", ID, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"],
                                name=op.f("fk_audit_entry_company_id_company"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_staff_id"], ["staff.id"],
                                name=op.f("fk_audit_entry_actor_staff_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index(op.f("ix_audit_entry_company_id"), "audit_entry", ["company_id"])
    op.create_index(op.f("ix_audit_entry_actor_staff_id"), "audit_entry", ["actor_staff_id"])
    op.create_index(op.f("ix_audit_entry_at"), "audit_entry", ["at"])
    op.create_index(op.f("ix_audit_entry_action"), "audit_entry", ["action"])
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("opening_hours", sa.Text(), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("mode_chosen_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("qr_printed_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(sa.Column("launch_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("launch_on")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("qr_printed_at")
        batch_op.drop_column("mode_chosen_at")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("address")
    op.drop_index(op.f("ix_audit_entry_action"), table_name="audit_entry")
    op.drop_index(op.f("ix_audit_entry_at"), table_name="audit_entry")
    op.drop_index(op.f("ix_audit_entry_actor_staff_id"), table_name="audit_entry")
    op.drop_index(op.f("ix_audit_entry_company_id"), table_name="audit_entry")
    op.drop_table("audit_entry")
