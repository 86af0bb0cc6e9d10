"""Coupons issued by the company's triggers, one per occasion whoever issues it.

A coupon is inserted under its occasion's key (loyalty/triggers.py) with INSERT … ON
CONFLICT DO NOTHING: a replayed visit, a sweep run by two processes at once, or a trigger
asked twice all name the same occasion, and the unique key keeps the first coupon (on
PostgreSQL the second insert waits for the first to commit, then inserts nothing).

The visits trigger is asked in the transaction of the visit that earned (ledger.post);
the birthday and absence triggers by the sweep (loyalty/coupon_sweep.py). A trigger
issues only while it is on, its reward offered, and the company's programme on.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Consumer
from customers.publishing import user_changed
from db.engine import on_postgresql
from loyalty.models import Coupon, CouponTrigger, PointsEntry, Reward
from loyalty.programme import programme_of
from loyalty.triggers import Rule, TriggerKind, visits_key
from realtime.events import Tx


@dataclass(frozen=True)
class Live:
    """A trigger that may issue now: on, with its reward offered."""

    rule: Rule
    reward_id: int
    valid_days: int


async def live_triggers(
    session: AsyncSession, company_id: int, kinds: Iterable[TriggerKind]
) -> list[Live]:
    """The company's triggers of these kinds that issue now (none while the programme is
    off)."""
    if not (await programme_of(session, company_id)).enabled:
        return []
    rows = await session.scalars(
        select(CouponTrigger)
        .join(Reward, Reward.id == CouponTrigger.reward_id)
        .where(CouponTrigger.company_id == company_id, CouponTrigger.active,
               CouponTrigger.kind.in_([k.value for k in kinds]),
               Reward.company_id == company_id, Reward.active)
        .order_by(CouponTrigger.id)
    )
    return [Live(Rule(t.id, TriggerKind(t.kind), t.every), t.reward_id, t.valid_days)
            for t in rows]


def _insert(session: AsyncSession) -> Any:
    return pg_insert if on_postgresql(session) else sqlite_insert


async def issue(
    tx: Tx, company_id: int, live: Live, consumer_id: int, key: str, now: datetime
) -> int | None:
    """The coupon for this occasion, valid `valid_days` from now; its id, or None when the
    occasion had its coupon already (here, or in another transaction a moment ago)."""
    session = tx.session
    coupon_id: int | None = await session.scalar(
        _insert(session)(Coupon)
        .values(company_id=company_id, consumer_id=consumer_id, reward_id=live.reward_id,
                token=secrets.token_urlsafe(24), trigger=live.rule.kind.value, key=key,
                expires_at=now + timedelta(days=live.valid_days), created_at=now)
        .on_conflict_do_nothing(index_elements=[Coupon.key])
        .returning(Coupon.id)
    )
    if coupon_id is not None:
        await user_changed(tx, consumer_id, "coupon.issued",
                           {"coupon_id": coupon_id, "reward_id": live.reward_id})
    return coupon_id


async def earning_visits(session: AsyncSession, company_id: int, consumer_id: int) -> int:
    """How many visits of the customer earned points (a visit under the delay between two
    visits, which earned nothing, does not count)."""
    return await session.scalar(
        select(func.count()).select_from(PointsEntry).where(
            PointsEntry.company_id == company_id, PointsEntry.consumer_id == consumer_id,
            PointsEntry.visit_at.is_not(None), PointsEntry.points > 0)
    ) or 0


async def after_visit(
    tx: Tx, company_id: int, consumer_id: int, now: datetime | None = None
) -> list[int]:
    """A visit of this customer just earned (in this transaction): the coupons its count
    calls for. The customer's visits are posted one after another (the ledger's update of
    their balance holds its row), so each count is seen once."""
    session = tx.session
    live = await live_triggers(session, company_id, [TriggerKind.VISITS])
    if not live:
        return []
    owner = await session.scalar(select(Consumer.company_id).where(Consumer.id == consumer_id))
    if owner != company_id:
        return []
    visits = await earning_visits(session, company_id, consumer_id)
    moment = now or datetime.now(UTC)
    issued = []
    for trigger in live:
        key = visits_key(trigger.rule, consumer_id, visits)
        if key is not None:
            coupon_id = await issue(tx, company_id, trigger, consumer_id, key, moment)
            if coupon_id is not None:
                issued.append(coupon_id)
    return issued
