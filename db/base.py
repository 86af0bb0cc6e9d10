"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Result,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned in UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
IdType = BigInteger().with_variant(Integer(), "sqlite")

intpk = Annotated[int, mapped_column(IdType, primary_key=True, autoincrement=True)]
Money = Annotated[int, mapped_column(BigInteger)]  # integer minor units
Timestamp = Annotated[datetime, mapped_column(UTCDateTime)]
Name = Annotated[str, mapped_column(String(120))]

MAX_ID = 2**63 - 1  # both databases store ids as signed 64-bit integers


def is_id(value: object) -> bool:
    """Could this be a row id? A bigger int makes the driver raise instead of finding nothing."""
    return type(value) is int and 0 < value <= MAX_ID


def foreign_key(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    """An indexed id column referring to `target` ("table.id"): a row of another room is
    named by its table, never imported."""
    return mapped_column(
        IdType, ForeignKey(target, ondelete=ondelete), index=True, nullable=nullable
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched: a conditional write's verdict."""
    return cast(CursorResult[Any], result).rowcount
