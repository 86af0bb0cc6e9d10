"""The JSON API for orders staff take at the POS (/api/v1); the POS's order panel posts here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import web.convertors  # noqa: F401  (the {…:id} path type)
from accounts.context import staff_of
from accounts.service import NotSignedIn
from ordering import pos_order
from ordering.config import config_of
from ordering.staff_service import LineAdd
from web.body import BadBody, Body, read_body
from web.state import run_tx


def order_lines(body: Body) -> list[LineAdd]:
    """JSON: a `lines` list. The POS form: `qty-{product id}` (left empty or 0 when not
    wanted) and `note-{product id}`."""
    if body.is_form:
        return [
            LineAdd(int(key[4:]), body.integer(key), body.text(f"note-{key[4:]}") or "")
            for key, value in body.data.items()
            if key.startswith("qty-") and key[4:].isdigit() and value.strip() not in ("", "0")
        ]
    try:
        return [
            LineAdd(line["product_id"], line["quantity"], line.get("note", ""))
            for line in body.raw("lines") or []
        ]
    except (TypeError, KeyError, AttributeError) as error:
        raise BadBody() from error


async def take_order(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    body = await read_body(request)
    lines = order_lines(body)
    config = config_of(request)
    taken = await run_tx(
        request,
        lambda tx: pos_order.take_order(
            tx, config, staff, request.path_params["table_id"], lines,
            body.raw("idempotency_key"),
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
    Route("/staff/tables/{table_id:id}/rounds", take_order, methods=["POST"]),
]
