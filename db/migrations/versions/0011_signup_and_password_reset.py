"""operators' sign-ups waiting for their company, and password-reset links

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operator_signup",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_signup")),
        sa.UniqueConstraint("email", name=op.f("uq_operator_signup_email")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operator_signup_token_hash")),
    )
    op.create_table(
        "password_reset",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", ID, nullable=True),
        sa.Column("consumer_id", ID, nullable=True),
        sa.Column("sign_in", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(staff_id IS NULL) != (consumer_id IS NULL)",
                           name=op.f("ck_password_reset_one_account")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_password_reset_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["consumer_id"], ["consumer.id"],
                                name=op.f("fk_password_reset_consumer_id_consumer"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_token_hash")),
    )
    op.create_index(op.f("ix_password_reset_staff_id"), "password_reset", ["staff_id"])
    op.create_index(op.f("ix_password_reset_consumer_id"), "password_reset", ["consumer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_password_reset_consumer_id"), table_name="password_reset")
    op.drop_index(op.f("ix_password_reset_staff_id"), table_name="password_reset")
    op.drop_table("password_reset")
    op.drop_table("operator_signup")
