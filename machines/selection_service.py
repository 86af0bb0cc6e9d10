"""What managers do with product selections: create, rename and delete them; add, edit,
order and remove their drinks.

Every change to a selection's drinks is announced on the topic of each machine offering
it, so the machine's page shows the new names, prices and order without a reload.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from sqlalchemy import delete, exists, func, or_, select

from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned, owned_by
from customers.models import UserGroup
from db.base import changed, is_id
from domain import audit
from errors import NotFound
from machines import recipes
from machines.commands import AddDrink, CreateSelection, EditDrink
from machines.errors import BadMove, SelectionInUse
from machines.models import Machine, MachineGroup, Selection, SelectionProduct
from machines.publishing import machine_changed
from realtime.events import Tx


def _target(thing: Selection | SelectionProduct) -> str:
    """How the audit log names a selection or a drink."""
    return f"{thing.name} (#{thing.id})"


async def selection_for(tx: Tx, staff: StaffIdentity, selection_id: object) -> Selection:
    return await owned(tx.session, staff, Selection, selection_id)


async def drink_for(tx: Tx, staff: StaffIdentity, drink_id: object) -> SelectionProduct:
    drink = await tx.session.get(SelectionProduct, drink_id) if is_id(drink_id) else None
    if drink is None:
        raise NotFound()
    await selection_for(tx, staff, drink.selection_id)
    return drink


async def machines_using(tx: Tx, selection_id: int) -> list[int]:
    """Machines offering the selection: as their own, or to one of their groups."""
    via_group = select(MachineGroup.machine_id).where(MachineGroup.selection_id == selection_id)
    rows = await tx.session.scalars(
        select(Machine.id)
        .where(or_(Machine.selection_id == selection_id, Machine.id.in_(via_group)))
        .order_by(Machine.id)
    )
    return list(rows)


async def announce(tx: Tx, selection_id: int) -> None:
    await tx.session.flush()
    for machine_id in await machines_using(tx, selection_id):
        await machine_changed(tx, machine_id, "selection.changed", {"selection_id": selection_id})


async def _drinks(tx: Tx, selection_id: int) -> list[SelectionProduct]:
    rows = await tx.session.scalars(
        select(SelectionProduct)
        .where(SelectionProduct.selection_id == selection_id)
        .order_by(SelectionProduct.position, SelectionProduct.id)
    )
    return list(rows)


async def create_selection(tx: Tx, staff: StaffIdentity, new: CreateSelection) -> Selection:
    """A new selection for a machine model: empty, or with a copy of another one's drinks."""
    staff.require(Permission.PRODUCTS)
    source = await selection_for(tx, staff, new.copy_from) if new.copy_from else None
    selection = Selection(company_id=staff.company_id, model=new.model, name=new.name,
                          share_token=secrets.token_urlsafe(16))
    tx.session.add(selection)
    await tx.session.flush()
    for position, drink in enumerate(await _drinks(tx, source.id) if source else []):
        tx.session.add(
            SelectionProduct(selection_id=selection.id, name=drink.name, type=drink.type,
                             price=drink.price, recipe=dict(drink.recipe), position=position,
                             enabled=drink.enabled)
        )
    await tx.session.flush()
    return selection


async def rename_selection(
    tx: Tx, staff: StaffIdentity, selection_id: int, name: str
) -> Selection:
    """Only staff pages and share links show the name: no machine is told."""
    staff.require(Permission.PRODUCTS)
    selection = await selection_for(tx, staff, selection_id)
    selection.name = name
    await tx.session.flush()
    return selection


async def users_of(tx: Tx, selection_id: int) -> tuple[list[str], list[str]]:
    """Who offers the selection: machines as their own, groups at a machine."""
    machines = await tx.session.scalars(
        select(Machine.name).where(Machine.selection_id == selection_id).order_by(Machine.name)
    )
    groups = await tx.session.execute(
        select(UserGroup.name, Machine.name)
        .join(MachineGroup, MachineGroup.group_id == UserGroup.id)
        .join(Machine, Machine.id == MachineGroup.machine_id)
        .where(MachineGroup.selection_id == selection_id)
        .order_by(UserGroup.name, Machine.name)
    )
    return list(machines), [f"{group} · {machine}" for group, machine in groups]


async def delete_selection(tx: Tx, staff: StaffIdentity, selection_id: object) -> None:
    """Only a selection nobody offers: deleting one in use would leave its machines or
    groups without drinks. Past brews keep their own copy of each drink."""
    staff.require(Permission.PRODUCTS)
    selection = await selection_for(tx, staff, selection_id)
    machines, groups = await users_of(tx, selection.id)
    if machines or groups:
        raise SelectionInUse(machines, groups)
    # Its drinks first: past brews point at them (ON DELETE SET NULL), the usage stays.
    await tx.session.execute(
        delete(SelectionProduct).where(SelectionProduct.selection_id == selection.id)
        .execution_options(synchronize_session=False)
    )
    # Conditional: a machine or group given this selection meanwhile keeps it.
    gone = await tx.session.execute(
        delete(Selection)
        .where(
            Selection.id == selection.id,
            ~exists().where(Machine.selection_id == selection.id),
            ~exists().where(MachineGroup.selection_id == selection.id),
        )
        .execution_options(synchronize_session=False)
    )
    if changed(gone) != 1:
        raise SelectionInUse(*await users_of(tx, selection.id))  # rolls the drinks back too
    await audit.record(tx, staff.id, staff.company_id, "selection.deleted", _target(selection),
                       {"model": selection.model})
    tx.session.expunge(selection)


async def add_drink(
    tx: Tx, staff: StaffIdentity, selection_id: int, new: AddDrink
) -> SelectionProduct:
    """A drink at the end of the selection; no price makes it free."""
    staff.require(Permission.PRODUCTS)
    selection = await selection_for(tx, staff, selection_id)
    product = SelectionProduct(
        selection_id=selection.id, name=new.name, type=new.type, price=new.price or 0,
        recipe=new.recipe.values() if new.recipe else {},
    )
    last = await tx.session.scalar(
        select(func.max(SelectionProduct.position)).where(
            SelectionProduct.selection_id == selection.id
        )
    )
    product.position = (last or 0) + 1
    tx.session.add(product)
    await announce(tx, selection.id)
    return product


async def edit_drink(
    tx: Tx, staff: StaffIdentity, drink_id: int, edit: EditDrink
) -> SelectionProduct:
    """Change the fields the edit was given (a price or a recipe given as null: free, the
    machine's own settings)."""
    staff.require(Permission.PRODUCTS)
    drink = await drink_for(tx, staff, drink_id)
    given = edit.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = edit.name
    if "type" in given:
        changes["type"] = edit.type
    if "price" in given:
        changes["price"] = edit.price or 0
    if "recipe" in given:
        changes["recipe"] = edit.recipe.values() if edit.recipe else {}
    if "enabled" in given:
        changes["enabled"] = edit.enabled
    if changes.get("price", drink.price) != drink.price:
        await audit.record(tx, staff.id, staff.company_id, "drink.price", _target(drink),
                           {"price": [drink.price, changes["price"]]})
    for field, value in changes.items():
        setattr(drink, field, value)
    if changes:
        await announce(tx, drink.selection_id)
    return drink


async def set_enabled(
    tx: Tx, staff: StaffIdentity, drink_id: int, enabled: bool
) -> SelectionProduct:
    """Offer a drink again, or stop offering it without losing its recipe and price."""
    return await edit_drink(tx, staff, drink_id, EditDrink(enabled=enabled))


async def delete_drink(tx: Tx, staff: StaffIdentity, drink_id: int) -> None:
    """Past brews keep their own copy of the drink's name and price (usage data stays)."""
    staff.require(Permission.PRODUCTS)
    drink = await drink_for(tx, staff, drink_id)
    selection_id = drink.selection_id
    await audit.record(tx, staff.id, staff.company_id, "drink.removed", _target(drink),
                       {"price": drink.price})
    await tx.session.delete(drink)
    await announce(tx, selection_id)


async def move_drink(
    tx: Tx, staff: StaffIdentity, drink_id: int, direction: Literal["up", "down"]
) -> None:
    """One step up or down in its selection's order; at either end it stays put."""
    staff.require(Permission.PRODUCTS)
    drink = await drink_for(tx, staff, drink_id)
    drinks = await _drinks(tx, drink.selection_id)
    index = drinks.index(drink)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(drinks):
        return
    drinks[index], drinks[other] = drinks[other], drinks[index]
    for position, product in enumerate(drinks):
        product.position = position
    await announce(tx, drink.selection_id)


async def reorder(tx: Tx, staff: StaffIdentity, selection_id: int, order: list[int]) -> None:
    """Put the selection's drinks in the given order (a list of all their ids)."""
    staff.require(Permission.PRODUCTS)
    selection = await selection_for(tx, staff, selection_id)
    drinks = {p.id: p for p in await _drinks(tx, selection.id)}
    if sorted(order) != sorted(drinks):
        raise BadMove()
    for position, product_id in enumerate(order):
        drinks[product_id].position = position
    await announce(tx, selection.id)


def drink_dict(drink: SelectionProduct) -> dict[str, Any]:
    return {"id": drink.id, "name": drink.name, "type": drink.type, "price": drink.price,
            "recipe": drink.recipe, "enabled": drink.enabled, "position": drink.position,
            "icon": recipes.drink(drink.type).icon}


async def selection_view(tx: Tx, token: object) -> dict[str, Any]:
    """A selection shared by link: its drinks and the machines using it."""
    selection = (
        await tx.session.scalar(select(Selection).where(Selection.share_token == token))
        if isinstance(token, str)
        else None
    )
    if selection is None:
        raise NotFound()
    return await _view(tx, selection)


async def _view(tx: Tx, selection: Selection) -> dict[str, Any]:
    ids = await machines_using(tx, selection.id)
    names = await tx.session.scalars(
        select(Machine.name).where(Machine.id.in_(ids)).order_by(Machine.name)
    )
    return {
        "selection": {"id": selection.id, "name": selection.name, "model": selection.model},
        "drinks": [drink_dict(d) for d in await _drinks(tx, selection.id)],
        "machines": list(names),
    }


async def editor_view(tx: Tx, staff: StaffIdentity, selection_id: object) -> dict[str, Any]:
    """What the editor shows: the selection, all its drinks (disabled ones too), its
    machines (with their ids, for links) and its share link."""
    selection = await selection_for(tx, staff, selection_id)
    view = await _view(tx, selection)
    ids = await machines_using(tx, selection.id)
    rows = await tx.session.execute(
        select(Machine.id, Machine.name).where(Machine.id.in_(ids)).order_by(Machine.name)
    )
    view["machines"] = [{"id": i, "name": n} for i, n in rows]
    view["selection"]["share_token"] = selection.share_token
    return view


async def company_selections(tx: Tx, staff: StaffIdentity) -> list[dict[str, Any]]:
    """The company's selections by model, each with its number of drinks and machines."""
    selections = await tx.session.scalars(
        select(Selection)
        .where(owned_by(staff, Selection.company_id))
        .order_by(Selection.model, Selection.name, Selection.id)
    )
    rows = await tx.session.execute(
        select(SelectionProduct.selection_id, func.count())
        .join(Selection, Selection.id == SelectionProduct.selection_id)
        .where(owned_by(staff, Selection.company_id))
        .group_by(SelectionProduct.selection_id)
    )
    counts: dict[int, int] = {selection_id: count for selection_id, count in rows}
    out = []
    for selection in selections:
        out.append({"id": selection.id, "name": selection.name, "model": selection.model,
                    "share_token": selection.share_token, "drinks": counts.get(selection.id, 0),
                    "machines": len(await machines_using(tx, selection.id))})
    return out
