"""reaching customers: segments, campaigns (e-mail, SMS, coupon; by hand or automatic), one
row per message sent to a customer, and each company's SMS settings

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    op.create_table(
        "loyalty_segment",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk("loyalty_segment", "company_id", "company"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_segment")),
    )
    _indexes("loyalty_segment", "company_id")
    op.create_table(
        "loyalty_campaign",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("segment_id", ID, nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("sms_text", sa.String(length=1600), nullable=False),
        sa.Column("reward_id", ID, nullable=True),
        sa.Column("coupon_valid_days", sa.Integer(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("trigger_kind", sa.String(length=12), nullable=True),
        sa.Column("trigger_every", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("send_at", WHEN, nullable=True),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk("loyalty_campaign", "company_id", "company"),
        _fk("loyalty_campaign", "segment_id", "loyalty_segment", ondelete="SET NULL"),
        _fk("loyalty_campaign", "reward_id", "loyalty_reward", ondelete="SET NULL"),
        _fk("loyalty_campaign", "created_by", "staff", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_campaign")),
    )
    _indexes("loyalty_campaign", "company_id", "segment_id", "reward_id", "created_by")
    op.create_table(
        "loyalty_message",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("consumer_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("send_after", WHEN, nullable=True),
        sa.Column("coupon_id", ID, nullable=True),
        sa.Column("provider_id", sa.String(length=80), nullable=True),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        _fk("loyalty_message", "company_id", "company"),
        _fk("loyalty_message", "campaign_id", "loyalty_campaign"),
        _fk("loyalty_message", "consumer_id", "consumer", ondelete="SET NULL"),
        _fk("loyalty_message", "coupon_id", "loyalty_coupon", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_message")),
        sa.UniqueConstraint("key", name=op.f("uq_loyalty_message_key")),
    )
    _indexes("loyalty_message", "company_id", "campaign_id", "consumer_id", "coupon_id")
    op.create_index("ix_loyalty_message_campaign_status", "loyalty_message",
                    ["campaign_id", "status"])
    op.create_table(
        "loyalty_sms_settings",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("api_key", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=11), nullable=False),
        sa.Column("stop_mention", sa.String(length=40), nullable=False),
        sa.Column("holiday_subdivision", sa.String(length=8), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk("loyalty_sms_settings", "company_id", "company"),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_loyalty_sms_settings")),
    )


def downgrade() -> None:
    op.drop_table("loyalty_sms_settings")
    op.drop_table("loyalty_message")
    op.drop_table("loyalty_campaign")
    op.drop_table("loyalty_segment")
