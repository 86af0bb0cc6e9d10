"""What ordering tells other rooms (loyalty, dashboards): a round sent, validated or refused,
a table settled for how much and by whom, a table freed; on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from domain.events import (
    DomainEvent,
    PaidPart,
    RoundRefused,
    RoundSubmitted,
    RoundValidated,
    SoldLine,
    TableFreed,
    TableSettled,
)
from domain.subscribers import subscribe, unsubscribe
from ordering import staff_service
from realtime.events import Tx
from tests.ordering.conftest import Cafe

KINDS: list[type[DomainEvent]] = [
    RoundSubmitted, RoundValidated, RoundRefused, TableSettled, TableFreed,
]


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def heard() -> Iterator[list[Any]]:
    events: list[Any] = []

    async def listen(tx: Tx, event: DomainEvent) -> None:
        events.append(event)

    for kind in KINDS:
        subscribe(kind, "test.listener", listen)
    yield events
    for kind in KINDS:
        unsubscribe(kind, "test.listener")


async def test_a_table_settled_in_cash_is_heard_with_its_bill_and_its_cashier(
    cafe: Cafe, heard: list[Any]
) -> None:
    table = cafe.tables[0]
    cashier = await cafe.staff("cashier")
    await cafe.party(table, "Lea", "Tom")
    await cafe.add(table, "device-lea", "Espresso", 2)
    sent = await cafe.submit(table, "device-lea", key())
    await cafe.validate(cashier, sent.round.id)
    bill = 2 * cafe.products["Espresso"].price

    await cafe.run(lambda tx: staff_service.settle(
        tx, cafe.config, cashier, table.id, "cash", bill + 500, key()
    ))
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))  # retry

    assert [type(e) for e in heard] == [RoundSubmitted, RoundValidated, TableSettled, TableFreed]
    submitted, validated, settled, freed = heard
    assert (await cafe.view(table))["session"] is None
    assert (submitted.table_id, submitted.number, submitted.total, submitted.currency) == (
        table.id, 1, bill, "EUR",
    )
    assert submitted.member_id is not None and submitted.staff_id is None
    assert (validated.round_id, validated.staff_id) == (sent.round.id, cashier.id)
    assert (settled.amount, settled.method, settled.staff_id) == (bill, "cash", cashier.id)
    assert settled.company_id == cashier.company_id and settled.site_id == cafe.venue.site_id
    assert (freed.session_id, freed.reason, freed.settled) == (settled.session_id, "freed", True)
    assert len({e.id for e in heard}) == 4
    # What the dashboards need without asking ordering back: lines, parts, times.
    espresso = cafe.products["Espresso"]
    assert settled.lines == [SoldLine(product_id=espresso.id, category_id=espresso.category_id,
                                      name="Espresso", quantity=2, amount=bill,
                                      station=espresso.station)]
    assert settled.payments == [PaidPart(method="cash", amount=bill)]
    assert settled.opened_at is not None and settled.opened_at == freed.opened_at
    assert settled.opened_at <= settled.at and not settled.at_till


async def test_a_refused_round_is_heard_with_its_reason(cafe: Cafe, heard: list[Any]) -> None:
    table = cafe.tables[1]
    cashier = await cafe.staff("cashier")
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Croissant")
    sent = await cafe.submit(table, "device-lea", key())

    await cafe.run(lambda tx: staff_service.refuse(
        tx, cafe.config, cashier, sent.round.id, "No more croissants"
    ))

    refused = heard[-1]
    assert isinstance(refused, RoundRefused)
    assert (refused.round_id, refused.reason, refused.staff_id) == (
        sent.round.id, "No more croissants", cashier.id,
    )


async def test_a_round_that_fails_is_not_heard(cafe: Cafe, heard: list[Any]) -> None:
    table = cafe.tables[2]
    await cafe.party(table, "Lea")
    with pytest.raises(Exception):  # noqa: B017 - an empty cart, whichever error says so
        await cafe.submit(table, "device-lea", key())
    assert heard == []
