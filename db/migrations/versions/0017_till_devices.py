"""tills become devices: a pairing code valid ten minutes, then a long-lived credential
(both kept as SHA-256 only), when the till was paired and last heard from, its receipt
printer on the shop's network; each site's discount limit above which a supervisor approves

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pairing_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pairing_expires_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("credential_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("paired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("printer", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_till_pairing_hash", ["pairing_hash"])
        batch_op.create_unique_constraint("uq_till_credential_hash", ["credential_hash"])
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discount_limit_percent", sa.Integer(), nullable=False,
                                      server_default="10"))


def downgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("discount_limit_percent")
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.drop_constraint("uq_till_credential_hash", type_="unique")
        batch_op.drop_constraint("uq_till_pairing_hash", type_="unique")
        for column in ("printer", "last_seen_at", "paired_at", "credential_hash",
                       "pairing_expires_at", "pairing_hash"):
            batch_op.drop_column(column)
