"""The customers whose birthday or absence occasion is due and not served yet, in batches.

One query per kind of occasion, for whatever serves it: a trigger's coupon (loyalty/
coupon_sweep.py) or an automatic send's message (loyalty/automatic.py). What serves an
occasion is a row of `Served.table` (a table with `key`, `consumer_id` and `created_at`)
whose key starts with `Served.prefix`; `Served.give` serves one (its key from loyalty/
triggers.py, unique in that table: two processes serving at once make one row). The query
leaves out the customers served, and those `Served.eligible` does not take (an SMS needs
the customer's consent and phone), so that a sweep never reads the same customers again.

Batches of `BATCH`, by customer id, each in a transaction of its own (`sweep`), at most
`max_batches` a sweep: what is left waits for the next one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from customers.models import Consumer
from loyalty.models import CampaignMessage, Coupon, LoyaltyProfile, PointsEntry
from loyalty.triggers import (
    BIRTHDAY_MAX_DAYS,
    Rule,
    TriggerKind,
    absence_key,
    absent_since,
    birthday_key,
    birthdays_within,
)
from realtime.bus import Bus
from realtime.events import Tx, run

BATCH = 200
# (customer, the occasion's key from loyalty/triggers.py, now): whether it served it now.
Give = Callable[[Tx, int, str, datetime], Awaitable[bool]]


@dataclass(frozen=True)
class Served:
    """What serves a rule's occasions, and how one is served."""

    rule: Rule
    table: type[Coupon] | type[CampaignMessage]
    prefix: str  # the keys of this rule's occasions in `table`
    give: Give
    eligible: ColumnElement[bool] | None = None  # on LoyaltyProfile and Consumer


async def _served_rows(
    tx: Tx, served: Served, rows: list[tuple[int, str | None]], now: datetime
) -> int:
    made = 0
    for consumer_id, occasion in rows:
        if occasion is not None and await served.give(tx, consumer_id, occasion, now):
            made += 1
    return made


async def birthdays(
    tx: Tx, company_id: int, served: Served, today: date, now: datetime, after: int
) -> tuple[int, int | None]:
    """One batch of customers whose birthday's window is open, not served for it:
    (how many were served, the last customer seen, None when done)."""
    days = sorted(month * 100 + day for month, day in birthdays_within(served.rule, today))
    born = LoyaltyProfile.birthday
    table = served.table
    # A row of this rule from the last BIRTHDAY_MAX_DAYS is this birthday's: the year
    # before's was at least a year less BIRTHDAY_MAX_DAYS ago.
    done = exists().where(
        table.consumer_id == LoyaltyProfile.consumer_id,
        table.key.like(f"{served.prefix}%"),
        table.created_at > now - timedelta(days=BIRTHDAY_MAX_DAYS + 1),
    )
    query = (
        select(LoyaltyProfile.consumer_id, born)
        .join(Consumer, Consumer.id == LoyaltyProfile.consumer_id)
        .where(LoyaltyProfile.company_id == company_id, Consumer.company_id == company_id,
               born.is_not(None), LoyaltyProfile.consumer_id > after,
               (extract("month", born) * 100 + extract("day", born)).in_(days), ~done)
        .order_by(LoyaltyProfile.consumer_id).limit(BATCH)
    )
    if served.eligible is not None:
        query = query.where(served.eligible)
    rows = (await tx.session.execute(query)).all()
    made = await _served_rows(tx, served, [
        (consumer_id, birthday_key(served.rule, consumer_id, birthday, today))
        for consumer_id, birthday in rows], now)
    return made, rows[-1][0] if len(rows) == BATCH else None


async def absences(
    tx: Tx, company_id: int, zone: ZoneInfo, served: Served, today: date, now: datetime,
    after: int,
) -> tuple[int, int | None]:
    """One batch of customers whose last visit was `every` days ago or more, not served
    since."""
    # Absent today: the last visit's day is absent_since(…) or before.
    cutoff = datetime.combine(absent_since(served.rule, today) + timedelta(days=1), time(),
                              zone).astimezone(UTC)
    last_query = (
        select(PointsEntry.consumer_id.label("consumer_id"),
               func.max(PointsEntry.visit_at).label("last"))
        .join(Consumer, Consumer.id == PointsEntry.consumer_id)
        .where(PointsEntry.company_id == company_id, Consumer.company_id == company_id,
               PointsEntry.visit_at.is_not(None), PointsEntry.consumer_id > after)
        .group_by(PointsEntry.consumer_id)
    )
    if served.eligible is not None:
        last_query = last_query.join(
            LoyaltyProfile, LoyaltyProfile.consumer_id == PointsEntry.consumer_id
        ).where(served.eligible)
    last = last_query.subquery()
    table = served.table
    done = exists().where(
        table.consumer_id == last.c.consumer_id,
        table.key.like(f"{served.prefix}%"),
        table.created_at >= last.c.last,
    )
    rows = (await tx.session.execute(
        select(last.c.consumer_id, last.c.last)
        .where(and_(last.c.last < cutoff, ~done))
        .order_by(last.c.consumer_id).limit(BATCH)
    )).all()
    made = await _served_rows(tx, served, [
        (consumer_id, absence_key(served.rule, consumer_id,
                                  last_visit.astimezone(zone).date(), today))
        for consumer_id, last_visit in rows], now)
    return made, rows[-1][0] if len(rows) == BATCH else None


async def batch(
    tx: Tx, company_id: int, zone: ZoneInfo, served: Served, now: datetime, after: int
) -> tuple[int, int | None]:
    """One batch of the rule's due occasions served (birthday or absence)."""
    today = now.astimezone(zone).date()
    if served.rule.kind is TriggerKind.BIRTHDAY:
        return await birthdays(tx, company_id, served, today, now, after)
    return await absences(tx, company_id, zone, served, today, now, after)


async def sweep(sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, company_id: int,
                zone: ZoneInfo, served: Served, now: datetime, max_batches: int) -> int:
    """The rule's due occasions served, a batch a transaction; how many were served."""
    made, after = 0, 0
    for _ in range(max_batches):
        count, last = await run(sessionmaker, bus, partial(
            batch, company_id=company_id, zone=zone, served=served, now=now, after=after))
        made += count
        if last is None:
            break
        after = last
    return made
