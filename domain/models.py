"""The outbox (each recorded fact, and each subscriber it reached) and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Timestamp


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
    """One change that matters: who made it, when, to what, and what changed (JSON)."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # Named by table, never imported: the audit log sits below every room.
    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id", ondelete="CASCADE"), index=True
    )
    # None: the system or the command line; kept when the staff member is deleted.
    actor_staff_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[Timestamp] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(120))
    changes: Mapped[str] = mapped_column(Text)  # JSON: {field: [before, after]} or details
