"""Counter sales at a till, and table bills settled through the same payment.

The till sends what it sells (product ids, quantities, notes, discounts, eaten in or taken
away) and how it was paid; names, prices and VAT rates come from the database, never from
the till. A discount above the site's limit (`site.discount_limit_percent` of the line, or
of the whole ticket) needs a reason and a member of staff allowed to give it: the one
acting, or a supervisor who types their PIN on the till (pos/approval.py); each such
discount goes to the audit log with who acted, who approved and why.

Discounts become per-line amounts before VAT (vat.Line.discount): a ticket's discount is
shared among its lines in proportion to what each still costs (largest remainder), so
each VAT rate's base shrinks by its own share and the totals stay exact in cents.

A line's note is printed after its product's name on the ticket ("Café (sans sucre)").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any
from uuid import UUID

from sqlalchemy import select

from accounts.models import Site
from accounts.service import StaffIdentity
from domain import audit
from errors import N_, Conflict, InvalidInput, Messages
from loyalty import service as loyalty_service
from ordering import customer_link, staff_service
from ordering.config import OrderingConfig
from ordering.errors import SoldOut, UnknownProduct
from ordering.models import Category, DiningTable, Product
from ordering.round_state import RoundStatus
from ordering.table_payment import UNBILLED
from ordering.table_view import session_detail
from ordering.views import active_session
from pos import rewards, vat
from pos.errors import ApprovalNeeded, BadTicket
from pos.models import Ticket, Till
from pos.records import (
    Item,
    Method,
    Origin,
    PaymentInput,
    Recorded,
    Sale,
    record_sale,
    recorded,
)
from realtime.events import Tx

MAX_NOTE = 60
LABEL = 120  # a ticket line's label, at most


class DiscountKind(StrEnum):
    AMOUNT = "amount"  # cents off
    PERCENT = "percent"  # whole percent off


@dataclass(frozen=True)
class Discount:
    kind: DiscountKind
    value: int

    def of(self, amount: int) -> int:
        """The discount in cents on `amount` (cents), never more than it."""
        if self.kind is DiscountKind.PERCENT:
            if not 0 <= self.value <= 100:
                raise BadTicket(why=N_("a discount in percent is from 0 to 100"))
            return vat.round_half_away(Fraction(amount * self.value, 100))
        if not 0 <= self.value <= amount:
            raise BadTicket(why=N_("a discount is at most the line's amount"))
        return self.value


@dataclass(frozen=True)
class Wanted:
    """A line as the till sends it."""

    product_id: int
    quantity: int
    note: str = ""
    discount: Discount | None = None


@dataclass(frozen=True)
class CounterSale:
    uuid: UUID
    lines: Sequence[Wanted]
    payments: Sequence[PaymentInput]
    discount: Discount | None = None  # on the whole ticket
    takeaway: bool = False
    reason: str = ""  # why a discount above the limit
    table_id: int | None = None  # settle this table's bill: its lines, no others
    customer_id: int | None = None  # the customer identified at the till
    reward_key: str | None = None  # the key the customer's reward was taken under
    reward_discount: int = 0  # cents the reward takes off, after the ticket's discount


class ReasonRequired(InvalidInput):
    """A discount above the site's limit needs a reason (it goes to the audit log)."""

    code = "discount_reason_required"
    message = N_("Give a reason for a discount above %(limit)s %%.")
    field = "reason"


class TableNotPayable(Conflict):
    """The table's bill cannot be settled at the till now: the message says why."""

    code = "table_not_payable"
    message = N_("This table's bill cannot be settled here: %(why)s.")

    def __init__(self, why: str) -> None:
        super().__init__(None, why=Messages((why,)))


@dataclass(frozen=True)
class Over:
    """A discount above the limit: on a line (its position, from 1) or the ticket (None)."""

    position: int | None
    label: str
    amount: int  # cents off
    base: int  # what it was taken off


@dataclass(frozen=True)
class Priced:
    lines: list[vat.Line]
    over: list[Over] = field(default_factory=list)
    limit: int = 0  # the site's discount limit, in percent

    @property
    def total(self) -> int:
        return sum(line.total_incl for line in self.lines)


def take_off(lines: list[vat.Line], off: int) -> list[vat.Line]:
    """`off` cents shared among the lines in proportion to what each still costs (largest
    remainder): a discount on the whole ticket, or a reward's."""
    net = sum(line.total_incl for line in lines)
    if not 0 < off <= net:
        raise BadTicket(why=N_("a discount is at most the line's amount"))
    shares = vat.share(off, [Fraction(off * line.total_incl, net) for line in lines])
    return [vat.Line(line.label, line.quantity, line.unit_price, line.vat_rate,
                     line.discount + part) for line, part in zip(lines, shares, strict=True)]


def _label(name: str, note: str) -> str:
    note = " ".join(note.split())[:MAX_NOTE]
    label = f"{name} ({note})" if note else name
    return label if len(label) <= LABEL else label[:LABEL - 1] + "…"


def price(
    products: dict[int, Product], wanted: Sequence[Wanted], ticket_discount: Discount | None,
    *, takeaway: bool, limit_percent: int,
) -> Priced:
    """The lines as sold, their discounts in cents, and those above the limit. Pure."""
    gross: list[int] = []
    lines: list[vat.Line] = []
    over: list[Over] = []
    for position, want in enumerate(wanted, start=1):
        product = products[want.product_id]
        amount = want.quantity * product.price
        off = want.discount.of(amount) if want.discount else 0
        label = _label(product.name, want.note)
        if off * 100 > limit_percent * amount:
            over.append(Over(position, label, off, amount))
        rate = product.vat_rate_takeaway if takeaway and product.vat_rate_takeaway is not None \
            else product.vat_rate
        gross.append(amount)
        lines.append(vat.Line(label, want.quantity, product.price, rate, off))
    if ticket_discount is not None:
        net = sum(line.total_incl for line in lines)
        off = ticket_discount.of(net)
        if off:
            lines = take_off(lines, off)
            # The ticket's limit is on everything taken off it, lines' discounts included.
            everything = sum(line.discount for line in lines)
            if everything * 100 > limit_percent * sum(gross):
                over.append(Over(None, "", off, net))
    return Priced(lines, over, limit_percent)


async def _products(tx: Tx, site_id: int, wanted: Sequence[Wanted]) -> dict[int, Product]:
    """The products sold, each of the till's site, on the menu and not sold out."""
    ids = {w.product_id for w in wanted}
    rows = (await tx.session.execute(
        select(Product, Category.archived_at)
        .join(Category, Category.id == Product.category_id)
        .where(Product.id.in_(ids))
    )).all() if ids else []
    found = {product.id: (product, archived) for product, archived in rows}
    for want in wanted:
        row = found.get(want.product_id)
        if row is None or row[0].site_id != site_id or row[0].archived_at is not None \
                or row[1] is not None:
            raise UnknownProduct()
        if not row[0].available:
            raise SoldOut(product=row[0].name)
    return {pid: product for pid, (product, _) in found.items()}


async def limit_of(tx: Tx, site_id: int) -> int:
    site = await tx.session.get(Site, site_id)
    assert site is not None
    return site.discount_limit_percent


async def quote(tx: Tx, till: Till, sale: CounterSale) -> Priced:
    """The sale priced from the database (nothing written): the route asks for an approval
    when it has discounts above the limit."""
    if sale.table_id is not None:
        return Priced(await _table_lines(tx, till, sale.table_id))
    products = await _products(tx, till.site_id, sale.lines)
    return price(products, sale.lines, sale.discount, takeaway=sale.takeaway,
                 limit_percent=await limit_of(tx, till.site_id))


async def already(tx: Tx, till: Till, uuid: UUID) -> Recorded | None:
    """The record a first attempt with this id made, if any (a retry needs no approval)."""
    ticket = await tx.session.scalar(select(Ticket).where(Ticket.uuid == str(uuid)))
    if ticket is None:
        return None
    if ticket.till_id != till.id:
        raise BadTicket(why=N_("this id belongs to another till's ticket"))
    return await recorded(tx, ticket, first=False)


def needs_approval(priced: Priced, sale: CounterSale) -> bool:
    """Whether a discount is above the limit (then a reason is required)."""
    if not priced.over:
        return False
    if not sale.reason.strip():
        raise ReasonRequired(limit=priced.limit)
    return True


async def sell(
    tx: Tx, till: Till, staff: StaffIdentity, sale: CounterSale, *,
    approved_by: int | None, config: OrderingConfig | None = None,
    training_by: int | None = None,
) -> Recorded:
    """Record the sale (and settle the table it pays, in the same transaction). In
    training mode (`training_by`, who supervises it), the ticket is a training one: it
    counts nowhere, and pays no table."""
    found = await already(tx, till, sale.uuid)
    if found is not None:
        return found
    if training_by is not None and sale.table_id is not None:
        raise BadTicket(why=N_("a table's bill is not paid in training mode"))
    limit = await limit_of(tx, till.site_id)
    if sale.table_id is not None:
        if sale.lines or sale.discount:
            raise BadTicket(why=N_("a table's bill is paid as it stands, without other "
                                   "lines or discounts"))
        priced = Priced(await _table_lines(tx, till, sale.table_id))
        items = await items_of(tx, await table_products(tx, till, sale.table_id))
    else:
        products = await _products(tx, till.site_id, sale.lines)
        priced = price(products, sale.lines, sale.discount, takeaway=sale.takeaway,
                       limit_percent=limit)
        items = [Item(w.product_id, products[w.product_id].category_id) for w in sale.lines]
    if sale.reward_discount:
        if not await rewards.verified(tx, till, sale.customer_id, sale.table_id,
                                      sale.reward_key, sale.reward_discount):
            raise BadTicket(why=N_("no reward was taken for this customer under this key"))
        priced = Priced(take_off(priced.lines, sale.reward_discount), priced.over,
                        priced.limit)
    if needs_approval(priced, sale) and approved_by is None:
        raise ApprovalNeeded()
    customer_id = await customer_of_sale(tx, till, sale.customer_id, sale.table_id,
                                         training=training_by is not None)
    origin = Origin(uuid=sale.uuid, till_id=till.id, company_id=till.company_id,
                    staff_id=staff.id, training=training_by is not None,
                    customer_id=customer_id,
                    reward_key=sale.reward_key if sale.reward_discount else None,
                    supervisor_id=training_by if training_by is not None
                    else approved_by if priced.over and approved_by != staff.id else None)
    done = await record_sale(tx, Sale(origin, priced.lines, sale.payments, items))
    if not done.first:
        return done
    for over in priced.over:
        await audit.record(
            tx, staff.id, till.company_id, "till.discount", f"ticket:{done.ticket.id}",
            {"ticket": done.number, "till": till.prefix, "site_id": till.site_id,
             "line": over.position, "label": over.label, "discount": over.amount,
             "of": over.base, "limit_percent": limit, "approved_by": approved_by,
             "reason": " ".join(sale.reason.split())[:200]},
        )
    if sale.table_id is not None:
        assert config is not None
        await _settle(tx, config, staff, sale, done)
    return done


async def customer_of_sale(
    tx: Tx, till: Till, customer_id: int | None, table_id: int | None, *, training: bool
) -> int | None:
    """The customer a sale's ticket names. A table's bill names none: its customer is the
    table session's (linked from a phone, or here, when none was), and the table's
    settlement names them, so that the visit earns once (loyalty/hearing.py). A training
    sale names nobody. A customer not of the till's company is refused."""
    if customer_id is None or training:
        return None
    await loyalty_service.consumer_of(tx.session, till.company_id, customer_id)
    if table_id is None:
        return customer_id
    table = await _table(tx, till, table_id)
    ts = await active_session(tx.session, table.id)
    if ts is not None and ts.customer_id is None:
        await customer_link.link(tx, ts, customer_id)
    return None


async def items_of(tx: Tx, product_ids: Sequence[int]) -> list[Item]:
    """Each product with its category, in the order given (a product gone: no category)."""
    categories = dict((await tx.session.execute(
        select(Product.id, Product.category_id).where(Product.id.in_(set(product_ids)))
    )).all()) if product_ids else {}
    return [Item(pid, categories.get(pid)) for pid in product_ids]


async def _table_lines(tx: Tx, till: Till, table_id: int) -> list[vat.Line]:
    """The lines of the table's bill, priced as ordered, at their products' eat-in rate."""
    detail = await _table_detail(tx, till, table_id)
    rates = dict((await tx.session.execute(
        select(Product.id, Product.vat_rate).where(Product.id.in_({
            line["product_id"] for r in detail["rounds"] if r["status"] not in UNBILLED
            for line in r["lines"]}))
    )).all())
    lines = [
        vat.Line(_label(line["name"], line["note"] or ""), line["quantity"],
                 line["unit_price"], rates[line["product_id"]])
        for r in detail["rounds"] if r["status"] not in UNBILLED
        for line in r["lines"] if line["quantity"] > 0
    ]
    if not lines:
        raise TableNotPayable(N_("nothing is due at this table"))
    return lines


async def table_bill(tx: Tx, till: Till, table_id: int) -> tuple[DiningTable, list[vat.Line]]:
    """The table and the lines of its bill, for the payment screen."""
    return await _table(tx, till, table_id), await _table_lines(tx, till, table_id)


async def table_products(tx: Tx, till: Till, table_id: int) -> list[int]:
    """The product of each line of the table's bill, in `table_bill`'s order (the till sends
    them with the sale it records offline)."""
    detail = await _table_detail(tx, till, table_id)
    return [line["product_id"] for r in detail["rounds"] if r["status"] not in UNBILLED
            for line in r["lines"] if line["quantity"] > 0]


async def _table(tx: Tx, till: Till, table_id: int) -> DiningTable:
    table = await tx.session.get(DiningTable, table_id)
    if table is None or table.site_id != till.site_id or table.archived_at is not None:
        raise TableNotPayable(N_("this table is not of this till's site"))
    return table


async def _table_detail(tx: Tx, till: Till, table_id: int) -> dict[str, Any]:
    table = await _table(tx, till, table_id)
    ts = await active_session(tx.session, table.id)
    if ts is None or ts.status != "open":
        raise TableNotPayable(N_("nothing is due at this table"))
    detail = await session_detail(tx.session, ts)
    if any(r["status"] == RoundStatus.TO_VALIDATE for r in detail["rounds"]):
        raise TableNotPayable(N_("validate or refuse its waiting orders first"))
    if detail["payment"] is not None:
        raise TableNotPayable(N_("a diner is paying from their phone"))
    if detail["paid"]:
        raise TableNotPayable(N_("part of it was paid from phones: settle it on the tables "
                                 "screen"))
    return detail


async def _settle(tx: Tx, config: OrderingConfig, staff: StaffIdentity, sale: CounterSale,
                  done: Recorded) -> None:
    """The ordering room settles the table as the POS does, for the ticket's total: cash
    when all of it was cash (with what was tendered), else card (the ticket keeps the
    split)."""
    assert sale.table_id is not None
    methods = {p.method for p in sale.payments}
    if methods == {Method.CASH}:
        tendered = sum(p.tendered if p.tendered is not None else p.amount
                       for p in sale.payments)
        paid = await staff_service.settle(tx, config, staff, sale.table_id, "cash", tendered,
                                          str(sale.uuid), at_till=True)
    else:
        paid = await staff_service.settle(tx, config, staff, sale.table_id, "card", None,
                                          str(sale.uuid), at_till=True)
    if paid.amount != done.ticket.total_incl:
        raise TableNotPayable(N_("its bill changed while it was being paid; try again"))

