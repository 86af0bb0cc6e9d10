"""Companies, their sites and their staff."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Name, Timestamp, intpk, utcnow


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
    # After how many minutes a ticket waiting on a kitchen or bar display turns amber, then
    # red (amber < red; backoffice/site_forms.py and accounts/company_service.py check).
    ticket_amber_min: Mapped[int] = mapped_column(Integer, default=10)
    ticket_red_min: Mapped[int] = mapped_column(Integer, default=20)
    # A discount above this share of a ticket (or a line) needs a supervisor at the till.
    discount_limit_percent: Mapped[int] = mapped_column(Integer, default=10)
    # After how many hours without reaching the server a till warns (its sales wait on it).
    offline_warn_hours: Mapped[int] = mapped_column(Integer, default=24)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("company.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[Name]
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The personal PIN that switches user at the till, set by the staff member (scrypt).
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # Every site of the company, or only those of `staff_site`.
    all_sites: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every section of the back office the role opens, or only those of `staff_section`.
    all_sections: Mapped[bool] = mapped_column(Boolean, default=True)
    # An invitation not yet accepted: the SHA-256 of its link's token, and until when.
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    invite_expires_at: Mapped[datetime | None] = mapped_column(default=None)


class StaffSection(Base):
    """A section of the back office (customers, campaigns, statistics, settings) that a
    member of staff without `all_sections` may open."""

    __tablename__ = "staff_section"

    staff_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    section: Mapped[str] = mapped_column(String(16), primary_key=True)


class StaffSite(Base):
    """A site where a member of staff without `all_sites` may work."""

    __tablename__ = "staff_site"

    staff_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("site.id", ondelete="CASCADE"), primary_key=True, index=True)


class OperatorSignup(Base):
    """An operator who signed up and has no company yet: the address to confirm, then the
    company to name (accounts/signups.py). Gone once the company and its admin exist."""

    __tablename__ = "operator_signup"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # sha256 of the mailed link's token: the database never holds a usable link.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
