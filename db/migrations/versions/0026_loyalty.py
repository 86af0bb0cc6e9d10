"""loyalty: each company's rules, customers' profiles and points ledger, rewards, coupons

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "loyalty_rules",
        sa.Column("company_id", ID, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("points_per_visit", sa.Integer(), nullable=False),
        sa.Column("points_per_unit", sa.Integer(), nullable=False),
        sa.Column("cap_per_visit", sa.Integer(), nullable=False),
        sa.Column("min_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("contactless_may_redeem", sa.Boolean(), nullable=False),
        sa.Column("referrer_points", sa.Integer(), nullable=False),
        sa.Column("referred_points", sa.Integer(), nullable=False),
        sa.Column("profile_points", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "points_per_visit >= 0 AND points_per_unit >= 0 AND cap_per_visit >= 0 "
            "AND min_delay_minutes >= 0 AND referrer_points >= 0 AND referred_points >= 0 "
            "AND profile_points >= 0",
            name=op.f("ck_loyalty_rules_not_negative"),
        ),
        _fk("loyalty_rules", "company_id", "company"),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_loyalty_rules")),
    )
    op.create_table(
        "loyalty_profile",
        sa.Column("consumer_id", ID, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("qr_token", sa.String(length=43), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("postcode", sa.String(length=12), nullable=True),
        sa.Column("email_consent_at", WHEN, nullable=True),
        sa.Column("sms_consent_at", WHEN, nullable=True),
        sa.Column("referred_by", ID, nullable=True),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_loyalty_profile_non_negative")),
        _fk("loyalty_profile", "consumer_id", "consumer"),
        _fk("loyalty_profile", "company_id", "company"),
        sa.ForeignKeyConstraint(["referred_by"], ["consumer.id"],
                                name=op.f("fk_loyalty_profile_referred_by_consumer"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("consumer_id", name=op.f("pk_loyalty_profile")),
        sa.UniqueConstraint("company_id", "phone", name=op.f("uq_loyalty_profile_company_id_phone")),
        sa.UniqueConstraint("qr_token", name=op.f("uq_loyalty_profile_qr_token")),
    )
    op.create_index(op.f("ix_loyalty_profile_company_id"), "loyalty_profile", ["company_id"])
    op.create_index(op.f("ix_loyalty_profile_referred_by"), "loyalty_profile", ["referred_by"])
    op.create_table(
        "loyalty_reward",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("cost_points", sa.Integer(), nullable=False),
        sa.Column("venue_cost", sa.BigInteger(), nullable=False),
        sa.Column("effect", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("product_id", ID, nullable=True),
        sa.Column("product_name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("cost_points > 0 AND venue_cost >= 0",
                           name=op.f("ck_loyalty_reward_costs")),
        sa.CheckConstraint(
            "(effect = 'amount_off' AND amount > 0) "
            "OR (effect = 'percent_off' AND percent BETWEEN 1 AND 100) "
            "OR (effect = 'free_product' AND product_id IS NOT NULL)",
            name=op.f("ck_loyalty_reward_effect"),
        ),
        _fk("loyalty_reward", "company_id", "company"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_reward")),
    )
    op.create_index(op.f("ix_loyalty_reward_company_id"), "loyalty_reward", ["company_id"])
    op.create_table(
        "loyalty_entry",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("consumer_id", ID, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=True),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("visit_at", WHEN, nullable=True),
        sa.Column("site_id", ID, nullable=True),
        sa.Column("reward_id", ID, nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("loyalty_entry", "company_id", "company"),
        _fk("loyalty_entry", "consumer_id", "consumer"),
        _fk("loyalty_entry", "site_id", "site", "SET NULL"),
        _fk("loyalty_entry", "reward_id", "loyalty_reward", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entry")),
        sa.UniqueConstraint("key", name=op.f("uq_loyalty_entry_key")),
    )
    for column in ("company_id", "consumer_id", "origin", "site_id", "reward_id"):
        op.create_index(op.f(f"ix_loyalty_entry_{column}"), "loyalty_entry", [column])
    op.create_table(
        "loyalty_coupon",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("consumer_id", ID, nullable=True),
        sa.Column("reward_id", ID, nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("used_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("loyalty_coupon", "company_id", "company"),
        _fk("loyalty_coupon", "consumer_id", "consumer"),
        _fk("loyalty_coupon", "reward_id", "loyalty_reward"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_coupon")),
        sa.UniqueConstraint("token", name=op.f("uq_loyalty_coupon_token")),
    )
    for column in ("company_id", "consumer_id", "reward_id"):
        op.create_index(op.f(f"ix_loyalty_coupon_{column}"), "loyalty_coupon", [column])


def downgrade() -> None:
    op.drop_table("loyalty_coupon")
    op.drop_table("loyalty_entry")
    op.drop_table("loyalty_reward")
    op.drop_table("loyalty_profile")
    op.drop_table("loyalty_rules")
