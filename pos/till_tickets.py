"""The till's tickets: the recent ones of this till (today first, found by number), and a
sale's refund (lines and quantities, or all that is left) or void.

A refund needs Permission.REFUND, a void Permission.VOID: a cashier's screen asks for a
supervisor's PIN (pos/approval.py), who is recorded as approving it. Each is a record of
pos/corrections.py under the client's UUID (a retry returns the first one) and an audit
log entry naming who acted, who approved, when and why.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Staff
from accounts.roles import Permission
from api.endpoint import SESSION, Endpoint, Param, Reply, Tag
from domain import audit
from errors import N_, InvalidInput, NotFound
from pos import clock, device
from pos.approval import Approval, approver
from pos.commands import approval_in
from pos.corrections import Refund, RefundLine, Void, given_back, record_refund, record_void
from pos.corrections import refund_amount as amount_of
from pos.device import AtTill
from pos.errors import (
    ApprovalNeeded,
    BadTicket,
    NotAtTill,
    NotPaired,
    PeriodClosed,
    PinRefused,
    TillRevoked,
    TooManyPinTries,
)
from pos.legal import number
from pos.models import Ticket, TicketLine, Till
from pos.periods import local_day, zone_of
from pos.records import MAX_SEQUENCE, Kind, Method, Origin, PaymentInput, Recorded, lines_of
from pos.till_offline import indicator
from realtime.events import Tx
from web.commands import Collapsed, Command, Flag, Integer, Invalid, Shape, command
from web.htmx import json_reply
from web.state import app_state, run_tx
from web.templating import page

TILL_TICKETS = Tag("till-tickets", "A till's tickets: refunds of lines or of a whole ticket, "
                                   "and voids, each approved by a supervisor.")
TICKET = Param("TicketId", "ticket_id", "A ticket of this till's site.")
RECENT = 60  # tickets listed
NUMBER = re.compile(r"^\s*(?:([A-Za-z][A-Za-z0-9]{0,7})\s*-\s*)?0*(\d{1,9})\s*$")
NO_STORE = {"Cache-Control": "no-store"}


class UnknownTicket(NotFound):
    code = "unknown_ticket"
    message = N_("No such ticket at this till's site.")


class ReasonMissing(InvalidInput):
    code = "reason_missing"
    message = N_("Say why (1 to 200 characters).")
    field = "reason"


class NothingChosen(InvalidInput):
    code = "nothing_to_refund"
    message = N_("Choose at least one line to refund, or the whole ticket.")
    field = "lines"


class BadQuantity(InvalidInput):
    code = "bad_refund_quantity"
    message = N_("A quantity to refund is a whole number from 0 to 10000.")
    field = "lines"


Reason = Annotated[Collapsed, Field(min_length=1, max_length=200), Invalid(ReasonMissing)]
ClientUuid = Annotated[uuid.UUID, Field(description="Chosen by the till (a UUID): sending it "
                                                    "again returns the first record.")]


class RefundItem(Shape):
    position: Annotated[Integer, Field(ge=1, le=500, description="The sold line's position.")]
    quantity: Annotated[Integer, Field(ge=1, le=10_000, description="How many go back.")]


class RefundTicket(Command):
    """A refund: some lines and quantities, or `whole` (all that is left of the ticket)."""

    uuid: ClientUuid
    lines: Annotated[list[RefundItem], Field(max_length=500), Invalid(BadQuantity)] = []
    whole: Flag = False
    reason: Reason
    method: Annotated[Literal["cash", "card"], Field(description="How the money goes back.")]
    approval: Approval | None = None
    sequence: Annotated[Integer | None, Field(ge=1, le=MAX_SEQUENCE, description=(
        "The till's own number for this record, when the till numbers its records (its "
        "offline sync); none: the next one. 409 `sequence_taken` when used."))] = None


class VoidTicket(Command):
    """A void: the whole sale cancelled, the money back the way it came."""

    uuid: ClientUuid
    reason: Reason
    approval: Approval | None = None
    sequence: Annotated[Integer | None, Field(ge=1, le=MAX_SEQUENCE, description=(
        "The till's own number for this record, when the till numbers its records (its "
        "offline sync); none: the next one. 409 `sequence_taken` when used."))] = None


def _reason(value: object) -> str:
    return " ".join(str(value).split())


def form_shape(data: Mapping[str, str]) -> dict[str, Any]:
    """The refund page's form (`qty-<position>` fields, the approval's two) as a body."""
    shaped: dict[str, Any] = {k: v for k, v in data.items()
                              if k in ("uuid", "whole", "method", "sequence") and v != ""}
    shaped["reason"] = _reason(data.get("reason", ""))
    lines = []
    for name, value in data.items():
        if name.startswith("qty-") and value.strip() not in ("", "0"):
            lines.append({"position": name[4:], "quantity": value})
    shaped["lines"] = lines
    return {**shaped, **approval_in(data)}


# Who is at the till


at = device.page_at_till  # the till and who is on it; else to pairing or the PIN switch


async def supervisors(request: Request, till: Till, permission: Permission
                      ) -> list[tuple[int, str]]:
    """Who may approve `permission` on this till (by PIN)."""
    async with app_state(request).sessionmaker() as session:
        members = await device.staff_of_till(session, till)
    return [(m.id, m.name) for m in members if m.may(permission)]


# The list


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: str
    kind: str
    training: bool
    at: datetime
    total: int
    currency: str
    staff: str
    today: bool


async def _rows(tx: Tx, till: Till, wanted: str) -> list[TicketRow]:
    zone = await zone_of(tx.session, till.company_id)
    today = local_day(clock.now(), zone)
    query = (select(Ticket, Till.prefix, Staff.name)
             .join(Till, Till.id == Ticket.till_id).join(Staff, Staff.id == Ticket.staff_id)
             .where(Ticket.company_id == till.company_id, Ticket.site_id == till.site_id))
    found = NUMBER.match(wanted) if wanted else None
    if wanted and found is None:
        return []
    if found:
        prefix = (found.group(1) or till.prefix).upper()
        query = query.where(Till.prefix == prefix, Ticket.sequence == int(found.group(2)))
    else:
        query = query.where(Ticket.till_id == till.id)
    rows = (await tx.session.execute(query.order_by(Ticket.id.desc()).limit(RECENT))).all()
    return [TicketRow(t.id, number(prefix, t.sequence), t.kind, t.training,
                      clock.aware(t.created_at), t.total_incl, t.currency, name,
                      local_day(clock.aware(t.created_at), zone) == today)
            for t, prefix, name in rows]


async def tickets_page(request: Request) -> Response:
    """This till's recent tickets, today's first; `q` finds one by its number."""
    here = await at(request, Permission.SELL)
    if isinstance(here, Response):
        return here
    wanted = request.query_params.get("q", "")[:30].strip()
    rows = await run_tx(request, lambda tx: _rows(tx, here.till, wanted))
    done_raw = request.query_params.get("done", "")
    done = next((r for r in rows if done_raw.isdecimal() and r.id == int(done_raw)), None)
    if done is None and done_raw.isdecimal() and len(done_raw) < 19:
        done = next(iter(await run_tx(request, lambda tx: _by_id(tx, here.till,
                                                                  int(done_raw)))), None)
    response = page(request, "till/tickets.html", till=here.till, staff=here.staff,
                    today=[r for r in rows if r.today], earlier=[r for r in rows if not r.today],
                    wanted=wanted, done=done, may_refund=True,
                    **(await indicator(request, here.till)))
    response.headers.update(NO_STORE)
    return response


async def _by_id(tx: Tx, till: Till, ticket_id: int) -> list[TicketRow]:
    ticket = await tx.session.get(Ticket, ticket_id)
    if ticket is None or ticket.site_id != till.site_id or ticket.company_id != till.company_id:
        return []
    prefix = await tx.session.scalar(select(Till.prefix).where(Till.id == ticket.till_id))
    name = await tx.session.scalar(select(Staff.name).where(Staff.id == ticket.staff_id))
    return [TicketRow(ticket.id, number(str(prefix), ticket.sequence), ticket.kind,
                      ticket.training, clock.aware(ticket.created_at), ticket.total_incl,
                      ticket.currency, str(name), True)]


# One ticket, to refund


@dataclass(frozen=True)
class LineLeft:
    line: TicketLine
    left: int  # quantity not given back yet
    left_amount: int


@dataclass(frozen=True)
class Refundable:
    ticket: Ticket
    number: str
    lines: list[LineLeft]
    corrections: list[tuple[str, str, int]]  # (number, kind, total) of its refunds and voids

    @property
    def untouched(self) -> bool:
        return not self.corrections

    @property
    def anything_left(self) -> bool:
        return any(item.left for item in self.lines)


async def ticket_of(tx: Tx, till: Till, ticket_id: int) -> Ticket:
    """A ticket of this till's site (another's answers as missing)."""
    ticket = await tx.session.get(Ticket, ticket_id)
    if ticket is None or ticket.company_id != till.company_id or ticket.site_id != till.site_id:
        raise UnknownTicket()
    return ticket


async def refundable(tx: Tx, till: Till, ticket_id: int) -> Refundable:
    ticket = await ticket_of(tx, till, ticket_id)
    prefix = await tx.session.scalar(select(Till.prefix).where(Till.id == ticket.till_id))
    gone = await given_back(tx, ticket.id)
    lines = [LineLeft(line, line.quantity - gone.get(line.position, (0, 0))[0],
                      line.total_incl - gone.get(line.position, (0, 0))[1])
             for line in await lines_of(tx, ticket.id)]
    corrections = (await tx.session.execute(
        select(Ticket.sequence, Till.prefix, Ticket.kind, Ticket.total_incl)
        .join(Till, Till.id == Ticket.till_id)
        .where(Ticket.corrects_id == ticket.id, Ticket.kind.in_([Kind.REFUND, Kind.VOID]))
        .order_by(Ticket.id))).all()
    return Refundable(ticket, number(str(prefix), ticket.sequence), lines,
                      [(number(p, s), k, total) for s, p, k, total in corrections])


async def refund_page(request: Request) -> Response:
    """A sale's lines, what is left of each; a refund (lines, or the whole ticket) or a
    void; a supervisor's PIN when the one on the till may not."""
    here = await at(request, Permission.SELL)
    if isinstance(here, Response):
        return here
    ticket_id = int(request.path_params["ticket_id"])
    found = await run_tx(request, lambda tx: refundable(tx, here.till, ticket_id))
    response = page(
        request, "till/refund.html", till=here.till, staff=here.staff, found=found,
        key=str(uuid.uuid4()), void_key=str(uuid.uuid4()),
        refund_approvers=await supervisors(request, here.till, Permission.REFUND),
        void_approvers=await supervisors(request, here.till, Permission.VOID),
        may_refund=here.staff.may(Permission.REFUND),
        may_void=here.staff.may(Permission.VOID),
        **(await indicator(request, here.till)))
    response.headers.update(NO_STORE)
    return response


# The API (the page's forms post here too)


def _answer(request: Request, done: Recorded) -> Response:
    ticket = done.ticket
    return json_reply({
        "ticket": {"id": ticket.id, "uuid": ticket.uuid, "number": done.number,
                   "kind": ticket.kind, "total_incl": ticket.total_incl,
                   "currency": ticket.currency, "corrects": done.corrects_number,
                   "supervisor_id": ticket.supervisor_id},
        "first": done.first,
        "redirect": f"/till/tickets?done={ticket.id}",
    }, request)


async def _audit(tx: Tx, done: Recorded, here: AtTill, action: str, details: dict[str, Any]
                 ) -> None:
    if done.first:
        await audit.record(tx, here.staff.id, here.till.company_id, action,
                           f"ticket:{done.ticket.id}", {
                               "number": done.number, "corrects": done.corrects_number,
                               "acted_by": here.staff.id,
                               "approved_by": done.ticket.supervisor_id,
                               "at": done.ticket.created_at.isoformat(),
                               "reason": done.ticket.reason, "till": here.till.prefix,
                               "total_incl": done.ticket.total_incl, **details})


async def refund(request: Request) -> Response:
    """Refunds lines of a sale (each with how many go back) or, with `whole`, all that is
    left of it; the money goes back in cash or by card. Needs a supervisor: one who is on
    the till, or one whose PIN is sent in `approval` (without it: `approval_needed`)."""
    here = await device.at_till(request, Permission.SELL)
    body = await command(request, RefundTicket, form_shape)
    ticket_id = int(request.path_params["ticket_id"])
    await run_tx(request, lambda tx: ticket_of(tx, here.till, ticket_id))  # 404 first
    state = app_state(request)
    approved_by = await approver(state, till=here.till, acting=here.staff,
                                 permission=Permission.REFUND, approval=body.approval)

    async def act(tx: Tx) -> Recorded:
        found = await refundable(tx, here.till, ticket_id)
        if body.whole:
            wanted = [RefundLine(item.line.position, item.left)
                      for item in found.lines if item.left > 0]
        else:
            wanted = [RefundLine(item.position, item.quantity) for item in body.lines]
        if not wanted:
            raise NothingChosen()
        total = 0
        for item in wanted:
            left = next((x for x in found.lines if x.line.position == item.position), None)
            if left is not None and 0 < item.quantity <= left.left:
                gone = (left.line.quantity - left.left, left.line.total_incl - left.left_amount)
                total += amount_of(left.line, item.quantity, gone)
        origin = Origin(uuid=body.uuid, till_id=here.till.id, company_id=here.till.company_id,
                        staff_id=here.staff.id, supervisor_id=approved_by,
                        training=found.ticket.training, sequence=body.sequence)
        payments = [PaymentInput(Method(body.method), total)] if total > 0 else []
        done = await record_refund(tx, Refund(origin, uuid.UUID(found.ticket.uuid), wanted,
                                              payments, body.reason))
        await _audit(tx, done, here, "ticket.refund",
                     {"method": body.method, "whole": body.whole,
                      "lines": [[i.position, i.quantity] for i in wanted]})
        return done

    return _answer(request, await run_tx(request, act))


async def void(request: Request) -> Response:
    """Voids a sale: all of it cancelled, the money back the way it came. Needs a
    supervisor (Permission.VOID), as a refund does."""
    here = await device.at_till(request, Permission.SELL)
    body = await command(request, VoidTicket, form_shape)
    ticket_id = int(request.path_params["ticket_id"])
    await run_tx(request, lambda tx: ticket_of(tx, here.till, ticket_id))
    approved_by = await approver(app_state(request), till=here.till, acting=here.staff,
                                 permission=Permission.VOID, approval=body.approval)

    async def act(tx: Tx) -> Recorded:
        ticket = await ticket_of(tx, here.till, ticket_id)
        origin = Origin(uuid=body.uuid, till_id=here.till.id, company_id=here.till.company_id,
                        staff_id=here.staff.id, supervisor_id=approved_by,
                        training=ticket.training, sequence=body.sequence)
        done = await record_void(tx, Void(origin, uuid.UUID(ticket.uuid), body.reason))
        await _audit(tx, done, here, "ticket.void", {})
        return done

    return _answer(request, await run_tx(request, act))


CORRECTED = {
    "type": "object",
    "properties": {
        "ticket": {"type": "object", "description": "The refund or void recorded: id, uuid, "
                   "number, kind, total_incl (negative), currency, corrects (the sale's "
                   "number), supervisor_id (who approved)."},
        "first": {"type": "boolean", "description": "False: a retry, this is the record the "
                                                    "first attempt made."},
        "redirect": {"type": "string", "description": "For the till's page."},
    },
}
ERRORS = [NotPaired, NotAtTill, UnknownTicket, ApprovalNeeded, PinRefused, TooManyPinTries,
          BadTicket, PeriodClosed, TillRevoked, ReasonMissing, NothingChosen, BadQuantity]

api_routes = [
    Endpoint("/till/tickets/{ticket_id:id}/refund", refund, "POST", tag=TILL_TICKETS,
             summary="Refund lines of a ticket, or all of it", body=RefundTicket,
             params=[TICKET],
             example={"uuid": "6f1c2a8e-5d7b-4c1e-9a3f-2b8d4e6f0a1c",
                      "lines": [{"position": 1, "quantity": 1}], "reason": "Froid",
                      "method": "cash", "approval": {"staff_id": 3, "pin": "2002"}},
             responses={200: Reply(CORRECTED, "Refunded (or the first refund of this uuid).")},
             errors=ERRORS, security=SESSION),
    Endpoint("/till/tickets/{ticket_id:id}/void", void, "POST", tag=TILL_TICKETS,
             summary="Void a ticket", body=VoidTicket, params=[TICKET],
             example={"uuid": "0b6a3e2c-1d4f-4a5b-8c7d-9e0f1a2b3c4d", "reason": "Erreur",
                      "approval": {"staff_id": 3, "pin": "2002"}},
             responses={200: Reply(CORRECTED, "Voided (or the first void of this uuid).")},
             errors=ERRORS, security=SESSION),
]

routes = [
    Route("/till/tickets", tickets_page, methods=["GET"]),
    Route("/till/tickets/{ticket_id:id}/refund", refund_page, methods=["GET"]),
]
