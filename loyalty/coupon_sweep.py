"""The coupons of the birthday and absence triggers, issued on a timer by every process.

Each sweep looks, company by company and trigger by trigger, for the customers whose
occasion is due and has no coupon yet (the query leaves out those served), a batch of
`BATCH` at a time, each batch in its own transaction, at most `MAX_BATCHES` per trigger:
what is left waits for the next sweep. Two processes sweeping at once issue one coupon per
occasion: its key is unique (loyalty/issuing.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import Company
from customers.models import Consumer
from loyalty.issuing import Live, issue, live_triggers
from loyalty.models import Coupon, CouponTrigger, LoyaltyProfile, PointsEntry
from loyalty.triggers import (
    BIRTHDAY_MAX_DAYS,
    TriggerKind,
    absence_key,
    absent_since,
    birthday_key,
    birthdays_within,
)
from realtime.bus import Bus
from realtime.events import Tx, run

BATCH = 200
MAX_BATCHES = 10  # per trigger and sweep
SWEPT = (TriggerKind.BIRTHDAY, TriggerKind.ABSENCE)


async def _birthdays(
    tx: Tx, company_id: int, live: Live, today: date, now: datetime, after: int
) -> tuple[int, int | None]:
    """One batch of customers whose birthday's window is open and who have no coupon of
    this trigger for it: (coupons issued, the last customer seen, None when done)."""
    days = sorted(month * 100 + day for month, day in birthdays_within(live.rule, today))
    born = LoyaltyProfile.birthday
    # A coupon of this trigger from the last BIRTHDAY_MAX_DAYS is this birthday's: the
    # year before's was at least a year less BIRTHDAY_MAX_DAYS ago.
    served = exists().where(
        Coupon.consumer_id == LoyaltyProfile.consumer_id,
        Coupon.key.like(f"{live.rule.kind.value}:{live.rule.id}:%"),
        Coupon.created_at > now - timedelta(days=BIRTHDAY_MAX_DAYS + 1),
    )
    rows = (await tx.session.execute(
        select(LoyaltyProfile.consumer_id, born)
        .join(Consumer, Consumer.id == LoyaltyProfile.consumer_id)
        .where(LoyaltyProfile.company_id == company_id, Consumer.company_id == company_id,
               born.is_not(None), LoyaltyProfile.consumer_id > after,
               (extract("month", born) * 100 + extract("day", born)).in_(days), ~served)
        .order_by(LoyaltyProfile.consumer_id).limit(BATCH)
    )).all()
    made = 0
    for consumer_id, birthday in rows:
        key = birthday_key(live.rule, consumer_id, birthday, today)
        if key is not None and await issue(tx, company_id, live, consumer_id, key, now):
            made += 1
    return made, rows[-1][0] if len(rows) == BATCH else None


async def _absences(
    tx: Tx, company_id: int, zone: ZoneInfo, live: Live, today: date, now: datetime,
    after: int,
) -> tuple[int, int | None]:
    """One batch of customers whose last visit was `every` days ago or more, with no coupon
    of this trigger since."""
    # Absent today: the last visit's day is absent_since(…) or before.
    cutoff = datetime.combine(absent_since(live.rule, today) + timedelta(days=1), time(),
                              zone).astimezone(UTC)
    last = (
        select(PointsEntry.consumer_id.label("consumer_id"),
               func.max(PointsEntry.visit_at).label("last"))
        .join(Consumer, Consumer.id == PointsEntry.consumer_id)
        .where(PointsEntry.company_id == company_id, Consumer.company_id == company_id,
               PointsEntry.visit_at.is_not(None), PointsEntry.consumer_id > after)
        .group_by(PointsEntry.consumer_id)
        .subquery()
    )
    served = exists().where(
        Coupon.consumer_id == last.c.consumer_id,
        Coupon.key.like(f"{live.rule.kind.value}:{live.rule.id}:%"),
        Coupon.created_at >= last.c.last,
    )
    rows = (await tx.session.execute(
        select(last.c.consumer_id, last.c.last)
        .where(and_(last.c.last < cutoff, ~served))
        .order_by(last.c.consumer_id).limit(BATCH)
    )).all()
    made = 0
    for consumer_id, last_visit in rows:
        key = absence_key(live.rule, consumer_id, last_visit.astimezone(zone).date(), today)
        if key is not None and await issue(tx, company_id, live, consumer_id, key, now):
            made += 1
    return made, rows[-1][0] if len(rows) == BATCH else None


async def _companies(session: AsyncSession) -> list[tuple[int, str]]:
    """The companies with a birthday or absence trigger on: (id, time zone)."""
    rows = (await session.execute(
        select(Company.id, Company.timezone).where(Company.id.in_(
            select(CouponTrigger.company_id).where(
                CouponTrigger.active, CouponTrigger.kind.in_([k.value for k in SWEPT]))))
        .order_by(Company.id)
    )).all()
    return [(company_id, tz) for company_id, tz in rows]


async def _batch(
    tx: Tx, company_id: int, zone: ZoneInfo, live: Live, now: datetime, after: int
) -> tuple[int, int | None]:
    today = now.astimezone(zone).date()
    if live.rule.kind is TriggerKind.BIRTHDAY:
        return await _birthdays(tx, company_id, live, today, now, after)
    return await _absences(tx, company_id, zone, live, today, now, after)


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, now: datetime | None = None,
) -> int:
    """Issue the birthday and absence coupons due; returns how many were issued."""
    moment = now or datetime.now(UTC)
    async with sessionmaker() as session:
        companies = await _companies(session)
    made = 0
    for company_id, tz in companies:
        async with sessionmaker() as session:
            triggers = await live_triggers(session, company_id, SWEPT)
        for live in triggers:
            after: int | None = 0
            for _ in range(MAX_BATCHES):
                if after is None:
                    break
                issued, after = await run(sessionmaker, bus, partial(
                    _batch, company_id=company_id, zone=ZoneInfo(tz), live=live, now=moment,
                    after=after))
                made += issued
    return made
