"""Each topic's version lives in the database, beside the state it versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, bindparam, select, true
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
        .values(topic=bindparam("versioned_topic"), version=1)
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
    version: int = (await connection.execute(stmt, {"versioned_topic": topic})).scalar_one()
    return version


# A change statement -> it and the version's bump in one statement (built once each).
_WITH_BUMP: dict[Any, Any] = {}


async def change_and_bump(
    session: AsyncSession, change: Any, params: dict[str, Any], topic: str
) -> tuple[Any, int]:
    """Run a statement that changes rows and returns one (INSERT, UPDATE or DELETE …
    RETURNING), and bump the topic's version (`bump_version`): on PostgreSQL in one round
    trip (both as data-modifying WITH queries of one statement), elsewhere in two.
    The change's returned row (None when it touched none) and the new version."""
    connection = await session.connection()
    if not on_postgresql(session):
        row = (await connection.execute(change, params)).first()
        return row, await bump_version(session, topic)
    statement = _WITH_BUMP.get(change)
    if statement is None:
        done, bump = change.cte("change"), _BUMP[True].cte("bump")
        statement = _WITH_BUMP[change] = select(bump.c.version, *done.c).select_from(
            bump.outerjoin(done, true()))
    row = (await connection.execute(statement, {**params, "versioned_topic": topic})).one()
    found = tuple(row[1:])
    return (None if all(value is None for value in found) else found), int(row[0])


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
