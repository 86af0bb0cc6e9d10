"""A ticket's receipt: its 80 mm print-ready page, and its print on the till's printer.

For staff who sell at the ticket's site (SELL); another company's or another site's ticket
answers as a missing one. The page prints from the browser (window.print); the printer's
route prints the original the first time and a recorded "DUPLICATA n" afterwards.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.roles import Permission, require
from accounts.tenant import works_at
from errors import NotFound
from pos.device import at_till
from pos.models import Ticket, Till
from pos.printing import print_ticket
from pos.receipt import Words, receipt_of
from web.commands import Command, Integer, command
from web.errors import way_back
from web.htmx import is_htmx
from web.redirects import redirect
from web.state import app_state, locale_of, run_tx
from web.templating import page, render


class PrintReceipt(Command):
    """Print a ticket's receipt; a retry with the same key reprints the same duplicate."""

    idempotency_key: Annotated[str | None, Field(min_length=8, max_length=64)] = None
    sequence: Annotated[Integer | None, Field(ge=1, description=(
        "The till's own number for the duplicate, when a reprint is one (the till numbers "
        "its records); none: the next one."))] = None


async def receipt_page(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    require(staff.role, Permission.SELL)
    async with app_state(request).sessionmaker() as session:
        ticket = await session.get(Ticket, request.path_params["ticket_id"])
        if ticket is None or not works_at(staff, ticket.company_id, ticket.site_id):
            raise NotFound()
        till = await session.get(Till, ticket.till_id)
        receipt = await receipt_of(session, ticket.id)
    locale = locale_of(request)
    return page(request, "receipt.html", receipt=receipt, w=Words(locale, receipt),
                printer=bool(till and till.printer), back=_back(request))


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
    if is_htmx(request):
        return HTMLResponse(render(locale, "_receipt_printed.html", receipt=receipt,
                                   w=Words(locale, receipt), reprint=printed.reprint))
    return JSONResponse({"ticket_id": receipt.ticket_id, "number": receipt.number,
                         "reprint": printed.reprint, "duplicate": receipt.duplicate})


routes = [
    Route("/till/tickets/{ticket_id:id}", receipt_page, methods=["GET"]),
    Route("/till/tickets/{ticket_id:id}/print", print_receipt, methods=["POST"]),
]
