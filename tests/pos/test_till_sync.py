"""The till's offline sync (pos/till_sync.py, pos/sync_closing.py): every sale exactly
once, kept at the price it was sold and flagged when the catalog changed, the acknowledged
numbers, and the Z waiting for every till that syncs unless one is declared out of service."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ordering.models import Category, Product
from pos.closings import CloseDay, close_day, x_report
from pos.errors import SalesWaiting, SequenceGap
from pos.models import SyncIssue, Ticket, Till
from pos.records import Method, PaymentInput
from pos.sync_closing import ask_to_close, declare_out_of_service, sync_state
from pos.till_sync import OfflineSale, SoldLine, Synced, acked, sync
from realtime.events import Tx
from tests.pos.conftest import BOX, Clock, Shop

MARCH_10 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris


@pytest.fixture(autouse=True)
def hooked(monkeypatch: pytest.MonkeyPatch) -> None:
    from pos import closings

    monkeypatch.setattr(closings, "_pending", sync_state)


async def menu(shop: Shop) -> int:
    async with shop.db.sessionmaker() as session, session.begin():
        category = Category(site_id=shop.site_id, name="Boissons", station="bar")
        session.add(category)
        await session.flush()
        product = Product(site_id=shop.site_id, category_id=category.id, name="Café",
                          price=150, vat_rate=1000)
        session.add(product)
        await session.flush()
        return product.id


async def pair(shop: Shop, till: int = 0) -> None:
    """As if the device were paired (the sync's rules apply to paired tills)."""
    async with shop.db.sessionmaker() as session, session.begin():
        row = await session.get(Till, shop.till_ids[till])
        assert row is not None
        row.credential_hash = uuid.uuid4().hex + uuid.uuid4().hex
        row.paired_at = datetime.now(UTC)


def sale(shop: Shop, product_id: int, sequence: int, *, price: int = 150,
         quantity: int = 1, **more: object) -> OfflineSale:
    total = quantity * price - int(more.get("discount", 0))  # type: ignore[call-overload]
    return OfflineSale(uuid=more.pop("uuid", None) or uuid.uuid4(),  # type: ignore[arg-type]
                       sequence=sequence, staff_id=shop.cashier_id,
                       device_at=datetime(2026, 3, 10, 8, 0, tzinfo=UTC),
                       lines=[SoldLine(product_id, "Café", quantity, price, 1000)],
                       payments=[PaymentInput(Method.CASH, total)],
                       **more)  # type: ignore[arg-type]


async def upload(shop: Shop, *sales: OfflineSale, till: int = 0, waiting: int = 0) -> Synced:
    async def op(tx: Tx) -> Synced:
        row = await tx.session.get(Till, shop.till_ids[till])
        assert row is not None
        return await sync(tx, row, list(sales), waiting=waiting)

    return await shop.run(op)


async def tickets(shop: Shop, till: int = 0) -> int:
    async with shop.db.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.till_id == shop.till_ids[till])) or 0


async def issues(shop: Shop) -> list[tuple[str, dict[str, object]]]:
    async with shop.db.sessionmaker() as session:
        rows = (await session.scalars(select(SyncIssue).order_by(SyncIssue.id))).all()
        return [(row.kind, json.loads(row.detail)) for row in rows]


async def z(shop: Shop, day: date) -> object:
    return await shop.run(lambda tx: close_day(tx, BOX, CloseDay(
        uuid.uuid4(), shop.company_id, shop.site_id, day, shop.supervisor_id, 0)))


async def test_the_same_sale_twice_has_one_effect(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    first = sale(shop, coffee, 1)
    one = await upload(shop, first)
    assert [(r.status, r.number, r.flags) for r in one.results] == [
        ("recorded", "T1-000001", [])]
    again = await upload(shop, first)  # the reply was lost: the till sends it again
    assert [(r.status, r.ticket_id) for r in again.results] == [
        ("duplicate", one.results[0].ticket_id)]
    assert await tickets(shop) == 1
    assert (again.acked_sequence, again.highest_sequence) == (1, 1)
    assert await issues(shop) == []


async def test_the_same_uuid_with_another_content_is_a_flagged_conflict(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    first = sale(shop, coffee, 1)
    await upload(shop, first)
    other = replace(first, lines=[SoldLine(coffee, "Café", 2, 150, 1000)],
                    payments=[PaymentInput(Method.CASH, 300)])
    answer = await upload(shop, other)
    assert answer.results[0].status == "conflict"
    assert answer.results[0].error is not None
    assert answer.results[0].error["code"] == "sync_conflict"
    assert await tickets(shop) == 1
    async with shop.db.sessionmaker() as session:
        total = await session.scalar(select(Ticket.total_incl))
    assert total == 150  # the first content, nothing of the second
    assert [kind for kind, _ in await issues(shop)] == ["conflict"]


async def test_concurrent_uploads_of_one_sale_make_one_record(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    first = sale(shop, coffee, 1)
    answers = await asyncio.gather(*(upload(shop, first) for _ in range(4)))
    statuses = sorted(a.results[0].status for a in answers)
    assert statuses == ["duplicate", "duplicate", "duplicate", "recorded"]
    assert len({a.results[0].ticket_id for a in answers}) == 1
    assert await tickets(shop) == 1


async def test_a_gap_refuses_the_z_naming_the_till_and_acks_stop_at_it(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    answer = await upload(shop, sale(shop, coffee, 1), sale(shop, coffee, 2),
                          sale(shop, coffee, 4))
    assert (answer.acked_sequence, answer.highest_sequence) == (2, 4)
    with pytest.raises(SequenceGap) as gap:
        await z(shop, date(2026, 3, 10))
    assert gap.value.params == {"till": "T1", "numbers": "3"}
    answer = await upload(shop, sale(shop, coffee, 3))
    assert (answer.acked_sequence, answer.highest_sequence) == (4, 4)
    await z(shop, date(2026, 3, 10))


def test_acked_is_the_highest_number_with_all_below_it():
    assert acked(0, []) == 0
    assert acked(0, [1, 2, 3]) == 3
    assert acked(0, [2, 3]) == 0
    assert acked(5, [6, 7, 9, 10]) == 7


async def test_a_till_not_synced_since_the_z_was_asked_holds_it_back(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    await pair(shop, 0)
    await upload(shop, sale(shop, coffee, 1))  # synced at 10:00
    clock_at.at = MARCH_10 + timedelta(hours=12)
    asked = await shop.run(lambda tx: ask_to_close(tx, shop.company_id, shop.site_id,
                                                   date(2026, 3, 10)))
    assert asked == ["T1"]  # T2 is not paired: its records reach the server at once
    with pytest.raises(SalesWaiting) as held:
        await z(shop, date(2026, 3, 10))
    assert held.value.params == {"till": "T1"}
    clock_at.at = MARCH_10 + timedelta(hours=12, seconds=5)
    answer = await upload(shop, sale(shop, coffee, 2))  # it was offline: its sale arrives
    assert answer.acked_sequence == 2
    closing = await z(shop, date(2026, 3, 10))
    assert json.loads(closing.body)["report"]["tickets"] == 2  # type: ignore[attr-defined]


async def test_a_batch_with_more_waiting_is_not_a_full_sync(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    await pair(shop, 0)
    await upload(shop, sale(shop, coffee, 1))
    clock_at.at = MARCH_10 + timedelta(hours=1)
    await shop.run(lambda tx: ask_to_close(tx, shop.company_id, shop.site_id, None))
    clock_at.at = MARCH_10 + timedelta(hours=1, seconds=1)
    await upload(shop, sale(shop, coffee, 2), waiting=3)
    with pytest.raises(SalesWaiting):
        await z(shop, date(2026, 3, 10))


async def test_a_till_out_of_service_lets_the_z_pass_and_its_sales_count_on_arrival(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    await pair(shop, 1)
    await upload(shop, sale(shop, coffee, 1), till=1)
    clock_at.at = MARCH_10 + timedelta(hours=12)
    await shop.run(lambda tx: ask_to_close(tx, shop.company_id, shop.site_id, None))
    with pytest.raises(SalesWaiting) as held:
        await z(shop, date(2026, 3, 10))
    assert held.value.params == {"till": "T2"}
    await shop.run(lambda tx: declare_out_of_service(
        tx, shop.company_id, shop.site_id, shop.till_ids[1], shop.supervisor_id, "en panne"))
    closing = await z(shop, date(2026, 3, 10))
    assert json.loads(closing.body)["report"]["tickets"] == 1  # type: ignore[attr-defined]
    # The next morning its offline sale of the evening arrives: it counts that day.
    clock_at.at = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    answer = await upload(shop, sale(shop, coffee, 2), till=1)
    assert answer.results[0].status == "recorded"
    report = await shop.run(lambda tx: x_report(tx, shop.company_id, shop.site_id,
                                                shop.supervisor_id))
    assert (report["day"], report["tickets"]) == ("2026-03-11", 1)


async def test_a_sale_arriving_after_its_day_was_closed_waits_for_the_next(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    await upload(shop, sale(shop, coffee, 1))
    await z(shop, date(2026, 3, 10))
    answer = await upload(shop, sale(shop, coffee, 2))
    assert answer.results[0].status == "refused"
    assert answer.results[0].error is not None
    assert answer.results[0].error["code"] == "period_closed"
    assert await issues(shop) == []  # not for a manager: the till sends it again later


async def test_a_sale_of_a_product_deleted_meanwhile_is_kept_at_its_price_and_flagged(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    async with shop.db.sessionmaker() as session, session.begin():
        product = await session.get(Product, coffee)
        assert product is not None
        product.archived_at = MARCH_10
        other = Product(site_id=shop.site_id, category_id=product.category_id,
                        name="Thé", price=300, vat_rate=1000)
        session.add(other)
        await session.flush()
        tea = other.id
    answer = await upload(shop, sale(shop, coffee, 1, price=120),
                          sale(shop, tea, 2, price=250))
    assert [(r.status, r.flags) for r in answer.results] == [
        ("recorded", ["product_gone"]), ("recorded", ["price_changed"])]
    async with shop.db.sessionmaker() as session:
        totals = (await session.scalars(select(Ticket.total_incl).order_by(Ticket.sequence)
                                        )).all()
    assert totals == [120, 250]  # at the price it was sold
    found = await issues(shop)
    assert [kind for kind, _ in found] == ["product_gone", "price_changed"]
    assert found[1][1]["catalog_price"] == 300
    assert found[1][1]["number"] == "T1-000002"


async def test_a_discount_above_the_limit_without_approval_is_kept_and_flagged(
        shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    coffee = await menu(shop)
    answer = await upload(shop, sale(shop, coffee, 1, quantity=4, discount=300))
    assert answer.results[0].status == "recorded"
    assert answer.results[0].flags == ["unverified_discount"]


async def test_a_table_that_cannot_be_settled_as_sold_is_flagged_and_the_sale_kept(
        shop: Shop, clock_at: Clock):
    from ordering.config import OrderingConfig

    clock_at.at = MARCH_10
    coffee = await menu(shop)

    async def op(tx: Tx) -> Synced:
        row = await tx.session.get(Till, shop.till_ids[0])
        assert row is not None
        return await sync(tx, row, [sale(shop, coffee, 1, table_id=999_999)],
                          config=OrderingConfig())

    answer = await shop.run(op)
    assert [(r.status, r.flags) for r in answer.results] == [("recorded", ["table_changed"])]
    assert await tickets(shop) == 1
    assert [kind for kind, _ in await issues(shop)] == ["table_changed"]


async def test_a_sale_naming_another_companys_staff_or_product_is_not_theirs(
        shop: Shop, clock_at: Clock):
    from accounts.models import Company, Site, Staff

    clock_at.at = MARCH_10
    coffee = await menu(shop)
    async with shop.db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris")
        session.add(other)
        await session.flush()
        site = Site(company_id=other.id, name="Ailleurs")
        stranger = Staff(company_id=other.id, email=f"x{other.id}@ailleurs.test", name="X",
                         password_hash="x", role="admin")
        session.add_all([site, stranger])
        await session.flush()
        theirs = Category(site_id=site.id, name="Leurs", station="bar")
        session.add(theirs)
        await session.flush()
        product = Product(site_id=site.id, category_id=theirs.id, name="Leur café",
                          price=150, vat_rate=1000)
        session.add(product)
        await session.flush()
        stranger_id, their_product = stranger.id, product.id
    answer = await upload(shop, replace(sale(shop, coffee, 1), staff_id=stranger_id),
                          sale(shop, their_product, 2))
    assert [(r.status, r.flags) for r in answer.results] == [
        ("refused", ["refused"]), ("recorded", ["product_gone"])]
    assert [kind for kind, _ in await issues(shop)] == ["refused", "product_gone"]


async def test_asking_for_the_z_pushes_sync_now_to_each_till_not_synced_since(
        shop: Shop, clock_at: Clock):
    from pos.till_topic import topic_of

    clock_at.at = MARCH_10
    await pair(shop, 0)
    await pair(shop, 1)
    coffee = await menu(shop)
    await upload(shop, sale(shop, coffee, 1), till=1)
    clock_at.at = MARCH_10 + timedelta(hours=1)

    async def ask(tx: Tx) -> list[str]:
        asked = await ask_to_close(tx, shop.company_id, shop.site_id, None)
        tills = [await tx.session.get(Till, till_id) for till_id in shop.till_ids]
        assert [e.topic for e in tx.events] == [topic_of(t) for t in tills if t]
        assert {e.type for e in tx.events} == {"sync_now"}
        return asked

    assert await shop.run(ask) == ["T1", "T2"]
    clock_at.at = MARCH_10 + timedelta(hours=1, seconds=2)
    await upload(shop, till=1)  # T2 syncs: asked again, only T1 is pushed
    assert await shop.run(lambda tx: ask_to_close(tx, shop.company_id, shop.site_id,
                                                  None)) == ["T1"]
