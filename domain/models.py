"""The outbox: each recorded fact, and each subscriber it reached; the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Timestamp, foreign_key, intpk, utcnow


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

    # Replaying the log in the order it was recorded (the statistics' rebuild) pages on this.
    __table_args__ = (Index("ix_outbox_event_recorded", "recorded_at", "id"),)


class EventDelivery(Base):
    """One subscriber's effects of one event, committed with them: its key makes them once."""

    __tablename__ = "event_delivery"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("outbox_event.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber: Mapped[str] = mapped_column(String(80), primary_key=True)
    delivered_at: Mapped[Timestamp]


class AuditEntry(Base):
    """One change that matters (a role, a PIN reset, an archive…): who, when, what (audit.py)."""

    __tablename__ = "audit_entry"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    actor_staff_id: Mapped[int | None] = foreign_key(
        "staff.id", nullable=True, ondelete="SET NULL")
    at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(80))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
