"""the browser that started a provider payment (the test provider's page is its alone)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payer_device", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.drop_column("payer_device")
