"""the SMS provider's API key is stored sealed (payments/secret_box.py, as the payment
provider's keys are): a Brevo key of 89 characters seals to about 211, over the 200 kept

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loyalty_sms_settings") as batch_op:
        batch_op.alter_column("api_key", existing_type=sa.String(length=200),
                              type_=sa.String(length=500), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("loyalty_sms_settings") as batch_op:
        batch_op.alter_column("api_key", existing_type=sa.String(length=500),
                              type_=sa.String(length=200), existing_nullable=False)
