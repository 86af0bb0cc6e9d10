"""browsers' sessions kept on the server (the cookie holds only a random id)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions signed into cookies before this are not carried over: everyone signs in
    # once more, and phones get a new device (a table they had joined asks for its PIN).
    op.create_table(
        "browser_session",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=True),
        sa.Column("consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_browser_session")),
    )
    op.create_index(op.f("ix_browser_session_staff_id"), "browser_session", ["staff_id"])
    op.create_index(op.f("ix_browser_session_consumer_id"), "browser_session", ["consumer_id"])
    op.create_index(op.f("ix_browser_session_expires_at"), "browser_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_browser_session_expires_at"), table_name="browser_session")
    op.drop_index(op.f("ix_browser_session_consumer_id"), table_name="browser_session")
    op.drop_index(op.f("ix_browser_session_staff_id"), table_name="browser_session")
    op.drop_table("browser_session")
    # What ended sessions left on the bus's versions (web/session_store.py).
    op.execute("DELETE FROM topic_version WHERE topic LIKE 'session:%'")
