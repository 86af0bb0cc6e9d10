"""Each topic's version lives in the database, beside the state it versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.engine import on_postgresql


class TopicVersion(Base):
    __tablename__ = "topic_version"

    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def _bump(insert: Any) -> Any:
    table = TopicVersion.__table__
    return (
        insert(table)
        .values(topic=bindparam("topic"), version=1)
        .on_conflict_do_update(
            index_elements=[table.c.topic], set_={"version": table.c.version + 1}
        )
        .returning(table.c.version)
    )


# Built once per dialect: every change bumps at least one version.
_BUMP = {True: _bump(pg_insert), False: _bump(sqlite_insert)}


async def bump_version(session: AsyncSession, topic: str) -> int:
    """Increment and return the topic's version inside the caller's transaction.

    The row lock taken by the upsert orders concurrent writers of one topic, so versions
    follow commit order on PostgreSQL; SQLite has a single writer anyway.
    """
    stmt = _BUMP[on_postgresql(session)]
    connection = await session.connection()  # a Core statement: no ORM work around it
    version: int = (await connection.execute(stmt, {"topic": topic})).scalar_one()
    return version


async def current_version(session: AsyncSession, topic: str) -> int:
    version = await session.scalar(select(TopicVersion.version).where(TopicVersion.topic == topic))
    return version or 0


async def versions_of(session: AsyncSession, topics: list[str]) -> dict[str, int]:
    """The versions of many topics at once (a topic never changed has none: 0)."""
    found: dict[str, int] = {}
    for start in range(0, len(topics), 500):  # bounded IN lists
        rows = await session.execute(
            select(TopicVersion.topic, TopicVersion.version).where(
                TopicVersion.topic.in_(topics[start : start + 500])
            )
        )
        found.update((topic, version) for topic, version in rows)
    return found
