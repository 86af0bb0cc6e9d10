"""Coffee machines, product selections, consumers, groups, credit, brews and payments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Name, Timestamp, intpk, utcnow


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return mapped_column(
        IdType, ForeignKey(target, ondelete=ondelete), index=True, nullable=nullable
    )


class ConsumerPolicy(Base):
    """A company's rules for its machines' consumers; one row per company, made on demand."""

    __tablename__ = "consumer_policy"

    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    require_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    topup_amounts: Mapped[list[int]] = mapped_column(JSON, default=lambda: [500, 1000, 2000])


class Selection(Base):
    """The drinks a machine model offers, with recipes and prices; shared by machines."""

    __tablename__ = "machine_selection"

    id: Mapped[intpk]
    company_id: Mapped[int] = _fk("company.id")
    model: Mapped[str] = mapped_column(String(60))
    name: Mapped[Name]
    share_token: Mapped[str] = mapped_column(String(64), unique=True)  # read-only link
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class SelectionProduct(Base):
    __tablename__ = "machine_product"

    id: Mapped[intpk]
    selection_id: Mapped[int] = _fk("machine_selection.id")
    name: Mapped[Name]
    price: Mapped[Money] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(String(20))  # espresso, lungo, cappuccino… (recipes.py)
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class UserGroup(Base):
    """Consumers who share access to machines and, optionally, a regular recharge."""

    __tablename__ = "user_group"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _fk("company.id")
    name: Mapped[Name]
    recharge_amount: Mapped[Money] = mapped_column(default=0)
    recharge_every: Mapped[str | None] = mapped_column(String(8), default=None)  # day|week|month
    recharge_at: Mapped[str] = mapped_column(String(5), default="07:00")  # company's local time
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Consumer(Base):
    """Someone who brews from a phone: email and password, per company."""

    __tablename__ = "consumer"
    __table_args__ = (UniqueConstraint("company_id", "email"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _fk("company.id")
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[Name]
    password_hash: Mapped[str] = mapped_column(String(200))
    email_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # approved (or no approval)
    role: Mapped[str] = mapped_column(String(20), default="consumer")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class GroupMember(Base):
    __tablename__ = "user_group_member"

    group_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True
    )
    consumer_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("consumer.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Machine(Base):
    __tablename__ = "machine"

    id: Mapped[intpk]
    site_id: Mapped[int] = _fk("site.id")
    model: Mapped[str] = mapped_column(String(60))
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[Name]
    mode: Mapped[str] = mapped_column(String(16), default="open")  # access.Mode
    token: Mapped[str] = mapped_column(String(64), unique=True)  # in the QR code
    selection_id: Mapped[int | None] = _fk(
        "machine_selection.id", nullable=True, ondelete="SET NULL"
    )
    settings_pin: Mapped[str] = mapped_column(String(12))
    maintenance_pin: Mapped[str] = mapped_column(String(12))
    secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)  # sha256 hex
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    connection: Mapped[str | None] = mapped_column(String(32), default=None)  # current socket
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    alerts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class MachineGroup(Base):
    """A group allowed at a machine; in custom mode, with its own selection."""

    __tablename__ = "machine_group"

    machine_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("machine.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_group.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    selection_id: Mapped[int | None] = _fk(
        "machine_selection.id", nullable=True, ondelete="SET NULL"
    )


class Brew(Base):
    """One drink asked of a machine, and the usage record it leaves."""

    __tablename__ = "brew"
    __table_args__ = (
        # One unfinished brew per machine, guaranteed by the database: a busy machine
        # refuses a second brew however many phones press at once.
        Index(
            "uq_brew_active",
            "machine_id",
            unique=True,
            sqlite_where=text("finished_at IS NULL"),
            postgresql_where=text("finished_at IS NULL"),
        ),
    )

    id: Mapped[intpk]
    machine_id: Mapped[int] = _fk("machine.id")
    product_id: Mapped[int | None] = _fk("machine_product.id", nullable=True, ondelete="SET NULL")
    product_name: Mapped[Name]
    product_type: Mapped[str] = mapped_column(String(20))
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consumer_id: Mapped[int | None] = _fk("consumer.id", nullable=True, ondelete="SET NULL")
    group_id: Mapped[int | None] = _fk("user_group.id", nullable=True, ondelete="SET NULL")
    device_key: Mapped[str] = mapped_column(String(64), default="")  # who asked, anonymously
    price: Mapped[Money] = mapped_column(default=0)
    charge: Mapped[str] = mapped_column(String(10), default="none")  # none | credit | payment
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")  # brew_state
    progress: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(60), default=None)
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class CreditBalance(Base):
    """The running sum of a consumer's ledger, kept beside it for the conditional debit."""

    __tablename__ = "credit_balance"
    __table_args__ = (CheckConstraint("balance >= 0", name="non_negative"),)

    consumer_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("consumer.id", ondelete="CASCADE"), primary_key=True
    )
    balance: Mapped[Money] = mapped_column(default=0)


class LedgerEntry(Base):
    """Append-only: one signed entry per business event, named by a unique key."""

    __tablename__ = "ledger_entry"

    id: Mapped[intpk]
    consumer_id: Mapped[int] = _fk("consumer.id")
    amount: Mapped[Money]  # signed minor units: credit > 0, debit < 0
    balance_after: Mapped[Money]
    kind: Mapped[str] = mapped_column(String(12))  # ledger.Kind
    key: Mapped[str] = mapped_column(String(120), unique=True)
    brew_id: Mapped[int | None] = _fk("brew.id", nullable=True, ondelete="SET NULL")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class ProviderPayment(Base):
    """A payment through the provider: a top-up, one drink in payment mode, or at a table
    (ordering/table_payment.py): a round paid before it is sent, or part of the bill."""

    __tablename__ = "provider_payment"
    __table_args__ = (
        # At most one payment in progress per table session, whoever starts it.
        Index(
            "uq_provider_payment_table_pending",
            "table_session_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND table_session_id IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND table_session_id IS NOT NULL"),
        ),
    )

    id: Mapped[intpk]
    company_id: Mapped[int] = _fk("company.id")
    consumer_id: Mapped[int | None] = _fk("consumer.id", nullable=True, ondelete="SET NULL")
    # A machine's deletion takes its brews (usage data), not the money records.
    brew_id: Mapped[int | None] = _fk("brew.id", nullable=True, ondelete="SET NULL")
    table_session_id: Mapped[int | None] = _fk(
        "table_session.id", nullable=True, ondelete="SET NULL"
    )
    round_id: Mapped[int | None] = _fk("round.id", nullable=True, ondelete="SET NULL")
    purpose: Mapped[str] = mapped_column(String(10))  # topup | brew | round | bill
    amount: Mapped[Money]
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(10))
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Where the payer completes it (Stripe's hosted page), kept so a retry sends them back.
    checkout_url: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class PaymentSettings(Base):
    """A company's own payment provider and keys; without a row, the environment's apply."""

    __tablename__ = "payment_settings"

    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(10), default="none")  # none | test | stripe
    # Encrypted (machines/secret_box.py): longer than the keys themselves.
    stripe_secret_key: Mapped[str] = mapped_column(Text, default="")
    stripe_webhook_secret: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class WebhookEvent(Base):
    """Provider events already handled: a replayed id is acknowledged and ignored."""

    __tablename__ = "webhook_event"

    provider: Mapped[str] = mapped_column(String(10), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class RechargeRun(Base):
    """A group's recharge for one period: the unique row makes it happen once."""

    __tablename__ = "recharge_run"
    __table_args__ = (UniqueConstraint("group_id", "period"),)

    id: Mapped[intpk]
    group_id: Mapped[int] = _fk("user_group.id")
    period: Mapped[str] = mapped_column(String(20))
    ran_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class OutboxMail(Base):
    """Mail to consumers; shown on the outbox page when no SMTP server is configured."""

    __tablename__ = "outbox_mail"

    id: Mapped[intpk]
    consumer_id: Mapped[int | None] = _fk("consumer.id", nullable=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # A sender's claim and, after a failure, the next try: unsent mail is never dropped.
    retry_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
