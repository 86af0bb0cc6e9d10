"""The managers' JSON API for selections, drinks, a machine's selection and groups (/api/v1).

The staff pages post their forms here too: a form sends the recipe as separate fields
(strength, volume_ml…) and prices as typed ("1,50"); JSON sends `recipe` and minor units
(machines/commands.py reads both).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.api import STAFF
from accounts.context import staff_of
from accounts.service import NotSignedIn, StaffIdentity
from api.endpoint import SIGNED_IN, Endpoint, Param, Reply
from machines import admin_service, selection_service
from machines.api import CONSUMER_ID, GROUP_ID, MACHINE_ID, OK, STAFF_ERRORS
from machines.commands import (
    AddDrink,
    CreateSelection,
    EditDrink,
    GroupSettings,
    Move,
    Rename,
    Reorder,
    SetSelection,
    drink_form,
)
from machines.errors import GroupNameTaken, SelectionInUse, WrongModel
from machines.models import SelectionProduct
from machines.schemas import DrinkSaved, GroupSaved, MachineSelection, SelectionSaved
from web.commands import command
from web.errors import error_body
from web.htmx import json_reply
from web.state import locale_of, run_tx

SELECTION_ID = Param("SelectionId", "selection_id", "A product selection's id.")
DRINK_ID = Param("DrinkId", "drink_id", "A drink's id in a selection.")
# Machines offering the selection hear of each change to its drinks.
ANNOUNCED = ("Machines offering the selection (as their own or a group's) publish the change "
             "on their `machine:{id}` topic.")


async def _staff(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    return staff


def _drink(drink: SelectionProduct) -> dict[str, Any]:
    return {"drink": selection_service.drink_dict(drink)}


def _selection(selection: Any) -> dict[str, Any]:
    return {"selection": {"id": selection.id, "name": selection.name,
                          "model": selection.model, "share_token": selection.share_token}}


async def create_selection(request: Request) -> Response:
    """For one machine model; empty, or with a copy of `copy_from`'s drinks."""
    staff = await _staff(request)
    new = await command(request, CreateSelection)
    selection = await run_tx(
        request, lambda tx: selection_service.create_selection(tx, staff, new)
    )
    return JSONResponse(_selection(selection), status_code=201)


async def rename_selection(request: Request) -> Response:
    """Needs the products permission. Only staff pages and the share link show a
    selection's name."""
    staff = await _staff(request)
    renamed = await command(request, Rename)
    selection = await run_tx(
        request,
        lambda tx: selection_service.rename_selection(
            tx, staff, request.path_params["selection_id"], renamed.name
        ),
    )
    return JSONResponse(_selection(selection))


async def delete_selection(request: Request) -> Response:
    """Needs the products permission. Only a selection that no machine offers as its own
    and no group is given at a machine (409 otherwise, naming them in `error.detail.machines`
    and `error.detail.groups`); its drinks go with it, past brews keep their own copy of each
    drink."""
    staff = await _staff(request)
    try:
        await run_tx(
            request,
            lambda tx: selection_service.delete_selection(
                tx, staff, request.path_params["selection_id"]
            ),
        )
    except SelectionInUse as error:  # JSON for the page too: it lists who uses it
        return JSONResponse(error_body(error, locale_of(request)), status_code=error.status)
    return json_reply({"ok": True, "redirect": "/staff/selections"}, request)


async def add_drink(request: Request) -> Response:
    """Recipe parameters: strength 1–5, volume_ml 10–500, temperature_c 60–96, milk_ml
    0–300; no price makes the drink free."""
    staff = await _staff(request)
    new = await command(request, AddDrink, form=drink_form)
    drink = await run_tx(
        request,
        lambda tx: selection_service.add_drink(
            tx, staff, request.path_params["selection_id"], new
        ),
    )
    return JSONResponse(_drink(drink), status_code=201)


async def reorder_drinks(request: Request) -> Response:
    """`order` lists every drink id of the selection, in the new order."""
    staff = await _staff(request)
    wanted = await command(request, Reorder)
    await run_tx(
        request,
        lambda tx: selection_service.reorder(
            tx, staff, request.path_params["selection_id"], wanted.order
        ),
    )
    return JSONResponse({"ok": True})


async def edit_drink(request: Request) -> Response:
    """Only the fields sent change; all are checked before any is written. `price` 0 (or
    null) makes the drink free; `enabled` false stops offering it."""
    staff = await _staff(request)
    edit = await command(request, EditDrink, form=drink_form)
    drink = await run_tx(
        request,
        lambda tx: selection_service.edit_drink(tx, staff, request.path_params["drink_id"], edit),
    )
    return JSONResponse(_drink(drink))


async def delete_drink(request: Request) -> Response:
    """Past brews keep their own copy of the drink's name and price."""
    staff = await _staff(request)
    await run_tx(
        request,
        lambda tx: selection_service.delete_drink(tx, staff, request.path_params["drink_id"]),
    )
    return JSONResponse({"ok": True})


async def move_drink(request: Request) -> Response:
    """One step in its selection's order; at either end it stays put."""
    staff = await _staff(request)
    move = await command(request, Move)
    await run_tx(
        request,
        lambda tx: selection_service.move_drink(
            tx, staff, request.path_params["drink_id"], move.direction
        ),
    )
    return JSONResponse({"ok": True})


async def set_machine_selection(request: Request) -> Response:
    """The drinks the machine offers by default (groups may have their own in custom mode).
    The selection must be for the machine's model."""
    staff = await _staff(request)
    chosen = await command(request, SetSelection)
    machine = await run_tx(
        request,
        lambda tx: admin_service.set_selection(
            tx, staff, request.path_params["machine_id"], chosen.selection_id
        ),
    )
    return JSONResponse({"machine": {"id": machine.id, "selection_id": machine.selection_id}})


async def detach_group(request: Request) -> Response:
    """Its members keep their credit."""
    staff = await _staff(request)
    await run_tx(
        request,
        lambda tx: admin_service.detach_group(
            tx, staff, request.path_params["machine_id"], request.path_params["group_id"]
        ),
    )
    return JSONResponse({"ok": True})


async def update_group(request: Request) -> Response:
    """Send all fields: no `recharge_every` means no regular recharge."""
    staff = await _staff(request)
    settings = await command(request, GroupSettings)
    group = await run_tx(
        request,
        lambda tx: admin_service.update_group(
            tx, staff, request.path_params["group_id"], settings
        ),
    )
    return JSONResponse({"group": {"id": group.id, "name": group.name,
                                   "recharge_amount": group.recharge_amount,
                                   "recharge_every": group.recharge_every,
                                   "recharge_at": group.recharge_at}})


async def remove_group_member(request: Request) -> Response:
    """Their credit stays theirs."""
    staff = await _staff(request)
    await run_tx(
        request,
        lambda tx: admin_service.remove_member(
            tx, staff, request.path_params["group_id"], request.path_params["consumer_id"]
        ),
    )
    return JSONResponse({"ok": True})


def _announcing(handler: Any) -> str:
    return " ".join((handler.__doc__ or "").split()) + " " + ANNOUNCED


SELECTION = "/staff/selections/{selection_id:id}"
DRINK = "/staff/drinks/{drink_id:id}"
routes = [
    Endpoint("/staff/selections", create_selection, "POST", tag=STAFF,
             summary="Create a product selection", body=CreateSelection,
             responses={201: Reply(SelectionSaved, "Created.")}, errors=STAFF_ERRORS,
             security=SIGNED_IN),
    Endpoint(SELECTION, rename_selection, "PATCH", tag=STAFF,
             summary="Rename a product selection", params=[SELECTION_ID], body=Rename,
             responses={200: Reply(SelectionSaved, "The selection as renamed.")},
             errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint(SELECTION, delete_selection, "DELETE", tag=STAFF,
             summary="Delete a product selection", params=[SELECTION_ID],
             responses={200: Reply(OK.model, "Deleted; `redirect` is the selections page.")},
             errors=[*STAFF_ERRORS, SelectionInUse], security=SIGNED_IN),
    Endpoint(SELECTION + "/drinks", add_drink, "POST", tag=STAFF,
             summary="Add a drink to a selection", description=_announcing(add_drink),
             params=[SELECTION_ID], body=AddDrink, responses={201: Reply(DrinkSaved, "Added.")},
             errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint(SELECTION + "/order", reorder_drinks, "POST", tag=STAFF, summary="Reorder a selection",
             description=_announcing(reorder_drinks), params=[SELECTION_ID], body=Reorder,
             responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint(DRINK, edit_drink, "PATCH", tag=STAFF, summary="Edit a drink",
             description=_announcing(edit_drink), params=[DRINK_ID], body=EditDrink,
             responses={200: Reply(DrinkSaved, "The drink as saved.")}, errors=STAFF_ERRORS,
             security=SIGNED_IN),
    Endpoint(DRINK, delete_drink, "DELETE", tag=STAFF,
             summary="Remove a drink from its selection", description=_announcing(delete_drink),
             params=[DRINK_ID], responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint(DRINK + "/move", move_drink, "POST", tag=STAFF, summary="Move a drink up or down",
             description=_announcing(move_drink), params=[DRINK_ID], body=Move,
             responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint("/staff/machines/{machine_id:id}/selection", set_machine_selection, "POST", tag=STAFF,
             summary="Choose a machine's selection", params=[MACHINE_ID], body=SetSelection,
             responses={200: Reply(MachineSelection, "Chosen.")},
             errors=[*STAFF_ERRORS, WrongModel], security=SIGNED_IN),
    Endpoint("/staff/machines/{machine_id:id}/groups/{group_id:id}", detach_group, "DELETE",
             tag=STAFF, summary="Stop a group using a machine", params=[MACHINE_ID, GROUP_ID],
             responses={200: OK}, errors=STAFF_ERRORS, security=SIGNED_IN),
    Endpoint("/staff/groups/{group_id:id}", update_group, "PATCH", tag=STAFF,
             summary="Rename a group and set its regular recharge", params=[GROUP_ID],
             body=GroupSettings, responses={200: Reply(GroupSaved, "Saved.")},
             errors=[*STAFF_ERRORS, GroupNameTaken], security=SIGNED_IN),
    Endpoint("/staff/groups/{group_id:id}/members/{consumer_id:id}", remove_group_member,
             "DELETE", tag=STAFF, summary="Take a consumer out of a group",
             params=[GROUP_ID, CONSUMER_ID], responses={200: OK}, errors=STAFF_ERRORS,
             security=SIGNED_IN),
]
