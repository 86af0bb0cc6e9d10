"""Loyalty: a company's rules, each customer's profile and points, rewards and coupons.

A customer is the customers/ account (`consumer`); points are a ledger like credit: signed
entries, each named by the business event's unique key, and a balance kept beside them
that a conditional update never takes below zero.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Name, Timestamp, foreign_key, intpk, utcnow


class LoyaltyRules(Base):
    """A company's rules for earning and redeeming; one row per company, made on demand."""

    __tablename__ = "loyalty_rules"
    __table_args__ = (
        CheckConstraint(
            "points_per_visit >= 0 AND points_per_unit >= 0 AND cap_per_visit >= 0 "
            "AND min_delay_minutes >= 0 AND referrer_points >= 0 AND referred_points >= 0 "
            "AND profile_points >= 0",
            name="not_negative",
        ),
    )

    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    points_per_visit: Mapped[int] = mapped_column(Integer, default=0)
    points_per_unit: Mapped[int] = mapped_column(Integer, default=1)  # per euro (100 minor)
    cap_per_visit: Mapped[int] = mapped_column(Integer, default=0)  # 0: no cap
    min_delay_minutes: Mapped[int] = mapped_column(Integer, default=0)  # between earning visits
    contactless_may_redeem: Mapped[bool] = mapped_column(Boolean, default=False)
    referrer_points: Mapped[int] = mapped_column(Integer, default=0)
    referred_points: Mapped[int] = mapped_column(Integer, default=0)
    profile_points: Mapped[int] = mapped_column(Integer, default=0)
    # The sign-up fields the venue asks its customers for (the e-mail is always asked).
    ask_phone: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_birthday: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_postcode: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class LoyaltyProfile(Base):
    """A customer's loyalty in their company: QR token, what they told the venue, their
    consents by channel (the date given; None: not given or withdrawn) and their balance."""

    __tablename__ = "loyalty_profile"
    __table_args__ = (
        UniqueConstraint("company_id", "phone"),
        CheckConstraint("balance >= 0", name="non_negative"),
    )

    consumer_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("consumer.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = foreign_key("company.id")
    qr_token: Mapped[str] = mapped_column(String(43), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    birthday: Mapped[date | None] = mapped_column(Date, default=None)
    postcode: Mapped[str | None] = mapped_column(String(12), default=None)
    email_consent_at: Mapped[datetime | None] = mapped_column(default=None)
    sms_consent_at: Mapped[datetime | None] = mapped_column(default=None)
    referred_by: Mapped[int | None] = foreign_key(
        "consumer.id", nullable=True, ondelete="SET NULL"
    )
    balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class PointsEntry(Base):
    """Append-only: one signed entry of points per business event, named by a unique key
    ("ticket:<uuid>", "table:<session id>", "brew:<id>", "refund:<ticket uuid>",
    "redeem:<customer>:<idempotency key>"). `origin` names what earned them ("ticket:<id>"),
    so that a refund finds what to take back; `spent` is the amount the visit paid (a
    refund's is negative) and `visit_at` when the earning visit (or the refund) happened."""

    __tablename__ = "loyalty_entry"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    consumer_id: Mapped[int] = foreign_key("consumer.id")
    points: Mapped[int] = mapped_column(Integer)  # signed: earned > 0, redeemed < 0
    balance_after: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # ledger.Kind
    key: Mapped[str] = mapped_column(String(120), unique=True)
    origin: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    spent: Mapped[Money] = mapped_column(default=0)
    visit_at: Mapped[datetime | None] = mapped_column(default=None)
    site_id: Mapped[int | None] = foreign_key("site.id", nullable=True, ondelete="SET NULL")
    reward_id: Mapped[int | None] = foreign_key(
        "loyalty_reward.id", nullable=True, ondelete="SET NULL"
    )
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Reward(Base):
    """What points buy: its cost in points, what it costs the venue, and its effect on a
    ticket or a bill (an amount off, a percentage off, or a product given)."""

    __tablename__ = "loyalty_reward"
    __table_args__ = (
        CheckConstraint("cost_points > 0 AND venue_cost >= 0", name="costs"),
        CheckConstraint(
            "(effect = 'amount_off' AND amount > 0) "
            "OR (effect = 'percent_off' AND percent BETWEEN 1 AND 100) "
            "OR (effect = 'free_product' AND product_id IS NOT NULL)",
            name="effect",
        ),
    )

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    name: Mapped[Name]
    cost_points: Mapped[int] = mapped_column(Integer)
    venue_cost: Mapped[Money] = mapped_column(default=0)
    effect: Mapped[str] = mapped_column(String(12))  # rules.EffectKind
    amount: Mapped[Money] = mapped_column(default=0)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    # A product of the menu, named and not referred to: loyalty sits below ordering.
    product_id: Mapped[int | None] = mapped_column(IdType, default=None)
    product_name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Coupon(Base):
    """A reward given without points when a trigger fired; its token is the code and the QR
    code scanned at the till. Used once: a conditional update sets `used_at`, and
    `used_key` lets the same till's retry find its own use."""

    __tablename__ = "loyalty_coupon"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True)
    reward_id: Mapped[int] = foreign_key("loyalty_reward.id")
    token: Mapped[str] = mapped_column(String(43), unique=True)
    trigger: Mapped[str] = mapped_column(String(12), default="campaign")
    expires_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_key: Mapped[str | None] = mapped_column(String(120), default=None)
    used_site_id: Mapped[int | None] = foreign_key("site.id", nullable=True,
                                                   ondelete="SET NULL")
    # The occasion it was issued for ("visits:<trigger>:<customer>:<n>",
    # "birthday:<trigger>:<customer>:<year>"…, loyalty/triggers.py): a trigger heard twice,
    # or by two processes at once, issues one coupon.
    key: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class CouponTrigger(Base):
    """When the company gives a coupon on its own: every `every` visits, `every` days before
    the birthday, or after `every` days without a visit; the coupon is valid `valid_days`."""

    __tablename__ = "loyalty_trigger"
    __table_args__ = (
        CheckConstraint("every > 0 AND valid_days > 0", name="positive"),
    )

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    kind: Mapped[str] = mapped_column(String(12))  # "visits", "birthday", "absence"
    every: Mapped[int] = mapped_column(Integer)
    reward_id: Mapped[int] = foreign_key("loyalty_reward.id")
    valid_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Segment(Base):
    """A named set of the company's customers: criteria combined with all / any, and
    optionally only the best N by visits or spend over a period (`definition`, checked by
    loyalty/segments.py). Counted and listed when asked: never a stored list."""

    __tablename__ = "loyalty_segment"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    name: Mapped[Name]
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Campaign(Base):
    """An e-mail, SMS or coupon-only message to a segment: a draft, scheduled at `send_at`
    (UTC; chosen in the venue's time zone), sending, sent or cancelled (loyalty/campaigns.py
    holds the statuses and their transitions). `automatic`: sent by a trigger
    (`trigger_kind`, `trigger_every`) to each customer once per occasion, switched on/off by
    `active`."""

    __tablename__ = "loyalty_campaign"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    name: Mapped[Name]
    channel: Mapped[str] = mapped_column(String(8))  # "email", "sms", "coupon"
    status: Mapped[str] = mapped_column(String(12), default="draft")
    segment_id: Mapped[int | None] = foreign_key("loyalty_segment.id", nullable=True,
                                                 ondelete="SET NULL")
    subject: Mapped[str] = mapped_column(String(200), default="")
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # e-mail blocks
    sms_text: Mapped[str] = mapped_column(String(1600), default="")
    reward_id: Mapped[int | None] = foreign_key("loyalty_reward.id", nullable=True,
                                                ondelete="SET NULL")  # the coupon block's
    coupon_valid_days: Mapped[int] = mapped_column(Integer, default=30)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger_kind: Mapped[str | None] = mapped_column(String(12), default=None)
    trigger_every: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[int | None] = foreign_key("staff.id", nullable=True, ondelete="SET NULL")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class CampaignMessage(Base):
    """One message of a campaign to one customer, queued once (`key`: the campaign's and
    the customer's, with the occasion for an automatic send), then sent, delivered,
    failed, held (quiet hours: `send_after`) or blocked (no credits), retried later."""

    __tablename__ = "loyalty_message"
    __table_args__ = (Index("ix_loyalty_message_campaign_status", "campaign_id", "status"),
                      # a delivery report finds its message (loyalty/sms_reports.py)
                      Index("ix_loyalty_message_company_provider", "company_id", "provider_id"))

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    campaign_id: Mapped[int] = foreign_key("loyalty_campaign.id")
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True,
                                                  ondelete="SET NULL")
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(254))  # the e-mail or E.164 number used
    key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    send_after: Mapped[datetime | None] = mapped_column(default=None)
    coupon_id: Mapped[int | None] = foreign_key("loyalty_coupon.id", nullable=True,
                                                ondelete="SET NULL")
    provider_id: Mapped[str | None] = mapped_column(String(80), default=None)
    parts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class SmsSettings(Base):
    """A company's SMS sending: the provider ("recording" or "brevo"), its key, the sender
    name, the STOP mention, the Alsace-Moselle or overseas holidays to keep, and the random
    token of the URL its provider sends delivery reports to (loyalty/sms_reports.py)."""

    __tablename__ = "loyalty_sms_settings"

    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(16), default="recording")
    api_key: Mapped[str] = mapped_column(String(500), default="")  # sealed (secret_box)
    sender: Mapped[str] = mapped_column(String(11), default="")
    stop_mention: Mapped[str] = mapped_column(String(40), default="STOP au 36173")
    holiday_subdivision: Mapped[str | None] = mapped_column(String(8), default=None)
    report_token: Mapped[str | None] = mapped_column(String(43), unique=True, default=None)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
