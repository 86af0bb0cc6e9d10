"""What staff do with rounds and tables, through the service layer, on both databases."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from accounts.service import StaffIdentity
from errors import Forbidden, NotFound
from ordering import staff_service
from ordering.diner_service import TableAccess
from ordering.errors import (
    BadTransition,
    NotSettleable,
    ProductUnavailable,
    ReasonRequired,
    SessionClosed,
    StaleVersion,
    Underpaid,
    UnknownRound,
)
from ordering.models import Payment, Round, RoundEdit, Ticket
from ordering.staff_service import LineAdd, LineEdit
from ordering.table_lock import Access
from tests.ordering.conftest import Cafe, Table, assert_versions_consecutive, topics


def key() -> str:
    return uuid.uuid4().hex


async def _ordered(cafe: Cafe, table: Table) -> int:
    """Léa and Tom at the table send a round of 2 espressos (bar) and a croissant (kitchen)."""
    await cafe.party(table, "Lea", "Tom")
    await cafe.add(table, "device-lea", "Espresso", 2)
    await cafe.add(table, "device-tom", "Croissant", 1)
    sent = await cafe.submit(table, "device-tom", key())
    return sent.round.id


def _due(cafe: Cafe) -> int:
    return 2 * cafe.products["Espresso"].price + cafe.products["Croissant"].price


async def _tickets(cafe: Cafe, round_id: int) -> dict[str, Ticket]:
    async with cafe.db.sessionmaker() as session:
        found = await session.scalars(select(Ticket).where(Ticket.round_id == round_id))
        return {t.station: t for t in found}


async def test_validate_creates_one_ticket_per_station(cafe: Cafe) -> None:
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    site = cafe.venue.site_id
    with pytest.raises(Forbidden):
        await cafe.validate(await cafe.staff("kitchen"), round_id)

    cashier = await cafe.staff("cashier")
    validated = await cafe.validate(cashier, round_id)
    assert validated.status == "validated"
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "round.validated"),
        (f"site:{site}:pos", "round.validated"),
        (f"site:{site}:station:bar", "round.validated"),
        (f"site:{site}:station:kitchen", "round.validated"),
    ]
    tickets = await _tickets(cafe, round_id)
    assert sorted(tickets) == ["bar", "kitchen"]
    assert {t.status for t in tickets.values()} == {"queued"}
    bar = cafe.last_events[2].data["view"]["tickets"]
    assert [[ln["name"] for ln in t["lines"]] for t in bar] == [["Espresso"]]
    view = await cafe.view(table)
    assert view["table"]["state"] == "in_production"
    assert [r["id"] for r in (await cafe.pos())["in_production"]] == [round_id]

    # A retried validation changes nothing and makes no second set of tickets.
    again = await cafe.validate(cashier, round_id)
    assert again.status == "validated" and cafe.last_events == []
    assert len(await _tickets(cafe, round_id)) == 2
    with pytest.raises(BadTransition):
        await cafe.run(
            lambda tx: staff_service.refuse(tx, cafe.config, cashier, round_id, "too late")
        )
    await assert_versions_consecutive(cafe)


async def test_edit_bumps_the_revision_with_its_reason(cafe: Cafe) -> None:
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    cashier = await cafe.staff("cashier")
    lines = (await cafe.view(table))["session"]["rounds"][0]["lines"]
    espresso_line = next(ln for ln in lines if ln["name"] == "Espresso")
    tarte = cafe.products["Tarte Tatin"]

    def edit(revision: object, reason: object, changes: list[LineEdit], adds: list[LineAdd]):
        return cafe.run(
            lambda tx: staff_service.edit(
                tx, cafe.config, cashier, round_id, revision, reason, changes, adds
            )
        )

    with pytest.raises(ReasonRequired):
        await edit(1, "   ", [LineEdit(espresso_line["id"], 1)], [])
    edited = await edit(
        1, "  plus que  1 espresso ", [LineEdit(espresso_line["id"], 1)],
        [LineAdd(tarte.id, 1, "chaude")],
    )
    assert edited.revision == 2 and edited.reason == "plus que 1 espresso"
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "round.edited"), (f"site:{cafe.venue.site_id}:pos", "round.edited"),
    ]
    assert cafe.last_events[0].data["change"] == {
        "round": 1, "reason": "plus que 1 espresso", "revision": 2,
    }
    round_ = (await cafe.view(table))["session"]["rounds"][0]
    assert round_["revision"] == 2 and round_["reason"] == "plus que 1 espresso"
    assert [(ln["name"], ln["quantity"], ln["member"]) for ln in round_["lines"]] == [
        ("Espresso", 1, "Lea"), ("Croissant", 1, "Tom"), ("Tarte Tatin", 1, None),
    ]
    assert round_["total"] == (
        cafe.products["Espresso"].price + cafe.products["Croissant"].price + tarte.price
    )
    async with cafe.db.sessionmaker() as session:
        editors = (await session.scalars(select(RoundEdit.staff_id))).all()
    assert editors == [cashier.id]  # each revision keeps who made it

    # A second screen still showing revision 1 is told to reload, and nothing changes.
    with pytest.raises(StaleVersion) as stale:
        await edit(1, "other change", [LineEdit(espresso_line["id"], 5)], [])
    assert stale.value.params == {"current": 2}
    again = (await cafe.view(table))["session"]["rounds"][0]
    assert again["lines"][0]["quantity"] == 1 and again["revision"] == 2

    # Setting a line to zero drops it from the round.
    await edit(2, "plus d'espresso", [LineEdit(espresso_line["id"], 0)], [])
    round_ = (await cafe.view(table))["session"]["rounds"][0]
    assert [ln["name"] for ln in round_["lines"]] == ["Croissant", "Tarte Tatin"]
    assert round_["revision"] == 3

    # Once validated, the round is in production and can no longer be edited.
    await cafe.validate(cashier, round_id)
    assert sorted(await _tickets(cafe, round_id)) == ["kitchen"]  # no espresso left for the bar
    with pytest.raises(BadTransition):
        await edit(3, "too late", [], [LineAdd(tarte.id, 1)])
    await assert_versions_consecutive(cafe)


async def test_refuse_with_a_reason(cafe: Cafe) -> None:
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    cashier = await cafe.staff("cashier")
    with pytest.raises(ReasonRequired):
        await cafe.run(lambda tx: staff_service.refuse(tx, cafe.config, cashier, round_id, ""))
    with pytest.raises(ReasonRequired):
        await cafe.run(lambda tx: staff_service.refuse(tx, cafe.config, cashier, round_id, None))

    refused = await cafe.run(
        lambda tx: staff_service.refuse(tx, cafe.config, cashier, round_id, "Cuisine fermée")
    )
    assert refused.status == "refused" and refused.reason == "Cuisine fermée"
    assert cafe.last_events[0].type == "round.refused"
    assert cafe.last_events[0].data["change"] == {"round": 1, "reason": "Cuisine fermée"}
    view = await cafe.view(table)
    assert view["session"]["rounds"][0]["status"] == "refused"
    assert view["session"]["due"] == 0  # a refused round is not paid for
    assert view["table"]["state"] == "ordering"
    with pytest.raises(BadTransition):
        await cafe.validate(cashier, round_id)
    assert await _tickets(cafe, round_id) == {}


async def test_moving_tickets_drives_the_round_to_served(cafe: Cafe) -> None:
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    cashier = await cafe.staff("cashier")
    kitchen_staff = await cafe.staff("kitchen")
    await cafe.validate(cashier, round_id)
    tickets = await _tickets(cafe, round_id)

    async def move(station: str, target: str) -> str:
        await cafe.run(
            lambda tx: staff_service.move_ticket(
                tx, cafe.config, kitchen_staff, tickets[station].id, target
            )
        )
        return (await cafe.view(table))["session"]["rounds"][0]["status"]

    with pytest.raises(BadTransition):
        await move("bar", "served")  # not ready yet
    with pytest.raises(BadTransition):
        await move("bar", "burnt")
    assert await move("bar", "in_preparation") == "in_production"
    site = cafe.venue.site_id
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "round.progress"),
        (f"site:{site}:pos", "round.progress"),
        (f"site:{site}:station:bar", "round.progress"),
    ]
    assert await move("bar", "ready") == "in_production"  # the kitchen is still queued
    assert await move("kitchen", "ready") == "ready"
    assert await move("kitchen", "ready") == "ready"  # a retry
    assert await move("bar", "served") == "ready"
    assert await move("kitchen", "served") == "served"
    view = await cafe.view(table)
    assert view["table"]["state"] == "to_settle"
    assert (await cafe.pos())["in_production"] == []
    with pytest.raises(BadTransition):
        await move("kitchen", "ready")  # served is final
    await assert_versions_consecutive(cafe)


async def test_settle_computes_change_and_pays_once_per_key(cafe: Cafe) -> None:
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    cashier = await cafe.staff("cashier")

    def settle(method: object, tendered: object, pay_key: str):
        return cafe.run(
            lambda tx: staff_service.settle(
                tx, cafe.config, cashier, table.id, method, tendered, pay_key
            )
        )

    with pytest.raises(NotSettleable):
        await settle("cash", 1000, key())  # the round still waits for validation
    await cafe.validate(cashier, round_id)
    with pytest.raises(Underpaid):
        await settle("cash", _due(cafe) - 1, key())
    with pytest.raises(Underpaid):
        await settle("cash", None, key())
    kitchen = await cafe.staff("kitchen")
    with pytest.raises(Forbidden):
        await cafe.run(
            lambda tx: staff_service.settle(tx, cafe.config, kitchen, table.id, "cash", 1000, key())
        )

    pay_key = key()
    paid = await settle("cash", 1000, pay_key)
    assert (paid.amount, paid.tendered, paid.change_given) == (_due(cafe), 1000, 1000 - _due(cafe))
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "session.settled"),
        (f"site:{cafe.venue.site_id}:pos", "session.settled"),
        await cafe.stats_told(),  # a bill counted
    ]
    view = await cafe.view(table)
    assert view["table"]["state"] == "settled" and view["session"]["status"] == "settled"

    again = await settle("cash", 1000, pay_key)
    assert again.id == paid.id and cafe.last_events == []
    with pytest.raises(NotSettleable):
        await settle("cash", 1000, key())  # a different payment: the table is already paid
    assert await cafe.count(select(func.count()).select_from(Payment)) == 1
    await assert_versions_consecutive(cafe)


async def test_card_payment_defaults_to_the_amount_due(cafe: Cafe) -> None:
    table = cafe.tables[0]
    cashier = await cafe.staff("cashier")
    await cafe.validate(cashier, await _ordered(cafe, table))
    paid = await cafe.run(
        lambda tx: staff_service.settle(tx, cafe.config, cashier, table.id, "card", None, key())
    )
    assert (paid.method, paid.amount, paid.tendered, paid.change_given) == (
        "card", _due(cafe), _due(cafe), 0,
    )


async def test_free_closes_the_table(cafe: Cafe) -> None:
    table = cafe.tables[0]
    cashier = await cafe.staff("cashier")
    round_id = await _ordered(cafe, table)
    await cafe.validate(cashier, round_id)
    pin = (await cafe.view(table))["session"]["pin"]

    # Money is still due: a cashier may not just free the table, a supervisor may.
    with pytest.raises(Forbidden):
        await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))
    await cafe.run(
        lambda tx: staff_service.settle(tx, cafe.config, cashier, table.id, "card", None, key())
    )
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "session.closed"),
        (f"site:{cafe.venue.site_id}:pos", "session.closed"),
        await cafe.stats_told(),  # a table's turn counted
    ]
    view = await cafe.view(table)
    assert view["table"]["state"] == "free" and view["session"] is None
    assert (await cafe.access(table, "device-lea")).access is Access.START
    # Freeing again is a retry: nothing happens.
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))
    assert cafe.last_events == []
    # Tom's old PIN opens nothing: he starts a new session with a new PIN of his own.
    joined = await cafe.join(table, "device-tom", "Tom", pin)
    assert isinstance(joined, TableAccess) and joined.session is not None
    assert joined.member is not None and joined.member.name == "Tom"
    assert (await cafe.view(table))["session"]["members"][0]["name"] == "Tom"
    await assert_versions_consecutive(cafe)


async def test_a_supervisor_may_free_a_table_with_money_due(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await _ordered(cafe, table)
    supervisor: StaffIdentity = await cafe.staff("supervisor")
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, supervisor, table.id))
    assert (await cafe.view(table))["session"] is None
    assert await cafe.count(select(func.count()).select_from(Round)) == 1  # history stays


async def test_a_freed_partys_waiting_round_can_no_longer_be_validated_or_edited(
    cafe: Cafe,
) -> None:
    """Found by the lifecycle model test: a round left waiting when a supervisor freed the
    table leaves the POS, but a screen that still showed it could validate it, sending
    tickets to the kitchen for a party that had gone (and to the next party's phones)."""
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    supervisor = await cafe.staff("supervisor")
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, supervisor, table.id))
    await cafe.party(table, "Zoe")
    version = await cafe.version(f"table:{table.id}")

    with pytest.raises(SessionClosed):
        await cafe.validate(supervisor, round_id)
    with pytest.raises(SessionClosed):
        await cafe.run(lambda tx: staff_service.edit(
            tx, cafe.config, supervisor, round_id, 1, "Plus de croissants", [], []
        ))
    assert await cafe.count(select(func.count()).select_from(Ticket)) == 0
    assert await cafe.version(f"table:{table.id}") == version
    async with cafe.db.sessionmaker() as session:
        rnd = await session.get(Round, round_id)
        assert rnd is not None and (rnd.status, rnd.revision) == ("to_validate", 1)


async def test_sold_out_products_cannot_be_added(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    kitchen = await cafe.staff("kitchen")
    tarte = cafe.products["Tarte Tatin"]
    menu = f"menu:{cafe.venue.site_id}"

    product = await cafe.run(lambda tx: staff_service.set_available(tx, kitchen, tarte.id, False))
    assert product.available is False
    assert topics(cafe.last_events) == [(menu, "menu.changed")]
    event = cafe.last_events[0]
    assert event.data["change"] == {
        "product_id": tarte.id, "product": "Tarte Tatin", "available": False,
    }
    listed = [
        p for c in event.data["view"]["categories"] for p in c["products"] if p["id"] == tarte.id
    ]
    assert listed[0]["available"] is False
    with pytest.raises(ProductUnavailable):
        await cafe.add(table, "device-lea", "Tarte Tatin")
    assert tarte.id not in [p["id"] for p in (await cafe.pos())["products"]]

    # Marking it sold out twice is a retry: no second event.
    await cafe.run(lambda tx: staff_service.set_available(tx, kitchen, tarte.id, False))
    assert cafe.last_events == []

    await cafe.run(lambda tx: staff_service.set_available(tx, kitchen, tarte.id, True))
    assert [e.version for e in cafe.last_events] == [2]
    line = await cafe.add(table, "device-lea", "Tarte Tatin")
    assert line.product_id == tarte.id
    await assert_versions_consecutive(cafe)


async def test_staff_of_another_company_cannot_reach_rounds_or_tables(cafe: Cafe) -> None:
    table = cafe.tables[0]
    round_id = await _ordered(cafe, table)
    cashier = await cafe.staff("cashier")
    outsider = StaffIdentity(cashier.id, cashier.company_id + 1, "admin", "Intrus")
    with pytest.raises(UnknownRound):
        await cafe.validate(outsider, round_id)
    with pytest.raises(NotFound):
        await cafe.run(lambda tx: staff_service.free(tx, cafe.config, outsider, table.id))
    assert (await cafe.view(table))["session"]["rounds"][0]["status"] == "to_validate"
