"""The JSON API for staff at the POS and the stations (/api/v1); the POS pages post to it too."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accounts.api import STAFF
from accounts.context import staff_of
from accounts.roles import Permission
from accounts.service import NotSignedIn, StaffIdentity
from accounts.tenant import site_for
from api.endpoint import SIGNED_IN, Endpoint, Reply
from errors import Forbidden, NotFound
from ordering import pin_alerts, staff_service, table_modes, views
from ordering.api_docs import (
    PRODUCT_ID,
    ROUND_ID,
    SITE_ID,
    STATION,
    TABLE_ID,
    TICKET_ID,
)
from ordering.commands import (
    EditRound,
    MoveTicket,
    RefuseRound,
    SetAvailability,
    SetSiteMode,
    SetTableMode,
    Settle,
    edit_form,
)
from ordering.config import config_of
from ordering.errors import (
    BadTransition,
    NotSettleable,
    SessionClosed,
    StaleVersion,
    UnknownRound,
)
from ordering.schemas import Ok
from ordering.staff_schemas import (
    PaymentResult,
    PosView,
    ProductAvailability,
    RoundResult,
    SiteModeResult,
    StationView,
    TableModeResult,
    TicketResult,
)
from ordering.table_modes import BadMode
from ordering.table_payment import PaidRound
from realtime.events import Tx
from realtime.models import current_version
from web.commands import command
from web.htmx import json_reply
from web.state import run_tx


async def _staff(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    return staff


async def pos_state(request: Request) -> Response:
    """The table map (state, PIN, members, amount due), the queue of rounds waiting for
    validation (oldest first), the rounds in production, PIN alerts (tables slowed by wrong
    PINs, which `POST /staff/tables/{table_id}/pin-limit/lift` lifts) and the products staff
    may add in an edit. Live topic: `site:{site_id}:pos`."""
    staff = await _staff(request)
    staff.require(Permission.FLOOR)
    site_id = request.path_params["site_id"]

    async def op(tx: Tx) -> dict[str, Any]:
        await site_for(tx.session, staff, site_id)
        data = await views.pos_view(tx.session, site_id, config_of(request))
        data["version"] = await current_version(tx.session, views.pos_topic(site_id))
        return data

    return json_reply(await run_tx(request, op), request)


async def station_state(request: Request) -> Response:
    """Tickets not yet served for this station (e.g. `bar`, `kitchen`: the stations of the
    menu's categories), oldest round first, with only this station's lines. An unknown
    station has no tickets. Live topic: `site:{site_id}:station:{station}`."""
    staff = await _staff(request)
    staff.require(Permission.FLOOR)
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
    """Moves a round from `to_validate` to `validated` and creates one ticket per production
    station its lines need. Validating an already validated round returns it unchanged (a
    retry). Needs the validate permission (cashier and up)."""
    staff = await _staff(request)
    config = config_of(request)
    rnd = await run_tx(
        request,
        lambda tx: staff_service.validate(tx, config, staff, request.path_params["round_id"]),
    )
    return json_reply(_round(rnd), request)


async def refuse_round(request: Request) -> Response:
    """Moves a round from `to_validate` to `refused`. Refusing a refused round returns it
    unchanged. Needs the validate permission."""
    staff = await _staff(request)
    refusal = await command(request, RefuseRound)
    config = config_of(request)
    rnd = await run_tx(
        request,
        lambda tx: staff_service.refuse(
            tx, config, staff, request.path_params["round_id"], refusal.reason
        ),
    )
    return json_reply(_round(rnd), request)


async def edit_round(request: Request) -> Response:
    """Changes quantities of the round's lines (0 takes a line out) and/or adds lines, with a
    reason the diners see. Only while the round is `to_validate`. Optimistic concurrency:
    send the `revision` you saw as `expected_revision`; if someone edited meanwhile you get
    409 `stale_version` and nothing changes. On success the round's `revision` goes up by
    one. Needs the validate permission."""
    staff = await _staff(request)
    edit = await command(request, EditRound, form=edit_form)
    config = config_of(request)
    rnd = await run_tx(
        request,
        lambda tx: staff_service.edit(
            tx, config, staff, request.path_params["round_id"], edit.expected_revision,
            edit.reason, [c.edit() for c in edit.changes], [a.line() for a in edit.additions],
        ),
    )
    return json_reply(_round(rnd), request)


async def move_ticket(request: Request) -> Response:
    """Allowed moves: `queued` → `in_preparation` | `ready`; `in_preparation` → `ready` |
    `queued`; `ready` → `served` | `in_preparation`; `served` is final. Moving to the current
    status is a no-op. The round's status follows its slowest ticket (`in_production`,
    `ready`, `served`). Needs the produce permission (every role)."""
    staff = await _staff(request)
    move = await command(request, MoveTicket)
    config = config_of(request)
    ticket = await run_tx(
        request,
        lambda tx: staff_service.move_ticket(
            tx, config, staff, request.path_params["ticket_id"], move.status
        ),
    )
    return json_reply({"ticket": {"id": ticket.id, "station": ticket.station,
                           "status": ticket.status}}, request)


async def settle(request: Request) -> Response:
    """Settles the table's open session for the amount due (all rounds except refused ones).
    Refused while a round waits for validation. Cash needs `tendered` ≥ due (the change is
    returned); card may omit `tendered`. A retry with the same `idempotency_key` returns the
    same payment. Diners then see access `settled`. Needs the settle permission (cashier and
    up). What was paid online from phones is already taken off the amount due; a fully paid
    table settles with no amount tendered. Refused (409 `not_settleable`) while a phone
    payment is in progress."""
    staff = await _staff(request)
    paying = await command(request, Settle)
    config = config_of(request)
    payment = await run_tx(
        request,
        lambda tx: staff_service.settle(
            tx, config, staff, request.path_params["table_id"], paying.method,
            paying.tendered, paying.idempotency_key,
        ),
    )
    return json_reply({"payment": {"id": payment.id, "method": payment.method,
                            "amount": payment.amount, "tendered": payment.tendered,
                            "change": payment.change_given}}, request)


async def free_table(request: Request) -> Response:
    """Closes the table's session: its PIN and memberships stop working and the next diner
    starts afresh. Freeing a free table is a no-op. Freeing a table with money due or rounds
    still open needs the force-free permission (supervisor and up). Needs the free
    permission (cashier and up)."""
    staff = await _staff(request)
    config = config_of(request)
    await run_tx(
        request, lambda tx: staff_service.free(tx, config, staff, request.path_params["table_id"])
    )
    return json_reply({"ok": True}, request)


async def lift_pin_limit(request: Request) -> Response:
    """Lifts the slowdown of a table where too many wrong PINs were tried (the POS view's
    `pin_slowed` alert): anyone may try the PIN again at once, and the alert goes. Each
    device keeps its own count. Lifting a table that is not slowed is a no-op. Needs the
    lift-PIN-limit permission (cashier and up)."""
    staff = await _staff(request)
    config = config_of(request)
    await run_tx(
        request,
        lambda tx: pin_alerts.lift(tx, config, staff, request.path_params["table_id"]),
    )
    return json_reply({"ok": True}, request)


async def availability(request: Request) -> Response:
    """Diners cannot add an unavailable product (409 `product_unavailable`); every open menu
    is told on `menu:{site_id}`. Needs the sold-out permission (every role)."""
    staff = await _staff(request)
    setting = await command(request, SetAvailability)
    product = await run_tx(
        request,
        lambda tx: staff_service.set_available(
            tx, staff, request.path_params["product_id"], setting.available
        ),
    )
    return json_reply({"product": {"id": product.id, "available": product.available}}, request)


async def table_mode(request: Request) -> Response:
    """Sets one table to menu only or ordering, or back to the site's mode with null. Every
    phone at the table updates live. Needs the configure permission (manager, admin)."""
    staff = await _staff(request)
    setting = await command(request, SetTableMode)
    config = config_of(request)
    table = await run_tx(
        request,
        lambda tx: table_modes.set_table_mode(
            tx, config, staff, request.path_params["table_id"], setting.mode
        ),
    )
    return json_reply({"table": {"id": table.id, "mode": table.mode}}, request)


async def site_mode(request: Request) -> Response:
    """Sets the default mode of every table of the site at once; tables with a mode of their
    own keep it. Needs the configure permission (manager, admin)."""
    staff = await _staff(request)
    setting = await command(request, SetSiteMode)
    config = config_of(request)
    site = await run_tx(
        request,
        lambda tx: table_modes.set_site_mode(
            tx, config, staff, request.path_params["site_id"], setting.mode
        ),
    )
    return json_reply({"site": {"id": site.id, "mode": site.table_mode}}, request)


STAFF_ONLY = [NotSignedIn, Forbidden]

routes = [
    Endpoint("/staff/sites/{site_id:id}/pos", pos_state, "GET", tag=STAFF, operation_id="getPos",
             summary="The POS view of a site", responses={200: Reply(PosView, "The POS view.")},
             errors=[NotSignedIn, NotFound], params=[SITE_ID], security=SIGNED_IN),
    Endpoint("/staff/sites/{site_id:id}/stations/{station}", station_state, "GET", tag=STAFF,
             operation_id="getStation", summary="A production station's tickets",
             responses={200: Reply(StationView, "The station's tickets.")},
             errors=[NotSignedIn, NotFound], params=[SITE_ID, STATION], security=SIGNED_IN),
    Endpoint("/staff/rounds/{round_id:id}/validate", validate_round, "POST", tag=STAFF,
             summary="Validate a round: send it to production",
             responses={200: Reply(RoundResult, "The round, validated.")},
             errors=[*STAFF_ONLY, UnknownRound, BadTransition, SessionClosed], params=[ROUND_ID],
             security=SIGNED_IN),
    Endpoint("/staff/rounds/{round_id:id}/refuse", refuse_round, "POST", tag=STAFF,
             summary="Refuse a round, with a reason the diners see", body=RefuseRound,
             example={"reason": "Plus de croissants"},
             responses={200: Reply(RoundResult, "The round, refused.")},
             errors=[*STAFF_ONLY, UnknownRound, BadTransition], params=[ROUND_ID],
             security=SIGNED_IN),
    Endpoint("/staff/rounds/{round_id:id}/edit", edit_round, "POST", tag=STAFF,
             summary="Edit a round before validation", body=EditRound,
             example={"expected_revision": 1,
                      "reason": "Plus de quiche, remplacée par une omelette",
                      "changes": [{"line_id": 31, "quantity": 0}],
                      "additions": [{"product_id": 19, "quantity": 1}]},
             responses={200: Reply(RoundResult, "The round, with its new revision.")},
             errors=[*STAFF_ONLY, UnknownRound, BadTransition, SessionClosed, StaleVersion,
                     PaidRound],
             params=[ROUND_ID], security=SIGNED_IN),
    Endpoint("/staff/tickets/{ticket_id:id}/status", move_ticket, "POST", tag=STAFF,
             summary="Move a production ticket", body=MoveTicket, example={"status": "ready"},
             responses={200: Reply(TicketResult, "The ticket, moved.")},
             errors=[*STAFF_ONLY, NotFound, UnknownRound, BadTransition], params=[TICKET_ID],
             security=SIGNED_IN),
    Endpoint("/staff/tables/{table_id:id}/settle", settle, "POST", tag=STAFF,
             operation_id="settleTable", summary="Take payment of everything due at a table",
             body=Settle,
             example={"method": "cash", "tendered": 2000,
                      "idempotency_key": "pay-5e1b7c3a-table-4"},
             responses={200: Reply(PaymentResult, "The payment (or the first one, for a "
                                                  "retry).")},
             errors=[*STAFF_ONLY, NotFound, NotSettleable], params=[TABLE_ID],
             security=SIGNED_IN),
    Endpoint("/staff/tables/{table_id:id}/free", free_table, "POST", tag=STAFF,
             summary="Free a table: close its session", responses={200: Reply(Ok, "Done.")},
             errors=[*STAFF_ONLY, NotFound], params=[TABLE_ID], security=SIGNED_IN),
    Endpoint("/staff/tables/{table_id:id}/pin-limit/lift", lift_pin_limit, "POST", tag=STAFF,
             operation_id="liftPinLimit",
             summary="Let a table slowed by wrong PINs take tries again",
             responses={200: Reply(Ok, "Done.")},
             errors=[*STAFF_ONLY, NotFound], params=[TABLE_ID], security=SIGNED_IN),
    Endpoint("/staff/products/{product_id:id}/availability", availability, "POST", tag=STAFF,
             operation_id="setAvailability", summary="Mark a product sold out, or back",
             body=SetAvailability, example={"available": False},
             responses={200: Reply(ProductAvailability, "The product's availability.")},
             errors=[*STAFF_ONLY, NotFound], params=[PRODUCT_ID], security=SIGNED_IN),
    Endpoint("/staff/tables/{table_id:id}/mode", table_mode, "POST", tag=STAFF,
             operation_id="setTableMode", summary="Set a table's mode", body=SetTableMode,
             example={"mode": "menu"},
             responses={200: Reply(TableModeResult, "The table's own mode (null: the "
                                                    "site's).")},
             errors=[*STAFF_ONLY, NotFound, BadMode], params=[TABLE_ID], security=SIGNED_IN),
    Endpoint("/staff/sites/{site_id:id}/mode", site_mode, "POST", tag=STAFF,
             operation_id="setSiteMode", summary="Set a whole site's table mode",
             body=SetSiteMode, example={"mode": "order"},
             responses={200: Reply(SiteModeResult, "The site's mode.")},
             errors=[*STAFF_ONLY, NotFound, BadMode], params=[SITE_ID], security=SIGNED_IN),
]
