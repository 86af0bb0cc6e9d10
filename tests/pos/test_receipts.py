"""Receipts: the typed receipt of hand-computed tickets (two VAT rates, a refund, a
duplicate, training), and printing over ESC/POS to a fake network printer (a real TCP
server on 127.0.0.1 that records the bytes): original first, then DUPLICATA n; a printer
that refuses the connection is a translated error and records nothing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from accounts.service import StaffIdentity
from errors import Forbidden, NotFound
from pos.corrections import Duplicate, Refund, RefundLine, record_duplicate, record_refund
from pos.models import ReceiptPrint, Ticket, Till
from pos.printing import (
    WIDTH,
    PrinterUnavailable,
    address_of,
    escpos_bytes,
    print_ticket,
    receipt_text,
)
from pos.receipt import Receipt, Words, receipt_of
from pos.records import Method, PaymentInput, Recorded
from pos.vat import INTERMEDIATE, STANDARD, Line
from tests.pos.conftest import COFFEE, Clock, Shop
from web.errors import error_body

pytestmark = pytest.mark.asyncio

CUT = b"\x1dV\x00"  # GS V 0: full cut
DRAWER = b"\x1bp\x0022"  # ESC p 0 50 50: a pulse to the drawer on pin 2
AT = datetime(2026, 7, 14, 10, 5, 9, tzinfo=UTC)  # 12:05:09 in Paris (summer time)


async def _sale(shop: Shop, clock_at: Clock) -> Recorded:
    """Two coffees at 10 % and a beer at 20 % less 0.50: 3.00 + 3.50 = 6.50, paid 10.00
    cash. Per rate: 10 %: 300 -> 273 + 27 (300/1.1 = 272.73); 20 %: 350 -> 292 + 58
    (350/1.2 = 291.67)."""
    clock_at.at = AT
    return await shop.sell(Line("Café", 2, 150, INTERMEDIATE),
                           Line("Bière", 1, 400, STANDARD, discount=50), cash=1000)


async def _receipt(shop: Shop, ticket_id: int) -> Receipt:
    async with shop.db.sessionmaker() as session:
        return await receipt_of(session, ticket_id)


async def test_a_sale_with_two_vat_rates(shop: Shop, clock_at: Clock):
    sale = await _sale(shop, clock_at)
    receipt = await _receipt(shop, sale.ticket.id)
    assert (receipt.company_name, receipt.site_name, receipt.till_name) == (
        "Le Zinc SARL", "Le Zinc", "Comptoir T1")
    assert (receipt.number, receipt.staff, receipt.kind) == ("T1-000001", "Chloé", "sale")
    assert receipt.at == datetime(2026, 7, 14, 12, 5, 9, tzinfo=ZoneInfo("Europe/Paris"))
    assert [(line.label, line.quantity, line.unit_price, line.discount, line.total,
             line.vat_code) for line in receipt.lines] == [
        ("Café", 2, 150, 0, 300, "A"), ("Bière", 1, 400, 50, 350, "B")]
    assert [(t.vat_code, t.vat_rate, t.total_excl, t.total_vat, t.total_incl)
            for t in receipt.taxes] == [("A", 1000, 273, 27, 300), ("B", 2000, 292, 58, 350)]
    assert (receipt.total_excl, receipt.total_vat, receipt.total_incl, receipt.discount) == (
        565, 85, 650, 50)
    assert [(p.method, p.amount, p.tendered, p.change) for p in receipt.payments] == [
        ("cash", 650, 1000, 350)]
    assert receipt.cash_sale and receipt.duplicate is None and not receipt.training
    assert len(receipt.chain_hash) == 8 and receipt.chain_hash.isalnum()
    fr, en = Words("fr", receipt), Words("en", receipt)
    assert fr.when(receipt.at) == "14/07/2026 12:05:09"
    assert en.when(receipt.at).startswith("7/14/26 12:05:09")
    assert fr.money(650).replace("\u202f", " ").replace("\xa0", " ") == "6,50 €"
    assert (fr.rate(550), en.rate(550)) == ("5,5 %", "5.5 %")
    text = [line for line, _ in receipt_text(receipt, "fr")]
    assert all(len(line) <= WIDTH for line in text)
    assert any(line.startswith("TOTAL") and line.endswith("6,50 €") for line in text)
    assert any(line.startswith("Ticket") and line.endswith("T1-000001") for line in text)
    assert any(line.strip().startswith("Monnaie rendue") and line.endswith("3,50 €")
               for line in text)


async def test_a_refund_names_the_sale_it_corrects(shop: Shop, clock_at: Clock):
    sale = await _sale(shop, clock_at)
    refund = await shop.run(lambda tx: record_refund(tx, Refund(
        shop.origin(supervisor_id=shop.supervisor_id), corrects=_uuid(sale),
        lines=[RefundLine(2, 1)], payments=[PaymentInput(Method.CASH, 350)],
        reason="Bière tiède")))
    receipt = await _receipt(shop, refund.ticket.id)
    assert (receipt.kind, receipt.number, receipt.corrects, receipt.reason) == (
        "refund", "T1-000002", "T1-000001", "Bière tiède")
    assert [(line.label, line.quantity, line.total, line.vat_code)
            for line in receipt.lines] == [("Bière", -1, -350, "A")]
    assert [(t.total_excl, t.total_vat, t.total_incl) for t in receipt.taxes] == [
        (-292, -58, -350)]
    assert (receipt.total_incl, receipt.payments[0].amount) == (-350, -350)
    assert not receipt.cash_sale  # money goes out: the printer does not open the drawer
    text = "\n".join(line for line, _ in receipt_text(receipt, "fr"))
    assert "Remboursement" in text and "Corrige le ticket T1-000001" in text


async def test_a_duplicate_prints_its_original_marked_duplicata(shop: Shop, clock_at: Clock):
    sale = await _sale(shop, clock_at)
    for _ in range(2):
        duplicate = await shop.run(lambda tx: record_duplicate(tx, Duplicate(
            shop.origin(), of=_uuid(sale))))
    receipt = await _receipt(shop, duplicate.ticket.id)
    assert (receipt.duplicate, receipt.duplicate_number, receipt.number) == (
        2, "T1-000003", "T1-000001")
    assert receipt.ticket_id == duplicate.ticket.id and receipt.total_incl == 650
    assert not receipt.cash_sale  # a reprint never opens the drawer
    assert Words("fr", receipt).duplicate() == "DUPLICATA 2"
    assert Words("en", receipt).duplicate() == "DUPLICATE 2"
    original = await _receipt(shop, sale.ticket.id)
    assert receipt.chain_hash != original.chain_hash  # the duplicate's own record


async def test_a_training_ticket_says_it_is_no_receipt(shop: Shop, clock_at: Clock):
    clock_at.at = AT
    sale = await shop.sell(COFFEE, training=True, supervisor_id=shop.supervisor_id)
    receipt = await _receipt(shop, sale.ticket.id)
    assert receipt.training and receipt.supervisor == "Sami" and not receipt.cash_sale
    fr = [line for line, _ in receipt_text(receipt, "fr")]
    assert fr[0] == fr[-3] == "FORMATION - ceci n'est pas un ticket de caisse"
    assert "Formation supervisée par Sami" in fr
    en = [line for line, _ in receipt_text(receipt, "en")]
    assert en[0] == "TRAINING - not a receipt"


def _uuid(recorded: Recorded):  # type: ignore[no-untyped-def]
    import uuid

    return uuid.UUID(recorded.ticket.uuid)


# Printing against a fake printer


@dataclass
class FakePrinter:
    """A real TCP server on an ephemeral port that keeps each connection's bytes."""

    port: int = 0
    jobs: list[bytes] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.jobs.append(await reader.read())  # until the till closes its side
        writer.close()
        self.done.set()

    async def job(self) -> bytes:
        await asyncio.wait_for(self.done.wait(), 5)
        self.done.clear()
        return self.jobs[-1]


@pytest_asyncio.fixture
async def printer() -> AsyncIterator[FakePrinter]:
    fake = FakePrinter()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake


async def _set_printer(shop: Shop, address: str | None) -> None:
    async with shop.db.sessionmaker() as session, session.begin():
        await session.execute(update(Till).where(Till.id == shop.till_ids[0]).values(
            printer=address))


def _cashier(shop: Shop) -> StaffIdentity:
    return StaffIdentity(shop.cashier_id, shop.company_id, "cashier", "Chloé")


async def _count(shop: Shop, model: type, *where: object) -> int:
    async with shop.db.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(
            *where)) or 0  # type: ignore[arg-type]


async def test_the_first_print_is_the_original_then_each_reprint_a_duplicata(
    shop: Shop, clock_at: Clock, printer: FakePrinter,
):
    sale = await _sale(shop, clock_at)
    await _set_printer(shop, f"127.0.0.1:{printer.port}")
    staff = _cashier(shop)
    first = await print_ticket(shop.run, staff, sale.ticket.id, "fr")
    data = await printer.job()
    assert not first.reprint and data == escpos_bytes(first.receipt, "fr")
    assert b"2 x Caf\x82" in data and b"Bi\x8are" in data  # CP858: é and è
    assert b"TOTAL" in data and b"6,50 \xd5" in data  # the euro sign in CP858
    assert b"\x1bt\x13" in data  # CP858 selected
    assert CUT in data and data.endswith(DRAWER)  # cut, then the cash drawer opens
    assert b"DUPLICATA" not in data
    second = await print_ticket(shop.run, staff, sale.ticket.id, "fr", key="a-retry-key")
    data = await printer.job()
    assert second.reprint and second.receipt.duplicate == 1
    assert b"DUPLICATA 1" in data and b"TOTAL" in data and CUT in data
    assert DRAWER not in data  # a reprint does not open the drawer
    again = await print_ticket(shop.run, staff, sale.ticket.id, "fr", key="a-retry-key")
    assert again.receipt.ticket_id == second.receipt.ticket_id  # the same duplicate again
    await printer.job()
    third = await print_ticket(shop.run, staff, sale.ticket.id, "en")
    data = await printer.job()
    assert third.receipt.duplicate == 2 and b"DUPLICATE 2" in data
    assert await _count(shop, Ticket, Ticket.kind == "duplicate") == 2
    assert await _count(shop, ReceiptPrint) == 1


async def test_a_printer_that_refuses_the_connection_is_a_translated_error(
    shop: Shop, clock_at: Clock,
):
    sale = await _sale(shop, clock_at)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await _set_printer(shop, f"127.0.0.1:{port}")
    for _ in range(2):
        with pytest.raises(PrinterUnavailable) as refused:
            await print_ticket(shop.run, _cashier(shop), sale.ticket.id, "fr", timeout=2)
    message = error_body(refused.value, "fr")["error"]["message"]
    assert "imprimante" in message and f"127.0.0.1:{port}" in message
    assert "printer" in error_body(refused.value, "en")["error"]["message"]
    # Nothing recorded: the next print that reaches the printer is still the original.
    assert await _count(shop, Ticket, Ticket.kind == "duplicate") == 0
    assert await _count(shop, ReceiptPrint) == 0
    assert await _count(shop, Ticket, Ticket.kind == "sale") == 1


async def test_only_staff_who_sell_at_the_site_print(shop: Shop, clock_at: Clock):
    sale = await _sale(shop, clock_at)
    await _set_printer(shop, "127.0.0.1:9")
    elsewhere = StaffIdentity(shop.cashier_id, shop.company_id, "cashier", "Chloé",
                              frozenset({shop.site_id + 1000}))
    stranger = StaffIdentity(shop.cashier_id, shop.company_id + 1000, "admin", "Eve")
    kitchen = StaffIdentity(shop.cashier_id, shop.company_id, "kitchen", "Karim")
    for staff, error in ((elsewhere, NotFound), (stranger, NotFound), (kitchen, Forbidden)):
        with pytest.raises(error):
            await print_ticket(shop.run, staff, sale.ticket.id, "fr")


async def test_a_printer_address_is_a_host_and_maybe_a_port():
    assert address_of("192.168.1.50") == ("192.168.1.50", 9100)
    assert address_of(" imprimante.local:9101 ") == ("imprimante.local", 9101)
    for bad in ("", "host:0", "host:99999", "a b", "host:port", "http://x"):
        with pytest.raises(Exception, match="address"):
            address_of(bad)
