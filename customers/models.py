"""Customers: accounts, groups, the credit ledger, recharges and mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Name, Timestamp, foreign_key, intpk, utcnow


class ConsumerPolicy(Base):
    """A company's rules for its machines' consumers; one row per company, made on demand."""

    __tablename__ = "consumer_policy"

    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    require_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    topup_amounts: Mapped[list[int]] = mapped_column(JSON, default=lambda: [500, 1000, 2000])


class UserGroup(Base):
    """Consumers who share access to machines and, optionally, a regular recharge."""

    __tablename__ = "user_group"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
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
    company_id: Mapped[int] = foreign_key("company.id")
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
    consumer_id: Mapped[int] = foreign_key("consumer.id")
    amount: Mapped[Money]  # signed minor units: credit > 0, debit < 0
    balance_after: Mapped[Money]
    kind: Mapped[str] = mapped_column(String(12))  # ledger.Kind
    key: Mapped[str] = mapped_column(String(120), unique=True)
    brew_id: Mapped[int | None] = foreign_key("brew.id", nullable=True, ondelete="SET NULL")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class RechargeRun(Base):
    """A group's recharge for one period: the unique row makes it happen once."""

    __tablename__ = "recharge_run"
    __table_args__ = (UniqueConstraint("group_id", "period"),)

    id: Mapped[intpk]
    group_id: Mapped[int] = foreign_key("user_group.id")
    period: Mapped[str] = mapped_column(String(20))
    ran_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class OutboxMail(Base):
    """Mail to consumers, staff and operators signing up; a consumer's (`consumer_id`) is
    shown to the company's administrators on the outbox page when no SMTP server is set."""

    __tablename__ = "outbox_mail"

    id: Mapped[intpk]
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # A sender's claim and, after a failure, the next try: unsent mail is never dropped.
    retry_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A whole message (MIME, e.g. HTML with inline images and its own headers) sent instead
    # of `body` alone; `body` stays its plain text, for the log and the outbox page.
    mime: Mapped[str | None] = mapped_column(Text, default=None)


class PasswordReset(Base):
    """A mailed link to choose a new password, for a member of staff or a consumer: used
    once, until it expires (customers/password_reset.py)."""

    __tablename__ = "password_reset"
    __table_args__ = (
        CheckConstraint("(staff_id IS NULL) != (consumer_id IS NULL)", name="one_account"),
    )

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token
    staff_id: Mapped[int | None] = foreign_key("staff.id", nullable=True)
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True)
    sign_in: Mapped[str] = mapped_column(String(200))  # where to sign in after (a path)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
