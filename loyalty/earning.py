"""Points earned by a visit and taken back by its refund, each once whatever is replayed.

A visit is a sale at the till, a table's bill or a drink served by a machine, heard as the
room's domain event (loyalty/hearing.py). Its entry's key is the visit's own business key,
so a second delivery, or a sale synced twice under two events, finds it and adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Consumer
from loyalty import ledger
from loyalty.ledger import Kind
from loyalty.models import LoyaltyProfile, PointsEntry
from loyalty.programme import programme_of
from loyalty.rules import points_for_visit, taken_back
from realtime.events import Tx


async def _hold(session: AsyncSession, consumer_id: int) -> int:
    """Take the customer's balance row for the rest of the transaction (an update that
    changes nothing): visits and refunds of one customer are decided one after another.
    Returns the balance."""
    balance = await session.scalar(
        update(LoyaltyProfile)
        .where(LoyaltyProfile.consumer_id == consumer_id)
        .values(balance=LoyaltyProfile.balance)
        .returning(LoyaltyProfile.balance)
        .execution_options(synchronize_session=False)
    )
    assert balance is not None, "ensure_profile made it"
    return balance


async def visit(
    tx: Tx, *, company_id: int, consumer_id: int, key: str, origin: str,
    spent: int, at: datetime, site_id: int | None,
) -> ledger.Posted | None:
    """Award what a visit earns under the company's rules; None when the programme is off
    or the customer is not the company's."""
    session = tx.session
    programme = await programme_of(session, company_id)
    if not programme.enabled:
        return None
    existing = await ledger.entry_of(session, key)
    if existing is not None:
        return ledger.Posted(existing, duplicate=True)
    owner = await session.scalar(select(Consumer.company_id).where(Consumer.id == consumer_id))
    if owner != company_id:
        return None
    await ledger.ensure_profile(session, company_id, consumer_id)
    await _hold(session, consumer_id)
    delay = programme.earn.min_delay
    nearby: list[datetime] = []
    if delay:
        nearby = list(await session.scalars(
            select(PointsEntry.visit_at).where(
                PointsEntry.consumer_id == consumer_id, PointsEntry.kind == Kind.EARN,
                PointsEntry.points > 0, PointsEntry.visit_at > at - delay,
                PointsEntry.visit_at < at + delay,
            )
        ))
    points = points_for_visit(programme.earn, spent, at, (v for v in nearby if v is not None))
    return await ledger.post(
        tx, company_id, consumer_id, points, Kind.EARN, key, origin=origin, spent=spent,
        visit_at=at, site_id=site_id,
    )


async def refund(
    tx: Tx, *, company_id: int, origin: str, key: str, refunded: int,
    site_id: int | None, at: datetime | None = None,
) -> ledger.Posted | None:
    """Take back from the visit named `origin` its share of what it earned for `refunded`
    (minor units, positive); None when that visit earned nothing with us. `at`: when the
    refund was made (the statistics count it then)."""
    session = tx.session
    earned = await session.scalar(
        select(PointsEntry).where(
            PointsEntry.company_id == company_id, PointsEntry.origin == origin,
            PointsEntry.kind == Kind.EARN,
        )
    )
    if earned is None:
        return None
    existing = await ledger.entry_of(session, key)
    if existing is not None:
        return ledger.Posted(existing, duplicate=True)
    balance = await _hold(session, earned.consumer_id)
    before = (await session.execute(
        select(func.coalesce(func.sum(PointsEntry.points), 0),
               func.coalesce(func.sum(PointsEntry.spent), 0))
        .where(PointsEntry.origin == origin, PointsEntry.kind == Kind.TAKE_BACK,
               PointsEntry.company_id == company_id)
    )).one()
    points = taken_back(
        earned.points, earned.spent, refunded_before=-int(before[1]),
        refunded_now=refunded, taken_before=-int(before[0]), balance=balance,
    )
    return await ledger.post(
        tx, company_id, earned.consumer_id, -points, Kind.TAKE_BACK, key, origin=origin,
        spent=-refunded, visit_at=at, site_id=site_id,
    )
