"""the back office's read side: figures rolled up from domain events (stat_rollup) and each
manager's dashboard widgets; the outbox indexed in recorded order for the rebuild

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The rebuild replays the outbox in recorded order, a page at a time.
    op.create_index("ix_outbox_event_recorded", "outbox_event", ["recorded_at", "id"])
    op.create_table(
        "stat_rollup",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("bucket", sa.String(length=13), nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("dim_kind", sa.String(length=12), nullable=False),
        sa.Column("dim_id", ID, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("company_id", "grain", "bucket", "site_id", "measure",
                                "dim_kind", "dim_id", name=op.f("pk_stat_rollup")),
    )
    op.create_index("ix_stat_rollup_lookup", "stat_rollup",
                    ["company_id", "measure", "dim_kind", "grain", "bucket"],
                    postgresql_include=["site_id", "dim_id", "count", "quantity", "amount",
                                        "seconds"])
    op.create_table(
        "dashboard_widget",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("subtitle", sa.String(length=120), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("range_start", sa.String(length=10), nullable=True),
        sa.Column("range_end", sa.String(length=10), nullable=True),
        sa.Column("compare", sa.Boolean(), nullable=False),
        sa.Column("values", sa.String(length=10), nullable=False),
        sa.Column("chart", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"],
                                name=op.f("fk_dashboard_widget_company_id_company"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"],
                                name=op.f("fk_dashboard_widget_staff_id_staff"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_widget")),
    )
    op.create_index(op.f("ix_dashboard_widget_company_id"), "dashboard_widget", ["company_id"])
    op.create_index(op.f("ix_dashboard_widget_staff_id"), "dashboard_widget", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_event_recorded", table_name="outbox_event")
    op.drop_table("dashboard_widget")
    op.drop_index("ix_stat_rollup_lookup", table_name="stat_rollup")
    op.drop_table("stat_rollup")
