"""Tables, menus, table sessions, shared carts, rounds and payments."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Name, Timestamp, foreign_key, intpk, utcnow
from ordering.round_state import RoundStatus, TicketStatus
from ordering.session_state import SessionStatus


def new_reference() -> str:
    """A product's reference when none was given: unique enough to never collide."""
    return "P-" + secrets.token_hex(5).upper()


def _fk(target: str) -> Mapped[int]:
    return mapped_column(IdType, ForeignKey(target, ondelete="CASCADE"), index=True)


class DiningTable(Base):
    __tablename__ = "dining_table"

    id: Mapped[intpk]
    site_id: Mapped[int] = _fk("site.id")
    label: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(64), unique=True)  # in the QR code
    mode: Mapped[str | None] = mapped_column(String(16), default=None)  # None: the site's
    position: Mapped[int] = mapped_column(Integer, default=0)
    room: Mapped[str] = mapped_column(String(60), default="")  # room or profit centre
    # An archived table keeps its history; its token opens nothing (ordering/table_admin.py).
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class Category(Base):
    __tablename__ = "category"

    id: Mapped[intpk]
    site_id: Mapped[int] = _fk("site.id")
    name: Mapped[Name]
    station: Mapped[str] = mapped_column(String(40))  # production station: kitchen, bar…
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Archived: off the menu and the back office's lists; its products keep their history.
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class Product(Base):
    __tablename__ = "product"
    # The stable name an import matches rows on (ordering/menu_import.py).
    __table_args__ = (UniqueConstraint("site_id", "reference"),)

    id: Mapped[intpk]
    site_id: Mapped[int] = _fk("site.id")
    category_id: Mapped[int] = _fk("category.id")
    reference: Mapped[str] = mapped_column(String(40), default=lambda: new_reference())
    name: Mapped[Name]
    description: Mapped[str] = mapped_column(String(300), default="")
    price: Mapped[Money]
    vat_rate: Mapped[int] = mapped_column(Integer, default=1000)  # hundredths of a percent
    # Sold to take away (the till's toggle): None is the same rate as eaten in.
    vat_rate_takeaway: Mapped[int | None] = mapped_column(Integer, default=None)
    allergens: Mapped[str] = mapped_column(String(200), default="")  # codes, comma-separated
    photo: Mapped[str | None] = mapped_column(String(80), default=None)  # a PhotoStore key
    station: Mapped[str | None] = mapped_column(String(40), default=None)  # None: category's
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Archived: off the menu (and never available again), kept for the orders that had it.
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class TableSession(Base):
    """A party's time at a table: open → settled → closed."""

    __tablename__ = "table_session"
    __table_args__ = (
        # At most one unfinished session per table, guaranteed by the database.
        Index(
            "uq_table_session_active",
            "table_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[intpk]
    table_id: Mapped[int] = mapped_column(IdType, ForeignKey("dining_table.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN)
    pin: Mapped[str] = mapped_column(String(12))
    round_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    last_activity_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    close_reason: Mapped[str | None] = mapped_column(String(20), default=None)
    # The diners' loyalty account, linked from a phone: the settled bill earns its points.
    customer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True,
                                                  ondelete="SET NULL")


class TableReward(Base):
    """A loyalty reward (taken with points, or a coupon) a diner applied to the table's
    bill: `discount` comes off what is due. Its key is the one loyalty took it under; given
    back (`given_back_at`) when the table closes without settling."""

    __tablename__ = "table_reward"

    id: Mapped[intpk]
    session_id: Mapped[int] = foreign_key("table_session.id")
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True,
                                                  ondelete="SET NULL")
    reward_key: Mapped[str] = mapped_column(String(64), unique=True)
    reward_id: Mapped[int] = mapped_column(IdType)
    reward_name: Mapped[str] = mapped_column(String(120))
    coupon: Mapped[bool] = mapped_column(Boolean, default=False)
    discount: Mapped[Money] = mapped_column(default=0)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    given_back_at: Mapped[datetime | None] = mapped_column(default=None)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("session_id", "device_key"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = _fk("table_session.id")
    device_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(40))
    joined_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Round(Base):
    """What was sent together: to validate → validated → … → served, or refused."""

    __tablename__ = "round"
    __table_args__ = (
        UniqueConstraint("session_id", "number"),
        UniqueConstraint("session_id", "idempotency_key"),
    )

    id: Mapped[intpk]
    session_id: Mapped[int] = _fk("table_session.id")
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.TO_VALIDATE)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    submitted_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("member.id"))
    # Who took it at the POS; None when a phone sent it.
    staff_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("staff.id"), default=None)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class OrderLine(Base):
    """A line in the shared cart (round_id None) or in a round sent to staff."""

    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("session_id", "client_id"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = _fk("table_session.id")
    client_id: Mapped[str] = mapped_column(String(64))  # chosen by the client: retries add once
    round_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("round.id", ondelete="CASCADE"), index=True, default=None
    )
    member_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("member.id"))
    product_id: Mapped[int] = mapped_column(IdType, ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Money]
    note: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Ticket(Base):
    """A round's lines for one production station, with their own progress."""

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("round_id", "station"),
        # A display lists its station's tickets by arrival.
        Index("ix_ticket_site_id_station_reached_at", "site_id", "station", "reached_at"),
    )

    id: Mapped[intpk]
    round_id: Mapped[int] = _fk("round.id")
    site_id: Mapped[int] = _fk("site.id")
    station: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.QUEUED)
    # When it reached the station: its display counts the waiting time from here.
    reached_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class RoundEdit(Base):
    __tablename__ = "round_edit"

    id: Mapped[intpk]
    round_id: Mapped[int] = _fk("round.id")
    revision: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int] = mapped_column(IdType, ForeignKey("staff.id"))
    at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("session_id", "idempotency_key"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = _fk("table_session.id")
    method: Mapped[str] = mapped_column(String(10))  # cash, card
    amount: Mapped[Money]
    tendered: Mapped[Money]
    change_given: Mapped[Money]
    idempotency_key: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(IdType, ForeignKey("staff.id"))
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
