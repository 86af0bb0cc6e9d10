"""A reward at the till given back when the cashier removes it or abandons the ticket
(refused once a recorded ticket names it), and a table's bill carrying the reward a diner
applied from their phone, paid at the till: discounted, settled, earning on what was paid.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from demo.seed import DemoVenue
from domain.models import OutboxEvent
from loyalty import setup
from loyalty.models import Coupon
from ordering.models import TableReward, TableSession
from pos.models import Ticket
from tests.conftest import Database
from tests.ordering.test_table_rewards import Dinner, _run, dinner  # noqa: F401  (its fixture)
from tests.pos.test_till_screens import AtTill, at_till  # noqa: F401  (its fixture)

SALES = "/api/v1/till/sales"
GIVE_BACK = "/api/v1/till/customers/give-back"


async def test_a_reward_removed_or_abandoned_at_the_till_is_given_back_once(
    at_till: AtTill, dinner: Dinner, db: Database  # noqa: F811
) -> None:
    device = at_till.device
    off = await dinner.reward(name="1,50 € offerts", effect="amount_off", amount=150)
    url = f"/api/v1/till/customers/{dinner.zoe}/rewards"
    taken = await device.post(url, json={"reward_id": off, "idempotency_key": "till-gb-1",
                                         "total": 300})
    assert taken.status_code == 200 and await dinner.balance() == 70
    body = {"reward_key": "till-gb-1", "customer_id": dinner.zoe}
    given = await device.post(GIVE_BACK, json=body)
    assert given.status_code == 200, given.text
    assert given.json() == {"points": 30, "coupon": False, "balance": 100}
    again = await device.post(GIVE_BACK, json=body)
    assert again.json() == {"points": 0, "coupon": False, "balance": 100}
    # Given back, no sale may use it.
    espresso = dinner.products["Espresso"]
    sale = {"uuid": str(uuid.uuid4()), "customer_id": dinner.zoe,
            "lines": [{"product_id": espresso.id, "quantity": 2}],
            "reward_key": "till-gb-1", "reward_discount": 150,
            "payments": [{"method": "card", "amount": 210}]}
    refused = await device.post(SALES, json=sale)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_ticket"
    # Taken again under a new key and sold: the sale used it, so it is not given back.
    taken = await device.post(url, json={"reward_id": off, "idempotency_key": "till-gb-2",
                                         "total": 360})
    assert taken.status_code == 200
    sold = await device.post(SALES, json={**sale, "reward_key": "till-gb-2"})
    assert sold.status_code == 201, sold.text
    used = await device.post(GIVE_BACK, json={**body, "reward_key": "till-gb-2"})
    assert used.status_code == 409 and used.json()["error"]["code"] == "reward_on_ticket"
    assert await dinner.balance() == 70 + 2  # the sale earned on the 2.10 paid
    assert [k for k, _ in await dinner.entries()] == [
        "profile", "redeem", "given_back", "redeem", "earn"]


async def test_a_coupon_abandoned_at_the_till_is_usable_again(
    at_till: AtTill, dinner: Dinner, db: Database  # noqa: F811
) -> None:
    reward = await dinner.reward(name="1 € offert", effect="amount_off", amount=100)
    coupon = await _run(db, lambda tx: setup.issue_coupon(
        tx, dinner.company_id, reward, datetime.now(UTC) + timedelta(days=7)))
    device = at_till.device
    used = await device.post("/api/v1/till/coupons", json={
        "token": coupon.token, "idempotency_key": "till-coupon-gb", "total": 300})
    assert used.status_code == 200, used.text
    given = await device.post(GIVE_BACK, json={"reward_key": "till-coupon-gb"})
    assert given.status_code == 200 and given.json() == {
        "points": 0, "coupon": True, "balance": None}
    async with db.sessionmaker() as session:
        freed = await session.get(Coupon, coupon.id)
        assert freed is not None and freed.used_at is None


async def test_a_tables_bill_with_its_reward_is_paid_at_the_till_discounted(
    at_till: AtTill, dinner: Dinner, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    off = await dinner.reward(name="3 € offerts", effect="amount_off", amount=300)
    await dinner.order("till-table-rw", Cappuccino=3)  # 11.40
    assert (await dinner.apply(reward_id=off)).status_code == 201
    async with db.sessionmaker() as session:
        key = await session.scalar(select(TableReward.reward_key))
    assert key is not None
    device = at_till.device
    page = await device.get(f"/till/sell?table={dinner.table_id}")
    assert page.status_code == 200 and "data-table-reward" in page.text
    assert "offerts" in page.text and key in page.text
    # The till cannot give a table's reward back: the diner removes it from their phone.
    mine = await device.post(GIVE_BACK, json={"reward_key": key, "customer_id": dinner.zoe})
    assert mine.status_code == 409 and mine.json()["error"]["code"] == "reward_of_table"
    base = {"uuid": str(uuid.uuid4()), "table_id": dinner.table_id,
            "payments": [{"method": "card", "amount": 1140}]}
    undiscounted = await device.post(SALES, json=base)  # the due is 8.40 now
    assert undiscounted.status_code in (409, 422), undiscounted.text
    wrong = await device.post(SALES, json={
        **base, "uuid": str(uuid.uuid4()), "reward_key": key, "reward_discount": 200,
        "payments": [{"method": "card", "amount": 940}]})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "bad_ticket"
    paid = await device.post(SALES, json={
        **base, "uuid": str(uuid.uuid4()), "reward_key": key, "reward_discount": 300,
        "payments": [{"method": "card", "amount": 840}]})
    assert paid.status_code == 201, paid.text
    assert paid.json()["ticket"]["total"] == 840
    async with db.sessionmaker() as session:
        ticket = await session.get(Ticket, paid.json()["ticket"]["id"])
        assert ticket is not None and ticket.reward_key == key and ticket.discount == 300
        status = await session.scalar(select(TableSession.status).where(
            TableSession.id == (await session.scalar(select(TableReward.session_id)))))
        assert status == "settled"
        payloads = (await session.scalars(select(OutboxEvent.payload).where(
            OutboxEvent.name == "table.settled"))).all()
    assert [json.loads(p)["amount"] for p in payloads] == [840]
    assert await dinner.entries() == [("profile", 100), ("redeem", -30), ("earn", 8)]


async def test_a_give_back_for_a_stranger_is_refused_and_an_unknown_key_gives_nothing(
    at_till: AtTill, dinner: Dinner  # noqa: F811
) -> None:
    unknown = await at_till.device.post(GIVE_BACK, json={"reward_key": "till-unknown-1",
                                                         "customer_id": 10**9})
    assert unknown.status_code == 404
    nothing = await at_till.device.post(GIVE_BACK, json={"reward_key": "till-unknown-2",
                                                         "customer_id": dinner.zoe})
    assert nothing.status_code == 200
    assert nothing.json() == {"points": 0, "coupon": False, "balance": 100}


async def test_a_tables_bill_with_its_reward_synced_from_the_till_is_recorded_unflagged(
    at_till: AtTill, dinner: Dinner, db: Database  # noqa: F811
) -> None:
    off = await dinner.reward(name="1 € offert", effect="amount_off", amount=100)
    await dinner.order("till-sync-rw", Croissant=2)
    assert (await dinner.apply(reward_id=off)).status_code == 201
    async with db.sessionmaker() as session:
        key = await session.scalar(select(TableReward.reward_key))
    croissant = dinner.products["Croissant"]
    total = 2 * croissant.price
    synced = {"uuid": str(uuid.uuid4()), "sequence": 1, "staff_id": at_till.cashier,
              "table_id": dinner.table_id, "reward_key": key, "reward_discount": 100,
              "lines": [{"product_id": croissant.id, "label": croissant.name, "quantity": 2,
                         "unit_price": croissant.price, "vat_rate": croissant.vat_rate}],
              "payments": [{"method": "card", "amount": total - 100}]}
    answer = await at_till.device.post("/api/v1/till/sync", json={"sales": [synced]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "recorded"
    assert answer.json()["results"][0]["flags"] == []
    assert (await dinner.table())["status"] == "settled"
    assert await dinner.settled_amount() == total - 100
