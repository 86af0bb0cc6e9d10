"""The JSON API for diners at the table (/api/v1), and the staff routes beside it; the htmx
pages post to it too."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accounts.context import consumer_id_of, viewer_of
from accounts.models import Site
from api.endpoint import Endpoint, Reply
from errors import NotFound
from loyalty.errors import UnknownCustomer
from ordering import (
    cart_service,
    customer_link,
    diner_service,
    reward_api,
    staff_api,
    table_codes,
    views,
)
from ordering.api_docs import (
    DINERS,
    LINE_ID,
    SITE_ID,
    TOKEN,
)
from ordering.commands import (
    AddLine,
    ChangeLine,
    JoinTable,
    StartTable,
    SubmitRound,
)
from ordering.config import config_of
from ordering.errors import (
    CartFull,
    CartUnavailable,
    CustomerAlreadyLinked,
    CustomerSignInNeeded,
    EmptyCart,
    MenuOnly,
    NotYourLine,
    PinLocked,
    PinRequired,
    PinSlowed,
    ProductUnavailable,
    SessionEnded,
    TableLocked,
    UnknownLine,
    UnknownProduct,
    UnknownTable,
    WrongPin,
)
from ordering.live import TableTopic
from ordering.scanned_tables import remember_table
from ordering.schemas import (
    AddedLine,
    CollectedPoints,
    Membership,
    Menu,
    Ok,
    Submitted,
    TableState,
)
from ordering.table_payment import NoPhoneOrders, PayToSend
from ordering.table_view import table_view
from realtime.events import Tx
from realtime.models import current_version
from web.commands import command
from web.htmx import json_reply
from web.state import device_of, run_tx


def _line(line: Any) -> dict[str, Any]:
    return {
        "id": line.id, "client_id": line.client_id, "product_id": line.product_id,
        "quantity": line.quantity, "unit_price": line.unit_price, "note": line.note,
    }


async def table_state(request: Request) -> Response:
    """The first call of a diner's visit. `access` says what this device may do next. `table`
    is the full view for members and for signed-in staff of the site (cart, rounds, members,
    PIN, amount due), the public view for anyone else (the table's state only). `topics` are
    the websocket topics to subscribe to; `table.version` and `menu.version` are their
    versions. An idle session that has expired is closed by this call."""
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
    """Opens a session at a free table: this device becomes its first member and receives the
    PIN to share with the party. A device that is already a member gets its membership back
    (idempotent). Two phones starting at once: one opens the session, the other then needs
    the PIN (403 `pin_required`)."""
    opening = await command(request, StartTable)
    found = await run_tx(
        request,
        lambda tx: diner_service.start(
            tx, config_of(request), request.path_params["token"], device_of(request), opening.name
        ),
    )
    assert found.session is not None and found.member is not None
    remember_table(request, found.table.id)
    return json_reply(
        {"member_id": found.member.id, "pin": found.session.pin, "refresh": True}, request, 201
    )


async def join(request: Request) -> Response:
    """Makes this device a member of the open session when the PIN matches. At a free table
    it opens a session like `start`; for a device already a member it returns its
    membership. A wrong PIN answers 403 `wrong_pin` and is counted. A device gets 5 wrong
    PINs in 10 minutes, at any table; then 429 `pin_locked` until its window ends, even with
    the right PIN. A table takes 10 wrong PINs in 10 minutes from any devices; then it takes
    one try every 30 seconds from anyone (429 `pin_slowed` in between) until the window ends
    or staff lift it, and the POS view shows an alert for it (numbers configurable). A 429
    carries `Retry-After` (seconds); the PIN of a refused try is not checked, and guesses
    sent at once get no more checks than the limits allow."""
    joining = await command(request, JoinTable)
    outcome = await run_tx(
        request,
        lambda tx: diner_service.join(
            tx, config_of(request), request.path_params["token"], device_of(request),
            joining.name, joining.pin,
        ),
    )
    if isinstance(outcome, diner_service.PinRejected):
        raise WrongPin()
    assert outcome.member is not None and outcome.session is not None
    remember_table(request, outcome.table.id)
    return json_reply({"member_id": outcome.member.id, "pin": outcome.session.pin, "refresh": True},
               request)


async def add_line(request: Request) -> Response:
    """Adds `quantity` of a product, with an optional note, to the table's shared cart, as
    yours. Choose a fresh `client_id` per line: sending the same `client_id` again (a retry
    after a timeout) returns the line already added and adds nothing. Only members may add."""
    add = await command(request, AddLine)
    line = await run_tx(
        request,
        lambda tx: cart_service.add_line(
            tx, config_of(request), request.path_params["token"], device_of(request),
            add.client_id, add.product_id, add.quantity, add.note or "",
        ),
    )
    return json_reply({"line": _line(line)}, request, 201)


async def change_line(request: Request) -> Response:
    """Sets your line to `quantity` (0 removes it) and, when given, its `note`. Setting is
    naturally idempotent. Lines
    added by another diner answer 403 `not_your_line`; lines already sent in a round answer
    404 `unknown_line`."""
    change = await command(request, ChangeLine)
    await run_tx(
        request,
        lambda tx: cart_service.set_quantity(
            tx, config_of(request), request.path_params["token"], device_of(request),
            request.path_params["line_id"], change.quantity, change.note,
        ),
    )
    return json_reply({"ok": True}, request)


async def remove_line(request: Request) -> Response:
    """Removes your line from the cart. Removing a line that is already gone is not an error
    (a retry). No body, but send `Content-Type: application/json` (or the CSRF token)."""
    await run_tx(
        request,
        lambda tx: cart_service.remove_line(
            tx, config_of(request), request.path_params["token"], device_of(request),
            request.path_params["line_id"],
        ),
    )
    return json_reply({"ok": True}, request)


async def submit(request: Request) -> Response:
    """Turns every line of the shared cart (everyone's) into a new round, numbered from 1 per
    session, waiting for staff validation (`to_validate`). Use a fresh `idempotency_key` per
    press of "send": a retry with the same key returns the same round with 200 and
    `duplicate: true`. When several phones send at once, one makes the round (201) and the
    others get 409 `empty_cart` whose `detail.round` is the round that took the cart; the
    table topic shows it to all."""
    sending = await command(request, SubmitRound)
    result = await run_tx(
        request,
        lambda tx: diner_service.submit(
            tx, config_of(request), request.path_params["token"], device_of(request),
            sending.idempotency_key,
        ),
    )
    rnd = result.round
    return json_reply(
        {"round": {"id": rnd.id, "number": rnd.number, "status": rnd.status},
         "duplicate": result.duplicate},
        request, 200 if result.duplicate else 201,
    )


async def collect_points(request: Request) -> Response:
    """A member of the table's open session, signed in to their customer account, links the
    session to it ("Collect my points"): when the bill is settled, however it is paid, the
    customer earns its points, once. Answers their points and the rewards on offer. 401
    `customer_sign_in_needed` when no customer is signed in on this browser; 409
    `customer_already_linked` when another customer collects this table's points."""
    consumer_id = consumer_id_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        customer = await customer_link.link_from_phone(
            tx, config_of(request), request.path_params["token"], device_of(request),
            consumer_id)
        return {"consumer_id": customer.consumer_id, "name": customer.name,
                "balance": customer.balance, "refresh": True,
                "rewards": [{"id": r.id, "name": r.name, "cost_points": r.cost_points,
                             "affordable": r.affordable} for r in customer.rewards]}

    return json_reply(await run_tx(request, op), request)


async def menu(request: Request) -> Response:
    """Categories (each with its production station) and products with price and
    availability. Public. Watch the `menu:{site_id}` topic for sold-out changes."""
    site_id = request.path_params["site_id"]

    async def op(tx: Tx) -> dict[str, Any]:
        if await tx.session.get(Site, site_id) is None:
            raise NotFound()
        data = await views.menu_view(tx.session, site_id)
        data["version"] = await current_version(tx.session, views.menu_topic(site_id))
        return data

    return json_reply(await run_tx(request, op), request)


# What a diner at the table may meet whatever the action.
AT_TABLE = [UnknownTable, MenuOnly, TableLocked, PinRequired, SessionEnded, NoPhoneOrders]

routes = [
    Endpoint("/tables/{token}", table_state, "GET", tag=DINERS, operation_id="getTable",
             summary="Where this device stands at a table, with the table and the menu",
             responses={200: Reply(TableState, "This device's access, the table and the menu.")},
             errors=[UnknownTable], params=[TOKEN]),
    Endpoint("/tables/{token}/start", start, "POST", tag=DINERS, operation_id="startSession",
             summary="Open the table's session as its first diner", body=StartTable,
             example={"name": "Léa"},
             responses={201: Reply(Membership, "This device is a member; share the PIN.")},
             errors=[UnknownTable, MenuOnly, TableLocked, PinRequired], params=[TOKEN]),
    Endpoint("/tables/{token}/join", join, "POST", tag=DINERS, operation_id="joinSession",
             summary="Join the party at the table with its PIN", body=JoinTable,
             example={"name": "Tom", "pin": "482913"},
             responses={200: Reply(Membership, "This device is a member.")},
             errors=[UnknownTable, MenuOnly, TableLocked, WrongPin, PinLocked, PinSlowed],
             params=[TOKEN]),
    Endpoint("/tables/{token}/cart/lines", add_line, "POST", tag=DINERS,
             summary="Add a line to the shared cart", body=AddLine,
             example={"client_id": "7f3c2a9e-5b1d-4e8a-9c0f-2d6b8e4a1c37", "product_id": 12,
                      "quantity": 2, "note": "bien cuit"},
             responses={201: Reply(AddedLine, "The line as stored (or as first stored, for a "
                                              "retry).")},
             errors=[*AT_TABLE, UnknownProduct, ProductUnavailable, CartFull], params=[TOKEN]),
    Endpoint("/tables/{token}/cart/lines/{line_id:id}", change_line, "PATCH", tag=DINERS,
             summary="Set the quantity (and note) of one of your cart lines", body=ChangeLine,
             example={"quantity": 3}, responses={200: Reply(Ok, "Done.")},
             errors=[*AT_TABLE, NotYourLine, UnknownLine], params=[TOKEN, LINE_ID]),
    Endpoint("/tables/{token}/cart/lines/{line_id:id}", remove_line, "DELETE", tag=DINERS,
             summary="Remove one of your cart lines", responses={200: Reply(Ok, "Done.")},
             errors=[*AT_TABLE, NotYourLine], params=[TOKEN, LINE_ID]),
    Endpoint("/tables/{token}/rounds", submit, "POST", tag=DINERS, operation_id="submitRound",
             summary="Send the shared cart to staff as a round", body=SubmitRound,
             example={"idempotency_key": "c0a8e7f2-0d4b-4c1e-8f3a-6b2d9e5a7c11"},
             responses={201: Reply(Submitted, "The new round."),
                        200: Reply(Submitted, "A retry: the round this key made.")},
             errors=[*AT_TABLE, EmptyCart, CartUnavailable, PayToSend], params=[TOKEN]),
    Endpoint("/tables/{token}/customer", collect_points, "POST", tag=DINERS,
             summary="Collect my points at this table", params=[TOKEN],
             responses={200: Reply(CollectedPoints, "The session is linked to the customer.")},
             errors=[CustomerSignInNeeded, UnknownTable, SessionEnded, UnknownCustomer,
                     CustomerAlreadyLinked]),
    Endpoint("/sites/{site_id:id}/menu", menu, "GET", tag=DINERS, operation_id="getMenu",
             summary="A site's menu", responses={200: Reply(Menu, "The menu.")},
             errors=[NotFound], params=[SITE_ID]),
] + staff_api.routes + table_codes.routes + reward_api.routes
