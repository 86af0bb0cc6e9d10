"""Cart changes are the most frequent writes: each sends a fixed, small set of statements.

Access and the change's checks in one, the write and the topic's version in one (on
PostgreSQL; two on SQLite, which has no data-modifying WITH), the table's view: three,
whatever the cart holds. One more statement on this path costs every tap on every phone a
database round trip (see bench/README.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event

from ordering import cart_service
from ordering.errors import NotYourLine, PinRequired, UnknownLine, UnknownProduct
from tests.ordering.conftest import Cafe

PER_CHANGE = {"postgresql": 3, "sqlite": 4}


async def statements(cafe: Cafe, change: Callable[[], Awaitable[Any]]) -> list[str]:
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's, sent as a statement
            sent.append(statement)

    engine = cafe.db.sessionmaker.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await change()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent


async def test_adding_changing_and_removing_a_line_send_three_statements_each(
    cafe: Cafe,
) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Léa", "Tom")
    for product in ("Espresso", "Croissant", "Espresso"):
        await cafe.add(table, "device-tom", product)  # a cart with lines of others

    added = await statements(cafe, lambda: cafe.add(table, "device-léa", "Espresso"))
    line = (await cafe.view(table))["session"]["cart"][-1]
    changed = await statements(cafe, lambda: cafe.run(
        lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-léa", line["id"], 3)
    ))
    removed = await statements(cafe, lambda: cafe.run(
        lambda tx: cart_service.remove_line(
            tx, cafe.config, table.token, "device-léa", line["id"])
    ))

    assert [len(added), len(changed), len(removed)] == [PER_CHANGE[cafe.db.backend]] * 3, (
        added, changed, removed)
    assert {ln["member"] for ln in (await cafe.view(table))["session"]["cart"]} == {"Tom"}


async def test_the_checks_still_refuse_in_the_same_statement(cafe: Cafe) -> None:
    """Merging the checks into the access statement keeps each refusal and its order."""
    table = cafe.tables[0]
    await cafe.party(table, "Léa", "Tom")
    tom_line = await cafe.add(table, "device-tom", "Espresso")
    key = uuid.uuid4().hex
    first = await cafe.add(table, "device-léa", "Croissant", client_id=key)

    # A retry reads the first line back: nothing written, nothing published.
    sent = await statements(
        cafe, lambda: cafe.add(table, "device-léa", "Croissant", client_id=key)
    )
    assert cafe.last_events == []
    assert len(sent) == 2
    again = await cafe.add(table, "device-léa", "Croissant", client_id=key)
    assert again.id == first.id

    for refused, expected in (
        (lambda tx: cart_service.add_line(
            tx, cafe.config, table.token, "device-léa", uuid.uuid4().hex, 10**30, 1),
         UnknownProduct),
        (lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-léa", tom_line.id, 2), NotYourLine),
        (lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-léa", 10**30, 2), UnknownLine),
        (lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-nobody", tom_line.id, 2), PinRequired),
        (lambda tx: cart_service.remove_line(
            tx, cafe.config, table.token, "device-nobody", tom_line.id), PinRequired),
    ):
        with pytest.raises(expected):
            await cafe.run(refused)
    view = await cafe.view(table)
    assert sorted(ln["id"] for ln in view["session"]["cart"]) == sorted([tom_line.id, first.id])
