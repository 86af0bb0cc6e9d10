"""A ticket's receipt: its 80 mm print-ready page, and its print on the till's printer.

For staff who sell at the ticket's site (SELL); another company's or another site's ticket
answers as a missing one. The page prints from the browser (window.print); the printer's
route prints the original the first time and a recorded "DUPLICATA n" afterwards.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.roles import Permission
from accounts.tenant import works_at
from errors import NotFound
from pos import device
from pos.device import at_till
from pos.models import Ticket
from pos.printing import print_in_browser, print_ticket
from pos.receipt import Words, receipt_of
from pos.records import MAX_SEQUENCE
from pos.till_offline import indicator
from web.commands import Command, Integer, command
from web.errors import way_back
from web.htmx import is_htmx, json_reply
from web.redirects import redirect
from web.sessions import STAFF_ID
from web.state import app_state, locale_of, run_tx
from web.templating import page, render


class PrintReceipt(Command):
    """Print a ticket's receipt; a retry with the same key reprints the same duplicate."""

    idempotency_key: Annotated[str | None, Field(min_length=8, max_length=64)] = None
    sequence: Annotated[Integer | None, Field(ge=1, le=MAX_SEQUENCE, description=(
        "The till's own number for the duplicate, when a reprint is one (the till numbers "
        "its records); none: the next one."))] = None


async def receipt_page(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.SELL)
    async with app_state(request).sessionmaker() as session:
        ticket = await session.get(Ticket, request.path_params["ticket_id"])
        if ticket is None or not works_at(staff, ticket.company_id, ticket.site_id):
            raise NotFound()
        receipt = await receipt_of(session, ticket.id)
    locale = locale_of(request)
    # Printed at a till only: its prints are recorded on it, numbered by it.
    here = await device.till_of(request)
    at = here if here is not None and request.session.get(device.TILL_ID) == here.id \
        and request.session.get(STAFF_ID) == staff.id and here.site_id == ticket.site_id \
        else None
    return page(request, "receipt.html", receipt=receipt, w=Words(locale, receipt),
                printer=bool(at and at.printer), back=_back(request),
                print_key=uuid.uuid4().hex, at_till=at,
                **((await indicator(request, at)) if at is not None else {}))


def _back(request: Request) -> str:
    """The page the cashier came from (the sale screen, a list of tickets), else the till."""
    back = way_back(request)
    return "/till" if back == "/" else back


async def print_receipt(request: Request) -> Response:
    """Prints on this till's printer (the device's, once paired and switched in)."""
    at = await at_till(request, Permission.SELL)
    body = await command(request, PrintReceipt)
    locale = locale_of(request)
    printed = await print_ticket(
        lambda op: run_tx(request, op), at.staff, request.path_params["ticket_id"], locale,
        key=body.idempotency_key, at=at.till, sequence=body.sequence,
    )
    receipt = printed.receipt
    unused = None if printed.reprint else body.sequence
    if is_htmx(request):
        return _unused(HTMLResponse(render(locale, "_receipt_printed.html", receipt=receipt,
                                           w=Words(locale, receipt), reprint=printed.reprint)),
                       unused)
    return _unused(JSONResponse({"ticket_id": receipt.ticket_id, "number": receipt.number,
                                 "reprint": printed.reprint, "duplicate": receipt.duplicate}),
                   unused)


def _unused(response: Response, sequence: int | None) -> Response:
    """The till's number sent and not used (an original print takes none): the till takes
    it again for its next record (static/till-offline.js)."""
    if sequence is not None:
        response.headers["X-Unused-Sequence"] = str(sequence)
    return response


async def browser_print(request: Request) -> Response:
    """Before this till's browser prints the receipt: the first print is the original
    (`print`: print this page; the page's event `receipt-print`); any later one records a
    duplicate on this till, numbered `sequence` by it, whose page (`redirect`) prints
    "DUPLICATA n" instead. A reprint is never unrecorded. `unused_sequence`: the number
    sent and not used (the original takes none), for the till to take again."""
    at = await at_till(request, Permission.SELL)
    body = await command(request, PrintReceipt)
    receipt = await print_in_browser(
        lambda op: run_tx(request, op), at.staff, request.path_params["ticket_id"],
        key=body.idempotency_key, at=at.till, sequence=body.sequence)
    if receipt.duplicate is None:
        response = json_reply({"print": True, "ticket_id": receipt.ticket_id,
                               "unused_sequence": body.sequence}, request)
        response.headers["HX-Trigger"] = "receipt-print"
        return _unused(response, body.sequence)
    return json_reply({"print": False, "ticket_id": receipt.ticket_id,
                       "duplicate": receipt.duplicate,
                       "redirect": f"/till/tickets/{receipt.ticket_id}?print=1"}, request)


routes = [
    Route("/till/tickets/{ticket_id:id}", receipt_page, methods=["GET"]),
    Route("/till/tickets/{ticket_id:id}/print", print_receipt, methods=["POST"]),
    Route("/till/tickets/{ticket_id:id}/browser-print", browser_print, methods=["POST"]),
]
