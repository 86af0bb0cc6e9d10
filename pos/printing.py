"""Receipts on the shop's network printer: ESC/POS over TCP (port 9100), python-escpos.

The receipt (pos/receipt.py) is rendered to ESC/POS bytes here, in memory (escpos's Dummy
printer: no device involved), then sent as they are to the till's printer. The socket work
runs off the event loop (asyncio.to_thread), under a timeout: a printer that does not
answer is a translated error for the cashier, and the sale, already recorded, stays so.

The first print of a ticket is its original (claimed in `pos_receipt_print`); any later
print is a reprint, recorded as a duplicate (pos/corrections.py) and printed
"DUPLICATA n". The printer is reached before anything is recorded, so an unplugged printer
records no duplicate; a print that fails once connected gives its original claim back.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from escpos.printer import Dummy, Network
from sqlalchemy import delete, select

from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import works_at
from errors import N_, Conflict, DomainError, NotFound
from pos import clock
from pos.corrections import Duplicate, record_duplicate
from pos.journal import to_the_second
from pos.models import ReceiptPrint, Ticket, Till
from pos.printer_address import PORT, address_of
from pos.receipt import Receipt, Words, receipt_of
from pos.records import Kind, Origin
from pos.tills import lock_till
from realtime.events import Tx

T = TypeVar("T")
TIMEOUT_S = 5.0
WIDTH = 48  # characters of font A on 80 mm paper
CODEPAGE = "CP858"  # Latin-1 with the euro sign: French and English fit
REPRINTS = uuid.UUID("6f1d1c1e-4b7e-4c38-9a53-2f6a4c1e0a17")  # names reprints' ids


class PrinterUnavailable(DomainError):
    """The till's receipt printer did not answer or refused the connection; nothing was
    printed. The sale stays recorded: check the printer and print again."""

    code = "printer_unavailable"
    status = 503
    message = N_("The receipt printer does not answer (%(printer)s). The sale is recorded: "
                 "check the printer, then print again.")


class NoPrinter(Conflict):
    """The till has no receipt printer set up: print the receipt from its page."""

    code = "no_printer"
    message = N_("This till has no receipt printer: print the receipt from its page.")


class Printer(Protocol):
    """A receipt printer; blocking calls, run off the event loop."""

    def open(self) -> None: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class NetworkPrinter:
    """An ESC/POS printer on the LAN, through python-escpos's Network printer."""

    def __init__(self, host: str, port: int = PORT, timeout: float = TIMEOUT_S) -> None:
        self.device = Network(host, port=port, timeout=timeout)

    def open(self) -> None:
        # Connected here rather than by Network.open, which leaves a refused socket open;
        # raises OSError when refused, unreachable or silent past the timeout.
        connection = socket.create_connection((self.device.host, self.device.port),
                                              timeout=self.device.timeout)
        self.device.device = connection

    def send(self, data: bytes) -> None:
        self.device._raw(data)

    def close(self) -> None:
        self.device.close()


def network_printer(setting: str) -> Printer:
    host, port = address_of(setting)
    return NetworkPrinter(host, port)


# Rendering


def _plain(text: str) -> str:
    """What the code page prints: typographic spaces and dashes made plain, the rest of
    what CP858 lacks shown as "?"."""
    text = text.replace("\u202f", " ").replace("\u00a0", " ").replace("—", "-")
    return text.replace("–", "-").replace("’", "'").encode(
        CODEPAGE, "replace").decode(CODEPAGE)


def columns(left: str, right: str, width: int = WIDTH) -> str:
    """`left` and `right` on one line of `width`, `left` cut short when both do not fit."""
    room = width - len(right) - 1
    if room < 1:
        return right[-width:]
    left = left if len(left) <= room else left[: max(room - 1, 0)] + "."
    return left + " " * (width - len(left) - len(right)) + right


def receipt_text(receipt: Receipt, locale: str) -> list[tuple[str, str]]:
    """The receipt as lines of WIDTH characters, each with its style: "" plain, "b" bold,
    "c" centred, "cb" centred bold, "big" bold double size (the total, a duplicate)."""
    w = Words(locale, receipt)
    out: list[tuple[str, str]] = []
    rule = ("-" * WIDTH, "")

    def add(text: str, style: str = "") -> None:
        out.append((text, style))

    if receipt.training:
        add(w.training(), "cb")
    if (duplicate := w.duplicate()) is not None:
        add(duplicate, "big")
    add(receipt.company_name, "cb")
    for name, value in receipt.company_ids:
        add(f"{name} {value}", "c")
    add(receipt.site_name, "c")
    if receipt.site_address:
        for part in receipt.site_address.splitlines():
            add(part.strip(), "c")
    out.append(rule)
    add(columns(w.title(), receipt.number), "b")
    add(columns(w.t(N_("Date")), w.when(receipt.at)))
    add(columns(w.t(N_("Till")), receipt.till_name))
    add(columns(w.t(N_("Served by")), receipt.staff))
    if receipt.corrects:
        add(w.t(N_("Corrects ticket %(number)s"), number=receipt.corrects), "b")
    if receipt.reason:
        add(w.t(N_("Reason: %(reason)s"), reason=receipt.reason))
    out.append(rule)
    for line in receipt.lines:
        label = line.label if line.quantity == 1 else f"{line.quantity} x {line.label}"
        add(columns(label, f"{w.money(line.total)} {line.vat_code}"))
        if line.quantity != 1 or line.discount:
            detail = f"  {w.money(line.unit_price)}"
            if line.discount:
                detail += "  " + w.t(N_("discount %(amount)s"), amount=w.money(line.discount))
            add(detail)
    out.append(rule)
    add(columns(w.t(N_("TOTAL")), w.money(receipt.total_incl)), "big")
    if receipt.discount:
        add(columns(w.t(N_("Including discounts")), w.money(receipt.discount)))
    add(columns(w.t(N_("Total excl. VAT")), w.money(receipt.total_excl)))
    add(columns(w.t(N_("VAT")), w.money(receipt.total_vat)))
    out.append(rule)
    for tax in receipt.taxes:
        add(columns(f"{tax.vat_code} {w.t(N_('VAT'))} {w.rate(tax.vat_rate)}",
                    f"{w.t(N_('excl.'))} {w.money(tax.total_excl)}  "
                    f"{w.t(N_('VAT'))} {w.money(tax.total_vat)}"))
    out.append(rule)
    for payment in receipt.payments:
        add(columns(w.method(payment.method), w.money(payment.amount)))
        if payment.change:
            add(columns("  " + w.t(N_("Cash tendered")), w.money(payment.tendered)))
            add(columns("  " + w.t(N_("Change given")), w.money(payment.change)))
    out.append(rule)
    if receipt.duplicate is not None and receipt.duplicate_number and receipt.duplicate_at:
        add(w.t(N_("Reprint %(number)s on %(when)s by %(staff)s"),
                number=receipt.duplicate_number, when=w.when(receipt.duplicate_at),
                staff=receipt.duplicate_staff or ""), "c")
    if receipt.training:
        if receipt.supervisor:
            add(w.t(N_("Training supervised by %(name)s"), name=receipt.supervisor), "c")
        add(w.training(), "cb")
    add(w.t(N_("Prices include VAT")), "c")
    add(w.t(N_("Record fingerprint %(hash)s"), hash=receipt.chain_hash), "c")
    return [(_plain(text), style) for text, style in out]


def escpos_bytes(receipt: Receipt, locale: str) -> bytes:
    """The ESC/POS job: the receipt, a cut, and the drawer's pulse after a cash sale."""
    job = Dummy()
    job.charcode(CODEPAGE)
    for text, style in receipt_text(receipt, locale):
        job.set(align="center" if "c" in style else "left",
                bold="b" in style or style == "big",
                double_height=style == "big", double_width=False)
        job.textln(text)
    job.set(align="left", bold=False, double_height=False)
    job.cut()
    if receipt.cash_sale:
        job.cashdraw(2)
    output: bytes = job.output
    return output


# Printing a ticket


class Runner(Protocol):
    """The one transaction runner, bound to the app's database and bus."""

    def __call__(self, op: Callable[[Tx], Awaitable[T]]) -> Awaitable[T]: ...


@dataclass(frozen=True)
class Printed:
    receipt: Receipt
    reprint: bool  # a recorded duplicate ("DUPLICATA n"), not the original


async def off_loop(call: Callable[[], None], timeout: float) -> None:
    await asyncio.wait_for(asyncio.to_thread(call), timeout)


async def printable(tx: Tx, staff: StaffIdentity, ticket_id: int) -> tuple[Ticket, Till]:
    """The ticket and its till, if the staff member sells at its site; else not found."""
    staff.require(Permission.SELL)
    ticket = await tx.session.get(Ticket, ticket_id)
    if ticket is None or not works_at(staff, ticket.company_id, ticket.site_id):
        raise NotFound()
    till = await tx.session.get(Till, ticket.till_id)
    assert till is not None
    return ticket, till


async def print_ticket(
    run: Runner, staff: StaffIdentity, ticket_id: int, locale: str, *,
    key: str | None = None, connect: Callable[[str], Printer] = network_printer,
    timeout: float = TIMEOUT_S, at: Till | None = None, sequence: int | None = None,
) -> Printed:
    """Print a ticket's receipt on the printer of the till `at` (the device asking; by
    default the ticket's own till): the original the first time, a recorded duplicate
    afterwards. `key`: a retry with it prints the same duplicate again. `sequence`: the
    asking till's own number for a duplicate (a till that numbers its records): the
    duplicate is then that till's record."""
    ticket, till = await run(lambda tx: printable(tx, staff, ticket_id))
    if at is not None:
        if at.site_id != ticket.site_id:
            raise NotFound()
        till = at
    if not till.printer:
        raise NoPrinter()
    printer = connect(till.printer)
    try:
        await off_loop(printer.open, timeout)
    except Exception as error:  # refused, unreachable, timed out: all the same to a cashier
        await _close(printer)
        raise PrinterUnavailable(printer=till.printer) from error
    try:
        receipt, claimed = await run(lambda tx: _claim(
            tx, staff, ticket, key, at if sequence is not None else None, sequence))
        try:
            data = escpos_bytes(receipt, locale)
            try:
                await off_loop(lambda: printer.send(data), timeout)
            except Exception as error:
                raise PrinterUnavailable(printer=till.printer) from error
        except Exception:
            if claimed:  # not printed: the next print is still the original
                await run(lambda tx: _unclaim(tx, ticket.id))
            raise
    finally:
        await _close(printer)
    return Printed(receipt, reprint=receipt.duplicate is not None)


async def print_in_browser(run: Runner, staff: StaffIdentity, ticket_id: int, *,
                           key: str | None = None, at: Till | None = None,
                           sequence: int | None = None) -> Receipt:
    """The receipt page is about to be printed by the browser of the till `at`: the first
    print of a ticket is its original; any later one is a duplicate recorded on that till
    (numbered `sequence` by it), whose own receipt ("DUPLICATA n") is what gets printed.
    `key`: a retry with it gives the same duplicate."""
    ticket, _ = await run(lambda tx: printable(tx, staff, ticket_id))
    if at is not None and at.site_id != ticket.site_id:
        raise NotFound()
    receipt, _claimed = await run(lambda tx: _claim(
        tx, staff, ticket, key, at if sequence is not None else None, sequence))
    return receipt


async def _close(printer: Printer) -> None:
    try:
        await off_loop(printer.close, TIMEOUT_S)
    except Exception:  # noqa: S110  (a socket that will not close is dropped all the same)
        pass


async def _claim(
    tx: Tx, staff: StaffIdentity, ticket: Ticket, key: str | None,
    at: Till | None = None, sequence: int | None = None,
) -> tuple[Receipt, bool]:
    """Under the till's lock: the original's claim, or a recorded duplicate."""
    for till_id in sorted({ticket.till_id, at.id if at else ticket.till_id}):
        await lock_till(tx, till_id, company_id=ticket.company_id)
    original = ticket
    if ticket.kind == Kind.DUPLICATE and ticket.corrects_id is not None:
        found = await tx.session.get(Ticket, ticket.corrects_id)
        assert found is not None
        original = found
    else:
        printed = await tx.session.scalar(select(ReceiptPrint.id).where(
            ReceiptPrint.ticket_id == ticket.id))
        if printed is None:
            tx.session.add(ReceiptPrint(company_id=ticket.company_id, ticket_id=ticket.id,
                                        staff_id=staff.id,
                                        printed_at=to_the_second(clock.now())))
            await tx.session.flush()
            return await receipt_of(tx.session, ticket.id), True
    reprint = uuid.uuid5(REPRINTS, f"{original.uuid}:{key}") if key else uuid.uuid4()
    duplicate = await record_duplicate(tx, Duplicate(
        Origin(uuid=reprint, till_id=at.id if at else original.till_id,
               company_id=original.company_id, sequence=sequence,
               staff_id=staff.id, training=original.training,
               supervisor_id=original.supervisor_id if original.training else None),
        of=uuid.UUID(original.uuid)))
    return await receipt_of(tx.session, duplicate.ticket.id), False


async def _unclaim(tx: Tx, ticket_id: int) -> None:
    await tx.session.execute(delete(ReceiptPrint).where(ReceiptPrint.ticket_id == ticket_id))
