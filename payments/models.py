"""Payments through a provider, a company's payment settings and the webhooks seen."""

from __future__ import annotations

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Timestamp, foreign_key, intpk, utcnow
from payments.payment_state import PaymentStatus


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
    company_id: Mapped[int] = foreign_key("company.id")
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True, ondelete="SET NULL")
    # A machine's deletion takes its brews (usage data), not the money records.
    brew_id: Mapped[int | None] = foreign_key("brew.id", nullable=True, ondelete="SET NULL")
    table_session_id: Mapped[int | None] = foreign_key(
        "table_session.id", nullable=True, ondelete="SET NULL"
    )
    round_id: Mapped[int | None] = foreign_key("round.id", nullable=True, ondelete="SET NULL")
    purpose: Mapped[str] = mapped_column(String(10))  # topup | brew | round | bill
    amount: Mapped[Money]
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(10))
    provider_ref: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(12), default=PaymentStatus.PENDING)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Where the payer completes it (Stripe's hosted page), kept so a retry sends them back.
    checkout_url: Mapped[str | None] = mapped_column(Text, default=None)
    # The browser that started it (web.security.device_key of its device id): the test
    # provider's page settles it for that browser only. None before it reached checkout.
    payer_device: Mapped[str | None] = mapped_column(String(40), default=None)
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
