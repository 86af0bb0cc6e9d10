"""payment settings per company, checkout URLs, outbox retries

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_settings",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("provider", sa.String(length=10), nullable=False),
        sa.Column("stripe_secret_key", sa.String(length=255), nullable=False),
        sa.Column("stripe_webhook_secret", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"],
            name=op.f("fk_payment_settings_company_id_company"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_payment_settings")),
    )
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkout_url", sa.Text(), nullable=True))
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("retry_at")
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.drop_column("checkout_url")
    op.drop_table("payment_settings")
