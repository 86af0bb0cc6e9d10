"""loyalty set up from the back office: the sign-up fields a venue asks, coupon triggers and
the occasion each coupon was issued for, where a coupon was used, members limited to some
sections, rewards applied to a table's bill

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("loyalty_rules") as batch_op:
        batch_op.add_column(sa.Column("ask_phone", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column("ask_birthday", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column("ask_postcode", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("loyalty_rules") as batch_op:
        for column in ("ask_phone", "ask_birthday", "ask_postcode"):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table("loyalty_coupon") as batch_op:
        batch_op.add_column(sa.Column("used_site_id", ID, nullable=True))
        batch_op.add_column(sa.Column("key", sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f("ix_loyalty_coupon_used_site_id"), ["used_site_id"])
        batch_op.create_foreign_key(batch_op.f("fk_loyalty_coupon_used_site_id_site"), "site",
                                    ["used_site_id"], ["id"], ondelete="SET NULL")
        batch_op.create_unique_constraint(batch_op.f("uq_loyalty_coupon_key"), ["key"])
    op.create_table(
        "loyalty_trigger",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("every", sa.Integer(), nullable=False),
        sa.Column("reward_id", ID, nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint("every > 0 AND valid_days > 0",
                           name=op.f("ck_loyalty_trigger_positive")),
        _fk("loyalty_trigger", "company_id", "company"),
        _fk("loyalty_trigger", "reward_id", "loyalty_reward"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_trigger")),
    )
    for column in ("company_id", "reward_id"):
        op.create_index(op.f(f"ix_loyalty_trigger_{column}"), "loyalty_trigger", [column])
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("all_sections", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table("staff") as batch_op:
        batch_op.alter_column("all_sections", server_default=None)
    op.create_table(
        "staff_section",
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        _fk("staff_section", "staff_id", "staff"),
        sa.PrimaryKeyConstraint("staff_id", "section", name=op.f("pk_staff_section")),
    )
    op.create_table(
        "table_reward",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("consumer_id", ID, nullable=True),
        sa.Column("reward_key", sa.String(length=64), nullable=False),
        sa.Column("reward_id", ID, nullable=False),
        sa.Column("reward_name", sa.String(length=120), nullable=False),
        sa.Column("coupon", sa.Boolean(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("given_back_at", WHEN, nullable=True),
        _fk("table_reward", "session_id", "table_session"),
        _fk("table_reward", "consumer_id", "consumer", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_table_reward")),
        sa.UniqueConstraint("reward_key", name=op.f("uq_table_reward_reward_key")),
    )
    for column in ("session_id", "consumer_id"):
        op.create_index(op.f(f"ix_table_reward_{column}"), "table_reward", [column])


def downgrade() -> None:
    op.drop_table("table_reward")
    op.drop_table("staff_section")
    with op.batch_alter_table("staff") as batch_op:
        batch_op.drop_column("all_sections")
    op.drop_table("loyalty_trigger")
    with op.batch_alter_table("loyalty_coupon") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_loyalty_coupon_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_loyalty_coupon_used_site_id_site"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_loyalty_coupon_used_site_id"))
        batch_op.drop_column("key")
        batch_op.drop_column("used_site_id")
    with op.batch_alter_table("loyalty_rules") as batch_op:
        for column in ("ask_postcode", "ask_birthday", "ask_phone"):
            batch_op.drop_column(column)
