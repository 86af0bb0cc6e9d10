"""The till's offline sync: the sales a till made without the network reach the server
exactly once, at the price they were sold; the daily Z waits for every till.

- **Exactly once.** A sale is kept by its uuid (`pos_sync_sale`, beside its ticket) with
  the SHA-256 of its canonical content: the same uuid again with the same content is a
  retry ("duplicate": the first record, nothing more); with another content it is a
  "conflict": nothing recorded, and flagged for a manager. Unique constraints on the uuid
  and on (till, number) make two concurrent uploads of one sale one record; the till's
  lock (pos/records.py) serialises them.
- **Never dropped.** A sale is recorded with the till's label, unit price and VAT rate.
  A product deleted or archived meanwhile (`product_gone`), a price or VAT rate other than
  the catalog's (`price_changed`), a discount above the site's limit without a checked
  approval (`unverified_discount`), a reward's discount the customer named did not take
  (`unverified_reward`), a table whose bill changed (`table_changed`): recorded and flagged
  (`pos_sync_issue`). A sale the records refuse (`refused`) is flagged too,
  except in a closed period (`period_closed`): the till keeps it and sends it again later,
  when it counts in the period it arrives in.
- **Acknowledged.** Each answer carries the till's `acked_sequence` (the highest n such
  that its records 1..n are all here) and its highest number; the till's last contact and
  last full sync are noted.
- **The Z.** `sync_state` is pos/closings.py's hook: a day's Z waits for every paired till
  of the site that syncs, until it has synced since the Z was asked (`ask_to_close`, which
  also pushes "sync now" to each till's live topic), unless a supervisor declared it out of
  service for the day (`declare_out_of_service`, journalled).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.roles import Permission
from accounts.service import StaffIdentity, identity
from domain import audit
from errors import N_, Conflict, DomainError
from ordering.config import OrderingConfig
from ordering.models import Category, Product
from pos import clock, vat
from pos.errors import BadTicket, PeriodClosed, SequenceTaken
from pos.legal import number
from pos.models import SyncedSale, SyncIssue, Ticket, Till
from pos.records import Item, Origin, PaymentInput, Sale, record_sale
from pos.rewards import verified
from pos.sell import _label, _settle, customer_of_sale, limit_of, take_off
from pos.till_topic import topic_of
from realtime.events import Tx

MAX_SALES = 200  # a batch


class Status:
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REFUSED = "refused"


class Flag:
    PRICE_CHANGED = "price_changed"
    PRODUCT_GONE = "product_gone"
    UNVERIFIED_DISCOUNT = "unverified_discount"
    UNVERIFIED_REWARD = "unverified_reward"
    TABLE_CHANGED = "table_changed"
    CONFLICT = "conflict"
    REFUSED = "refused"


@dataclass(frozen=True)
class SoldLine:
    product_id: int
    label: str
    quantity: int
    unit_price: int  # cents, VAT included, as sold
    vat_rate: int  # basis points, as sold
    discount: int = 0  # cents off the line
    note: str = ""


@dataclass(frozen=True)
class OfflineSale:
    """A sale as the till made it, offline or not: its own prices, number and clock."""

    uuid: UUID
    sequence: int
    staff_id: int
    lines: Sequence[SoldLine]
    payments: Sequence[PaymentInput]
    device_at: datetime | None = None
    discount: int = 0  # cents off the whole ticket
    reason: str = ""
    takeaway: bool = False
    training: bool = False
    supervisor_id: int | None = None  # training's supervisor
    table_id: int | None = None
    approval_staff_id: int | None = None  # who approved a discount above the limit
    customer_id: int | None = None  # the customer identified at the till
    reward_key: str | None = None  # the key their reward was taken under
    reward_discount: int = 0  # cents the reward takes off, after the ticket's discount


class SyncConflict(Conflict):
    """The sale's id was received before with another content: nothing recorded."""

    code = "sync_conflict"
    message = N_("This sale's id was already received with another content: it was not "
                 "recorded, and a manager was told.")


@dataclass
class Result:
    uuid: str
    status: str
    number: str | None = None
    ticket_id: int | None = None
    flags: list[str] = field(default_factory=list)
    refusal: DomainError | None = None  # a conflict's or a refusal's reason

    @property
    def error(self) -> dict[str, str] | None:
        """The reason, untranslated (the route translates it)."""
        if self.refusal is None:
            return None
        return {"code": self.refusal.code, "message": str(self.refusal)}


@dataclass
class Synced:
    results: list[Result]
    acked_sequence: int
    highest_sequence: int
    server_time: datetime
    catalog_version: int
    catalog_changed: bool
    topic: str


# Pure rules


def content_hash(sale: OfflineSale) -> str:
    """SHA-256 of the sale's canonical JSON: what the till sold, not how it was sent."""
    body = {
        "uuid": str(sale.uuid), "sequence": sale.sequence, "staff_id": sale.staff_id,
        "device_at": sale.device_at.isoformat() if sale.device_at else None,
        "lines": [asdict(line) for line in sale.lines],
        "payments": [{"method": str(p.method), "amount": p.amount, "tendered": p.tendered}
                     for p in sale.payments],
        "discount": sale.discount, "reason": " ".join(sale.reason.split()),
        "takeaway": sale.takeaway, "training": sale.training,
        "supervisor_id": sale.supervisor_id, "table_id": sale.table_id,
        "approval_staff_id": sale.approval_staff_id,
    }
    if sale.customer_id is not None:  # absent otherwise: earlier sales' hashes stay as they were
        body["customer_id"] = sale.customer_id
    if sale.reward_discount:
        body["reward"] = {"key": sale.reward_key, "discount": sale.reward_discount}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AsSold:
    lines: list[vat.Line]
    over_limit: bool  # a discount above the site's limit


def as_sold(sale: OfflineSale, limit_percent: int) -> AsSold:
    """The ticket's lines at the till's prices, the ticket's discount shared among them in
    proportion to what each still costs (as pos/sell.py does), and whether a discount is
    above the limit."""
    lines = [vat.Line(_label(line.label, line.note), line.quantity, line.unit_price,
                      line.vat_rate, line.discount) for line in sale.lines]
    over = any(line.discount * 100 > limit_percent * line.quantity * line.unit_price
               for line in sale.lines)
    if sale.discount:
        net = sum(line.total_incl for line in lines)
        if not 0 < sale.discount <= net:
            raise BadTicket(why=N_("a discount is at most the line's amount"))
        shares = vat.share(sale.discount,
                           [Fraction(sale.discount * line.total_incl, net) for line in lines])
        lines = [vat.Line(line.label, line.quantity, line.unit_price, line.vat_rate,
                          line.discount + part) for line, part in zip(lines, shares,
                                                                      strict=True)]
        gross = sum(line.quantity * line.unit_price for line in lines)
        over = over or sum(line.discount for line in lines) * 100 > limit_percent * gross
    if sale.reward_discount:  # a reward's: not a discount the limit holds (loyalty's own)
        lines = take_off(lines, sale.reward_discount)
    return AsSold(lines, over)


@dataclass(frozen=True)
class InCatalog:
    """A product as the catalog has it now (None: gone from the till's site)."""

    price: int
    vat_rate: int
    vat_rate_takeaway: int | None
    category_id: int | None = None


def catalog_flags(sale: OfflineSale, products: dict[int, InCatalog | None]
                  ) -> list[tuple[str, dict[str, Any]]]:
    """What changed in the catalog since the sale was made: per line."""
    flags: list[tuple[str, dict[str, Any]]] = []
    for position, line in enumerate(sale.lines, start=1):
        now = products.get(line.product_id)
        if now is None:
            flags.append((Flag.PRODUCT_GONE, {"line": position, "product_id": line.product_id,
                                              "label": line.label}))
            continue
        rate = now.vat_rate_takeaway if sale.takeaway and now.vat_rate_takeaway is not None \
            else now.vat_rate
        if now.price != line.unit_price or rate != line.vat_rate:
            flags.append((Flag.PRICE_CHANGED, {
                "line": position, "product_id": line.product_id, "label": line.label,
                "sold_price": line.unit_price, "catalog_price": now.price,
                "sold_vat_rate": line.vat_rate, "catalog_vat_rate": rate}))
    return flags


def acked(start: int, numbers: Sequence[int]) -> int:
    """The highest n such that 1..n are all held, from `start` (known held) and the
    numbers above it, in order."""
    for held in numbers:
        if held != start + 1:
            break
        start = held
    return start


# The catalog


async def catalog(session: AsyncSession, site_id: int) -> dict[str, Any]:
    """The site's catalog as a till keeps it offline, and its version: a number that
    changes whenever anything in it changes (from its content)."""
    categories = (await session.scalars(
        select(Category).where(Category.site_id == site_id, Category.archived_at.is_(None))
        .order_by(Category.position, Category.id))).all()
    live = {c.id for c in categories}
    products = (await session.scalars(
        select(Product).where(Product.site_id == site_id, Product.archived_at.is_(None))
        .order_by(Product.position, Product.id))).all()
    body = {
        "categories": [{"id": c.id, "name": c.name, "position": c.position}
                       for c in categories],
        "products": [{"id": p.id, "category_id": p.category_id, "name": p.name,
                      "price": p.price, "vat_rate": p.vat_rate,
                      "vat_rate_takeaway": p.vat_rate_takeaway
                      if p.vat_rate_takeaway is not None else p.vat_rate,
                      "sold_out": not p.available, "position": p.position}
                     for p in products if p.category_id in live],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    version = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:13], 16)
    return {"version": version, **body}


async def _in_catalog(session: AsyncSession, site_id: int, ids: set[int]
                      ) -> dict[int, InCatalog | None]:
    rows = (await session.execute(
        select(Product, Category.archived_at).join(Category, Category.id == Product.category_id)
        .where(Product.id.in_(ids)))).all() if ids else []
    found: dict[int, InCatalog | None] = dict.fromkeys(ids)
    for product, category_archived in rows:
        if product.site_id == site_id and product.archived_at is None \
                and category_archived is None:
            found[product.id] = InCatalog(product.price, product.vat_rate,
                                          product.vat_rate_takeaway, product.category_id)
    return found


# The sync


async def sync(
    tx: Tx, till: Till, sales: Sequence[OfflineSale], *, catalog_version: int | None = None,
    waiting: int = 0, approved: dict[UUID, int] | None = None,
    config: OrderingConfig | None = None,
) -> Synced:
    """Record what the till sent, in the order of its numbers; `approved`: the sales whose
    discount approval was checked (a supervisor's PIN), and by whom. `waiting`: how many
    sales the till still holds after these (0: it sent all it held)."""
    if len(sales) > MAX_SALES:
        raise BadTicket(why=N_("at most 200 sales at a time"))
    approved = approved or {}
    started = clock.now()  # what the till held when it sent this is all in by the commit
    ids = {line.product_id for sale in sales for line in sale.lines}
    products = await _in_catalog(tx.session, till.site_id, ids)
    limit = await limit_of(tx, till.site_id)
    uuids = [str(sale.uuid) for sale in sales]
    # Most sales are new: one query says which were received before (each is checked
    # again under the till's lock when recorded).
    seen = set((await tx.session.scalars(select(SyncedSale.uuid).where(
        SyncedSale.uuid.in_(uuids)))).all()) | set((await tx.session.scalars(
            select(Ticket.uuid).where(Ticket.uuid.in_(uuids)))).all()) if uuids else set()
    staff: dict[int, StaffIdentity | None] = {}
    results = []
    for sale in sorted(sales, key=lambda s: s.sequence):
        if sale.staff_id not in staff:
            staff[sale.staff_id] = await identity(tx.session, sale.staff_id)
        results.append(await _one(tx, till, sale, products, limit, approved.get(sale.uuid),
                                  config, staff[sale.staff_id], str(sale.uuid) in seen))
    now = clock.now()
    fresh = await tx.session.get(Till, till.id, populate_existing=True)
    assert fresh is not None
    start = fresh.acked_sequence
    above = (await tx.session.scalars(
        select(Ticket.sequence).where(Ticket.till_id == till.id, Ticket.sequence > start)
        .order_by(Ticket.sequence))).all()
    held = acked(start, above)
    highest = await tx.session.scalar(
        select(func.max(Ticket.sequence)).where(Ticket.till_id == till.id)) or 0
    values: dict[str, Any] = {"last_seen_at": now, "acked_sequence": held}
    if waiting == 0:
        values["synced_at"] = started
    await tx.session.execute(update(Till).where(Till.id == till.id).values(**values)
                             .execution_options(synchronize_session=False))
    current = await catalog(tx.session, till.site_id)
    return Synced(results, held, highest, now, current["version"],
                  catalog_version != current["version"], topic_of(till))


async def _one(
    tx: Tx, till: Till, sale: OfflineSale, products: dict[int, InCatalog | None], limit: int,
    approved_by: int | None, config: OrderingConfig | None, staff: StaffIdentity | None,
    seen: bool,
) -> Result:
    digest = content_hash(sale)
    if seen:
        known = await _known(tx, till, sale, digest)
        if known is not None:
            return known
    try:
        result = await _record(tx, till, sale, digest, products, limit, approved_by, staff)
    except SequenceTaken as taken:
        await _issue(tx, till, sale, Flag.CONFLICT, {"error": taken.code,
                                                     "content_hash": digest})
        return Result(str(sale.uuid), Status.CONFLICT, flags=[Flag.CONFLICT], refusal=taken)
    except PeriodClosed as closed:
        return Result(str(sale.uuid), Status.REFUSED, refusal=closed)
    except DomainError as refused:
        await _issue(tx, till, sale, Flag.REFUSED, {"error": refused.code,
                                                    "message": str(refused)})
        return Result(str(sale.uuid), Status.REFUSED, flags=[Flag.REFUSED], refusal=refused)
    if result.status == Status.RECORDED and sale.table_id is not None and not sale.training:
        await _settle_table(tx, till, sale, result, config)
    return result


async def _known(tx: Tx, till: Till, sale: OfflineSale, digest: str) -> Result | None:
    """A retry (the first record) or a conflict (another content under this uuid, or a
    ticket of this uuid made otherwise and not the same), or None: new."""
    stored = await tx.session.scalar(select(SyncedSale).where(
        SyncedSale.uuid == str(sale.uuid)))
    if stored is not None:
        if stored.till_id == till.id and stored.content_hash == digest:
            ticket = await tx.session.get(Ticket, stored.ticket_id)
            assert ticket is not None
            return Result(str(sale.uuid), Status.DUPLICATE, number(till.prefix, ticket.sequence),
                          ticket.id)
        return await _conflict(tx, till, sale, digest, stored.content_hash)
    ticket = await tx.session.scalar(select(Ticket).where(Ticket.uuid == str(sale.uuid)))
    if ticket is not None:  # recorded by the online sale API: the same if its number is
        if ticket.till_id == till.id and ticket.sequence == sale.sequence:
            return Result(str(sale.uuid), Status.DUPLICATE, number(till.prefix, ticket.sequence),
                          ticket.id)
        return await _conflict(tx, till, sale, digest, None)
    return None


async def _conflict(tx: Tx, till: Till, sale: OfflineSale, digest: str,
                    first: str | None) -> Result:
    await _issue(tx, till, sale, Flag.CONFLICT, {"content_hash": digest, "first_hash": first})
    return Result(str(sale.uuid), Status.CONFLICT, flags=[Flag.CONFLICT],
                  refusal=SyncConflict())


async def _record(
    tx: Tx, till: Till, sale: OfflineSale, digest: str,
    products: dict[int, InCatalog | None], limit: int, approved_by: int | None,
    staff: StaffIdentity | None,
) -> Result:
    if staff is None or staff.company_id != till.company_id or not staff.may_use(till.site_id):
        raise BadTicket(why=N_("a member of staff named on the ticket is not of this "
                               "company"))
    sold = as_sold(sale, limit)
    flags = catalog_flags(sale, products)
    approver = None
    if sold.over_limit and not staff.may(Permission.DISCOUNT):
        approver = approved_by
        if approved_by is None:
            flags.append((Flag.UNVERIFIED_DISCOUNT, {
                "discount": sum(line.discount for line in sold.lines),
                "limit_percent": limit, "approval_staff_id": sale.approval_staff_id,
                "reason": " ".join(sale.reason.split())[:200]}))
    supervisor = (sale.supervisor_id or sale.staff_id) if sale.training else approver
    try:
        async with tx.session.begin_nested():
            customer_id = await customer_of_sale(tx, till, sale.customer_id, sale.table_id,
                                                 training=sale.training)
    except DomainError:  # a customer unknown here (or a table's): the sale is kept without
        customer_id = None
    if sale.reward_discount and not await verified(tx, till, customer_id, sale.table_id,
                                                   sale.reward_key, sale.reward_discount):
        flags.append((Flag.UNVERIFIED_REWARD, {
            "discount": sale.reward_discount, "customer_id": sale.customer_id,
            "reward_key": sale.reward_key}))
    origin = Origin(uuid=sale.uuid, till_id=till.id, company_id=till.company_id,
                    staff_id=sale.staff_id, sequence=sale.sequence, training=sale.training,
                    supervisor_id=supervisor, device_at=sale.device_at,
                    customer_id=customer_id,
                    reward_key=sale.reward_key if sale.reward_discount else None)
    items = [Item(line.product_id, in_catalog.category_id if (in_catalog := products.get(
        line.product_id)) else None) for line in sale.lines]
    done = await record_sale(tx, Sale(origin, sold.lines, sale.payments, items))
    if not done.first:  # a concurrent upload recorded it while this one waited for the lock
        known = await _known(tx, till, sale, digest)
        assert known is not None
        return known
    tx.session.add(SyncedSale(company_id=till.company_id, till_id=till.id,
                              uuid=str(sale.uuid), sequence=sale.sequence,
                              content_hash=digest, ticket_id=done.ticket.id,
                              received_at=clock.now()))
    for kind, detail in flags:
        await _issue(tx, till, sale, kind, {**detail, "number": done.number},
                     ticket_id=done.ticket.id)
    if sold.over_limit and approver is not None:
        await audit.record(
            tx, sale.staff_id, till.company_id, "till.discount", f"ticket:{done.ticket.id}",
            {"ticket": done.number, "till": till.prefix, "site_id": till.site_id,
             "discount": sum(line.discount for line in sold.lines), "limit_percent": limit,
             "approved_by": approver, "reason": " ".join(sale.reason.split())[:200],
             "offline": True})
    return Result(str(sale.uuid), Status.RECORDED, done.number, done.ticket.id,
                  [kind for kind, _ in flags])


async def _settle_table(tx: Tx, till: Till, sale: OfflineSale, result: Result,
                        config: OrderingConfig | None) -> None:
    """Settle the table the sale paid, as an online sale would; a table whose bill changed
    meanwhile (or that cannot be settled) stays open, and the sale is flagged."""
    from pos.sell import CounterSale

    why = ""
    if config is None:
        why = "no ordering configuration"
    else:
        staff = await identity(tx.session, sale.staff_id)
        ticket = await tx.session.get(Ticket, result.ticket_id)
        assert staff is not None and ticket is not None
        counter = CounterSale(uuid=sale.uuid, lines=[], payments=sale.payments,
                              table_id=sale.table_id)
        from pos.records import recorded
        try:
            async with tx.session.begin_nested():
                await _settle(tx, config, staff, counter, await recorded(tx, ticket))
        except DomainError as refused:
            why = refused.code
    if why:
        result.flags.append(Flag.TABLE_CHANGED)
        await _issue(tx, till, sale, Flag.TABLE_CHANGED,
                     {"table_id": sale.table_id, "why": why, "number": result.number},
                     ticket_id=result.ticket_id)


async def _issue(tx: Tx, till: Till, sale: OfflineSale, kind: str, detail: dict[str, Any], *,
                 ticket_id: int | None = None) -> None:
    tx.session.add(SyncIssue(
        company_id=till.company_id, site_id=till.site_id, till_id=till.id,
        uuid=str(sale.uuid), sequence=sale.sequence, kind=kind,
        detail=json.dumps(detail, sort_keys=True, default=str), ticket_id=ticket_id,
        created_at=clock.now()))
