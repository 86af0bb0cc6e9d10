"""A reward given back when its ticket or table was abandoned: a redemption's points come
back once however often asked (or at once), a coupon is usable again; another company's key
gives nothing back. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from loyalty import ledger, service, setup
from loyalty.commands import Redeem, UseCoupon
from loyalty.errors import KeyReused
from loyalty.ledger import Kind
from loyalty.models import Coupon
from tests.loyalty.conftest import Loyal, key, now
from web.commands import parse


async def _customer_with(loyal: Loyal, points: int) -> int:
    zoe = await loyal.customer()
    await loyal.run(lambda tx: ledger.post(tx, loyal.company_id, zoe, points, Kind.EARN,
                                           f"test:{key()}"))
    return zoe


async def test_a_redemption_given_back_returns_its_points_once(loyal: Loyal) -> None:
    await loyal.rules()
    off = await loyal.reward(cost_points=30, effect="amount_off", amount=300)
    zoe = await _customer_with(loyal, 50)
    taken = key()
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, parse(Redeem, {
        "consumer_id": zoe, "reward_id": off.id, "idempotency_key": taken, "total": 900})))
    assert await loyal.balance(zoe) == 20
    results = await asyncio.gather(*(
        loyal.run(lambda tx: service.give_back(tx, loyal.company_id, taken, zoe))
        for _ in range(3)))
    assert sorted(r.points for r in results) == [0, 0, 30]
    again = await loyal.run(lambda tx: service.give_back(tx, loyal.company_id, taken, zoe))
    assert not again.anything
    assert await loyal.balance(zoe) == 50 == await loyal.ledger_sum(zoe)
    assert await loyal.entries(zoe) == [("earn", 50), ("redeem", -30), ("given_back", 30)]
    # Given back, the key names no reward taken any more, and cannot take one again.
    async with loyal.db.sessionmaker() as session:
        assert await service.redeemed(session, loyal.company_id, zoe, taken) is None
    with pytest.raises(KeyReused):
        await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, parse(Redeem, {
            "consumer_id": zoe, "reward_id": off.id, "idempotency_key": taken})))


async def test_a_coupon_given_back_is_usable_again_and_only_its_own_use_is_undone(
    loyal: Loyal,
) -> None:
    reward = await loyal.reward(cost_points=5, effect="percent_off", percent=10)
    zoe = await loyal.customer()
    coupon = await loyal.run(lambda tx: setup.issue_coupon(
        tx, loyal.company_id, reward.id, now() + timedelta(days=3), consumer_id=zoe))
    first = key()
    await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, parse(
        UseCoupon, {"token": coupon.token, "idempotency_key": first, "total": 1000})))
    given = await loyal.run(lambda tx: service.give_back(tx, loyal.company_id, first))
    assert given.coupon and given.consumer_id == zoe and given.points == 0
    assert not (await loyal.run(
        lambda tx: service.give_back(tx, loyal.company_id, first))).anything
    # Used again under another key: the first key's give-back no longer touches it.
    second = key()
    await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, parse(
        UseCoupon, {"token": coupon.token, "idempotency_key": second, "total": 1000})))
    assert not (await loyal.run(
        lambda tx: service.give_back(tx, loyal.company_id, first))).anything
    async with loyal.db.sessionmaker() as session:
        used = await session.scalar(select(Coupon).where(Coupon.id == coupon.id))
        assert used is not None and used.used_key == second and used.used_at is not None


async def test_another_companys_key_gives_nothing_back(loyal: Loyal) -> None:
    await loyal.rules()
    off = await loyal.reward(cost_points=10, effect="amount_off", amount=100)
    zoe = await _customer_with(loyal, 10)
    taken = key()
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, parse(Redeem, {
        "consumer_id": zoe, "reward_id": off.id, "idempotency_key": taken})))
    other = await loyal.other_company()
    nothing = await loyal.run(lambda tx: service.give_back(tx, other, taken, zoe))
    assert not nothing.anything
    unknown = await loyal.run(lambda tx: service.give_back(tx, loyal.company_id, key(), zoe))
    assert not unknown.anything
    assert await loyal.balance(zoe) == 0
