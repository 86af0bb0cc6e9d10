"""The outbox: each recorded fact, and each subscriber it reached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Timestamp, foreign_key, intpk


class OutboxEvent(Base):
    """A fact recorded in the transaction where it happened, kept for its subscribers."""

    __tablename__ = "outbox_event"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the event's own id
    name: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text)  # the event as JSON
    recorded_at: Mapped[Timestamp]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the sweeper may try it (again); None once every subscriber has it.
    retry_at: Mapped[datetime | None] = mapped_column(index=True)
    delivered_at: Mapped[datetime | None]


class EventDelivery(Base):
    """One subscriber's effects of one event, committed with them: its key makes them once."""

    __tablename__ = "event_delivery"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("outbox_event.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber: Mapped[str] = mapped_column(String(80), primary_key=True)
    delivered_at: Mapped[Timestamp]


class AuditEntry(Base):
    """Who changed what that matters (a price, a deletion, an archive), and when."""

    __tablename__ = "audit_entry"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    actor_staff_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(60))  # e.g. product.price
    target: Mapped[str] = mapped_column(String(120))  # e.g. product:12
    changes: Mapped[str] = mapped_column(Text)  # JSON: {"field": [before, after]}
    at: Mapped[Timestamp] = mapped_column(index=True)
