"""Finding a customer and taking a reward: once per key, never below zero, refused with its
reason. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from customers.models import Consumer
from errors import DomainError
from loyalty import ledger, profiles, service
from loyalty.commands import Lookup, Profile, Redeem
from loyalty.errors import (
    BadLookup,
    ContactNeeded,
    KeyReused,
    LoyaltyOff,
    NotEnoughPoints,
    PhoneTaken,
    RewardUnavailable,
    UnknownCustomer,
)
from loyalty.ledger import Kind
from loyalty.rules import EffectKind, OnBill
from tests.loyalty.conftest import Loyal, key
from web.commands import parse


async def _give(loyal: Loyal, consumer_id: int, points: int) -> None:
    await loyal.run(lambda tx: ledger.post(tx, loyal.company_id, consumer_id, points,
                                           Kind.EARN, f"test:{key()}"))


def _redeem(consumer_id: int, reward_id: int, idempotency_key: str | None = None,
            **more: Any) -> Redeem:
    return parse(Redeem, {"consumer_id": consumer_id, "reward_id": reward_id,
                          "idempotency_key": idempotency_key or key(), **more})


async def test_a_reward_takes_its_points_and_says_what_comes_off_the_bill(loyal: Loyal) -> None:
    await loyal.rules()
    coffee = await loyal.reward(cost_points=10, venue_cost=40, effect="free_product",
                                product_id=7, product_name="Espresso")
    zoe = await loyal.customer()
    await _give(loyal, zoe, 25)
    applied = await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, _redeem(
        zoe, coffee.id, total=1260,
        lines=[{"product_id": 7, "unit_price": 180, "quantity": 2}])))
    assert (applied.points, applied.balance, applied.venue_cost) == (10, 15, 40)
    assert applied.effect.kind is EffectKind.FREE_PRODUCT
    assert applied.on_bill == OnBill(180)
    assert await loyal.balance(zoe) == 15 == await loyal.ledger_sum(zoe)


async def test_a_retried_redemption_takes_the_points_once(loyal: Loyal) -> None:
    await loyal.rules()
    off = await loyal.reward(cost_points=10, effect="amount_off", amount=300)
    zoe = await loyal.customer()
    await _give(loyal, zoe, 100)
    same = _redeem(zoe, off.id, total=1000)
    results = await asyncio.gather(
        *(loyal.run(lambda tx: service.redeem(tx, loyal.company_id, same)) for _ in range(5))
    )
    assert sum(not r.duplicate for r in results) == 1
    assert {r.on_bill for r in results} == {OnBill(300)}
    assert await loyal.balance(zoe) == 90 == await loyal.ledger_sum(zoe)
    assert await loyal.entries(zoe) == [("earn", 100), ("redeem", -10)]


async def test_concurrent_redemptions_never_take_the_balance_below_zero(loyal: Loyal) -> None:
    await loyal.rules()
    off = await loyal.reward(cost_points=10, effect="percent_off", percent=10)
    zoe = await loyal.customer()
    await _give(loyal, zoe, 30)
    results = await asyncio.gather(
        *(loyal.run(lambda tx: service.redeem(tx, loyal.company_id, _redeem(zoe, off.id)))
          for _ in range(6)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, service.Applied) for r in results) == 3, results
    assert all(isinstance(r, service.Applied | NotEnoughPoints) for r in results), results
    assert await loyal.balance(zoe) == 0 == await loyal.ledger_sum(zoe)


async def test_refusals_name_their_reason_and_take_nothing(loyal: Loyal) -> None:
    off = await loyal.reward(cost_points=10, effect="amount_off", amount=300)
    zoe = await loyal.customer()
    await _give(loyal, zoe, 5)

    async def refused(command: Redeem) -> DomainError:
        with pytest.raises(DomainError) as caught:
            await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, command))
        return caught.value

    assert isinstance(await refused(_redeem(zoe, off.id)), LoyaltyOff)
    await loyal.rules()
    assert isinstance(await refused(_redeem(zoe, off.id)), NotEnoughPoints)
    assert isinstance(await refused(_redeem(zoe, off.id + 1000)), RewardUnavailable)
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(Consumer).where(Consumer.id == zoe).values(email=""))
    await _give(loyal, zoe, 20)
    assert isinstance(await refused(_redeem(zoe, off.id)), ContactNeeded)
    await loyal.rules(contactless_may_redeem=True)
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, _redeem(zoe, off.id)))
    assert await loyal.balance(zoe) == 15


async def test_a_key_used_for_another_reward_is_refused(loyal: Loyal) -> None:
    await loyal.rules()
    one = await loyal.reward(cost_points=10, effect="amount_off", amount=300)
    two = await loyal.reward(cost_points=10, effect="amount_off", amount=500)
    zoe = await loyal.customer()
    await _give(loyal, zoe, 50)
    same = key()
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, _redeem(zoe, one.id, same)))
    with pytest.raises(KeyReused):
        await loyal.run(
            lambda tx: service.redeem(tx, loyal.company_id, _redeem(zoe, two.id, same)))
    assert await loyal.balance(zoe) == 40


async def test_another_companys_reward_or_customer_is_not_found(loyal: Loyal) -> None:
    await loyal.rules()
    off = await loyal.reward(cost_points=1, effect="amount_off", amount=100)
    zoe = await loyal.customer()
    await _give(loyal, zoe, 50)
    other = await loyal.other_company()
    stranger = await loyal.customer(company_id=other)
    with pytest.raises(RewardUnavailable):  # their till, their customer, our reward
        await loyal.run(lambda tx: service.redeem(tx, other, _redeem(stranger, off.id)))
    with pytest.raises(UnknownCustomer):  # their till, our customer
        await loyal.run(lambda tx: service.redeem(tx, other, _redeem(zoe, off.id)))
    with pytest.raises(UnknownCustomer):
        await loyal.run(lambda tx: service.customer(tx, other, zoe))
    assert await loyal.balance(zoe) == 50


async def test_a_customer_is_found_by_qr_code_phone_or_email(loyal: Loyal) -> None:
    await loyal.rules()
    cheap = await loyal.reward(name="Un café", cost_points=10, effect="amount_off", amount=180)
    dear = await loyal.reward(name="Un brunch", cost_points=100, effect="percent_off",
                              percent=50)
    zoe = await loyal.customer(email="zoe@example.com")
    await _give(loyal, zoe, 12)
    await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, zoe, parse(
        Profile, {"phone": "+33 6 12 34 56 78"})))
    card = await loyal.run(lambda tx: service.customer(tx, loyal.company_id, zoe))
    assert card.balance == 12
    assert [(r.id, r.affordable) for r in card.rewards] == [(cheap.id, True), (dear.id, False)]
    for lookup in ({"qr": card.qr_token}, {"phone": "+33612345678"},
                   {"email": "Zoe@Example.com"}):
        found = await loyal.run(
            lambda tx, lookup=lookup: service.find(tx, loyal.company_id, parse(Lookup, lookup)))
        assert found.consumer_id == zoe
    with pytest.raises(UnknownCustomer):
        await loyal.run(lambda tx: service.find(tx, loyal.company_id, parse(
            Lookup, {"phone": "0600000000"})))
    with pytest.raises(UnknownCustomer):
        await loyal.run(lambda tx: service.find(tx, loyal.company_id + 1, parse(
            Lookup, {"qr": card.qr_token})))
    with pytest.raises(BadLookup):
        await loyal.run(lambda tx: service.find(tx, loyal.company_id, parse(
            Lookup, {"qr": card.qr_token, "email": "zoe@example.com"})))


async def test_a_completed_profile_and_a_referral_earn_once(loyal: Loyal) -> None:
    await loyal.rules(profile_points=20, referrer_points=50, referred_points=25)
    zoe, max_ = await loyal.customer(), await loyal.customer("Max")
    full = parse(Profile, {"phone": "0612345678", "birthday": "1990-04-02",
                           "postcode": "75011", "email_consent": True})
    saved = await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, zoe, full))
    assert saved.email_consent_at is not None and saved.sms_consent_at is None
    await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, zoe, full))
    await loyal.run(lambda tx: profiles.refer(tx, loyal.company_id, zoe, max_))
    await loyal.run(lambda tx: profiles.refer(tx, loyal.company_id, zoe, max_))
    assert await loyal.entries(zoe) == [("profile", 20), ("referral", 50)]
    assert await loyal.entries(max_) == [("referral", 25)]


async def test_a_phone_number_belongs_to_one_customer_of_a_company(loyal: Loyal) -> None:
    zoe, max_ = await loyal.customer(), await loyal.customer("Max")
    phone = parse(Profile, {"phone": "06 12 34 56 78"})
    await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, zoe, phone))
    await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, zoe, phone))  # again: hers
    with pytest.raises(PhoneTaken):
        await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, max_, phone))
