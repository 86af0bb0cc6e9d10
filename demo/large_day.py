"""One site's day of the large demo company: its counter tickets, its tables' bills and its
brews, each written as its room writes it, with the domain event it records (delivered).

The till's tickets are real records: numbered per till, chained (pos/chain.py, with the
fields pos/legal.py hashes), refunds and voids pointing at their sale. Nothing is signed:
no day is closed (no Z), so no closing and no journal entry are made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from demo.bulk import Bulk
from demo.large_shapes import (
    BREW_HOURS,
    COUNTER_CATEGORIES,
    COUNTER_HOURS,
    TABLE_CATEGORIES,
    TABLE_HOURS,
    TOPUPS,
    hours_of,
)
from domain.events import (
    BrewFinished,
    DomainEvent,
    PaidPart,
    PaymentRefunded,
    PaymentSettled,
    RoundSubmitted,
    SoldLine,
    TableFreed,
    TableSettled,
    TicketRecorded,
)
from pos import chain, vat
from pos.legal import link_fields, number, ticket_fields
from pos.models import ChainLink, Ticket, TicketLine, TicketPayment, TicketTax

# A product as sold: id, category id, name, price, VAT rate, station, weight.
Item = tuple[int, int, str, int, int, str, int]
COUNTER_LINES = ([1, 2, 3, 4], [45, 30, 15, 10])
PARTY = ([1, 2, 3, 4, 5, 6], [10, 35, 20, 20, 10, 5])
ROUNDS = ([1, 2, 3], [55, 33, 12])
REFUNDED, VOIDED, FAILED = 0.006, 0.003, 0.015  # shares of sales and brews
ANONYMOUS = 0.15  # brews by nobody signed in: each paid by card


@dataclass
class Place:
    """A site as the day draws from it."""

    site_id: int
    weight: float  # how busy it is against the others
    staff: tuple[int, ...]  # manager, cashier, waiter
    tills: tuple[int, ...]
    tables: tuple[int, ...]
    menu: dict[str, list[Item]]
    machines: tuple[int, ...]
    consumers: list[tuple[int, int, str]] = field(default_factory=list)  # id, group, charge
    consumer_weights: list[float] = field(default_factory=list)  # cumulative
    prefixes: dict[int, str] = field(default_factory=dict)

    def basket(self, shares: dict[str, int]) -> tuple[list[Item], list[float]]:
        """Every product with its cumulative weight, for a kind of sale."""
        items: list[Item] = []
        weights: list[float] = []
        total = 0.0
        for category, share in shares.items():
            products = self.menu[category]
            inside = sum(p[6] for p in products)
            for product in products:
                total += share * product[6] / inside
                items.append(product)
                weights.append(total)
        return items, weights


@dataclass(frozen=True)
class Venue:
    company_id: int
    currency: str
    selection_id: int
    drinks: tuple[tuple[int, str, str, int, int], ...]  # id, name, type, price, weight
    places: tuple[Place, ...]
    consumers: list[tuple[int, int, str, int, float]]


@dataclass
class Sold:
    """A till's record waiting to be numbered and chained in its till's order."""

    at: datetime
    till_id: int
    kind: str
    items: list[tuple[Item, int]]  # product, quantity (positive; a correction negates it)
    payments: list[tuple[str, int, int]]  # method, amount, tendered (positive)
    corrects: Sold | None = None
    ticket_id: int = 0
    uuid: str = ""


class Day:
    """Writes the facts of one site's day after another, keeping what runs across days:
    ids, each till's chain, each consumer's credit."""

    def __init__(self, bulk: Bulk, rng: random.Random, venue: Venue, zone: ZoneInfo,
                 now: datetime) -> None:
        self.bulk, self.rng, self.venue, self.zone, self.now = bulk, rng, venue, zone, now
        self.ids: dict[str, int] = {}
        self.heads: dict[int, tuple[int, str]] = {}  # till: its last position and hash
        self.balance: dict[int, int] = {}
        self.events: dict[str, int] = {}
        self.lines = self.brewed = self.recorded = 0
        self._baskets: dict[tuple[int, str], tuple[list[Item], list[float]]] = {}
        self._drinks = list(venue.drinks)
        self._drink_weights = [d[4] for d in venue.drinks]

    async def take(self, table: str) -> int:
        if table not in self.ids:
            self.ids[table] = await self.bulk.next_id(table)
        self.ids[table] += 1
        return self.ids[table] - 1

    def _count(self, expected: float) -> int:
        return int(expected * self.rng.uniform(0.85, 1.15) + self.rng.random())

    def _moment(self, day: date, hours: list[int], weights: list[int]) -> datetime:
        hour = self.rng.choices(hours, weights=weights)[0]
        local = datetime(day.year, day.month, day.day, hour, self.rng.randrange(60),
                         self.rng.randrange(60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def _uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def _pick(self, place: Place, kind: str, shares: dict[str, int], k: int) -> list[Any]:
        key = (place.site_id, kind)
        if key not in self._baskets:
            self._baskets[key] = place.basket(shares)
        items, weights = self._baskets[key]
        return self.rng.choices(items, cum_weights=weights, k=k)

    async def _event(self, event: DomainEvent) -> None:
        await self.bulk.add("outbox_event", {
            "id": str(event.id), "name": event.name, "payload": event.model_dump_json(),
            "recorded_at": event.at, "attempts": 0, "retry_at": None,
            "delivered_at": event.at})
        self.events[event.name] = self.events.get(event.name, 0) + 1
        self.recorded += 1

    def _paid(self, total: int, cash_share: float,
              split: bool = True) -> list[tuple[str, int, int]]:
        """Card or cash (tendered exactly or rounded up to 5 euros), or a till's ticket
        split between the two."""
        draw = self.rng.random()
        if split and draw < 0.03 and total > 1:
            cash = total // 2
            return [("cash", cash, cash), ("card", total - cash, total - cash)]
        if draw < 0.03 + cash_share:
            tendered = total if self.rng.random() < 0.4 else -(-total // 500) * 500
            return [("cash", total, tendered)]
        return [("card", total, total)]

    # The counter

    async def counter(self, place: Place, day: date, expected: float) -> None:
        hours, weights = hours_of(COUNTER_HOURS, day.isoweekday())
        records: list[Sold] = []
        for _ in range(self._count(expected)):
            at = self._moment(day, hours, weights)
            if at > self.now:
                continue
            wanted: dict[Item, int] = {}
            k = self.rng.choices(*COUNTER_LINES)[0]
            for item in self._pick(place, "counter", COUNTER_CATEGORIES, k):
                wanted[item] = wanted.get(item, 0) + (2 if self.rng.random() < 0.15 else 1)
            items = list(wanted.items())
            total = sum(item[3] * quantity for item, quantity in items)
            sale = Sold(at, self.rng.choice(place.tills), "sale", items,
                        self._paid(total, 0.35))
            records.append(sale)
            draw = self.rng.random()
            if draw < VOIDED + REFUNDED:
                kind, late = ("void", 3) if draw < VOIDED else ("refund", 90)
                when = at + timedelta(minutes=self.rng.randint(1, late))
                if when <= self.now:
                    records.append(Sold(when, sale.till_id, kind, items,
                                        [(m, a, a) for m, a, _ in sale.payments], sale))
        records.sort(key=lambda r: (r.at, r.kind != "sale"))
        for record in records:
            await self._record(place, record)

    async def _record(self, place: Place, sold: Sold) -> None:
        sign = -1 if sold.kind in ("refund", "void") else 1
        priced = vat.compute([vat.Line(item[2], sign * quantity, item[3], item[4])
                              for item, quantity in sold.items])
        sold.ticket_id, sold.uuid = await self.take("pos_ticket"), str(self._uuid())
        position, previous = self.heads.get(sold.till_id, (0, chain.GENESIS))
        at = sold.at
        ticket = Ticket(
            id=sold.ticket_id, uuid=sold.uuid, company_id=self.venue.company_id,
            site_id=place.site_id, till_id=sold.till_id, sequence=position + 1,
            kind=sold.kind, training=False, supervisor_id=None, staff_id=place.staff[1],
            created_at=at, device_at=None,
            corrects_id=sold.corrects.ticket_id if sold.corrects else None,
            duplicate_number=None, reason="erreur de saisie" if sign < 0 else "",
            currency=self.venue.currency, total_incl=priced.total_incl,
            total_excl=priced.total_excl, total_vat=priced.total_vat, discount=0)
        lines = [TicketLine(id=await self.take("pos_ticket_line"), ticket_id=ticket.id,
                            position=n, label=p.line.label, quantity=p.line.quantity,
                            unit_price=p.line.unit_price, discount=0,
                            vat_rate=p.line.vat_rate, total_incl=p.total_incl,
                            total_excl=p.total_excl,
                            corrects_position=n if sign < 0 else None,
                            product_id=item[0], category_id=item[1])
                 for n, (p, (item, _)) in enumerate(zip(priced.lines, sold.items, strict=True),
                                                    start=1)]
        taxes = [TicketTax(ticket_id=ticket.id, vat_rate=r.rate, total_excl=r.total_excl,
                           total_vat=r.total_vat, total_incl=r.total_incl)
                 for r in priced.rates]
        payments = [TicketPayment(id=await self.take("pos_ticket_payment"),
                                  ticket_id=ticket.id, position=n, method=method,
                                  amount=sign * amount, tendered=sign * tendered,
                                  change=sign * (tendered - amount))
                    for n, (method, amount, tendered) in enumerate(sold.payments, start=1)]
        fields = ticket_fields(ticket, lines, taxes, payments,
                               sold.corrects.uuid if sold.corrects else None)
        link = ChainLink(id=await self.take("pos_chain_link"),
                         company_id=self.venue.company_id, till_id=sold.till_id,
                         position=position + 1, ticket_id=ticket.id, closing_id=None,
                         recorded_at=at, previous_hash=previous)
        link.hash = chain.link(previous, link_fields(link, fields))
        self.heads[sold.till_id] = (position + 1, link.hash)
        await self.bulk.add("pos_ticket", _row(ticket))
        for row in (*lines, *taxes, *payments, link):
            await self.bulk.add(row.__tablename__, _row(row))
        self.lines += len(lines)
        await self._event(TicketRecorded(
            id=self._uuid(), at=at, company_id=self.venue.company_id, site_id=place.site_id,
            till_id=sold.till_id, ticket_id=ticket.id, ticket_uuid=UUID(sold.uuid),
            number=number(place.prefixes[sold.till_id], ticket.sequence),
            kind=sold.kind, training=False, total=ticket.total_incl,
            currency=ticket.currency, staff_id=ticket.staff_id,
            corrects_ticket_id=ticket.corrects_id,
            lines=[SoldLine(product_id=line.product_id, category_id=line.category_id,
                            name=line.label, quantity=line.quantity, amount=line.total_incl)
                   for line in lines],
            payments=[PaidPart(method=p.method, amount=p.amount) for p in payments],
            sold_at=at))

    # The tables

    async def tables(self, place: Place, day: date, expected: float) -> None:
        hours, weights = hours_of(TABLE_HOURS, day.isoweekday())
        for _ in range(self._count(expected)):
            opened = self._moment(day, hours, weights)
            party = self.rng.choices(*PARTY)[0]
            rounds: list[tuple[datetime, list[tuple[Item, int]]]] = []
            at = opened
            for _ in range(self.rng.choices(*ROUNDS)[0]):
                at += timedelta(minutes=self.rng.randint(3, 8) if not rounds
                                else self.rng.randint(15, 40), seconds=self.rng.randrange(60))
                wanted: dict[Item, int] = {}
                for item in self._pick(place, "tables", TABLE_CATEGORIES,
                                       party + self.rng.randint(0, party)):
                    wanted[item] = wanted.get(item, 0) + 1
                rounds.append((at, list(wanted.items())))
            settled = at + timedelta(minutes=self.rng.randint(15, 45))
            closed = settled + timedelta(minutes=self.rng.randint(2, 15))
            if closed <= self.now:
                await self._table(place, opened, rounds, settled, closed)

    async def _table(self, place: Place, opened: datetime,
                     rounds: list[tuple[datetime, list[tuple[Item, int]]]],
                     settled: datetime, closed: datetime) -> None:
        company, waiter = self.venue.company_id, place.staff[2]
        session_id, table_id = await self.take("table_session"), self.rng.choice(place.tables)
        await self.bulk.add("table_session", {
            "id": session_id, "table_id": table_id, "status": "closed",
            "pin": f"{self.rng.randrange(10**4):04d}", "round_count": len(rounds),
            "opened_at": opened, "last_activity_at": closed, "settled_at": settled,
            "closed_at": closed, "close_reason": "freed"})
        billed: dict[int, tuple[Item, int]] = {}  # the bill's lines, by product
        for number_, (at, items) in enumerate(rounds, start=1):
            round_id = await self.take("round")
            await self.bulk.add("round", {
                "id": round_id, "session_id": session_id, "number": number_,
                "status": "served", "revision": 1, "staff_id": waiter,
                "idempotency_key": f"large-{round_id}", "submitted_at": at,
                "updated_at": at + timedelta(minutes=12)})
            for item, quantity in items:
                line_id = await self.take("order_line")
                await self.bulk.add("order_line", {
                    "id": line_id, "session_id": session_id, "client_id": f"l{line_id}",
                    "round_id": round_id, "product_id": item[0], "quantity": quantity,
                    "unit_price": item[3], "note": "", "added_at": at})
                billed[item[0]] = (item, billed.get(item[0], (item, 0))[1] + quantity)
            self.lines += len(items)
            await self._event(RoundSubmitted(
                id=self._uuid(), at=at, company_id=company, site_id=place.site_id,
                table_id=table_id, session_id=session_id, round_id=round_id,
                number=number_, total=sum(i[3] * q for i, q in items),
                currency=self.venue.currency, member_id=None, staff_id=waiter,
                paid_online=False))
        sold = [SoldLine(product_id=item[0], category_id=item[1], name=item[2],
                         quantity=quantity, amount=quantity * item[3])
                for _, (item, quantity) in sorted(billed.items())]
        total = sum(line.amount for line in sold)
        parts = self._paid(total, 0.25, split=False)  # settled at once on the tables' screen
        for method, amount, tendered in parts:
            payment_id = await self.take("payment")
            await self.bulk.add("payment", {
                "id": payment_id, "session_id": session_id, "method": method,
                "amount": amount, "tendered": tendered, "change_given": tendered - amount,
                "idempotency_key": f"large-{payment_id}", "staff_id": waiter,
                "at": settled})
        last = parts[-1][0]
        await self._event(TableSettled(
            id=self._uuid(), at=settled, company_id=company, site_id=place.site_id,
            table_id=table_id, session_id=session_id, amount=total,
            currency=self.venue.currency, method="cash" if last == "cash" else "card",
            staff_id=waiter, lines=sold,
            payments=[PaidPart(method=m, amount=a) for m, a, _ in parts], opened_at=opened))
        await self._event(TableFreed(
            id=self._uuid(), at=closed, company_id=company, site_id=place.site_id,
            table_id=table_id, session_id=session_id, reason="freed", settled=True,
            staff_id=waiter, opened_at=opened))

    # The machines

    async def brews(self, place: Place, day: date, expected: float) -> None:
        hours, weights = hours_of(BREW_HOURS, day.isoweekday())
        moments = sorted(self._moment(day, hours, weights) for _ in range(self._count(expected)))
        for at in moments:
            if at + timedelta(minutes=1) > self.now:
                continue
            consumer: tuple[int, int, str] | None = None
            if place.consumers and self.rng.random() >= ANONYMOUS:
                consumer = self.rng.choices(place.consumers,
                                            cum_weights=place.consumer_weights)[0]
            await self._brew(place, at, consumer)

    async def _brew(self, place: Place, at: datetime,
                    consumer: tuple[int, int, str] | None) -> None:
        drink_id, name, kind, price, _ = self.rng.choices(
            self._drinks, weights=self._drink_weights)[0]
        if consumer is not None and consumer[2] == "none":
            price = 0
        charge = "none" if price == 0 else "credit" if consumer else "payment"
        failed = self.rng.random() < FAILED
        brew_id, machine = await self.take("brew"), self.rng.choice(place.machines)
        finished = at + timedelta(seconds=self.rng.randint(25, 60))
        consumer_id, group_id = (consumer[0], consumer[1]) if consumer else (None, None)
        await self.bulk.add("brew", {
            "id": brew_id, "machine_id": machine, "product_id": drink_id,
            "product_name": name, "product_type": kind, "recipe": {},
            "consumer_id": consumer_id, "group_id": group_id, "device_key": "",
            "price": price, "charge": charge, "idempotency_key": f"large-{brew_id}",
            "status": "failed" if failed else "done", "progress": 40 if failed else 100,
            "reason": "machine_error" if failed else None, "refunded": failed and price > 0,
            "requested_at": at, "updated_at": finished, "finished_at": finished})
        if charge == "credit":
            assert consumer_id is not None
            await self._credit(consumer_id, brew_id, price, at, finished, failed)
        elif charge == "payment":
            payment_id = await self._provider_payment(
                None, "brew", price, at, brew_id, "refunded" if failed else "succeeded")
            if failed:
                await self._event(PaymentRefunded(
                    id=self._uuid(), at=finished + timedelta(seconds=5),
                    **self._payment_fields(payment_id, "brew", price, None, brew_id)))
        self.brewed += 1
        await self._event(BrewFinished(
            id=self._uuid(), at=finished, company_id=self.venue.company_id,
            site_id=place.site_id, machine_id=machine, brew_id=brew_id,
            consumer_id=consumer_id, product_id=drink_id, product_name=name,
            product_type=kind, price=price, currency=self.venue.currency, charge=charge,
            outcome="failed" if failed else "served",
            reason="machine_error" if failed else None, refunded=failed and price > 0,
            group_id=group_id, selection_id=self.venue.selection_id))

    async def _credit(self, consumer_id: int, brew_id: int, price: int, at: datetime,
                      finished: datetime, failed: bool) -> None:
        """The brew paid from the consumer's credit, topped up first when it runs short."""
        balance = self.balance.get(consumer_id, 0)
        if balance < price:
            amount = self.rng.choice(TOPUPS)
            topped = at - timedelta(minutes=2)
            payment_id = await self._provider_payment(consumer_id, "topup", amount, topped,
                                                      None, "succeeded")
            balance += amount
            await self._ledger(consumer_id, amount, balance, "topup", f"topup:{payment_id}",
                               None, topped)
        balance -= price
        await self._ledger(consumer_id, -price, balance, "brew", f"brew:{brew_id}",
                           brew_id, at)
        if failed:
            balance += price
            await self._ledger(consumer_id, price, balance, "refund",
                               f"refund:brew:{brew_id}", brew_id, finished)
        self.balance[consumer_id] = balance

    async def _ledger(self, consumer_id: int, amount: int, after: int, kind: str, key: str,
                      brew_id: int | None, at: datetime) -> None:
        await self.bulk.add("ledger_entry", {
            "id": await self.take("ledger_entry"), "consumer_id": consumer_id,
            "amount": amount, "balance_after": after, "kind": kind, "key": key,
            "brew_id": brew_id, "note": "", "created_at": at})

    def _payment_fields(self, payment_id: int, purpose: str, amount: int,
                        consumer_id: int | None, brew_id: int | None) -> dict[str, Any]:
        return {"payment_id": payment_id, "company_id": self.venue.company_id,
                "purpose": purpose, "amount": amount, "currency": self.venue.currency,
                "provider": "test", "consumer_id": consumer_id, "brew_id": brew_id,
                "table_session_id": None, "round_id": None}

    async def _provider_payment(self, consumer_id: int | None, purpose: str, amount: int,
                                at: datetime, brew_id: int | None, status: str) -> int:
        payment_id = await self.take("provider_payment")
        await self.bulk.add("provider_payment", {
            "id": payment_id, "company_id": self.venue.company_id,
            "consumer_id": consumer_id, "brew_id": brew_id, "purpose": purpose,
            "amount": amount, "currency": self.venue.currency, "provider": "test",
            "provider_ref": f"large_{payment_id}", "status": status,
            "idempotency_key": f"large-{payment_id}", "created_at": at,
            "updated_at": at + timedelta(seconds=20)})
        await self._event(PaymentSettled(
            id=self._uuid(), at=at + timedelta(seconds=20),
            **self._payment_fields(payment_id, purpose, amount, consumer_id, brew_id)))
        return payment_id

    async def balances(self) -> None:
        """Each consumer's credit as their ledger leaves it."""
        for consumer_id, balance in sorted(self.balance.items()):
            await self.bulk.add("credit_balance", {"consumer_id": consumer_id,
                                                   "balance": balance})


def _row(record: Any) -> dict[str, Any]:
    """A transient record's columns, as the bulk writer takes them."""
    return {c.key: getattr(record, c.key) for c in record.__table__.columns}
