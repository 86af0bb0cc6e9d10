"""Points earned by visits heard from the till, the tables and the machines, and taken back
by refunds: each once, however the event reaches loyalty. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from domain import outbox
from domain.events import BrewFinished, TableSettled
from loyalty import hearing
from realtime.events import Tx
from tests.loyalty.conftest import Loyal, now


def _table(loyal: Loyal, customer_id: int | None, amount: int, session_id: int = 41
           ) -> TableSettled:
    return TableSettled(company_id=loyal.company_id, site_id=loyal.site_id, table_id=1,
                        session_id=session_id, amount=amount, currency="EUR", method="card",
                        staff_id=None, customer_id=customer_id)


def _brew(loyal: Loyal, consumer_id: int | None, price: int, **fields: object) -> BrewFinished:
    values: dict[str, object] = {
        "company_id": loyal.company_id, "site_id": loyal.site_id, "machine_id": 1,
        "brew_id": 77, "consumer_id": consumer_id, "product_id": None,
        "product_name": "Espresso", "product_type": "espresso", "price": price,
        "currency": "EUR", "charge": "credit", "outcome": "served", "reason": None,
        "refunded": False,
    }
    return BrewFinished(**{**values, **fields})  # type: ignore[arg-type]


async def test_a_sale_earns_a_point_per_euro(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    await loyal.record(loyal.sale(zoe, 1250))
    assert await loyal.balance(zoe) == 12 == await loyal.ledger_sum(zoe)


async def test_the_customer_sees_their_points_move_on_their_own_topic(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    await loyal.record(loyal.sale(zoe, 1250))
    told = [e for e in loyal.events if e.topic == f"user:{zoe}"]
    assert [e.type for e in told] == ["points.changed"]
    view = told[0].data["view"]["loyalty"]
    assert view["points"] == 12
    assert [(e["kind"], e["points"]) for e in view["entries"]] == [("earn", 12)]


async def test_points_per_visit_and_the_cap(loyal: Loyal) -> None:
    await loyal.rules(points_per_visit=3, points_per_unit=1, cap_per_visit=10)
    zoe = await loyal.customer()
    await loyal.record(loyal.sale(zoe, 450))
    await loyal.record(loyal.sale(zoe, 9000))
    assert await loyal.entries(zoe) == [("earn", 7), ("earn", 10)]
    assert await loyal.balance(zoe) == 17


async def test_a_visit_within_the_delay_of_one_that_earned_earns_nothing(loyal: Loyal) -> None:
    await loyal.rules(points_per_visit=1, points_per_unit=0, min_delay_minutes=60)
    zoe = await loyal.customer()
    noon = now().replace(hour=12, minute=0)
    await loyal.record(loyal.sale(zoe, 300, sold_at=noon))
    await loyal.record(loyal.sale(zoe, 300, sold_at=noon + timedelta(minutes=30)))
    await loyal.record(loyal.sale(zoe, 300, sold_at=noon - timedelta(minutes=59)))  # synced late
    await loyal.record(loyal.sale(zoe, 300, sold_at=noon + timedelta(minutes=61)))
    assert await loyal.entries(zoe) == [("earn", 1), ("earn", 0), ("earn", 0), ("earn", 1)]
    assert await loyal.balance(zoe) == 2


async def test_nothing_is_earned_while_the_programme_is_off(loyal: Loyal) -> None:
    zoe = await loyal.customer()
    await loyal.record(loyal.sale(zoe, 1000))  # rules never set: off
    await loyal.rules(enabled=False)
    await loyal.record(loyal.sale(zoe, 1000))
    assert await loyal.entries(zoe) == []


async def test_a_sale_without_a_customer_training_or_a_duplicate_earns_nothing(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    await loyal.record(loyal.sale(None, 1000))
    await loyal.record(loyal.sale(zoe, 1000, training=True))
    await loyal.record(loyal.sale(zoe, 0, kind="duplicate"))
    assert await loyal.entries(zoe) == []


async def test_another_companys_customer_earns_nothing_here(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    stranger = await loyal.customer(company_id=await loyal.other_company())
    await loyal.record(loyal.sale(stranger, 1000))
    assert await loyal.entries(stranger) == []


async def test_a_settled_table_and_a_served_brew_earn(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    await loyal.record(_table(loyal, zoe, 4580))
    await loyal.record(_table(loyal, None, 4580, session_id=42))
    await loyal.record(_brew(loyal, zoe, 250))
    await loyal.record(_brew(loyal, zoe, 250, brew_id=78, outcome="failed", refunded=True))
    assert await loyal.entries(zoe) == [("earn", 45), ("earn", 2)]


async def test_an_offline_sale_synced_twice_counts_once(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    sale = loyal.sale(zoe, 1000)
    again = sale.model_copy(update={"id": loyal.sale(zoe, 0).id})  # another event, same sale
    assert again.id != sale.id
    await loyal.record(sale)
    await loyal.record(again)
    assert await loyal.entries(zoe) == [("earn", 10)]


async def test_a_replayed_event_counts_once(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    sale = loyal.sale(zoe, 1000)
    await loyal.record(sale)
    await outbox.deliver(sale, loyal.db.sessionmaker, loyal.bus)  # the sweeper's retry

    async def heard_again(tx: Tx) -> None:  # even past the delivery's own mark
        await hearing.ticket_recorded(tx, sale)
    await loyal.run(heard_again)
    assert await loyal.entries(zoe) == [("earn", 10)]
    assert await loyal.balance(zoe) == 10


async def test_a_refund_takes_back_what_the_sale_earned(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    sale = loyal.sale(zoe, 2000)
    await loyal.record(sale)
    await loyal.record(loyal.refund(sale, 500))
    assert await loyal.balance(zoe) == 15
    refund = loyal.refund(sale, 1500, kind="void")
    await loyal.record(refund)
    await loyal.record(refund.model_copy(update={"id": loyal.sale(None, 0).id}))  # twice
    assert await loyal.entries(zoe) == [("earn", 20), ("take_back", -5), ("take_back", -15)]
    assert await loyal.balance(zoe) == 0 == await loyal.ledger_sum(zoe)


async def test_a_refund_after_the_points_were_spent_leaves_the_balance_at_zero(
    loyal: Loyal,
) -> None:
    from loyalty import service
    from loyalty.commands import Redeem
    from web.commands import parse

    await loyal.rules(points_per_unit=1)
    reward = await loyal.reward(cost_points=15, effect="amount_off", amount=200)
    zoe = await loyal.customer()
    sale = loyal.sale(zoe, 2000)
    await loyal.record(sale)
    redeem = parse(Redeem, {"consumer_id": zoe, "reward_id": reward.id,
                            "idempotency_key": "redeem-once-1"})
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, redeem))
    await loyal.record(loyal.refund(sale, 2000))
    assert await loyal.entries(zoe) == [("earn", 20), ("redeem", -15), ("take_back", -5)]
    assert await loyal.balance(zoe) == 0 == await loyal.ledger_sum(zoe)


async def test_a_refund_of_a_sale_that_earned_nothing_takes_nothing(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer()
    anonymous = loyal.sale(None, 2000)
    await loyal.record(anonymous)
    await loyal.record(loyal.refund(anonymous, 2000))
    await loyal.record(loyal.sale(zoe, 1000))
    assert await loyal.entries(zoe) == [("earn", 10)]
