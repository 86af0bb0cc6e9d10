"""The managers' JSON API for selections, drinks, a machine's selection and groups (/api/v1).

The staff pages post their forms here too: a form sends the recipe as separate fields
(strength, volume_ml…) and prices as typed ("1,50"); JSON sends `recipe` and minor units.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.service import NotSignedIn, StaffIdentity
from machines import admin_service, recipes, selection_service
from machines.errors import SelectionInUse
from machines.models import SelectionProduct
from web.body import Body, read_body
from web.errors import error_body
from web.htmx import json_reply
from web.state import locale_of, run_tx


async def _staff(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    return staff


def _recipe(body: Body) -> Any:
    """The recipe from JSON as it is, or from a form's fields (an empty field: not set)."""
    if not body.is_form:
        return body.raw("recipe")
    return {
        name: body.integer(name)
        for name in recipes.RECIPE_LIMITS
        if (body.text(name) or "").strip()
    }


def _drink(drink: SelectionProduct) -> dict[str, Any]:
    return {"drink": selection_service.drink_dict(drink)}


async def create_selection(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    copy_from = body.integer("copy_from")
    selection = await run_tx(
        request,
        lambda tx: selection_service.create_selection(
            tx, staff, body.raw("name"), body.raw("model"), copy_from or None
        ),
    )
    return JSONResponse(
        {"selection": {"id": selection.id, "name": selection.name, "model": selection.model,
                       "share_token": selection.share_token}},
        status_code=201,
    )


async def rename_selection(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    selection = await run_tx(
        request,
        lambda tx: selection_service.rename_selection(
            tx, staff, request.path_params["selection_id"], body.raw("name")
        ),
    )
    return JSONResponse({"selection": {"id": selection.id, "name": selection.name,
                                       "model": selection.model,
                                       "share_token": selection.share_token}})


async def delete_selection(request: Request) -> Response:
    """Refused (409) while machines or groups offer it; the answer names them."""
    staff = await _staff(request)
    try:
        await run_tx(
            request,
            lambda tx: selection_service.delete_selection(
                tx, staff, request.path_params["selection_id"]
            ),
        )
    except SelectionInUse as error:
        body = error_body(error, locale_of(request))
        body["error"] = {**body["error"], "machines": error.machines, "groups": error.groups}
        return JSONResponse(body, status_code=error.status)
    return json_reply({"ok": True, "redirect": "/staff/selections"}, request)


async def add_drink(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    drink = await run_tx(
        request,
        lambda tx: selection_service.add_drink(
            tx, staff, request.path_params["selection_id"], body.raw("name"), body.raw("type"),
            body.money("price"), _recipe(body),
        ),
    )
    return JSONResponse(_drink(drink), status_code=201)


async def reorder(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    await run_tx(
        request,
        lambda tx: selection_service.reorder(
            tx, staff, request.path_params["selection_id"], body.raw("order")
        ),
    )
    return JSONResponse({"ok": True})


async def edit_drink(request: Request) -> Response:
    """Only the fields sent change; a form sends them all."""
    staff = await _staff(request)
    body = await read_body(request)
    changes: dict[str, Any] = {}
    if "name" in body.data:
        changes["name"] = body.raw("name")
    if "type" in body.data:
        changes["kind"] = body.raw("type")
    if "price" in body.data:
        changes["price"] = body.money("price")
    if "recipe" in body.data or (body.is_form and recipes.RECIPE_LIMITS.keys() & body.data):
        changes["recipe"] = _recipe(body)
    if "enabled" in body.data:
        changes["enabled"] = body.flag("enabled")
    drink = await run_tx(
        request,
        lambda tx: selection_service.edit_drink(
            tx, staff, request.path_params["drink_id"], **changes
        ),
    )
    return JSONResponse(_drink(drink))


async def delete_drink(request: Request) -> Response:
    staff = await _staff(request)
    await run_tx(
        request,
        lambda tx: selection_service.delete_drink(tx, staff, request.path_params["drink_id"]),
    )
    return JSONResponse({"ok": True})


async def move_drink(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    await run_tx(
        request,
        lambda tx: selection_service.move_drink(
            tx, staff, request.path_params["drink_id"], body.raw("direction")
        ),
    )
    return JSONResponse({"ok": True})


async def set_selection(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    machine = await run_tx(
        request,
        lambda tx: admin_service.set_selection(
            tx, staff, request.path_params["machine_id"], body.integer("selection_id")
        ),
    )
    return JSONResponse({"machine": {"id": machine.id, "selection_id": machine.selection_id}})


async def detach_group(request: Request) -> Response:
    staff = await _staff(request)
    await run_tx(
        request,
        lambda tx: admin_service.detach_group(
            tx, staff, request.path_params["machine_id"], request.path_params["group_id"]
        ),
    )
    return JSONResponse({"ok": True})


async def update_group(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    group = await run_tx(
        request,
        lambda tx: admin_service.update_group(
            tx, staff, request.path_params["group_id"], body.raw("name"),
            body.money("recharge_amount") or 0, body.raw("recharge_every"),
            body.raw("recharge_at") or "07:00",
        ),
    )
    return JSONResponse({"group": {"id": group.id, "name": group.name,
                                   "recharge_amount": group.recharge_amount,
                                   "recharge_every": group.recharge_every,
                                   "recharge_at": group.recharge_at}})


async def remove_member(request: Request) -> Response:
    staff = await _staff(request)
    await run_tx(
        request,
        lambda tx: admin_service.remove_member(
            tx, staff, request.path_params["group_id"], request.path_params["consumer_id"]
        ),
    )
    return JSONResponse({"ok": True})


routes = [
    Route("/staff/selections", create_selection, methods=["POST"]),
    Route("/staff/selections/{selection_id:int}", rename_selection, methods=["PATCH"]),
    Route("/staff/selections/{selection_id:int}", delete_selection, methods=["DELETE"]),
    Route("/staff/selections/{selection_id:int}/drinks", add_drink, methods=["POST"]),
    Route("/staff/selections/{selection_id:int}/order", reorder, methods=["POST"]),
    Route("/staff/drinks/{drink_id:int}", edit_drink, methods=["PATCH"]),
    Route("/staff/drinks/{drink_id:int}", delete_drink, methods=["DELETE"]),
    Route("/staff/drinks/{drink_id:int}/move", move_drink, methods=["POST"]),
    Route("/staff/machines/{machine_id:int}/selection", set_selection, methods=["POST"]),
    Route("/staff/machines/{machine_id:int}/groups/{group_id:int}", detach_group,
          methods=["DELETE"]),
    Route("/staff/groups/{group_id:int}", update_group, methods=["PATCH"]),
    Route("/staff/groups/{group_id:int}/members/{consumer_id:int}", remove_member,
          methods=["DELETE"]),
]
