"""Companies, their sites and their staff."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Name, intpk


class Company(Base):
    __tablename__ = "company"

    id: Mapped[intpk]
    name: Mapped[Name]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    locale: Mapped[str] = mapped_column(String(10), default="fr")


class Site(Base):
    __tablename__ = "site"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("company.id"), index=True)
    name: Mapped[Name]
    # "menu": read only; "order": diners order, payment at the counter.
    table_mode: Mapped[str] = mapped_column(String(16), default="order")


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("company.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[Name]
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
