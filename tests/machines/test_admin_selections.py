"""Managers editing selections through the services: drinks edited, disabled, moved and
removed; refused input changes nothing; machines offering the selection hear of it live."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accounts.service import StaffIdentity
from customers.errors import BadAmount
from errors import DomainError, Forbidden, NotFound
from machines import admin_service, brew_service, selection_service
from machines.commands import (
    AddDrink,
    CreateSelection,
    EditDrink,
    GroupSettings,
    Move,
    Rename,
    Reorder,
)
from machines.errors import BadDrinkType, BadMove, BadName, BadRecipe, SelectionInUse, WrongModel
from machines.live import MachineTopic
from machines.models import Brew, Machine, MachineGroup, Selection, SelectionProduct
from tests.machines.conftest import Coffee, given


async def _selection_of(coffee: Coffee, machine: Machine) -> int:
    async with coffee.db.sessionmaker() as session:
        fresh = await session.get(Machine, machine.id)
        assert fresh is not None and fresh.selection_id is not None
        return fresh.selection_id


async def _drink(coffee: Coffee, drink_id: int) -> dict[str, Any]:
    async with coffee.db.sessionmaker() as session:
        drink = await session.get(SelectionProduct, drink_id)
        assert drink is not None
        return selection_service.drink_dict(drink)


async def _offered(coffee: Coffee, machine: Machine) -> list[tuple[str, int]]:
    """What a phone at the machine is offered: names and prices, in order."""
    async with coffee.db.sessionmaker() as session:
        fresh = await session.get(Machine, machine.id)
        assert fresh is not None
        found = await brew_service.offer(session, fresh, None)
    return [(d["name"], d["price"]) for d in found.drinks]


def _machine_events(coffee: Coffee, machine: Machine, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in coffee.events
            if e.topic == f"machine:{machine.id}" and e.type == kind]


async def test_editing_a_drink_reaches_the_machine_page_live(coffee: Coffee) -> None:
    machine = await coffee.machine("open")
    twin = await coffee.machine("open")  # the same model shares the default selection
    other = await coffee.machine("open")
    own = await coffee.run(
        lambda tx: selection_service.create_selection(
            tx, coffee.admin, given(CreateSelection, name="Autre", model="Jura X8"))
    )
    await coffee.run(lambda tx: admin_service.set_selection(tx, coffee.admin, other.id, own.id))
    espresso = (await coffee.drinks(machine))["espresso"]
    coffee.events.clear()

    await coffee.run(
        lambda tx: selection_service.edit_drink(
            tx, coffee.admin, espresso,
            given(EditDrink, name="Espresso serré", price=120,
                  recipe={"strength": 5, "volume_ml": 30}),
        )
    )

    saved = await _drink(coffee, espresso)
    assert (saved["name"], saved["price"], saved["recipe"]) == (
        "Espresso serré", 120, {"strength": 5, "volume_ml": 30})
    assert ("Espresso serré", 120) in await _offered(coffee, machine)
    # The machine's topic carries the new drinks; the other machine's does not move.
    [event] = _machine_events(coffee, machine, "selection.changed")
    assert len(_machine_events(coffee, twin, "selection.changed")) == 1
    assert _machine_events(coffee, other, "selection.changed") == []
    view = event["view"]
    selection_id = await _selection_of(coffee, machine)
    [offered] = [s for s in view["selections"] if s["id"] == selection_id]
    assert {"id": espresso, "price": 120} in [{"id": d["id"], "price": d["price"]}
                                              for d in offered["drinks"]]
    # …and the fragment a phone swaps in shows the new name and price, in its language.
    html = MachineTopic().render(view, "selection.changed", event["change"], "public", "fr")
    fragment = html["html"][f"drinks-{selection_id}"]
    assert "Espresso serré" in fragment and "1,20" in fragment


async def test_a_group_selection_change_reaches_the_machines_offering_it(coffee: Coffee) -> None:
    machine = await coffee.machine("custom")
    group = await coffee.run(lambda tx: admin_service.create_group(
        tx, coffee.admin, given(GroupSettings, name="Étage 2")))
    special = await coffee.run(
        lambda tx: selection_service.create_selection(
            tx, coffee.admin, given(CreateSelection, name="Étage 2", model="Jura X8"))
    )
    await coffee.run(
        lambda tx: admin_service.attach_group(tx, coffee.admin, machine.id, group.id, special.id)
    )
    coffee.events.clear()
    added = await coffee.run(
        lambda tx: selection_service.add_drink(
            tx, coffee.admin, special.id,
            given(AddDrink, name="Ristretto", type="ristretto", price=40,
                  recipe={"strength": 5}),
        )
    )
    [event] = _machine_events(coffee, machine, "selection.changed")
    [offered] = [s for s in event["view"]["selections"] if s["id"] == special.id]
    assert [d["id"] for d in offered["drinks"]] == [added.id]


async def test_refused_edits_change_nothing(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    latte = (await coffee.drinks(machine))["latte"]
    before = await _drink(coffee, latte)
    coffee.events.clear()
    refused: list[tuple[dict[str, Any], type[DomainError]]] = [
        ({"name": "  "}, BadName),
        ({"name": "x" * 121}, BadName),
        ({"name": None}, BadName),
        ({"type": "soup"}, BadDrinkType),
        ({"price": -5}, BadAmount),
        ({"price": "1,50"}, BadAmount),  # a form's text that did not parse
        ({"price": True}, BadAmount),
        ({"price": 100_001}, BadAmount),
        ({"recipe": {"strength": 9}}, BadRecipe),
        ({"recipe": {"sugar": 2}}, BadRecipe),
        ({"recipe": "strong"}, BadRecipe),
        ({"enabled": "maybe"}, DomainError),
        # A good name with a bad price: nothing is half-saved.
        ({"name": "Latte glacé", "price": -1}, BadAmount),
    ]
    for changes, error in refused:
        with pytest.raises(error) as raised:
            await coffee.run(
                lambda tx, c=changes: selection_service.edit_drink(
                    tx, coffee.admin, latte, given(EditDrink, **c))
            )
        assert 400 <= raised.value.status < 500, changes
    assert await _drink(coffee, latte) == before
    assert coffee.events == []  # nothing announced either


async def test_only_managers_of_the_company_edit(coffee: Coffee) -> None:
    machine = await coffee.machine("open")
    drinks = await coffee.drinks(machine)
    espresso = drinks["espresso"]
    selection_id = await _selection_of(coffee, machine)
    before = await _drink(coffee, espresso)
    cashier = StaffIdentity(coffee.admin.id, coffee.company_id, "cashier", "Caisse")
    stranger = StaffIdentity(coffee.admin.id, coffee.company_id + 1000, "admin", "Ailleurs")
    for who, error in ((cashier, Forbidden), (stranger, NotFound)):
        with pytest.raises(error):
            await coffee.run(
                lambda tx, w=who: selection_service.edit_drink(
                    tx, w, espresso, given(EditDrink, price=1))
            )
        with pytest.raises(error):
            await coffee.run(lambda tx, w=who: selection_service.delete_drink(tx, w, espresso))
        with pytest.raises(error):
            await coffee.run(
                lambda tx, w=who: selection_service.move_drink(tx, w, espresso, "down")
            )
        with pytest.raises(error):
            await coffee.run(
                lambda tx, w=who: selection_service.set_enabled(tx, w, espresso, False)
            )
        with pytest.raises(error):
            await coffee.run(
                lambda tx, w=who: selection_service.add_drink(
                    tx, w, selection_id, given(AddDrink, name="Thé", type="tea", price=50)
                )
            )
    with pytest.raises(NotFound):
        await coffee.run(
            lambda tx: selection_service.edit_drink(
                tx, coffee.admin, 10**9, given(EditDrink, price=1))
        )
    assert await _drink(coffee, espresso) == before
    assert await coffee.drinks(machine) == drinks


async def test_disable_enable_and_delete(coffee: Coffee) -> None:
    machine = await coffee.machine("open")
    drinks = await coffee.drinks(machine)
    done = await coffee.brew(machine, drinks["cappuccino"])
    await coffee.run(
        lambda tx: selection_service.set_enabled(tx, coffee.admin, drinks["espresso"], False)
    )
    assert "Espresso" not in [name for name, _ in await _offered(coffee, machine)]
    with pytest.raises(DomainError) as refused:
        await coffee.brew(machine, drinks["espresso"])
    assert refused.value.code == "unknown_drink"
    await coffee.run(
        lambda tx: selection_service.set_enabled(tx, coffee.admin, drinks["espresso"], True)
    )
    assert "Espresso" in [name for name, _ in await _offered(coffee, machine)]

    coffee.events.clear()
    await coffee.run(
        lambda tx: selection_service.delete_drink(tx, coffee.admin, drinks["cappuccino"])
    )
    assert "cappuccino" not in await coffee.drinks(machine)
    assert _machine_events(coffee, machine, "selection.changed")
    async with coffee.db.sessionmaker() as session:  # the usage data stays as it was
        brew = await session.get(Brew, done.brew.id)
        assert brew is not None and brew.product_name == "Cappuccino"


async def test_moving_drinks_up_and_down(coffee: Coffee) -> None:
    machine = await coffee.machine("open")
    names = [name for name, _ in await _offered(coffee, machine)]
    drinks = await coffee.drinks(machine)

    await coffee.run(
        lambda tx: selection_service.move_drink(tx, coffee.admin, drinks["lungo"], "up")
    )
    assert [name for name, _ in await _offered(coffee, machine)][:2] == [names[1], names[0]]
    # At the top it stays put, and so does the order.
    await coffee.run(
        lambda tx: selection_service.move_drink(tx, coffee.admin, drinks["lungo"], "up")
    )
    moved = [name for name, _ in await _offered(coffee, machine)]
    assert moved[:2] == [names[1], names[0]]
    with pytest.raises(BadMove):
        given(Move, direction="left")
    selection_id = await _selection_of(coffee, machine)
    ids = list(drinks.values())
    for wrong in ([drinks["lungo"]], [*ids, 10**9], "1,2", [str(i) for i in ids]):
        with pytest.raises(BadMove):
            await coffee.run(
                lambda tx, w=wrong: selection_service.reorder(
                    tx, coffee.admin, selection_id, given(Reorder, order=w).order)
            )
    assert [name for name, _ in await _offered(coffee, machine)] == moved
    backwards = [drinks[t] for t in ("hot_water", "hot_chocolate", "latte", "cappuccino",
                                     "lungo", "espresso")]
    await coffee.run(
        lambda tx: selection_service.reorder(tx, coffee.admin, selection_id, backwards)
    )
    assert [name for name, _ in await _offered(coffee, machine)] == names[::-1]


async def test_new_selection_attached_to_a_machine_of_its_model(coffee: Coffee) -> None:
    machine = await coffee.machine("open")
    source = await _selection_of(coffee, machine)
    copy = await coffee.run(
        lambda tx: selection_service.create_selection(
            tx, coffee.admin, given(CreateSelection, name="Été", model="Jura X8",
                                    copy_from=source)
        )
    )
    other_model = await coffee.run(
        lambda tx: selection_service.create_selection(
            tx, coffee.admin, given(CreateSelection, name="Vide", model="Saeco"))
    )
    assert len(await coffee.drinks(machine, copy.id)) == 6
    assert await coffee.drinks(machine, other_model.id) == {}
    with pytest.raises(BadName):
        await coffee.run(
            lambda tx: selection_service.create_selection(
                tx, coffee.admin, given(CreateSelection, name="", model="Jura X8"))
        )
    with pytest.raises(WrongModel):
        await coffee.run(
            lambda tx: admin_service.set_selection(tx, coffee.admin, machine.id, other_model.id)
        )
    assert await _selection_of(coffee, machine) == source

    coffee.events.clear()
    await coffee.run(lambda tx: admin_service.set_selection(tx, coffee.admin, machine.id, copy.id))
    assert await _selection_of(coffee, machine) == copy.id
    [event] = _machine_events(coffee, machine, "machine.selection")
    assert [s["id"] for s in event["view"]["selections"]] == [copy.id]
    # Editing the old selection no longer touches this machine.
    coffee.events.clear()
    espresso = (await coffee.drinks(machine, source))["espresso"]
    await coffee.run(
        lambda tx: selection_service.edit_drink(
            tx, coffee.admin, espresso, given(EditDrink, price=90))
    )
    assert _machine_events(coffee, machine, "selection.changed") == []


async def test_groups_members_and_recharge(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    member = await coffee.consumer(groups=(machine,))
    drinks = await coffee.drinks(machine)
    await coffee.brew(machine, drinks["hot_water"], member)  # free: allowed as a member
    async with coffee.db.sessionmaker() as session:
        group_id = await session.scalar(
            select(MachineGroup.group_id).where(MachineGroup.machine_id == machine.id)
        )
    assert group_id is not None
    group = await coffee.run(
        lambda tx: admin_service.update_group(
            tx, coffee.admin, group_id,
            given(GroupSettings, name="Open space", recharge_amount=500, recharge_every="week",
                  recharge_at="08:00"),
        )
    )
    assert (group.recharge_amount, group.recharge_every, group.recharge_at) == (500, "week",
                                                                               "08:00")
    with pytest.raises(DomainError) as bad:
        await coffee.run(
            lambda tx: admin_service.update_group(
                tx, coffee.admin, group_id,
                given(GroupSettings, name="Open space", recharge_amount=0,
                      recharge_every="week", recharge_at="08:00"),
            )
        )
    assert bad.value.status == 422

    await coffee.run(lambda tx: admin_service.remove_member(tx, coffee.admin, group_id, member))
    with pytest.raises(NotFound):  # already out
        await coffee.run(
            lambda tx: admin_service.remove_member(tx, coffee.admin, group_id, member)
        )
    with pytest.raises(DomainError) as refused:
        await coffee.brew(machine, drinks["hot_water"], member)
    assert refused.value.code == "not_authorised"

    await coffee.run(lambda tx: admin_service.detach_group(tx, coffee.admin, machine.id, group_id))
    with pytest.raises(NotFound):
        await coffee.run(
            lambda tx: admin_service.detach_group(tx, coffee.admin, machine.id, group_id)
        )


async def test_rename_and_delete_a_selection_nobody_uses(coffee: Coffee) -> None:
    machine = await coffee.machine("custom")
    source = await _selection_of(coffee, machine)
    summer = await coffee.run(lambda tx: selection_service.create_selection(
        tx, coffee.admin, given(CreateSelection, name="Été", model="Jura X8", copy_from=source)))
    renamed = await coffee.run(lambda tx: selection_service.rename_selection(
        tx, coffee.admin, summer.id, given(Rename, name="  Été 2025 ").name))
    assert renamed.name == "Été 2025"
    with pytest.raises(BadName):
        given(Rename, name="")
    cashier = StaffIdentity(coffee.admin.id, coffee.company_id, "cashier", "Caisse")
    other_company = StaffIdentity(coffee.admin.id, coffee.company_id + 1000, "admin", "X")
    with pytest.raises(Forbidden):
        await coffee.run(lambda tx: selection_service.delete_selection(tx, cashier, summer.id))
    with pytest.raises(NotFound):
        await coffee.run(lambda tx: selection_service.delete_selection(
            tx, other_company, summer.id))

    # Given to a group at the machine, then as the machine's own: refused, naming them.
    async with coffee.db.sessionmaker() as session:
        group_id = await session.scalar(
            select(MachineGroup.group_id).where(MachineGroup.machine_id == machine.id))
    await coffee.run(lambda tx: admin_service.attach_group(
        tx, coffee.admin, machine.id, group_id, summer.id))
    with pytest.raises(SelectionInUse) as refused:
        await coffee.run(lambda tx: selection_service.delete_selection(
            tx, coffee.admin, summer.id))
    assert refused.value.status == 409 and refused.value.machines == []
    assert len(refused.value.groups) == 1 and machine.name in refused.value.groups[0]
    await coffee.run(lambda tx: admin_service.attach_group(
        tx, coffee.admin, machine.id, group_id, None))
    await coffee.run(lambda tx: admin_service.set_selection(
        tx, coffee.admin, machine.id, summer.id))
    with pytest.raises(SelectionInUse) as refused:
        await coffee.run(lambda tx: selection_service.delete_selection(
            tx, coffee.admin, summer.id))
    assert refused.value.machines == [machine.name]
    assert machine.name in str(refused.value)
    assert len(await coffee.drinks(machine, summer.id)) == 6  # nothing deleted

    # Back on its old selection after a brew from the summer one: deleted with its
    # drinks; the brew keeps its own copy of the drink.
    zoe = await coffee.consumer(credit=1000)
    brewed = await coffee.brew(machine, (await coffee.drinks(machine, summer.id))["espresso"],
                               zoe)
    await coffee.report(machine, brewed.brew.id, "done")
    await coffee.run(lambda tx: admin_service.set_selection(tx, coffee.admin, machine.id, source))
    await coffee.run(lambda tx: selection_service.delete_selection(tx, coffee.admin, summer.id))
    assert await coffee.drinks(machine, summer.id) == {}
    async with coffee.db.sessionmaker() as session:
        assert await session.get(Selection, summer.id) is None
        brew = await session.get(Brew, brewed.brew.id)
        assert brew is not None and brew.product_id is None and brew.product_name
    with pytest.raises(NotFound):
        await coffee.run(lambda tx: selection_service.delete_selection(
            tx, coffee.admin, summer.id))
    assert len(await coffee.drinks(machine)) == 6  # the machine's own is untouched
