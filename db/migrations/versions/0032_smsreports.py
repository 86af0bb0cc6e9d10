"""SMS delivery reports: each company's random token naming it in the webhook URL Brevo
calls, and the index its reports are matched by (the company's message with Brevo's id)

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loyalty_sms_settings") as batch:
        batch.add_column(sa.Column("report_token", sa.String(length=43), nullable=True))
        batch.create_unique_constraint(op.f("uq_loyalty_sms_settings_report_token"),
                                       ["report_token"])
    op.create_index(op.f("ix_loyalty_message_company_provider"), "loyalty_message",
                    ["company_id", "provider_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_loyalty_message_company_provider"), table_name="loyalty_message")
    with op.batch_alter_table("loyalty_sms_settings") as batch:
        batch.drop_constraint(op.f("uq_loyalty_sms_settings_report_token"), type_="unique")
        batch.drop_column("report_token")
