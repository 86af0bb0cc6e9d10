"""the product (and its category) a till's ticket line sold, so that its refunds and voids
count against the same product in the statistics

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch: recreating the table would drop its append-only triggers).
    op.add_column("pos_ticket_line", sa.Column("product_id", ID, nullable=True))
    op.add_column("pos_ticket_line", sa.Column("category_id", ID, nullable=True))


def downgrade() -> None:
    op.drop_column("pos_ticket_line", "category_id")
    op.drop_column("pos_ticket_line", "product_id")
