"""The JSON API for diners and staff (/api/v1); the htmx pages post to it too."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import web.convertors  # noqa: F401  (the {…:id} path type)
from accounts.context import staff_of, viewer_of
from accounts.models import Site
from accounts.service import NotSignedIn, StaffIdentity
from accounts.tenant import site_for
from errors import NotFound
from ordering import cart_service, diner_service, staff_service, table_modes, views
from ordering.config import config_of
from ordering.errors import PinLocked, WrongPin
from ordering.live import TableTopic
from ordering.scanned_tables import remember_table
from ordering.staff_service import LineAdd, LineEdit
from ordering.table_view import table_view
from realtime.events import Tx
from realtime.models import current_version
from web.body import BadBody, Body, read_body
from web.htmx import json_reply
from web.state import device_of, run_tx


def _line(line: Any) -> dict[str, Any]:
    return {
        "id": line.id, "client_id": line.client_id, "product_id": line.product_id,
        "quantity": line.quantity, "unit_price": line.unit_price, "note": line.note,
    }


async def table_state(request: Request) -> Response:
    """Where this device stands at the table, with the table's view and the menu."""
    token = request.path_params["token"]
    config = config_of(request)
    viewer = await viewer_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        found = await diner_service.table_access(tx, config, token, viewer.device_key or "")
        remember_table(request, found.table.id)
        topic = views.table_topic(found.table.id)
        view = await table_view(tx.session, found.table.id, found.header)
        view["version"] = await current_version(tx.session, topic)
        menu = await views.menu_view(tx.session, found.table.site_id)
        menu["version"] = await current_version(tx.session, views.menu_topic(found.table.site_id))
        kind = TableTopic()
        return {
            "access": found.access.value,
            "member_id": found.member.id if found.member else None,
            "topics": [topic, views.menu_topic(found.table.site_id)],
            "table": kind.present(view, kind.audience(view, viewer)),
            "menu": menu,
        }

    return json_reply(await run_tx(request, op), request)


async def start(request: Request) -> Response:
    body = await read_body(request)
    config = config_of(request)
    found = await run_tx(
        request,
        lambda tx: diner_service.start(
            tx, config, request.path_params["token"], device_of(request), body.raw("name")
        ),
    )
    assert found.session is not None and found.member is not None
    remember_table(request, found.table.id)
    return json_reply(
        {"member_id": found.member.id, "pin": found.session.pin, "refresh": True}, request, 201
    )


async def join(request: Request) -> Response:
    body = await read_body(request)
    config = config_of(request)
    outcome = await run_tx(
        request,
        lambda tx: diner_service.join(
            tx, config, request.path_params["token"], device_of(request),
            body.raw("name"), body.raw("pin"),
        ),
    )
    if isinstance(outcome, diner_service.PinRejected):
        raise PinLocked() if outcome.blocked else WrongPin()
    assert outcome.member is not None and outcome.session is not None
    remember_table(request, outcome.table.id)
    return json_reply({"member_id": outcome.member.id, "pin": outcome.session.pin, "refresh": True},
               request)


async def add_line(request: Request) -> Response:
    body = await read_body(request)
    config = config_of(request)
    line = await run_tx(
        request,
        lambda tx: cart_service.add_line(
            tx, config, request.path_params["token"], device_of(request),
            body.raw("client_id"), body.integer("product_id"), body.integer("quantity"),
            body.raw("note"),
        ),
    )
    return json_reply({"line": _line(line)}, request, 201)


async def change_line(request: Request) -> Response:
    body = await read_body(request)
    config = config_of(request)
    await run_tx(
        request,
        lambda tx: cart_service.set_quantity(
            tx, config, request.path_params["token"], device_of(request),
            request.path_params["line_id"], body.integer("quantity"),
        ),
    )
    return json_reply({"ok": True}, request)


async def remove_line(request: Request) -> Response:
    config = config_of(request)
    await run_tx(
        request,
        lambda tx: cart_service.remove_line(
            tx, config, request.path_params["token"], device_of(request),
            request.path_params["line_id"],
        ),
    )
    return json_reply({"ok": True}, request)


async def submit(request: Request) -> Response:
    body = await read_body(request)
    config = config_of(request)
    result = await run_tx(
        request,
        lambda tx: diner_service.submit(
            tx, config, request.path_params["token"], device_of(request),
            body.raw("idempotency_key"),
        ),
    )
    rnd = result.round
    return json_reply(
        {"round": {"id": rnd.id, "number": rnd.number, "status": rnd.status},
         "duplicate": result.duplicate},
        request, 200 if result.duplicate else 201,
    )


async def menu(request: Request) -> Response:
    site_id = request.path_params["site_id"]

    async def op(tx: Tx) -> dict[str, Any]:
        if await tx.session.get(Site, site_id) is None:
            raise NotFound()
        data = await views.menu_view(tx.session, site_id)
        data["version"] = await current_version(tx.session, views.menu_topic(site_id))
        return data

    return json_reply(await run_tx(request, op), request)


# Staff


async def _staff(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    return staff


async def pos_state(request: Request) -> Response:
    staff = await _staff(request)
    config = config_of(request)
    site_id = request.path_params["site_id"]

    async def op(tx: Tx) -> dict[str, Any]:
        await site_for(tx.session, staff, site_id)
        data = await views.pos_view(
            tx.session, site_id, config.pin_limit, config.pin_window_s
        )
        data["version"] = await current_version(tx.session, views.pos_topic(site_id))
        return data

    return json_reply(await run_tx(request, op), request)


async def station_state(request: Request) -> Response:
    staff = await _staff(request)
    site_id = request.path_params["site_id"]
    station = request.path_params["station"]

    async def op(tx: Tx) -> dict[str, Any]:
        await site_for(tx.session, staff, site_id)
        if "\x00" in station:  # PostgreSQL refuses NUL in text: no such station
            raise NotFound()
        data = await views.station_view(tx.session, site_id, station)
        data["version"] = await current_version(tx.session, views.station_topic(site_id, station))
        return data

    return json_reply(await run_tx(request, op), request)


def _round(rnd: Any) -> dict[str, Any]:
    return {"round": {"id": rnd.id, "number": rnd.number, "status": rnd.status,
                      "revision": rnd.revision, "reason": rnd.reason}}


async def validate_round(request: Request) -> Response:
    staff = await _staff(request)
    config = config_of(request)
    rnd = await run_tx(
        request,
        lambda tx: staff_service.validate(tx, config, staff, request.path_params["round_id"]),
    )
    return json_reply(_round(rnd), request)


async def refuse_round(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    config = config_of(request)
    rnd = await run_tx(
        request,
        lambda tx: staff_service.refuse(
            tx, config, staff, request.path_params["round_id"], body.raw("reason")
        ),
    )
    return json_reply(_round(rnd), request)


def _edits(body: Body) -> tuple[list[LineEdit], list[LineAdd]]:
    if body.is_form:
        changes = [
            LineEdit(int(key[4:]), body.integer(key))
            for key in body.data
            if key.startswith("qty-") and key[4:].isdigit()
        ]
        additions = []
        if body.data.get("add_product"):
            additions.append(
                LineAdd(body.integer("add_product"), body.integer("add_quantity") or 1,
                        body.text("add_note") or "")
            )
        return changes, additions
    try:
        changes = [LineEdit(c["line_id"], c["quantity"]) for c in body.raw("changes") or []]
        additions = [
            LineAdd(a["product_id"], a["quantity"], a.get("note", ""))
            for a in body.raw("additions") or []
        ]
    except (TypeError, KeyError, AttributeError) as error:
        raise BadBody() from error
    return changes, additions


async def edit_round(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    config = config_of(request)
    changes, additions = _edits(body)
    rnd = await run_tx(
        request,
        lambda tx: staff_service.edit(
            tx, config, staff, request.path_params["round_id"],
            body.integer("expected_revision"), body.raw("reason"), changes, additions,
        ),
    )
    return json_reply(_round(rnd), request)


async def move_ticket(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    config = config_of(request)
    ticket = await run_tx(
        request,
        lambda tx: staff_service.move_ticket(
            tx, config, staff, request.path_params["ticket_id"], body.raw("status")
        ),
    )
    return json_reply({"ticket": {"id": ticket.id, "station": ticket.station,
                           "status": ticket.status}}, request)


async def settle(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    config = config_of(request)
    payment = await run_tx(
        request,
        lambda tx: staff_service.settle(
            tx, config, staff, request.path_params["table_id"], body.raw("method"),
            body.money("tendered"), body.raw("idempotency_key"),
        ),
    )
    return json_reply({"payment": {"id": payment.id, "method": payment.method,
                            "amount": payment.amount, "tendered": payment.tendered,
                            "change": payment.change_given}}, request)


async def free_table(request: Request) -> Response:
    staff = await _staff(request)
    config = config_of(request)
    await run_tx(
        request, lambda tx: staff_service.free(tx, config, staff, request.path_params["table_id"])
    )
    return json_reply({"ok": True}, request)


async def availability(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    available = body.flag("available")
    if not isinstance(available, bool):
        raise BadBody()
    product = await run_tx(
        request,
        lambda tx: staff_service.set_available(
            tx, staff, request.path_params["product_id"], available
        ),
    )
    return json_reply({"product": {"id": product.id, "available": product.available}}, request)


async def table_mode(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    config = config_of(request)
    table = await run_tx(
        request,
        lambda tx: table_modes.set_table_mode(
            tx, config, staff, request.path_params["table_id"], body.raw("mode") or None
        ),
    )
    return json_reply({"table": {"id": table.id, "mode": table.mode}}, request)


async def site_mode(request: Request) -> Response:
    staff = await _staff(request)
    body = await read_body(request)
    config = config_of(request)
    site = await run_tx(
        request,
        lambda tx: table_modes.set_site_mode(
            tx, config, staff, request.path_params["site_id"], body.raw("mode")
        ),
    )
    return json_reply({"site": {"id": site.id, "mode": site.table_mode}}, request)


routes = [
    Route("/tables/{token}", table_state, methods=["GET"]),
    Route("/tables/{token}/start", start, methods=["POST"]),
    Route("/tables/{token}/join", join, methods=["POST"]),
    Route("/tables/{token}/cart/lines", add_line, methods=["POST"]),
    Route("/tables/{token}/cart/lines/{line_id:id}", change_line, methods=["PATCH"]),
    Route("/tables/{token}/cart/lines/{line_id:id}", remove_line, methods=["DELETE"]),
    Route("/tables/{token}/rounds", submit, methods=["POST"]),
    Route("/sites/{site_id:id}/menu", menu, methods=["GET"]),
    Route("/staff/sites/{site_id:id}/pos", pos_state, methods=["GET"]),
    Route("/staff/sites/{site_id:id}/stations/{station}", station_state, methods=["GET"]),
    Route("/staff/rounds/{round_id:id}/validate", validate_round, methods=["POST"]),
    Route("/staff/rounds/{round_id:id}/refuse", refuse_round, methods=["POST"]),
    Route("/staff/rounds/{round_id:id}/edit", edit_round, methods=["POST"]),
    Route("/staff/tickets/{ticket_id:id}/status", move_ticket, methods=["POST"]),
    Route("/staff/tables/{table_id:id}/settle", settle, methods=["POST"]),
    Route("/staff/tables/{table_id:id}/free", free_table, methods=["POST"]),
    Route("/staff/products/{product_id:id}/availability", availability, methods=["POST"]),
    Route("/staff/tables/{table_id:id}/mode", table_mode, methods=["POST"]),
    Route("/staff/sites/{site_id:id}/mode", site_mode, methods=["POST"]),
]
