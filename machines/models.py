"""Coffee machines, their selections of drinks, the groups allowed at them and brews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Name, Timestamp, foreign_key, intpk, utcnow
from machines.brew_state import BrewStatus


class Selection(Base):
    """The drinks a machine model offers, with recipes and prices; shared by machines."""

    __tablename__ = "machine_selection"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    model: Mapped[str] = mapped_column(String(60))
    name: Mapped[Name]
    share_token: Mapped[str] = mapped_column(String(64), unique=True)  # read-only link
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class SelectionProduct(Base):
    __tablename__ = "machine_product"

    id: Mapped[intpk]
    selection_id: Mapped[int] = foreign_key("machine_selection.id")
    name: Mapped[Name]
    price: Mapped[Money] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(String(20))  # espresso, lungo, cappuccino… (recipes.py)
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)








class Machine(Base):
    __tablename__ = "machine"

    id: Mapped[intpk]
    site_id: Mapped[int] = foreign_key("site.id")
    model: Mapped[str] = mapped_column(String(60))
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[Name]
    mode: Mapped[str] = mapped_column(String(16), default="open")  # access.Mode
    token: Mapped[str] = mapped_column(String(64), unique=True)  # in the QR code
    selection_id: Mapped[int | None] = foreign_key(
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
    selection_id: Mapped[int | None] = foreign_key(
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
    machine_id: Mapped[int] = foreign_key("machine.id")
    product_id: Mapped[int | None] = foreign_key(
        "machine_product.id", nullable=True, ondelete="SET NULL"
    )
    product_name: Mapped[Name]
    product_type: Mapped[str] = mapped_column(String(20))
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consumer_id: Mapped[int | None] = foreign_key("consumer.id", nullable=True, ondelete="SET NULL")
    group_id: Mapped[int | None] = foreign_key("user_group.id", nullable=True, ondelete="SET NULL")
    device_key: Mapped[str] = mapped_column(String(64), default="")  # who asked, anonymously
    price: Mapped[Money] = mapped_column(default=0)
    charge: Mapped[str] = mapped_column(String(10), default="none")  # none | credit | payment
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=BrewStatus.REQUESTED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(60), default=None)
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)














