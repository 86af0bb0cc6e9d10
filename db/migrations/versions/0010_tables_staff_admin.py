"""tables and staff from the back office: rooms, archives, QR printing, PINs, sites, invitations,
the audit log

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("dining_table", schema=None) as batch_op:
        batch_op.add_column(sa.Column("room", sa.String(length=60), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qr_printed_at", sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pin_hash", sa.String(length=200), nullable=True))
        # Staff who were there before keep every site of their company.
        batch_op.add_column(sa.Column("all_sites", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column("invite_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("invite_expires_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_staff_invite_hash"), ["invite_hash"])
    op.create_table(
        "staff_site",
        sa.Column("staff_id", _ID, nullable=False),
        sa.Column("site_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_staff_site_site_id_site"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_staff_site_staff_id_staff"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "site_id", name=op.f("pk_staff_site")),
    )
    op.create_index(op.f("ix_staff_site_site_id"), "staff_site", ["site_id"])
    op.create_table(
        "audit_entry",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("actor_staff_id", _ID, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_staff_id"], ["staff.id"],
                                name=op.f("fk_audit_entry_actor_staff_id_staff"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"],
                                name=op.f("fk_audit_entry_company_id_company"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index(op.f("ix_audit_entry_company_id"), "audit_entry", ["company_id"])
    op.create_index(op.f("ix_audit_entry_actor_staff_id"), "audit_entry", ["actor_staff_id"])
    op.create_index(op.f("ix_audit_entry_at"), "audit_entry", ["at"])


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("staff_site")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_invite_hash"), type_="unique")
        batch_op.drop_column("invite_expires_at")
        batch_op.drop_column("invite_hash")
        batch_op.drop_column("all_sites")
        batch_op.drop_column("pin_hash")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("qr_printed_at")
    with op.batch_alter_table("dining_table", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("room")
