"""A receipt: what a recorded ticket prints, as a plain typed model that the 80 mm page
(templates/receipt.html) and the ESC/POS printer (pos/printing.py) both render.

Built from the records only (never from the sale screen's state), so that a receipt, a
reprint years later and an auditor's copy say the same. Amounts stay in integer cents and
moments stay moments; `words` formats them for a locale with web/i18n.py's helpers.

The company and site models hold no SIRET nor VAT number yet: the header shows the
company's name and the site's name and address, and `company_ids` stays empty until they
exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site, Staff
from errors import N_
from pos.legal import number
from pos.models import ChainLink, Ticket, TicketLine, TicketPayment, TicketTax, Till
from pos.records import Kind, Method
from web.i18n import gettext, moment, money

SHORT_HASH = 8  # hex digits of the chain's hash shown on the receipt (32 bits)
CODES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    quantity: int  # negative on a refund or void
    unit_price: int  # cents, VAT included
    discount: int
    total: int  # cents, VAT included
    vat_rate: int  # basis points
    vat_code: str  # "A": the rate's letter in the receipt's VAT table


@dataclass(frozen=True)
class ReceiptTax:
    vat_code: str
    vat_rate: int
    total_excl: int
    total_vat: int
    total_incl: int


@dataclass(frozen=True)
class ReceiptPayment:
    method: str  # "cash" | "card"
    amount: int
    tendered: int
    change: int


@dataclass(frozen=True)
class Receipt:
    """A ticket as printed. For a duplicate, the content is its original's, and `duplicate`
    names the reprint (its number n, its own record's number and moment)."""

    ticket_id: int  # the record printed (the duplicate's own, for a reprint)
    kind: str  # of the content: sale | refund | void
    company_name: str
    company_ids: tuple[tuple[str, str], ...]  # ("SIRET", "…"), ("VAT", "…") when known
    site_name: str
    site_address: str
    till_name: str
    number: str  # T2-000123
    at: datetime  # in the company's time zone, to the second
    zone: str
    staff: str  # first name of who recorded it
    currency: str
    lines: tuple[ReceiptLine, ...]
    taxes: tuple[ReceiptTax, ...]
    total_excl: int
    total_vat: int
    total_incl: int
    discount: int
    payments: tuple[ReceiptPayment, ...]
    chain_hash: str  # the printed record's chain hash, short form
    corrects: str | None = None  # a refund's or void's: the number of the sale it corrects
    reason: str = ""
    training: bool = False
    supervisor: str | None = None  # training: who supervises it
    duplicate: int | None = None  # n of "DUPLICATA n"
    duplicate_number: str | None = None  # the duplicate record's own number
    duplicate_at: datetime | None = None
    duplicate_staff: str | None = None

    @property
    def cash_sale(self) -> bool:
        """Cash went into the drawer: the printer opens it (never on a reprint)."""
        return self.duplicate is None and self.kind == Kind.SALE and not self.training and any(
            p.method == Method.CASH for p in self.payments)

    @property
    def given(self) -> int:
        """Total tendered and change given (cash)."""
        return sum(p.change for p in self.payments)


class ReceiptNotFound(Exception):
    """No such ticket (the routes answer with their own not-found error)."""


def first_name(name: str) -> str:
    return (name.split() or [""])[0]


def short_hash(value: str) -> str:
    return value[:SHORT_HASH].upper()


def codes_of(rates: list[int]) -> dict[int, str]:
    """A letter per VAT rate of the receipt, lowest rate first."""
    return {rate: CODES[index % len(CODES)] for index, rate in enumerate(sorted(set(rates)))}


async def receipt_of(session: AsyncSession, ticket_id: int) -> Receipt:
    """The receipt of a recorded ticket; for a duplicate, its original's content marked
    with the reprint."""
    printed = await session.get(Ticket, ticket_id)
    if printed is None:
        raise ReceiptNotFound()
    content = printed
    if printed.kind == Kind.DUPLICATE and printed.corrects_id is not None:
        original = await session.get(Ticket, printed.corrects_id)
        assert original is not None
        content = original
    company = await session.get(Company, content.company_id)
    site = await session.get(Site, content.site_id)
    till = await session.get(Till, content.till_id)
    assert company is not None and site is not None and till is not None
    zone = ZoneInfo(company.timezone or "Europe/Paris")
    lines = (await session.scalars(select(TicketLine).where(
        TicketLine.ticket_id == content.id).order_by(TicketLine.position))).all()
    taxes = (await session.scalars(select(TicketTax).where(
        TicketTax.ticket_id == content.id).order_by(TicketTax.vat_rate))).all()
    payments = (await session.scalars(select(TicketPayment).where(
        TicketPayment.ticket_id == content.id).order_by(TicketPayment.position))).all()
    codes = codes_of([tax.vat_rate for tax in taxes] + [line.vat_rate for line in lines])
    link_hash = await session.scalar(select(ChainLink.hash).where(
        ChainLink.ticket_id == printed.id)) or ""
    corrects = None
    if content.corrects_id is not None:
        corrected = await session.get(Ticket, content.corrects_id)
        assert corrected is not None
        corrected_till = await session.get(Till, corrected.till_id)
        assert corrected_till is not None
        corrects = number(corrected_till.prefix, corrected.sequence)
    duplicate: dict[str, object] = {}
    if printed is not content:
        printed_till = await session.get(Till, printed.till_id)
        assert printed_till is not None
        duplicate = {
            "duplicate": printed.duplicate_number,
            "duplicate_number": number(printed_till.prefix, printed.sequence),
            "duplicate_at": printed.created_at.astimezone(zone),
            "duplicate_staff": first_name(await _name(session, printed.staff_id)),
        }
    return Receipt(
        ticket_id=printed.id,
        kind=content.kind,
        company_name=company.name,
        company_ids=(),
        site_name=site.name,
        site_address=site.address,
        till_name=till.name,
        number=number(till.prefix, content.sequence),
        at=content.created_at.astimezone(zone),
        zone=str(zone),
        staff=first_name(await _name(session, content.staff_id)),
        currency=content.currency,
        lines=tuple(
            ReceiptLine(line.label, line.quantity, line.unit_price, line.discount,
                        line.total_incl, line.vat_rate, codes[line.vat_rate])
            for line in lines),
        taxes=tuple(
            ReceiptTax(codes[tax.vat_rate], tax.vat_rate, tax.total_excl, tax.total_vat,
                       tax.total_incl)
            for tax in taxes),
        total_excl=content.total_excl,
        total_vat=content.total_vat,
        total_incl=content.total_incl,
        discount=content.discount,
        payments=tuple(ReceiptPayment(p.method, p.amount, p.tendered, p.change)
                       for p in payments),
        chain_hash=short_hash(link_hash),
        corrects=corrects,
        reason=content.reason,
        training=content.training,
        supervisor=(first_name(await _name(session, content.supervisor_id))
                    if content.training and content.supervisor_id else None),
        **duplicate,  # type: ignore[arg-type]
    )


async def _name(session: AsyncSession, staff_id: int | None) -> str:
    staff = await session.get(Staff, staff_id) if staff_id is not None else None
    return staff.name if staff else ""


# Words: what each renderer prints, in the locale's language and formats.

TITLES = {
    Kind.SALE: N_("Receipt"),
    Kind.REFUND: N_("Refund"),
    Kind.VOID: N_("Void"),
}
METHODS = {Method.CASH: N_("Cash"), Method.CARD: N_("Card")}
TRAINING = N_("TRAINING — not a receipt")
DUPLICATE = N_("DUPLICATE %(n)s")


def rate_text(rate: int, locale: str) -> str:
    """5.5 % in the locale's way: "5,5 %" in French, "5.5%" in English."""
    return f"{format_decimal(Decimal(rate).scaleb(-2), '0.##', locale=locale)} %"


@dataclass(frozen=True)
class Words:
    """A receipt's texts in one locale, shared by the page and the printer."""

    locale: str
    receipt: Receipt

    def t(self, message: str, **params: object) -> str:
        text = gettext(self.locale, message)
        return text % params if params else text

    def money(self, cents: int) -> str:
        return money(cents, self.receipt.currency, self.locale)

    def when(self, at: datetime) -> str:
        return moment(at, self.locale, self.receipt.zone)

    def rate(self, rate: int) -> str:
        return rate_text(rate, self.locale)

    def title(self) -> str:
        return self.t(TITLES.get(Kind(self.receipt.kind), TITLES[Kind.SALE]))

    def method(self, method: str) -> str:
        return self.t(METHODS[Method(method)])

    def training(self) -> str:
        return self.t(TRAINING)

    def duplicate(self) -> str | None:
        if self.receipt.duplicate is None:
            return None
        return self.t(DUPLICATE, n=self.receipt.duplicate)
