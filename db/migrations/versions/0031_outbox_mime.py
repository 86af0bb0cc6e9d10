"""campaign mails: the outbox keeps a whole message (HTML, inline QR code, unsubscribe
headers) beside its plain text

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_mail") as batch:
        batch.add_column(sa.Column("mime", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_mail") as batch:
        batch.drop_column("mime")
