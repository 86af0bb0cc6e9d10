"""Companies, their sites and their staff."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Name, intpk


class Company(Base):
    __tablename__ = "company"

    id: Mapped[intpk]
    name: Mapped[Name]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    # The planned opening day (the company's calendar); at least five days ahead when set.
    launch_on: Mapped[date | None] = mapped_column(Date, default=None)


class Site(Base):
    __tablename__ = "site"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("company.id"), index=True)
    name: Mapped[Name]  # the brand the diners see
    address: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")  # as the operator writes them
    # "menu": read only; "order": diners order, payment at the counter.
    table_mode: Mapped[str] = mapped_column(String(16), default="order")
    # When someone chose the mode (the default alone is not a choice); None: not yet.
    mode_chosen_at: Mapped[datetime | None] = mapped_column(default=None)
    # When its tables' QR codes were last printed; None: never.
    qr_printed_at: Mapped[datetime | None] = mapped_column(default=None)
    # An archived site keeps its history but leaves the lists and the POS.
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("company.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[Name]
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
