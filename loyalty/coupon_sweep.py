"""The coupons of the birthday and absence triggers, issued on a timer by every process.

Each sweep looks, company by company and trigger by trigger, for the customers whose
occasion is due and has no coupon yet (loyalty/occasions.py: the query leaves out those
served), a batch of `occasions.BATCH` at a time, each batch in its own transaction, at
most `MAX_BATCHES` per trigger: what is left waits for the next sweep. Two processes
sweeping at once issue one coupon per occasion: its key is unique (loyalty/issuing.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import Company
from loyalty import occasions
from loyalty.issuing import Live, issue, live_triggers
from loyalty.models import Coupon, CouponTrigger
from loyalty.triggers import TriggerKind
from realtime.bus import Bus
from realtime.events import Tx

MAX_BATCHES = 10  # per trigger and sweep
SWEPT = (TriggerKind.BIRTHDAY, TriggerKind.ABSENCE)


def served_by(company_id: int, live: Live) -> occasions.Served:
    """The trigger's occasions, served by its coupons (keyed by the occasion)."""

    async def give(tx: Tx, consumer_id: int, key: str, now: datetime) -> bool:
        return await issue(tx, company_id, live, consumer_id, key, now) is not None

    return occasions.Served(live.rule, Coupon, f"{live.rule.kind.value}:{live.rule.id}:", give)


async def _companies(session: AsyncSession) -> list[tuple[int, str]]:
    """The companies with a birthday or absence trigger on: (id, time zone)."""
    rows = (await session.execute(
        select(Company.id, Company.timezone).where(Company.id.in_(
            select(CouponTrigger.company_id).where(
                CouponTrigger.active, CouponTrigger.kind.in_([k.value for k in SWEPT]))))
        .order_by(Company.id)
    )).all()
    return [(company_id, tz) for company_id, tz in rows]


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
            made += await occasions.sweep(sessionmaker, bus, company_id, ZoneInfo(tz),
                                          served_by(company_id, live), moment, MAX_BATCHES)
    return made
