"""The JSON API for orders staff take at the POS (/api/v1); the POS's order panel posts here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.api import STAFF
from accounts.context import staff_of
from accounts.service import NotSignedIn
from api.endpoint import SIGNED_IN, Endpoint, Reply
from errors import Conflict, Forbidden, NotFound
from ordering import pos_order
from ordering.api_docs import TABLE_ID
from ordering.commands import TakeOrder, order_form
from ordering.config import config_of
from ordering.errors import EmptyOrder, ProductUnavailable, TableSettled, UnknownProduct
from ordering.staff_schemas import StaffOrderResult
from web.commands import command
from web.state import run_tx


async def take_order(request: Request) -> Response:
    """Staff send an order for a table: it becomes the table session's next round and goes
    straight to production, validated by the caller (tickets per station, as
    `validateRound`). If the table has no open session, one is opened with its PIN (returned;
    diners may join with it later to follow the order and pay). This is how rounds reach a
    `pay_only` table, whose phones cannot order; it works in every mode. The diners' shared
    cart is left alone. A retry with the same `idempotency_key` returns the round it made
    (200, `duplicate`). All lines are checked before anything is written: a sold-out product
    refuses the whole order with a message naming it. Refused once the table's bill is
    settled, until it is freed. Needs the validate permission (cashier and up). The table's
    phones, the POS and the stations receive `round.validated`.

    JSON sends a `lines` list; the POS form sends `qty-{product id}` (left empty or 0 when
    not wanted) and `note-{product id}`."""
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    order = await command(request, TakeOrder, form=order_form)
    config = config_of(request)
    taken = await run_tx(
        request,
        lambda tx: pos_order.take_order(
            tx, config, staff, request.path_params["table_id"],
            [line.line() for line in order.lines], order.idempotency_key,
        ),
    )
    rnd = taken.round
    data: dict[str, Any] = {
        "round": {"id": rnd.id, "number": rnd.number, "status": rnd.status,
                  "revision": rnd.revision, "reason": rnd.reason, "staff_id": rnd.staff_id},
        "pin": taken.pin,
        "duplicate": taken.duplicate,
    }
    return JSONResponse(data, status_code=200 if taken.duplicate else 201)


routes = [
    Endpoint("/staff/tables/{table_id:id}/rounds", take_order, "POST", tag=STAFF,
             operation_id="takeStaffOrder", summary="Take an order for a table at the POS",
             body=TakeOrder,
             example={"idempotency_key": "pos-4f2a9c1e-table-3",
                      "lines": [{"product_id": 12, "quantity": 2, "note": "bien serré"},
                                {"product_id": 19, "quantity": 1}]},
             responses={201: Reply(StaffOrderResult, "The round, validated."),
                        200: Reply(StaffOrderResult, "A retry: the round this key made.")},
             errors=[NotSignedIn, Forbidden, NotFound, UnknownProduct, ProductUnavailable,
                     TableSettled, Conflict, EmptyOrder],
             params=[TABLE_ID], security=SIGNED_IN),
]
