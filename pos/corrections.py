"""Corrections and reprints: a refund or void is a new record of opposite sign naming the
sale it corrects (and, line by line, what it gives back); a duplicate is a numbered reprint.
Each locks the original's till too, so two tills cannot both give back the last of a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from uuid import UUID

from sqlalchemy import func, select

from errors import N_
from pos import vat
from pos.errors import BadTicket
from pos.models import Ticket, TicketLine, TicketPayment, Till
from pos.records import (
    Item,
    Kind,
    Method,
    Origin,
    PaymentInput,
    Recorded,
    append,
    lines_of,
    retry,
)
from pos.tills import lock_till
from realtime.events import Tx


@dataclass(frozen=True)
class RefundLine:
    position: int  # the sold line's position on its ticket
    quantity: int  # how many of it go back


@dataclass(frozen=True)
class Refund:
    origin: Origin
    corrects: UUID
    lines: Sequence[RefundLine]
    payments: Sequence[PaymentInput]
    reason: str


@dataclass(frozen=True)
class Void:
    """The whole ticket cancelled; the money goes back the way it came unless told."""

    origin: Origin
    corrects: UUID
    reason: str
    payments: Sequence[PaymentInput] | None = None


@dataclass(frozen=True)
class Duplicate:
    """A reprint: recorded, numbered, printed "DUPLICATA n"."""

    origin: Origin
    of: UUID



async def record_refund(tx: Tx, command: Refund) -> Recorded:
    found = await retry(tx, command.origin)
    if found:
        return found
    original = await _correctable(tx, command.origin, command.corrects)
    await _lock_both(tx, command.origin, original)
    if found := await retry(tx, command.origin):  # a first attempt committed meanwhile
        return found
    sold = await lines_of(tx, original.id)
    returned = await _returned(tx, original.id)
    lines: list[vat.Line] = []
    positions: list[int | None] = []
    items: list[Item] = []
    for wanted in command.lines:
        line = next((line for line in sold if line.position == wanted.position), None)
        if line is None:
            raise BadTicket(why=N_("a refunded line is not on the ticket"))
        gone_quantity, gone_amount = returned.get(line.position, (0, 0))
        left = line.quantity - gone_quantity
        if not 0 < wanted.quantity <= left:
            raise BadTicket(why=N_("a line is refunded beyond what is left of it"))
        # The last of a line gives back exactly what is left: refunds add up to the sale.
        amount = refund_amount(line, wanted.quantity, (gone_quantity, gone_amount))
        lines.append(vat.Line(line.label, -wanted.quantity, line.unit_price, line.vat_rate,
                              discount=amount - wanted.quantity * line.unit_price))
        positions.append(line.position)
        items.append(Item(line.product_id, line.category_id))
    if len({*positions}) != len(positions):
        raise BadTicket(why=N_("a refund names each line once"))
    if not lines:
        raise BadTicket(why=N_("a refund names at least one line"))
    return await append(tx, command.origin, Kind.REFUND, original, lines, command.payments,
                         reason=command.reason, corrects_positions=positions, items=items)


async def record_void(tx: Tx, command: Void) -> Recorded:
    found = await retry(tx, command.origin)
    if found:
        return found
    original = await _correctable(tx, command.origin, command.corrects)
    await _lock_both(tx, command.origin, original)
    if found := await retry(tx, command.origin):  # a first attempt committed meanwhile
        return found
    if await _returned(tx, original.id):
        raise BadTicket(why=N_("this ticket was already refunded or voided"))
    sold = await lines_of(tx, original.id)
    lines = [vat.Line(line.label, -line.quantity, line.unit_price, line.vat_rate,
                      discount=-line.discount) for line in sold]
    payments = command.payments
    if payments is None:
        paid = (await tx.session.scalars(select(TicketPayment).where(
            TicketPayment.ticket_id == original.id).order_by(TicketPayment.position))).all()
        payments = [PaymentInput(Method(p.method), p.amount) for p in paid]
    return await append(tx, command.origin, Kind.VOID, original, lines, payments,
                         reason=command.reason,
                         corrects_positions=[line.position for line in sold],
                         items=[Item(line.product_id, line.category_id) for line in sold])


async def record_duplicate(tx: Tx, command: Duplicate) -> Recorded:
    found = await retry(tx, command.origin)
    if found:
        return found
    original = await _ticket_by_uuid(tx, command.origin, command.of)
    await _lock_both(tx, command.origin, original)
    if found := await retry(tx, command.origin):  # a first attempt committed meanwhile
        return found
    return await append(tx, command.origin, Kind.DUPLICATE, original, [], [], reason="")



async def _lock_both(tx: Tx, origin: Origin, original: Ticket) -> None:
    """Lock the recording till and the original's (in id order: no deadlock) before reading
    what was already given back or reprinted: two tills cannot both refund the last one."""
    for till_id in sorted({origin.till_id, original.till_id}):
        await lock_till(tx, till_id, company_id=origin.company_id)


async def _ticket_by_uuid(tx: Tx, origin: Origin, uuid: UUID) -> Ticket:
    ticket = await tx.session.scalar(select(Ticket).where(Ticket.uuid == str(uuid)))
    till = await tx.session.get(Till, origin.till_id)
    if ticket is None or till is None or ticket.company_id != origin.company_id \
            or ticket.site_id != till.site_id:
        raise BadTicket(why=N_("no such ticket at this site"))
    return ticket


async def _correctable(tx: Tx, origin: Origin, uuid: UUID) -> Ticket:
    ticket = await _ticket_by_uuid(tx, origin, uuid)
    if ticket.kind != Kind.SALE:
        raise BadTicket(why=N_("only a sale is refunded or voided"))
    if origin.supervisor_id is None:
        raise BadTicket(why=N_("a refund or a void names the supervisor who approved it"))
    return ticket



async def given_back(tx: Tx, ticket_id: int) -> dict[int, tuple[int, int]]:
    """Per sold line's position, what refunds and voids already gave back (quantity and
    amount, both positive): what the refund screen shows as gone."""
    return await _returned(tx, ticket_id)


def refund_amount(line: TicketLine, quantity: int, gone: tuple[int, int]) -> int:
    """What giving back `quantity` of a sold line returns (positive), as record_refund
    computes it: the last of a line gives back exactly what is left of its amount."""
    gone_quantity, gone_amount = gone
    if quantity == line.quantity - gone_quantity:
        return line.total_incl - gone_amount
    return vat.round_half_away(Fraction(line.total_incl * quantity, line.quantity))


async def _returned(tx: Tx, ticket_id: int) -> dict[int, tuple[int, int]]:
    """Per sold line's position, what refunds and voids already gave back (quantity and
    amount, both positive)."""
    given_back = (await tx.session.execute(
        select(TicketLine.corrects_position, func.sum(TicketLine.quantity),
               func.sum(TicketLine.total_incl))
        .join(Ticket, Ticket.id == TicketLine.ticket_id)
        .where(Ticket.corrects_id == ticket_id, Ticket.kind.in_([Kind.REFUND, Kind.VOID]))
        .group_by(TicketLine.corrects_position)
    )).all()
    return {int(position): (-int(quantity), -int(amount))
            for position, quantity, amount in given_back if position is not None}
