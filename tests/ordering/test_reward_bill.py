"""What a reward takes off a bill (pure), and a reward given back when its session closes by
itself after idling. The idle close on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from accounts.models import Site
from customers.models import Consumer
from domain.models import OutboxEvent
from loyalty import ledger, service, setup
from loyalty.commands import AddReward, Redeem, SetRules
from loyalty.ledger import Kind
from ordering import customer_link, diner_service, reward_service, table_rewards
from ordering.commands import ApplyReward
from ordering.models import TableReward
from ordering.table_payment import Bill, bill
from realtime.events import Tx
from tests.ordering.conftest import Cafe, assert_versions_consecutive, topics
from tests.ordering.test_table_payments import pay, pay_only_table, verdict
from web.commands import parse


def test_the_reward_takes_off_at_most_what_is_left_to_pay() -> None:
    assert (Bill(1480, 0, 500).discount, Bill(1480, 0, 500).due) == (500, 980)
    assert Bill(1480, 0, 500).charged == 980
    # The bill shrank since (a round refused): the reward is capped, the due stays at zero.
    assert (Bill(300, 0, 500).discount, Bill(300, 0, 500).due, Bill(300, 0, 500).charged) \
        == (300, 0, 0)
    # Part paid from a phone: the reward comes off what is left, never below zero.
    assert (Bill(1000, 800, 500).discount, Bill(1000, 800, 500).due) == (200, 0)
    assert Bill(1000, 800, 500).charged == 800
    assert bill([("served", 700), ("refused", 900), ("to_validate", 300)], 0, 100).due == 900
    assert Bill(500, 0).due == 500 and Bill(500, 0).discount == 0


async def test_a_session_closing_by_itself_gives_its_reward_back(cafe: Cafe) -> None:
    table = cafe.tables[0]
    opened = await cafe.start(table, "device-zoe", "Zoé")
    assert opened.session is not None
    session_id = opened.session.id
    async with cafe.db.sessionmaker() as session:
        site = await session.get(Site, cafe.venue.site_id)
        assert site is not None
        company_id = site.company_id
        zoe = await session.scalar(select(Consumer.id).where(
            Consumer.email == cafe.venue.consumers[0][0]))
    assert zoe is not None
    await cafe.run(lambda tx: setup.set_rules(tx, company_id, parse(SetRules, {})))
    reward = await cafe.run(lambda tx: setup.add_reward(tx, company_id, parse(AddReward, {
        "name": "1 € offert", "cost_points": 10, "effect": "amount_off", "amount": 100})))
    await cafe.run(lambda tx: ledger.post(tx, company_id, zoe, 10, Kind.EARN, "test:idle"))
    key = table_rewards.loyalty_key(session_id, "idle-reward-key")

    async def taken(tx: Tx) -> None:
        await service.redeem(tx, company_id, parse(Redeem, {
            "consumer_id": zoe, "reward_id": reward.id, "idempotency_key": key}))
        tx.session.add(TableReward(
            session_id=session_id, consumer_id=zoe, reward_key=key, reward_id=reward.id,
            reward_name=reward.name, discount=100))

    await cafe.run(taken)
    async with cafe.db.sessionmaker() as session:
        assert await ledger.balance_of(session, zoe) == 0
    await cafe.set_idle_since(table, datetime.now(UTC) - timedelta(hours=2))
    for _ in range(2):
        await cafe.run(lambda tx: diner_service.expire_idle(tx, cafe.config, datetime.now(UTC)))
    async with cafe.db.sessionmaker() as session:
        assert await ledger.balance_of(session, zoe) == 10
        row = await session.scalar(select(TableReward).where(TableReward.reward_key == key))
        assert row is not None and row.given_back_at is not None


async def test_a_bill_paid_from_phones_is_paid_less_its_reward_and_earns_on_that(
    cafe: Cafe,
) -> None:
    table, total = await pay_only_table(cafe)  # 2 espressos and a croissant
    async with cafe.db.sessionmaker() as session:
        site = await session.get(Site, cafe.venue.site_id)
        assert site is not None
        company_id = site.company_id
        zoe = await session.scalar(select(Consumer.id).where(
            Consumer.email == cafe.venue.consumers[0][0]))
    assert zoe is not None
    await cafe.run(lambda tx: setup.set_rules(tx, company_id, parse(SetRules, {})))
    reward = await cafe.run(lambda tx: setup.add_reward(tx, company_id, parse(AddReward, {
        "name": "Un espresso offert", "cost_points": 10, "effect": "free_product",
        "product_id": cafe.products["Espresso"].id, "product_name": "Espresso"})))
    await cafe.run(lambda tx: ledger.post(tx, company_id, zoe, 10, Kind.EARN, "test:phone"))
    await cafe.run(lambda tx: customer_link.link_from_phone(
        tx, cafe.config, table.token, "device-lea", zoe))
    applied = await cafe.run(lambda tx: reward_service.apply(
        tx, cafe.config, table.token, "device-lea", zoe,
        parse(ApplyReward, {"reward_id": reward.id, "idempotency_key": "phone-reward-1"})))
    espresso = cafe.products["Espresso"].price
    assert applied.reward.discount == espresso
    assert (f"table:{table.id}", "reward.applied") in topics(cafe.last_events)
    view = await cafe.view(table)
    assert view["session"]["due"] == total - espresso
    started = await pay(cafe, table, "device-tom", "phone-bill-1")
    assert started.payment is not None and started.payment.amount == total - espresso
    await verdict(cafe, started.payment, True)
    view = await cafe.view(table)
    assert (view["session"]["status"], view["session"]["due"]) == ("settled", 0)
    async with cafe.db.sessionmaker() as session:
        payload = await session.scalar(select(OutboxEvent.payload).where(
            OutboxEvent.name == "table.settled"))
        assert payload is not None and json.loads(payload)["amount"] == total - espresso
        assert await ledger.balance_of(session, zoe) == (total - espresso) // 100
    await assert_versions_consecutive(cafe)
