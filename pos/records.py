"""Recording a till's tickets, each chained: sales here, their corrections and duplicates
in pos/corrections.py.

Every record takes the till's next number and the next place in its chain, under the
till's lock; its client-chosen UUID makes a retry return the first record. Nothing here,
nor anywhere, updates or deletes a record (the database refuses it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, select

from accounts.models import Company, Staff
from domain import outbox
from domain.events import PaidPart, SoldLine, TicketRecorded
from errors import N_
from pos import chain, clock, vat
from pos.errors import BadTicket, PeriodClosed, SequenceTaken
from pos.journal import to_the_second
from pos.legal import link_fields, number, ticket_fields
from pos.models import ChainLink, Ticket, TicketLine, TicketPayment, TicketTax, Till
from pos.periods import closing_covering, local_day, zone_of
from pos.tills import chain_head, lock_till, refuse_revoked
from realtime.events import Tx

MAX_QUANTITY = 10_000
MAX_SEQUENCE = 999_999_999  # a till's numbers: far more than a till ever records
MAX_PRICE = 100_000_00  # cents: a hundred thousand a unit
MAX_LINES = 500


class Kind(StrEnum):
    SALE = "sale"
    REFUND = "refund"
    VOID = "void"
    DUPLICATE = "duplicate"


class Method(StrEnum):
    CASH = "cash"
    CARD = "card"


@dataclass(frozen=True)
class PaymentInput:
    """Money taken (a sale) or given back (a refund or void; `amount` is still positive).
    Cash may be `tendered` above the amount: the rest is the change."""

    method: Method
    amount: int
    tendered: int | None = None


@dataclass(frozen=True)
class Origin:
    """Who records, on which till, under which key and number."""

    uuid: UUID  # chosen by the client: a retry with it returns the first record
    till_id: int
    company_id: int
    staff_id: int
    sequence: int | None = None  # the till's number; None: the next one
    training: bool = False
    supervisor_id: int | None = None  # who supervises training, or approved a correction
    device_at: datetime | None = None  # the till's clock, kept as data
    customer_id: int | None = None  # the customer identified at the till (a sale's only)
    reward_key: str | None = None  # the key of the customer's reward applied to the sale


@dataclass(frozen=True)
class Item:
    """What a line sells, for the statistics: the product and its category, when known."""

    product_id: int | None = None
    category_id: int | None = None


@dataclass(frozen=True)
class Sale:
    origin: Origin
    lines: Sequence[vat.Line]
    payments: Sequence[PaymentInput] = ()
    items: Sequence[Item] = ()  # one per line, in their order (none: not known)


@dataclass(frozen=True)
class Recorded:
    """A record as the till shows or prints it."""

    ticket: Ticket
    number: str
    lines: list[TicketLine] = field(default_factory=list)
    taxes: list[TicketTax] = field(default_factory=list)
    payments: list[TicketPayment] = field(default_factory=list)
    corrects_number: str | None = None
    first: bool = True  # False: a retry, this is the record the first attempt made


async def record_sale(tx: Tx, command: Sale) -> Recorded:
    _check_lines(command.lines)
    return await append(tx, command.origin, Kind.SALE, None, list(command.lines),
                         command.payments, reason="", items=command.items)


async def recorded(tx: Tx, ticket: Ticket, *, first: bool = True) -> Recorded:
    """A stored record with its lines, taxes and payments (a receipt's content)."""
    till = await tx.session.get(Till, ticket.till_id)
    assert till is not None
    taxes = (await tx.session.scalars(select(TicketTax).where(
        TicketTax.ticket_id == ticket.id).order_by(TicketTax.vat_rate))).all()
    payments = (await tx.session.scalars(select(TicketPayment).where(
        TicketPayment.ticket_id == ticket.id).order_by(TicketPayment.position))).all()
    corrects_number = None
    if ticket.corrects_id is not None:
        corrected = await tx.session.get(Ticket, ticket.corrects_id)
        assert corrected is not None
        corrected_till = await tx.session.get(Till, corrected.till_id)
        assert corrected_till is not None
        corrects_number = number(corrected_till.prefix, corrected.sequence)
    return Recorded(ticket, number(till.prefix, ticket.sequence),
                    await lines_of(tx, ticket.id), list(taxes), list(payments),
                    corrects_number, first)


# The append itself


async def append(
    tx: Tx, origin: Origin, kind: Kind, corrects: Ticket | None, lines: list[vat.Line],
    payments: Sequence[PaymentInput], *, reason: str,
    corrects_positions: Sequence[int | None] = (), items: Sequence[Item] = (),
) -> Recorded:
    found = await retry(tx, origin)
    if found:
        return found
    till = await lock_till(tx, origin.till_id, company_id=origin.company_id)
    found = await retry(tx, origin)  # a concurrent first attempt committed while we waited
    if found:
        return found
    refuse_revoked(till)
    await _refuse_strangers(tx, origin)
    if origin.training and origin.supervisor_id is None:
        raise BadTicket(why=N_("a training ticket names its supervising member of staff"))
    if corrects is not None and corrects.training != origin.training:
        raise BadTicket(why=N_("training and real tickets do not correct each other"))
    now = to_the_second(clock.now())
    zone = await zone_of(tx.session, origin.company_id)
    closed = await closing_covering(tx.session, till.site_id, local_day(now, zone))
    if closed is not None:
        raise PeriodClosed(period=f"{closed.period_start}/{closed.period_end}")
    sequence = await _next_number(tx, till, origin.sequence)
    totals = vat.compute(lines)
    paid = _payments(kind, totals.total_incl, payments)
    company = await tx.session.get(Company, origin.company_id)
    assert company is not None
    duplicate_number = None
    if kind is Kind.DUPLICATE and corrects is not None:
        duplicate_number = 1 + (await tx.session.scalar(select(func.count()).where(
            Ticket.corrects_id == corrects.id, Ticket.kind == Kind.DUPLICATE)) or 0)
    ticket = Ticket(
        uuid=str(origin.uuid), company_id=origin.company_id, site_id=till.site_id,
        till_id=till.id, sequence=sequence, kind=str(kind), training=origin.training,
        supervisor_id=origin.supervisor_id, staff_id=origin.staff_id, created_at=now,
        device_at=to_the_second(origin.device_at) if origin.device_at else None,
        corrects_id=corrects.id if corrects else None, duplicate_number=duplicate_number,
        reason=reason.strip()[:200], currency=company.currency,
        total_incl=totals.total_incl, total_excl=totals.total_excl,
        total_vat=totals.total_vat, discount=totals.discount,
        customer_id=origin.customer_id if kind is Kind.SALE else None,
        reward_key=origin.reward_key if kind is Kind.SALE else None,
    )
    tx.session.add(ticket)
    await tx.session.flush()
    rows_lines = [
        TicketLine(ticket_id=ticket.id, position=index, label=priced.line.label,
                   quantity=priced.line.quantity, unit_price=priced.line.unit_price,
                   discount=priced.line.discount, vat_rate=priced.line.vat_rate,
                   total_incl=priced.total_incl, total_excl=priced.total_excl,
                   corrects_position=(corrects_positions[index - 1]
                                      if corrects_positions else None),
                   product_id=item.product_id, category_id=item.category_id)
        for index, (priced, item) in enumerate(zip(
            totals.lines, [*items, *[Item()] * (len(totals.lines) - len(items))], strict=True),
            start=1)
    ]
    rows_taxes = [
        TicketTax(ticket_id=ticket.id, vat_rate=rate.rate, total_excl=rate.total_excl,
                  total_vat=rate.total_vat, total_incl=rate.total_incl)
        for rate in totals.rates
    ]
    rows_payments = [
        TicketPayment(ticket_id=ticket.id, position=index, method=str(method), amount=amount,
                      tendered=tendered, change=tendered - amount)
        for index, (method, amount, tendered) in enumerate(paid, start=1)
    ]
    tx.session.add_all([*rows_lines, *rows_taxes, *rows_payments])
    fields = ticket_fields(ticket, rows_lines, rows_taxes, rows_payments,
                           corrects.uuid if corrects else None)
    await append_link(tx, till, fields, now, ticket_id=ticket.id)
    await outbox.record(tx, TicketRecorded(
        company_id=ticket.company_id, site_id=ticket.site_id, till_id=till.id,
        ticket_id=ticket.id, ticket_uuid=origin.uuid, number=number(till.prefix, sequence),
        kind=kind.value, training=ticket.training, total=ticket.total_incl,
        currency=ticket.currency, staff_id=ticket.staff_id,
        corrects_ticket_id=ticket.corrects_id,
        lines=[SoldLine(product_id=line.product_id, category_id=line.category_id,
                        name=line.label, quantity=line.quantity, amount=line.total_incl)
               for line in rows_lines],
        payments=[PaidPart(method=line.method, amount=line.amount) for line in rows_payments],
        sold_at=ticket.device_at or ticket.created_at, customer_id=ticket.customer_id,
    ))
    return await recorded(tx, ticket)


async def append_link(
    tx: Tx, till: Till, record: dict[str, object], now: datetime, *,
    ticket_id: int | None = None, closing_id: int | None = None,
) -> ChainLink:
    """Chain a record at the end of the till's chain; the caller holds the till's lock."""
    position, previous = await chain_head(tx, till.id)
    link = ChainLink(company_id=till.company_id, till_id=till.id, position=position + 1,
                     ticket_id=ticket_id, closing_id=closing_id, recorded_at=now,
                     previous_hash=previous)
    link.hash = chain.link(previous, link_fields(link, dict(record)))
    tx.session.add(link)
    await tx.session.flush()
    return link


async def _refuse_strangers(tx: Tx, origin: Origin) -> None:
    """Who records and who supervises are active members of the till's company."""
    for staff_id in {origin.staff_id, origin.supervisor_id} - {None}:
        staff = await tx.session.get(Staff, staff_id)
        if staff is None or staff.company_id != origin.company_id or not staff.active:
            raise BadTicket(why=N_("a member of staff named on the ticket is not of this "
                                   "company"))


async def _next_number(tx: Tx, till: Till, wanted: int | None) -> int:
    last = await tx.session.scalar(
        select(func.max(Ticket.sequence)).where(Ticket.till_id == till.id)) or 0
    if wanted is None:
        return last + 1
    if wanted < 1:
        raise BadTicket(why=N_("a ticket's number starts at 1"))
    taken = await tx.session.scalar(select(Ticket.id).where(
        Ticket.till_id == till.id, Ticket.sequence == wanted))
    if taken is not None:
        raise SequenceTaken(number=number(till.prefix, wanted))
    return wanted


async def retry(tx: Tx, origin: Origin) -> Recorded | None:
    ticket = await tx.session.scalar(select(Ticket).where(Ticket.uuid == str(origin.uuid)))
    if ticket is None:
        return None
    if ticket.till_id != origin.till_id or ticket.company_id != origin.company_id:
        raise BadTicket(why=N_("this id belongs to another till's ticket"))
    return await recorded(tx, ticket, first=False)


async def lines_of(tx: Tx, ticket_id: int) -> list[TicketLine]:
    return list((await tx.session.scalars(select(TicketLine).where(
        TicketLine.ticket_id == ticket_id).order_by(TicketLine.position))).all())


def _check_lines(lines: Sequence[vat.Line]) -> None:
    if not 0 < len(lines) <= MAX_LINES:
        raise BadTicket(why=N_("a sale has from 1 to 500 lines"))
    for line in lines:
        if not line.label.strip() or len(line.label) > 120:
            raise BadTicket(why=N_("every line has a label of at most 120 characters"))
        if not 0 < line.quantity <= MAX_QUANTITY:
            raise BadTicket(why=N_("a quantity is from 1 to 10000"))
        if not 0 <= line.unit_price <= MAX_PRICE:
            raise BadTicket(why=N_("a unit price is out of bounds"))
        if not 0 <= line.discount <= line.quantity * line.unit_price:
            raise BadTicket(why=N_("a discount is at most the line's amount"))
        if not 0 <= line.vat_rate <= vat.MAX_RATE:
            raise BadTicket(why=N_("a VAT rate is from 0 to 10000 hundredths of a percent"))


def _payments(
    kind: Kind, total: int, payments: Sequence[PaymentInput]
) -> list[tuple[Method, int, int]]:
    """(method, signed amount, signed tendered): they add up to the ticket's total."""
    sign = -1 if kind in (Kind.REFUND, Kind.VOID) else 1
    rows: list[tuple[Method, int, int]] = []
    for payment in payments:
        if not 0 < payment.amount <= MAX_PRICE * MAX_QUANTITY:
            raise BadTicket(why=N_("a payment's amount is positive"))
        tendered = payment.amount if payment.tendered is None else payment.tendered
        if payment.method is Method.CARD and tendered != payment.amount:
            raise BadTicket(why=N_("a card pays its amount exactly"))
        if tendered < payment.amount or sign < 0 and tendered != payment.amount:
            raise BadTicket(why=N_("cash tendered covers its amount"))
        rows.append((payment.method, sign * payment.amount, sign * tendered))
    if sum(amount for _, amount, _ in rows) != total:
        raise BadTicket(why=N_("the payments add up to the ticket's total"))
    return rows
