"""Orders staff take at the POS for a table, through the service layer, on both databases."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from accounts.service import StaffIdentity
from errors import DomainError, Forbidden
from ordering import pos_order, staff_service
from ordering.diner_service import TableAccess
from ordering.errors import (
    BadQuantity,
    EmptyOrder,
    MenuOnly,
    ProductUnavailable,
    TableSettled,
    UnknownProduct,
)
from ordering.models import OrderLine, Round, TableSession, Ticket
from ordering.staff_service import LineAdd
from ordering.table_lock import Access
from ordering.table_payment import NoPhoneOrders
from tests.ordering.conftest import Cafe, Table, assert_versions_consecutive, topics
from tests.ordering.test_table_payments import pay, set_mode, verdict


def key() -> str:
    return uuid.uuid4().hex


def take(
    cafe: Cafe, staff: StaffIdentity, table: Table, lines: list[LineAdd], idempotency_key: str
) -> object:
    return cafe.run(
        lambda tx: pos_order.take_order(tx, cafe.config, staff, table.id, lines, idempotency_key)
    )


def line(cafe: Cafe, name: str, quantity: object = 1, note: object = "") -> LineAdd:
    return LineAdd(cafe.products[name].id, quantity, note)


async def sessions_of(cafe: Cafe, table: Table) -> int:
    return await cafe.count(
        select(func.count()).select_from(TableSession).where(TableSession.table_id == table.id)
    )


async def test_order_opens_a_free_table_and_goes_straight_to_production(cafe: Cafe) -> None:
    table, site = cafe.tables[0], cafe.venue.site_id
    cashier = await cafe.staff("cashier")
    order_key = key()
    lines = [line(cafe, "Espresso", 2, "  bien   serré "), line(cafe, "Croissant")]
    taken = await take(cafe, cashier, table, lines, order_key)
    assert isinstance(taken, pos_order.Taken) and not taken.duplicate
    assert taken.round.number == 1 and taken.round.status == "validated"
    assert taken.pin.isdigit() and len(taken.pin) == cafe.config.pin_length
    # Published once, to the table's phones, the POS and both stations it needs.
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "round.validated"),
        (f"site:{site}:pos", "round.validated"),
        (f"site:{site}:station:bar", "round.validated"),
        (f"site:{site}:station:kitchen", "round.validated"),
        await cafe.stats_told(),  # an order counted
    ]
    bar = cafe.last_events[2].data["view"]["tickets"]
    assert [(t["table"], [(ln["name"], ln["quantity"], ln["note"]) for ln in t["lines"]])
            for t in bar] == [("Table 1", [("Espresso", 2, "bien serré")])]

    view = await cafe.view(table)
    assert view["table"]["state"] == "in_production"
    detail = view["session"]
    assert (detail["status"], detail["pin"], detail["members"]) == ("open", taken.pin, [])
    [sent] = detail["rounds"]
    assert sent["submitted_by"] is None
    assert [(ln["name"], ln["quantity"], ln["member"]) for ln in sent["lines"]] == [
        ("Espresso", 2, None), ("Croissant", 1, None),
    ]
    due = 2 * cafe.products["Espresso"].price + cafe.products["Croissant"].price
    assert detail["due"] == due
    tile = next(t for t in (await cafe.pos())["tables"] if t["id"] == table.id)
    assert (tile["state"], tile["pin"], tile["due"]) == ("in_production", taken.pin, due)

    # A retried request (same key) returns the same round and changes nothing.
    again = await take(cafe, cashier, table, lines, order_key)
    assert isinstance(again, pos_order.Taken) and again.duplicate
    assert again.round.id == taken.round.id and cafe.last_events == []
    assert await cafe.count(select(func.count()).select_from(Round)) == 1
    assert await cafe.count(select(func.count()).select_from(Ticket)) == 2

    # Diners may join later with the PIN and see the order.
    joined = await cafe.join(table, "device-lea", "Lea", taken.pin)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER
    assert [r["number"] for r in (await cafe.view(table))["session"]["rounds"]] == [1]
    await assert_versions_consecutive(cafe)


async def test_order_for_a_party_leaves_their_cart_alone(cafe: Cafe) -> None:
    table = cafe.tables[1]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Espresso", 1)
    sent = await cafe.submit(table, "device-lea", key())
    await cafe.add(table, "device-lea", "Croissant", 1)  # still in the shared cart
    cashier = await cafe.staff("cashier")
    taken = await take(cafe, cashier, table, [line(cafe, "Tarte Tatin", 1, "chaude")], key())
    assert isinstance(taken, pos_order.Taken)
    assert taken.round.number == sent.round.number + 1
    detail = (await cafe.view(table))["session"]
    assert [ln["name"] for ln in detail["cart"]] == ["Croissant"]
    rounds = {r["number"]: r for r in detail["rounds"]}
    assert rounds[1]["status"] == "to_validate"  # the diners' round still waits for staff
    assert rounds[2]["status"] == "validated"
    assert [(ln["name"], ln["note"]) for ln in rounds[2]["lines"]] == [("Tarte Tatin", "chaude")]
    assert (await sessions_of(cafe, table)) == 1


async def test_the_round_keeps_who_took_it_and_the_pos_shows_them(cafe: Cafe) -> None:
    table = cafe.tables[1]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Espresso", 1)
    sent = await cafe.submit(table, "device-lea", key())
    cashier, admin = await cafe.staff("cashier"), await cafe.staff("admin")
    order_key = key()
    taken = await take(cafe, cashier, table, [line(cafe, "Croissant")], order_key)
    assert isinstance(taken, pos_order.Taken) and taken.round.staff_id == cashier.id
    # A retry from another screen returns the round as it was taken.
    again = await take(cafe, admin, table, [line(cafe, "Croissant")], order_key)
    assert isinstance(again, pos_order.Taken) and again.duplicate
    assert again.round.staff_id == cashier.id
    async with cafe.db.sessionmaker() as session:
        rows = (await session.execute(select(Round.id, Round.staff_id))).all()
    # The round the phone sent has no staff author.
    assert {rid: sid for rid, sid in rows} == {sent.round.id: None, taken.round.id: cashier.id}

    pos = await cafe.pos()
    assert [(r["id"], r["submitted_by"], r["taken_by"]) for r in pos["queue"]] == [
        (sent.round.id, "Lea", None),
    ]
    assert [(r["id"], r["submitted_by"], r["taken_by"]) for r in pos["in_production"]] == [
        (taken.round.id, None, cashier.name),
    ]


async def test_refused_orders_change_nothing(cafe: Cafe) -> None:
    table = cafe.tables[2]
    cashier = await cafe.staff("cashier")
    with pytest.raises(Forbidden):
        await take(cafe, await cafe.staff("kitchen"), table, [line(cafe, "Espresso")], key())
    with pytest.raises(EmptyOrder):
        await take(cafe, cashier, table, [], key())
    with pytest.raises(BadQuantity):
        await take(cafe, cashier, table, [line(cafe, "Espresso", 0)], key())
    with pytest.raises(UnknownProduct):
        await take(cafe, cashier, table, [LineAdd(10**9, 1)], key())
    await cafe.run(
        lambda tx: staff_service.set_available(
            tx, cashier, cafe.products["Croissant"].id, False
        )
    )
    with pytest.raises(ProductUnavailable) as sold_out:
        await take(
            cafe, cashier, table, [line(cafe, "Espresso"), line(cafe, "Croissant")], key()
        )
    assert "Croissant" in str(sold_out.value)
    with pytest.raises(DomainError) as elsewhere:  # another company's table
        await cafe.run(
            lambda tx: pos_order.take_order(
                tx, cafe.config, cashier, 10**9, [line(cafe, "Espresso")], key()
            )
        )
    assert elsewhere.value.status == 404
    assert await sessions_of(cafe, table) == 0
    assert await cafe.count(select(func.count()).select_from(OrderLine)) == 0


async def test_a_settled_table_takes_no_order_until_freed(cafe: Cafe) -> None:
    table = cafe.tables[3]
    cashier = await cafe.staff("cashier")
    first_key = key()
    await take(cafe, cashier, table, [line(cafe, "Espresso")], first_key)
    await cafe.run(
        lambda tx: staff_service.settle(
            tx, cafe.config, cashier, table.id, "card", None, "settle-key-1"
        )
    )
    with pytest.raises(TableSettled):
        await take(cafe, cashier, table, [line(cafe, "Espresso")], key())
    # A late retry of the order taken before still answers with its round.
    late = await take(cafe, cashier, table, [line(cafe, "Espresso")], first_key)
    assert isinstance(late, pos_order.Taken) and late.duplicate
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))
    fresh = await take(cafe, cashier, table, [line(cafe, "Croissant")], key())
    assert isinstance(fresh, pos_order.Taken) and fresh.round.number == 1
    assert await sessions_of(cafe, table) == 2


async def test_retries_racing_on_a_free_table_make_one_session_and_one_round(
    cafe: Cafe,
) -> None:
    table = cafe.tables[4]
    cashier = await cafe.staff("cashier")
    order_key = key()
    outcomes = await asyncio.gather(
        *[take(cafe, cashier, table, [line(cafe, "Espresso")], order_key) for _ in range(5)]
    )
    assert {o.round.id for o in outcomes} == {outcomes[0].round.id}  # type: ignore[attr-defined]
    assert [o.duplicate for o in outcomes].count(False) == 1  # type: ignore[attr-defined]
    assert await sessions_of(cafe, table) == 1
    assert await cafe.count(select(func.count()).select_from(Round)) == 1
    assert await cafe.count(select(func.count()).select_from(Ticket)) == 1
    await assert_versions_consecutive(cafe)


async def test_pay_only_staff_order_then_a_phone_pays_and_settles(cafe: Cafe) -> None:
    table = cafe.tables[5]
    await set_mode(cafe, table, "pay_only")
    with pytest.raises(MenuOnly):  # phones cannot open a pay-only table
        await cafe.start(table, "device-lea", "Lea")
    cashier = await cafe.staff("cashier")
    taken = await take(
        cafe, cashier, table, [line(cafe, "Croque-monsieur"), line(cafe, "Espresso", 2)], key()
    )
    assert isinstance(taken, pos_order.Taken)
    total = cafe.products["Croque-monsieur"].price + 2 * cafe.products["Espresso"].price

    joined = await cafe.join(table, "device-lea", "Lea", taken.pin)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER
    with pytest.raises(NoPhoneOrders):  # the phone pays; it does not order
        await cafe.add(table, "device-lea", "Espresso", 1)
    detail = (await cafe.view(table))["session"]
    assert (detail["ordered"], detail["paid"], detail["due"]) == (total, 0, total)

    started = await pay(cafe, table, "device-lea", "bill-key-1")
    assert started.payment is not None and started.payment.amount == total
    assert await verdict(cafe, started.payment, True) == "succeeded"
    assert (f"table:{table.id}", "session.settled") in topics(cafe.last_events)
    assert (f"site:{cafe.venue.site_id}:pos", "session.settled") in topics(cafe.last_events)
    view = await cafe.view(table)
    assert view["table"]["state"] == "settled"
    assert (view["session"]["status"], view["session"]["due"]) == ("settled", 0)
    with pytest.raises(TableSettled):
        await take(cafe, cashier, table, [line(cafe, "Espresso")], key())
    await assert_versions_consecutive(cafe)
