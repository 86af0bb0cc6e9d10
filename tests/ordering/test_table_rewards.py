"""A diner applies a loyalty reward to the table's bill from their phone: an amount off, a
percentage off, a free product on the bill, a coupon; the due goes down, every screen is
told, the bill is paid discounted and earns on what was paid. One reward per table, even
from two phones at once; removed, or the table freed unpaid, it is given back exactly
once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Site
from customers.models import Consumer
from demo.seed import DemoVenue
from domain.models import OutboxEvent
from loyalty import ledger, setup
from loyalty.commands import AddReward, SetRules
from loyalty.ledger import Kind
from loyalty.models import Coupon, PointsEntry
from ordering.models import DiningTable, Product, TableReward
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.backoffice.conftest import ADMIN, CASHIER, sign_in
from tests.conftest import Database, client_for
from web.commands import parse

T = TypeVar("T")


async def _run(db: Database, op: Callable[[Tx], Awaitable[T]]) -> T:
    bus = make_bus(None)
    try:
        return await run(db.sessionmaker, bus, op)
    finally:
        await bus.close()


@dataclass
class Dinner:
    """The demo company's loyalty on (a point per euro), Zoé with 100 points at a table she
    opened and collects the points of, and staff at the POS."""

    app: Starlette
    db: Database
    venue: DemoVenue
    company_id: int
    zoe: int
    table_id: int
    token: str
    phone: httpx.AsyncClient
    pos: httpx.AsyncClient
    products: dict[str, Product]

    @property
    def url(self) -> str:
        return f"/api/v1/tables/{self.token}/reward"

    async def reward(self, **values: Any) -> int:
        command = parse(AddReward, {"name": "Récompense", "cost_points": 30, **values})
        reward = await _run(self.db, lambda tx: setup.add_reward(tx, self.company_id, command))
        return reward.id

    async def order(self, key: str, **quantities: int) -> None:
        taken = await self.pos.post(f"/api/v1/staff/tables/{self.table_id}/rounds", json={
            "idempotency_key": key,
            "lines": [{"product_id": self.products[name].id, "quantity": quantity}
                      for name, quantity in quantities.items()]})
        assert taken.status_code == 201, taken.text

    async def apply(self, client: httpx.AsyncClient | None = None, **body: Any
                    ) -> httpx.Response:
        return await (client or self.phone).post(
            self.url, json={"idempotency_key": body.pop("key", None) or _key(), **body})

    async def remove(self) -> httpx.Response:
        return await self.phone.request("DELETE", self.url, json={})

    async def table(self) -> dict[str, Any]:
        answer = await self.phone.get(f"/api/v1/tables/{self.token}")
        assert answer.status_code == 200, answer.text
        session: dict[str, Any] = answer.json()["table"]["session"]
        return session

    async def balance(self) -> int:
        async with self.db.sessionmaker() as session:
            return await ledger.balance_of(session, self.zoe)

    async def entries(self) -> list[tuple[str, int]]:
        async with self.db.sessionmaker() as session:
            rows = await session.execute(select(PointsEntry.kind, PointsEntry.points).where(
                PointsEntry.consumer_id == self.zoe).order_by(PointsEntry.id))
            return [(kind, points) for kind, points in rows]

    async def settle_cash(self, tendered: int) -> httpx.Response:
        return await self.pos.post(f"/api/v1/staff/tables/{self.table_id}/settle", json={
            "method": "cash", "tendered": tendered, "idempotency_key": _key()})

    async def settled_amount(self) -> int:
        async with self.db.sessionmaker() as session:
            rows = (await session.scalars(select(OutboxEvent.payload).where(
                OutboxEvent.name == "table.settled").order_by(OutboxEvent.recorded_at))).all()
        return int(json.loads(rows[-1])["amount"])


def _key() -> str:
    return uuid.uuid4().hex


@pytest_asyncio.fixture
async def dinner(app: Starlette, db: Database, venue: DemoVenue) -> AsyncIterator[Dinner]:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        company_id = site.company_id
        zoe = await session.scalar(select(Consumer.id).where(
            Consumer.email == venue.consumers[0][0]))
        _, token = venue.table_tokens[0]
        table_id = await session.scalar(select(DiningTable.id).where(DiningTable.token == token))
        products = {p.name: p for p in (await session.scalars(select(Product).where(
            Product.site_id == venue.site_id))).all()}
    assert zoe is not None and table_id is not None
    rules = parse(SetRules, {"points_per_unit": 1})
    await _run(db, lambda tx: setup.set_rules(tx, company_id, rules))
    await _run(db, lambda tx: ledger.post(tx, company_id, zoe, 100, Kind.PROFILE, "test:zoe"))
    async with client_for(app) as phone, client_for(app) as pos:
        started = await phone.post(f"/api/v1/tables/{token}/start", json={"name": "Zoé"})
        assert started.status_code in (200, 201), started.text
        email, password = venue.consumers[0]
        signed = await phone.post("/api/v1/consumers/login", json={
            "machine": venue.machines[0].token, "email": email, "password": password})
        assert signed.status_code == 200, signed.text
        linked = await phone.post(f"/api/v1/tables/{token}/customer", json={})
        assert linked.status_code == 200, linked.text
        await sign_in(pos, CASHIER)
        yield Dinner(app, db, venue, company_id, zoe, table_id, token, phone, pos, products)


async def test_an_amount_off_reduces_the_due_which_is_paid_and_earns_on_what_was_paid(
    dinner: Dinner,
) -> None:
    off = await dinner.reward(name="5 € offerts", effect="amount_off", amount=500)
    refused = await dinner.apply(reward_id=off)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "nothing_to_reward"
    await dinner.order("rw-amount-1", Espresso=4, Cappuccino=2)  # 7.20 + 7.60 = 14.80
    applied = await dinner.apply(reward_id=off)
    assert applied.status_code == 201, applied.text
    assert applied.json()["reward"] | {"id": 0} == {
        "id": 0, "name": "5 € offerts", "coupon": False, "discount": 500}
    assert await dinner.balance() == 70
    session = await dinner.table()
    assert (session["ordered"], session["discount"], session["due"]) == (1480, 500, 980)
    assert session["reward"]["name"] == "5 € offerts"
    # The POS's table map shows the reduced due and the reward.
    pos_page = await dinner.pos.get(f"/pos/{dinner.venue.site_id}")
    assert "5 € offerts" in pos_page.text
    short = await dinner.settle_cash(979)
    assert short.status_code == 422
    paid = await dinner.settle_cash(1000)
    assert paid.status_code == 200, paid.text
    assert await dinner.settled_amount() == 980
    # Loyalty earns on what was paid (9.80: 9 points), once.
    assert await dinner.entries() == [("profile", 100), ("redeem", -30), ("earn", 9)]
    # Settled: the reward was used, and stays (no removal, not given back when freed).
    gone = await dinner.remove()
    assert gone.status_code == 409
    async with client_for(dinner.app) as admin:
        await sign_in(admin, ADMIN)
        freed = await admin.post(f"/api/v1/staff/tables/{dinner.table_id}/free", json={})
        assert freed.status_code == 200, freed.text
    assert await dinner.balance() == 79


async def test_a_percent_off_and_a_free_product_on_the_bill(dinner: Dinner) -> None:
    tenth = await dinner.reward(name="10 %", effect="percent_off", percent=10)
    espresso = dinner.products["Espresso"]
    free = await dinner.reward(name="Un espresso offert", effect="free_product",
                               product_id=espresso.id, product_name="Espresso")
    await dinner.order("rw-free-1", Cappuccino=1)  # 3.80
    missing = await dinner.apply(reward_id=free)
    assert missing.status_code == 409, missing.text
    assert missing.json()["error"]["code"] == "reward_product_missing"
    assert "Espresso" in missing.json()["error"]["message"]
    assert await dinner.balance() == 100  # refused: nothing taken
    percent = await dinner.apply(reward_id=tenth)
    assert percent.status_code == 201 and percent.json()["reward"]["discount"] == 38
    other = await dinner.apply(reward_id=free)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "reward_already_applied"
    removed = await dinner.remove()
    assert removed.status_code == 200 and removed.json()["reward"]["name"] == "10 %"
    assert await dinner.balance() == 100
    await dinner.order("rw-free-2", Espresso=2)
    given = await dinner.apply(reward_id=free)
    assert given.status_code == 201 and given.json()["reward"]["discount"] == 180
    assert (await dinner.table())["due"] == 380 + 360 - 180


async def test_a_coupon_comes_off_the_bill_and_removed_is_usable_again(dinner: Dinner) -> None:
    reward = await dinner.reward(name="2 € offerts", effect="amount_off", amount=200)
    coupon = await _run(dinner.db, lambda tx: setup.issue_coupon(
        tx, dinner.company_id, reward, datetime.now(UTC) + timedelta(days=7),
        consumer_id=dinner.zoe))
    page = await dinner.phone.get(f"/t/{dinner.token}")
    assert "2 € offerts" in page.text and 'name="coupon"' in page.text
    await dinner.order("rw-coupon-1", Espresso=1)  # 1.80: the coupon takes off at most that
    used = await dinner.apply(coupon=coupon.token)
    assert used.status_code == 201 and used.json()["reward"] | {"id": 0} == {
        "id": 0, "name": "2 € offerts", "coupon": True, "discount": 180}
    assert (await dinner.table())["due"] == 0
    assert await dinner.balance() == 100  # a coupon takes no points
    async with dinner.db.sessionmaker() as session:
        assert (await session.get(Coupon, coupon.id, populate_existing=True)).used_at  # type: ignore[union-attr]
    page = await dinner.phone.get(f"/t/{dinner.token}")
    assert 'id="reward-remove"' in page.text
    assert (await dinner.remove()).status_code == 200
    async with dinner.db.sessionmaker() as session:
        freed = await session.get(Coupon, coupon.id, populate_existing=True)
        assert freed is not None and freed.used_at is None and freed.used_key is None
    assert (await dinner.table())["due"] == 180


async def test_two_phones_applying_at_once_make_one_reward(dinner: Dinner) -> None:
    off = await dinner.reward(name="1 € offert", effect="amount_off", amount=100)
    await dinner.order("rw-race-1", Espresso=3)
    answers = await asyncio.gather(*(dinner.apply(reward_id=off) for _ in range(3)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "reward_already_applied"}
    assert await dinner.balance() == 70
    # The same key again: the first answer, nothing more taken.
    first = await dinner.apply(reward_id=off, key="rw-race-same-key")
    assert first.status_code == 409  # another reward is on the bill already
    async with dinner.db.sessionmaker() as session:
        rows = (await session.scalars(select(TableReward))).all()
        assert len(rows) == 1


async def test_a_retry_returns_the_first_reward_and_removal_gives_back_once(
    dinner: Dinner,
) -> None:
    off = await dinner.reward(name="1 € offert", effect="amount_off", amount=100)
    await dinner.order("rw-retry-1", Espresso=3)
    first = await dinner.apply(reward_id=off, key="rw-retry-key-1")
    again = await dinner.apply(reward_id=off, key="rw-retry-key-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] and await dinner.balance() == 70
    removals = await asyncio.gather(*(dinner.remove() for _ in range(3)))
    assert all(r.status_code == 200 for r in removals), [r.text for r in removals]
    assert sum(r.json()["reward"] is not None for r in removals) == 1
    assert await dinner.balance() == 100
    assert await dinner.entries() == [("profile", 100), ("redeem", -30), ("given_back", 30)]
    # A key given back takes nothing again.
    reused = await dinner.apply(reward_id=off, key="rw-retry-key-1")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "key_reused"


async def test_a_table_freed_unpaid_gives_its_reward_back_once(dinner: Dinner) -> None:
    off = await dinner.reward(name="1 € offert", effect="amount_off", amount=100)
    await dinner.order("rw-freed-1", Espresso=3)
    assert (await dinner.apply(reward_id=off)).status_code == 201
    cashier = await dinner.pos.post(f"/api/v1/staff/tables/{dinner.table_id}/free", json={})
    assert cashier.status_code == 403  # money still due: a cashier does not free it
    async with client_for(dinner.app) as admin:
        await sign_in(admin, ADMIN)
        for _ in range(2):
            freed = await admin.post(f"/api/v1/staff/tables/{dinner.table_id}/free", json={})
            assert freed.status_code == 200, freed.text
    assert await dinner.balance() == 100
    assert await dinner.entries() == [("profile", 100), ("redeem", -30), ("given_back", 30)]
    async with dinner.db.sessionmaker() as session:
        row = await session.scalar(select(TableReward))
        assert row is not None and row.given_back_at is not None
        # Both count at the table's site in the loyalty statistics (loyalty/figures.py).
        sites = set(await session.scalars(select(PointsEntry.site_id).where(
            PointsEntry.kind.in_(("redeem", "given_back")))))
        site_of_table = await session.scalar(
            select(DiningTable.site_id).where(DiningTable.id == dinner.table_id))
        assert site_of_table is not None and sites == {site_of_table}


async def test_only_the_linked_customer_on_a_member_phone_applies_a_reward(
    app: Starlette, dinner: Dinner,
) -> None:
    off = await dinner.reward(name="1 € offert", effect="amount_off", amount=100)
    await dinner.order("rw-who-1", Espresso=3)
    async with client_for(app) as stranger:
        anonymous = await dinner.apply(stranger, reward_id=off)
        assert anonymous.status_code == 401
        email, password = dinner.venue.consumers[0]  # Zoé, on a phone not at the table
        await stranger.post("/api/v1/consumers/login", json={
            "machine": dinner.venue.machines[0].token, "email": email, "password": password})
        not_member = await dinner.apply(stranger, reward_id=off)  # not at the table
        assert not_member.status_code == 403
        assert not_member.json()["error"]["code"] == "pin_required"
    both = await dinner.apply(reward_id=off, coupon="x")
    assert both.status_code == 422 and both.json()["error"]["code"] == "bad_reward_choice"
    assert await dinner.balance() == 100
