"""What machines tell other rooms: each brew that ended, served or failed, once, with what
a dashboard or loyalty needs (who, what, for how much, how it was paid)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from customers.models import GroupMember
from domain.events import BrewFinished
from domain.subscribers import subscribe, unsubscribe
from machines import admin_service, selection_service
from machines.commands import AddDrink, CreateSelection, GroupSettings
from machines.models import MachineGroup
from realtime.events import Tx
from tests.machines.conftest import Coffee, given


@pytest.fixture
def finished() -> Iterator[list[BrewFinished]]:
    heard: list[BrewFinished] = []

    async def listen(tx: Tx, event: BrewFinished) -> None:
        heard.append(event)

    subscribe(BrewFinished, "test.listener", listen)
    yield heard
    unsubscribe(BrewFinished, "test.listener")


async def test_a_served_and_a_failed_brew_are_each_heard_once(
    coffee: Coffee, finished: list[BrewFinished]
) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=1000)
    price = await coffee.price(drinks["espresso"])

    served = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, served.brew.id, "brewing", progress=50)
    assert finished == []
    await coffee.report(machine, served.brew.id, "done")
    await coffee.report(machine, served.brew.id, "done")  # the device repeats itself
    spilled = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, spilled.brew.id, "failed", reason="no_water")

    assert [(e.brew_id, e.outcome, e.reason, e.refunded) for e in finished] == [
        (served.brew.id, "served", None, False),
        (spilled.brew.id, "failed", "no_water", True),
    ]
    first = finished[0]
    assert (first.company_id, first.site_id, first.machine_id) == (
        coffee.company_id, coffee.venue.site_id, machine.id,
    )
    assert (first.consumer_id, first.product_type, first.price, first.currency) == (
        zoe, "espresso", price, "EUR",
    )
    assert first.charge == "credit"
    assert await coffee.balance(zoe) == 1000 - price
    # The drink's group and the selection it came from (the machine's, prepaid mode).
    async with coffee.db.sessionmaker() as session:
        group_id = await session.scalar(select(MachineGroup.group_id).where(
            MachineGroup.machine_id == machine.id))
    assert group_id is not None and machine.selection_id is not None
    assert (first.group_id, first.selection_id) == (group_id, machine.selection_id)


async def test_a_brew_from_a_groups_own_selection_names_it(
    coffee: Coffee, finished: list[BrewFinished]
) -> None:
    machine = await coffee.machine("custom")
    group = await coffee.run(lambda tx: admin_service.create_group(
        tx, coffee.admin, given(GroupSettings, name="Étage 2")))
    special = await coffee.run(lambda tx: selection_service.create_selection(
        tx, coffee.admin, given(CreateSelection, name="Étage 2", model="Jura X8")))
    await coffee.run(
        lambda tx: admin_service.attach_group(tx, coffee.admin, machine.id, group.id, special.id))
    drink = await coffee.run(lambda tx: selection_service.add_drink(
        tx, coffee.admin, special.id,
        given(AddDrink, name="Ristretto", type="ristretto", price=40, recipe={"strength": 5})))
    zoe = await coffee.consumer(credit=1000)
    async with coffee.db.sessionmaker() as session, session.begin():
        session.add(GroupMember(group_id=group.id, consumer_id=zoe))

    served = await coffee.brew(machine, drink.id, zoe)
    await coffee.report(machine, served.brew.id, "done")

    [told] = finished
    assert (told.group_id, told.selection_id, told.charge) == (group.id, special.id, "credit")
    assert special.id != machine.selection_id
