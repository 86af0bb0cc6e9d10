"""The demo's loyalty programme (`comptoir demo`): rules on, rewards a customer can take,
triggers, and the demo consumers' points matching their ledger; seeding twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from demo.loyalty import VISITS, seed_loyalty
from demo.seed import DemoVenue
from loyalty import service
from loyalty.models import CouponTrigger, LoyaltyProfile, LoyaltyRules, PointsEntry, Reward
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.conftest import Database


async def _counts(db: Database) -> tuple[int, int, int, int]:
    async with db.sessionmaker() as session:
        return (
            await session.scalar(select(func.count()).select_from(Reward)) or 0,
            await session.scalar(select(func.count()).select_from(CouponTrigger)) or 0,
            await session.scalar(select(func.count()).select_from(LoyaltyProfile)) or 0,
            await session.scalar(select(func.count()).select_from(PointsEntry)) or 0,
        )


async def test_the_demo_has_a_loyalty_programme_with_customers_who_have_points(
    db: Database, venue: DemoVenue
) -> None:
    for _ in range(2):
        async with db.sessionmaker() as session, session.begin():
            await seed_loyalty(session, venue.site_id)
    rewards, triggers, profiles, entries = await _counts(db)
    assert (rewards, triggers) == (3, 2)
    assert profiles == len(venue.consumers) > 0
    assert entries == profiles * len(VISITS)
    async with db.sessionmaker() as session:
        rules = await session.scalar(select(LoyaltyRules))
        assert rules is not None and rules.enabled
        for profile in await session.scalars(select(LoyaltyProfile)):
            total = await session.scalar(select(func.sum(PointsEntry.points)).where(
                PointsEntry.consumer_id == profile.consumer_id))
            assert profile.balance == total > 0
        consumer_id = profile.consumer_id
        company_id = profile.company_id

    async def read(tx: Tx) -> service.Customer:
        return await service.customer(tx, company_id, consumer_id)

    bus = make_bus(None)
    try:
        customer = await run(db.sessionmaker, bus, read)
    finally:
        await bus.close()
    assert [r.affordable for r in customer.rewards] == [True, True, False]
    assert {r.name for r in customer.rewards} == {
        "Espresso offert", "5 € de remise", "10 % sur l'addition"}
