"""The POS view of a busy site, on both databases: what each table's own view says, read in
a number of statements that does not grow with the open tables."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event

from ordering import pos_order, staff_service, views
from ordering.round_state import IN_KITCHEN
from ordering.staff_service import LineAdd, LineEdit
from tests.ordering.conftest import Cafe, Table
from tests.ordering.test_table_payments import pay, send, set_mode, verdict


def key() -> str:
    return uuid.uuid4().hex


async def take(cafe: Cafe, table: Table, *names: str) -> pos_order.Taken:
    cashier = await cafe.staff("cashier")
    lines = [LineAdd(cafe.products[name].id, 1) for name in names]
    return await cafe.run(
        lambda tx: pos_order.take_order(tx, cafe.config, cashier, table.id, lines, key())
    )


async def busy_site(cafe: Cafe) -> None:
    """Eight tables in every state the POS shows; the others stay free."""
    cashier = await cafe.staff("cashier")
    t = cafe.tables
    # A party with one round in production, one waiting and something left in the cart.
    await cafe.party(t[0], "Lea", "Tom")
    await cafe.add(t[0], "device-lea", "Espresso", 2, "serré")
    first = await cafe.submit(t[0], "device-lea", key())
    await cafe.validate(cashier, first.round.id)
    await cafe.add(t[0], "device-tom", "Croissant", 1)
    await cafe.submit(t[0], "device-tom", key())
    await cafe.add(t[0], "device-tom", "Tarte Tatin", 1)
    # An order taken at the POS.
    await take(cafe, t[1], "Espresso", "Croque-monsieur")
    # A refused round, then one edited by staff: a line set to zero, one added.
    await cafe.party(t[2], "Zoe")
    await cafe.add(t[2], "device-zoe", "Cappuccino", 1)
    refused = await cafe.submit(t[2], "device-zoe", key())
    await cafe.run(
        lambda tx: staff_service.refuse(tx, cafe.config, cashier, refused.round.id, "plus de lait")
    )
    await cafe.add(t[2], "device-zoe", "Espresso", 2)
    await cafe.add(t[2], "device-zoe", "Croissant", 1)
    edited = await cafe.submit(t[2], "device-zoe", key())
    lines = (await cafe.view(t[2]))["session"]["rounds"][1]["lines"]
    espresso = next(ln["id"] for ln in lines if ln["name"] == "Espresso")
    await cafe.run(
        lambda tx: staff_service.edit(
            tx, cafe.config, cashier, edited.round.id, 1, "plus d'espresso",
            [LineEdit(espresso, 0)], [LineAdd(cafe.products["Tarte Tatin"].id, 1, "chaude")],
        )
    )
    # Order and pay: a round waiting for its payment.
    await set_mode(cafe, t[3], "order_and_pay")
    await cafe.party(t[3], "Max")
    await cafe.add(t[3], "device-max", "Cappuccino", 1)
    await send(cafe, t[3], "device-max", key())
    # Pay only: the staff's order, part of it paid from a phone.
    await set_mode(cafe, t[4], "pay_only")
    taken = await take(cafe, t[4], "Salade niçoise", "Citronnade maison")
    await cafe.join(t[4], "device-ana", "Ana", taken.pin)
    started = await pay(cafe, t[4], "device-ana", key(), 500)
    await verdict(cafe, started.payment, True)
    # Settled, not yet freed; then settled and freed.
    for table, freed in ((t[5], False), (t[7], True)):
        await take(cafe, table, "Soupe du jour")
        await cafe.run(
            lambda tx, table=table: staff_service.settle(
                tx, cafe.config, cashier, table.id, "card", None, key()
            )
        )
        if freed:
            await cafe.run(lambda tx, table=table: staff_service.free(
                tx, cafe.config, cashier, table.id
            ))
    # A party that has not ordered yet.
    await cafe.party(t[6], "Ugo")


async def as_tables_tell_it(cafe: Cafe) -> dict[str, Any]:
    """The POS's tables, queue and production as each table's own view tells them."""
    tiles, queue, kitchen = [], [], []
    for table in cafe.tables:
        view = await cafe.view(table)
        detail = view["session"]
        tiles.append(
            {
                "id": table.id,
                "label": view["table"]["label"],
                "state": view["table"]["state"],
                "session_id": detail["id"] if detail else None,
                "pin": detail["pin"] if detail else None,
                "members": len(detail["members"]) if detail else 0,
                "due": detail["due"] if detail else 0,
                "paid": detail["paid"] if detail else 0,
                "reward": {"name": detail["reward"]["name"],
                           "discount": detail["reward"]["discount"]}
                if detail and detail["reward"] else None,
                "payment": detail["payment"] if detail else None,
                "opened_at": detail["opened_at"] if detail else None,
            }
        )
        for rnd in detail["rounds"] if detail else []:
            entry = {**rnd, "table_id": table.id, "table": view["table"]["label"]}
            if rnd["status"] == "to_validate":
                queue.append(entry)
            elif rnd["status"] in IN_KITCHEN:
                kitchen.append(entry)
    queue.sort(key=lambda r: r["submitted_at"])
    kitchen.sort(key=lambda r: r["submitted_at"])
    return {"tables": tiles, "queue": queue, "in_production": kitchen}


async def statements(cafe: Cafe) -> int:
    """How many statements reading the POS view sends to the database."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    async with cafe.db.sessionmaker() as session:
        engine = session.bind.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            await views.pos_view(session, cafe.venue.site_id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(sent)


async def test_the_pos_shows_each_table_as_its_own_view_does(cafe: Cafe) -> None:
    await busy_site(cafe)
    pos = await cafe.pos()
    expected = await as_tables_tell_it(cafe)
    taken_by = {
        (rnd["table"], rnd["number"]): rnd["taken_by"]
        for part in ("queue", "in_production")
        for rnd in pos[part]
    }
    assert {part: pos[part] for part in expected} == expected
    cashier = (await cafe.staff("cashier")).name
    assert taken_by == {
        ("Table 1", 1): None, ("Table 1", 2): None, ("Table 3", 2): None,
        ("Table 2", 1): cashier, ("Table 5", 1): cashier, ("Table 6", 1): cashier,
    }
    states = [tile["state"] for tile in pos["tables"]]
    assert states[:8] == [
        "to_validate", "in_production", "to_validate", "ordering", "in_production",
        "settled", "ordering", "free",
    ]
    assert [(r["table"], r["number"]) for r in pos["queue"]] == [("Table 1", 2), ("Table 3", 2)]
    assert sorted((r["table"], r["number"]) for r in pos["in_production"]) == [
        ("Table 1", 1), ("Table 2", 1), ("Table 5", 1), ("Table 6", 1),
    ]
    tiles = {tile["label"]: tile for tile in pos["tables"]}
    assert tiles["Table 4"]["payment"] is not None and tiles["Table 5"]["paid"] == 500
    assert (tiles["Table 1"]["members"], tiles["Table 5"]["members"]) == (2, 1)


async def test_the_pos_view_reads_open_tables_in_a_fixed_number_of_statements(
    cafe: Cafe,
) -> None:
    quiet = await statements(cafe)
    await busy_site(cafe)
    busy = await statements(cafe)
    for table in cafe.tables[8:]:
        await take(cafe, table, "Espresso")
    assert busy == quiet == await statements(cafe)
