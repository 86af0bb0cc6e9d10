"""machines (revision 0002, after 0001; created 2026-11-23 20:55:06)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_event",
        sa.Column("provider", sa.String(length=10), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_webhook_event")),
    )
    op.create_table(
        "consumer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("email_token", sa.String(length=64), nullable=True),
        sa.Column("email_confirmed", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_consumer_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer")),
        sa.UniqueConstraint("company_id", "email", name=op.f("uq_consumer_company_id_email")),
        sa.UniqueConstraint("email_token", name=op.f("uq_consumer_email_token")),
    )
    with op.batch_alter_table("consumer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consumer_company_id"), ["company_id"], unique=False)

    op.create_table(
        "consumer_policy",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("require_approval", sa.Boolean(), nullable=False),
        sa.Column("topup_amounts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_consumer_policy_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_consumer_policy")),
    )
    op.create_table(
        "machine_selection",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("share_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_machine_selection_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_selection")),
        sa.UniqueConstraint("share_token", name=op.f("uq_machine_selection_share_token")),
    )
    with op.batch_alter_table("machine_selection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_machine_selection_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "user_group",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("recharge_amount", sa.BigInteger(), nullable=False),
        sa.Column("recharge_every", sa.String(length=8), nullable=True),
        sa.Column("recharge_at", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_user_group_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_group")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_user_group_company_id_name")),
    )
    with op.batch_alter_table("user_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_group_company_id"), ["company_id"], unique=False)

    op.create_table(
        "credit_balance",
        sa.Column(
            "consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_credit_balance_non_negative")),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumer.id"],
            name=op.f("fk_credit_balance_consumer_id_consumer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consumer_id", name=op.f("pk_credit_balance")),
    )
    op.create_table(
        "machine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column(
            "selection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("settings_pin", sa.String(length=12), nullable=False),
        sa.Column("maintenance_pin", sa.String(length=12), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("connection", sa.String(length=32), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["selection_id"],
            ["machine_selection.id"],
            name=op.f("fk_machine_selection_id_machine_selection"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_machine_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine")),
        sa.UniqueConstraint("serial", name=op.f("uq_machine_serial")),
        sa.UniqueConstraint("token", name=op.f("uq_machine_token")),
    )
    with op.batch_alter_table("machine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_machine_selection_id"), ["selection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_machine_site_id"), ["site_id"], unique=False)

    op.create_table(
        "machine_product",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "selection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("recipe", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["selection_id"],
            ["machine_selection.id"],
            name=op.f("fk_machine_product_selection_id_machine_selection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_product")),
    )
    with op.batch_alter_table("machine_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_machine_product_selection_id"), ["selection_id"], unique=False
        )

    op.create_table(
        "outbox_mail",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("to", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumer.id"],
            name=op.f("fk_outbox_mail_consumer_id_consumer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_mail")),
    )
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_mail_consumer_id"), ["consumer_id"], unique=False
        )

    op.create_table(
        "recharge_run",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.id"],
            name=op.f("fk_recharge_run_group_id_user_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recharge_run")),
        sa.UniqueConstraint("group_id", "period", name=op.f("uq_recharge_run_group_id_period")),
    )
    with op.batch_alter_table("recharge_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recharge_run_group_id"), ["group_id"], unique=False)

    op.create_table(
        "user_group_member",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumer.id"],
            name=op.f("fk_user_group_member_consumer_id_consumer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.id"],
            name=op.f("fk_user_group_member_group_id_user_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "consumer_id", name=op.f("pk_user_group_member")),
    )
    with op.batch_alter_table("user_group_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_group_member_consumer_id"), ["consumer_id"], unique=False
        )

    op.create_table(
        "brew",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("product_name", sa.String(length=120), nullable=False),
        sa.Column("product_type", sa.String(length=20), nullable=False),
        sa.Column("recipe", sa.JSON(), nullable=False),
        sa.Column(
            "consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("device_key", sa.String(length=64), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("charge", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumer.id"],
            name=op.f("fk_brew_consumer_id_consumer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.id"],
            name=op.f("fk_brew_group_id_user_group"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machine.id"],
            name=op.f("fk_brew_machine_id_machine"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["machine_product.id"],
            name=op.f("fk_brew_product_id_machine_product"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brew")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_brew_idempotency_key")),
    )
    with op.batch_alter_table("brew", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_brew_consumer_id"), ["consumer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_brew_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_brew_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_brew_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_brew_requested_at"), ["requested_at"], unique=False)
        batch_op.create_index(
            "uq_brew_active",
            ["machine_id"],
            unique=True,
            sqlite_where=sa.text("finished_at IS NULL"),
            postgresql_where=sa.text("finished_at IS NULL"),
        )

    op.create_table(
        "machine_group",
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "selection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.id"],
            name=op.f("fk_machine_group_group_id_user_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machine.id"],
            name=op.f("fk_machine_group_machine_id_machine"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["selection_id"],
            ["machine_selection.id"],
            name=op.f("fk_machine_group_selection_id_machine_selection"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("machine_id", "group_id", name=op.f("pk_machine_group")),
    )
    with op.batch_alter_table("machine_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_machine_group_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_machine_group_selection_id"), ["selection_id"], unique=False
        )

    op.create_table(
        "ledger_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("brew_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brew_id"], ["brew.id"], name=op.f("fk_ledger_entry_brew_id_brew"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumer.id"],
            name=op.f("fk_ledger_entry_consumer_id_consumer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_entry_key")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entry_brew_id"), ["brew_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_entry_consumer_id"), ["consumer_id"], unique=False
        )

    op.create_table(
        "provider_payment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "consumer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("brew_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider", sa.String(length=10), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brew_id"],
            ["brew.id"],
            name=op.f("fk_provider_payment_brew_id_brew"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_provider_payment_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumer.id"],
            name=op.f("fk_provider_payment_consumer_id_consumer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_payment")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_provider_payment_idempotency_key")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_provider_payment_provider_ref")),
    )
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_payment_brew_id"), ["brew_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_provider_payment_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provider_payment_consumer_id"), ["consumer_id"], unique=False
        )


def downgrade() -> None:
    # Dropping a table drops its indexes too; the tables go in the reverse of their order of
    # creation above, so that none is dropped before a table that refers to it.
    for table in ("provider_payment", "ledger_entry", "machine_group", "brew",
                  "user_group_member", "recharge_run", "outbox_mail", "machine_product",
                  "machine", "credit_balance", "user_group", "machine_selection",
                  "consumer_policy", "consumer", "webhook_event"):
        op.drop_table(table)
