"""Phones and screens acting at the same moment, each in its own transaction.

Each call runs through `Cafe.run`, which, like web/state.run_tx, runs a change in its own
session and transaction and runs it again when a unique constraint refused a concurrent
duplicate. SQLite serialises writers (BEGIN IMMEDIATE), so these mostly bite on
PostgreSQL, where transactions really overlap; they must hold on both.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ordering import diner_service, staff_service
from ordering.diner_service import Submitted, TableAccess
from ordering.errors import EmptyCart, PinRequired
from ordering.models import Member, OrderLine, Payment, Round, TableSession, Ticket
from tests.ordering.conftest import Cafe, Table, assert_versions_consecutive

NAMES = ["Ana", "Ben", "Cyd", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jon"]


def key() -> str:
    return uuid.uuid4().hex


async def at_once(*calls: Awaitable[Any]) -> list[Any]:
    """Results or the domain errors raised; anything unexpected fails the test."""
    return list(await asyncio.gather(*calls, return_exceptions=True))


def _only(results: list[Any], *kinds: type) -> None:
    unexpected = [r for r in results if not isinstance(r, kinds)]
    assert not unexpected, unexpected


async def _party_with_lines(cafe: Cafe, table: Table) -> None:
    await cafe.party(table, *NAMES)
    for name in NAMES:
        await cafe.add(table, f"device-{name.lower()}", "Espresso")


async def test_ten_phones_sending_together_make_one_round(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await _party_with_lines(cafe, table)

    results = await at_once(
        *(cafe.submit(table, f"device-{name.lower()}", key()) for name in NAMES)
    )
    _only(results, Submitted, EmptyCart)
    sent = [r for r in results if isinstance(r, Submitted)]
    assert len(sent) == 1 and not sent[0].duplicate and sent[0].round.number == 1

    rounds = (await cafe.view(table))["session"]["rounds"]
    assert [(r["id"], len(r["lines"])) for r in rounds] == [(sent[0].round.id, len(NAMES))]
    assert (await cafe.view(table))["session"]["cart"] == []
    await assert_versions_consecutive(cafe)


async def test_ten_retries_of_one_submission_make_one_round(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await _party_with_lines(cafe, table)
    submission = key()

    results = await at_once(*(cafe.submit(table, "device-ana", submission) for _ in range(10)))
    _only(results, Submitted)
    assert len({r.round.id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert await cafe.count(select(func.count()).select_from(Round)) == 1
    rounds = (await cafe.view(table))["session"]["rounds"]
    assert len(rounds[0]["lines"]) == len(NAMES)
    await assert_versions_consecutive(cafe)


async def test_two_phones_opening_a_free_table_make_one_session(cafe: Cafe) -> None:
    table = cafe.tables[0]
    results = await at_once(
        cafe.start(table, "device-ana", "Ana"), cafe.start(table, "device-ben", "Ben")
    )
    _only(results, TableAccess, PinRequired)
    opened = [r for r in results if isinstance(r, TableAccess)]
    assert len(opened) == 1 and sum(isinstance(r, PinRequired) for r in results) == 1
    assert await cafe.count(select(func.count()).select_from(TableSession)) == 1
    assert await cafe.count(select(func.count()).select_from(Member)) == 1
    # The one left out joins with the PIN, as the phone then asks them to.
    assert opened[0].session is not None and opened[0].member is not None
    loser = "device-ben" if opened[0].member.name == "Ana" else "device-ana"
    joined = await cafe.join(table, loser, "Late", opened[0].session.pin)
    assert isinstance(joined, TableAccess) and joined.session is not None
    assert joined.session.id == opened[0].session.id
    await assert_versions_consecutive(cafe)


async def test_concurrent_retries_of_one_add_make_one_line(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Ana")
    client_id = key()

    results = await at_once(
        *(cafe.add(table, "device-ana", "Espresso", 2, client_id=client_id) for _ in range(10))
    )
    _only(results, OrderLine)
    assert len({line.id for line in results}) == 1
    cart = (await cafe.view(table))["session"]["cart"]
    assert [(ln["name"], ln["quantity"]) for ln in cart] == [("Espresso", 2)]
    assert [e.type for e in cafe.events if e.topic == f"table:{table.id}"].count("cart.added") == 1
    await assert_versions_consecutive(cafe)


async def test_concurrent_retries_of_one_payment_pay_once(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await _party_with_lines(cafe, table)
    sent = await cafe.submit(table, "device-ana", key())
    cashier = await cafe.staff("cashier")
    await cafe.validate(cashier, sent.round.id)
    pay_key = key()

    results = await at_once(
        *(
            cafe.run(
                lambda tx: staff_service.settle(
                    tx, cafe.config, cashier, table.id, "cash", 5000, pay_key
                )
            )
            for _ in range(5)
        )
    )
    _only(results, Payment)
    assert len({p.id for p in results}) == 1
    assert await cafe.count(select(func.count()).select_from(Payment)) == 1
    due = len(NAMES) * cafe.products["Espresso"].price
    assert (results[0].amount, results[0].change_given) == (due, 5000 - due)
    settled = [e for e in cafe.events if e.type == "session.settled"]
    assert len(settled) == 2  # the table and the POS, once
    await assert_versions_consecutive(cafe)


async def test_many_phones_adding_at_once_lose_no_line(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, *NAMES)
    products = ["Espresso", "Croissant", "Cappuccino"]

    results = await at_once(
        *(
            cafe.add(table, f"device-{name.lower()}", product)
            for name in NAMES
            for product in products
        )
    )
    _only(results, OrderLine)
    session = (await cafe.view(table))["session"]
    assert len(session["cart"]) == len(NAMES) * len(products)
    assert all(total == sum(cafe.products[p].price for p in products)
               for total in session["subtotals"].values())
    assert len(session["subtotals"]) == len(NAMES)

    # Every change got its own version of the table's topic, none skipped or repeated.
    table_events = [e for e in cafe.events if e.topic == f"table:{table.id}"]
    assert await cafe.version(f"table:{table.id}") == len(table_events)
    assert sorted(e.version for e in table_events) == list(range(1, len(table_events) + 1))
    await assert_versions_consecutive(cafe)


async def test_two_stations_serving_at_once_serve_the_round(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Ana")
    await cafe.add(table, "device-ana", "Espresso")
    await cafe.add(table, "device-ana", "Croissant")
    sent = await cafe.submit(table, "device-ana", key())
    cashier = await cafe.staff("cashier")
    await cafe.validate(cashier, sent.round.id)
    async with cafe.db.sessionmaker() as session:
        tickets = (
            await session.scalars(select(Ticket.id).where(Ticket.round_id == sent.round.id))
        ).all()
    assert len(tickets) == 2

    async def move_all(target: str) -> None:
        results = await at_once(
            *(
                cafe.run(
                    lambda tx, ticket_id=ticket_id: staff_service.move_ticket(
                        tx, cafe.config, cashier, ticket_id, target
                    )
                )
                for ticket_id in tickets
            )
        )
        _only(results, Ticket)

    await move_all("ready")
    assert (await cafe.view(table))["session"]["rounds"][0]["status"] == "ready"
    await move_all("served")
    assert (await cafe.view(table))["session"]["rounds"][0]["status"] == "served"
    await assert_versions_consecutive(cafe)


async def test_two_screens_validating_at_once_make_one_set_of_tickets(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Ana")
    await cafe.add(table, "device-ana", "Espresso")
    await cafe.add(table, "device-ana", "Croissant")
    sent = await cafe.submit(table, "device-ana", key())
    cashier = await cafe.staff("cashier")
    supervisor = await cafe.staff("supervisor")

    results = await at_once(
        cafe.validate(cashier, sent.round.id), cafe.validate(supervisor, sent.round.id)
    )
    _only(results, Round)
    assert {r.status for r in results} == {"validated"}
    assert await cafe.count(select(func.count()).select_from(Ticket)) == 2
    await assert_versions_consecutive(cafe)


async def test_two_screens_moving_one_ticket_at_once_both_succeed(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Ana")
    await cafe.add(table, "device-ana", "Espresso")
    sent = await cafe.submit(table, "device-ana", key())
    cashier = await cafe.staff("cashier")
    await cafe.validate(cashier, sent.round.id)
    async with cafe.db.sessionmaker() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.round_id == sent.round.id))

    results = await at_once(
        *(
            cafe.run(
                lambda tx: staff_service.move_ticket(tx, cafe.config, cashier, ticket_id, "ready")
            )
            for _ in range(2)
        )
    )
    _only(results, Ticket)
    assert (await cafe.view(table))["session"]["rounds"][0]["status"] == "ready"
    assert [e.type for e in cafe.events].count("round.progress") == 3  # table, POS, bar once
    await assert_versions_consecutive(cafe)


async def test_adds_racing_a_submission_stay_in_the_cart_or_the_round(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await _party_with_lines(cafe, table)
    results = await at_once(
        cafe.submit(table, "device-ana", key()),
        *(cafe.add(table, f"device-{name.lower()}", "Croissant") for name in NAMES),
    )
    _only(results, Submitted, OrderLine)
    session = (await cafe.view(table))["session"]
    in_rounds = sum(len(r["lines"]) for r in session["rounds"])
    assert in_rounds + len(session["cart"]) == 2 * len(NAMES)
    assert await cafe.count(select(func.count()).select_from(OrderLine)) == 2 * len(NAMES)
    await assert_versions_consecutive(cafe)


async def test_idle_sweeps_in_two_processes_close_once(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Ana")
    await cafe.set_idle_since(table, datetime.now(UTC) - timedelta(seconds=cafe.config.idle_s + 5))
    now = datetime.now(UTC)
    results = await at_once(
        *(cafe.run(lambda tx: diner_service.expire_idle(tx, cafe.config, now)) for _ in range(3))
    )
    _only(results, int)
    assert sum(results) == 1
    assert [e.type for e in cafe.events].count("session.expired") == 2  # table and POS
    await assert_versions_consecutive(cafe)
