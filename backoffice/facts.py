"""What a domain event adds to the statistics: rows of stat_rollup to increment. Pure.

One event gives increments of one site (a measure, optionally a dimension: a payment method,
a product…), each placed in the event's local hour, day and month in the company's time
zone (zoneinfo: on the night the clocks go back both 02:00 hours fall in "T02"; on the night
they go forward there is no "T02"). docs/statistics.md says what each measure counts:

- "sales": counter tickets of the tills (TicketRecorded). A sale counts +1 ticket, a void
  -1 (it cancels its sale), a refund 0 tickets; amounts are signed as the ticket (refunds and
  voids negative). Training tickets and duplicates (reprints) count nothing. Its time is
  the till's (`sold_at`, an offline sale's own time), never later than when the server
  recorded it. A table's bill paid at a till is such a ticket.
- "tables": table bills settled on the tables' screen or from phones (TableSettled), +1 and
  the whole bill; a bill a till's ticket paid (`at_till`) counts as that ticket, not twice.
- "brews": drinks served (BrewFinished, outcome served); amount is what was charged: 0 for
  a free drink (charge "none") and for one given back (`refunded`). Failed brews count
  nothing.
- "rounds": orders sent at tables (RoundSubmitted), +1 and their total.
- "turns": table sessions that ended settled (TableFreed with `opened_at`): +1 and the
  seconds from opening to freeing.
- "topups": credit bought through the provider (PaymentSettled, purpose topup), +1 and the
  amount; a refunded top-up (PaymentRefunded) -1 and minus the amount.

Dimensions: `method` (payment methods, ids below), `product` and `category` (the menu's for
sales and tables, the machine's products for brews), `machine`, `ptype` (a drink's type, ids
below), `consumer`, `group`, `selection`. On a dimension's rows `count` is the number of
tickets (or brews) that had it, `quantity` the units and `amount` the money.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

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

GRAINS = ("hour", "day", "month")
# The heat map's grain: a month's totals by local weekday and hour ("2026-10/7/14": October's
# Sundays at 14:00), so that a year's busiest days and hours read 2,016 rows a site, not 8,760.
WEEK_HOUR = "wh"
# A method's id is its place here, from 1; append only (ids are stored).
METHODS = ("cash", "card", "online", "credit", "other")
# A drink type's id (dim "ptype"), from 1; append only. 0: a type not listed yet.
PTYPES = ("ristretto", "espresso", "lungo", "americano", "cappuccino", "latte", "flat_white",
          "hot_chocolate", "tea", "hot_water", "hot_milk")
# The dimensions also kept by the hour (an hourly series filtered by machine or category, the
# live home's methods); the others (products, consumers…, many values) by day and month
# only: by the hour they would be about one row per event.
HOURLY_DIMENSIONS = frozenset({"", "method", "machine", "category"})
# Brews are paid from credit, or through the provider (online).
BREW_METHODS = {"credit": "credit", "payment": "online"}


def method_id(name: str) -> int:
    return METHODS.index(name) + 1 if name in METHODS else METHODS.index("other") + 1


def ptype_id(name: str) -> int:
    return PTYPES.index(name) + 1 if name in PTYPES else 0


@dataclass(frozen=True)
class Increment:
    """What to add to one measure of one site, for its total (`dim_kind` "") or a dimension."""

    site_id: int
    measure: str
    dim_kind: str = ""
    dim_id: int = 0
    count: int = 0
    quantity: int = 0
    amount: int = 0
    seconds: int = 0


# A row's key: (company_id, grain, bucket, site_id, measure, dim_kind, dim_id).
Key = tuple[int, str, str, int, str, str, int]
VALUES = ("count", "quantity", "amount", "seconds")


@dataclass(frozen=True)
class Fact:
    """An increment placed in one bucket of one grain: one row of stat_rollup to add to."""

    company_id: int
    grain: str
    bucket: str
    increment: Increment

    @property
    def key(self) -> Key:
        i = self.increment
        return (self.company_id, self.grain, self.bucket, i.site_id, i.measure, i.dim_kind,
                i.dim_id)


def buckets(at: datetime, tz: str) -> tuple[str, str, str]:
    """The local hour, day and month of an instant (an aware datetime)."""
    local = at.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%dT%H"), local.strftime("%Y-%m-%d"), local.strftime("%Y-%m")


def facts(event: DomainEvent, tz: str) -> list[Fact]:
    """Every row `event` adds to, in the company's time zone `tz`; none for an event that
    counts nothing."""
    found = increments(event)
    if not found:
        return []
    company_id: int = getattr(event, "company_id")  # noqa: B009 (every counted event has it)
    hour, day, month = buckets(when(event), tz)
    week_hour = week_hour_of(hour)
    return [Fact(company_id, grain, bucket, increment)
            for grain, bucket in zip((*GRAINS, WEEK_HOUR), (hour, day, month, week_hour),
                                     strict=True)
            for increment in found
            if (grain != "hour" or increment.dim_kind in HOURLY_DIMENSIONS)
            and (grain != WEEK_HOUR or increment.dim_kind == "")]


def week_hour_of(hour_bucket: str) -> str:
    """The week-hour bucket ("2026-10/7/14") of an hour bucket ("2026-10-25T14")."""
    weekday = date.fromisoformat(hour_bucket[:10]).isoweekday()
    return f"{hour_bucket[:7]}/{weekday}/{hour_bucket[11:13]}"


def when(event: DomainEvent) -> datetime:
    """The instant the event counts at: a ticket at the till's time of sale (never after
    the server recorded it: a till's clock is data), anything else when it happened."""
    if isinstance(event, TicketRecorded) and event.sold_at is not None:
        sold_at = event.sold_at if event.sold_at.tzinfo else event.sold_at.replace(tzinfo=UTC)
        return min(sold_at, event.at)
    return event.at


def increments(event: DomainEvent) -> list[Increment]:
    """What the event adds, before it is placed in time."""
    match event:
        case TicketRecorded():
            return list(_ticket(event))
        case TableSettled():
            return list(_table(event))
        case BrewFinished():
            return list(_brew(event))
        case RoundSubmitted():
            return [Increment(event.site_id, "rounds", count=1, amount=event.total)]
        case TableFreed():
            if not event.settled or event.opened_at is None:
                return []
            seconds = max(0, round((event.at - event.opened_at).total_seconds()))
            return [Increment(event.site_id, "turns", count=1, seconds=seconds)]
        case PaymentSettled() | PaymentRefunded():
            return list(_topup(event))
    return []


def _ticket(event: TicketRecorded) -> Iterator[Increment]:
    if event.training or event.kind == "duplicate":
        return
    tickets = {"sale": 1, "void": -1, "refund": 0}[event.kind]
    yield from _sold(event.site_id, "sales", tickets, event.total, event.lines, event.payments)


def _table(event: TableSettled) -> Iterator[Increment]:
    if event.at_till:
        return
    payments = event.payments or [PaidPart(method=event.method, amount=event.amount)]
    yield from _sold(event.site_id, "tables", 1, event.amount, event.lines, payments)


def _sold(site_id: int, measure: str, tickets: int, total: int, lines: Iterable[SoldLine],
          payments: Iterable[PaidPart]) -> Iterator[Increment]:
    """A ticket or a bill: its total, its methods, its products and categories."""
    lines = list(lines)
    yield Increment(site_id, measure, count=tickets, amount=total,
                    quantity=sum(line.quantity for line in lines))
    by_method: dict[int, int] = {}
    for part in payments:
        by_method[method_id(part.method)] = by_method.get(method_id(part.method), 0) + part.amount
    for method, amount in sorted(by_method.items()):
        yield Increment(site_id, measure, "method", method, count=tickets, amount=amount)
    for kind, attribute in (("product", "product_id"), ("category", "category_id")):
        sums: dict[int, tuple[int, int]] = {}
        for line in lines:
            dim_id = getattr(line, attribute)
            if dim_id is not None:
                quantity, amount = sums.get(dim_id, (0, 0))
                sums[dim_id] = (quantity + line.quantity, amount + line.amount)
        for dim_id, (quantity, amount) in sorted(sums.items()):
            yield Increment(site_id, measure, kind, dim_id, count=tickets, quantity=quantity,
                            amount=amount)


def _brew(event: BrewFinished) -> Iterator[Increment]:
    if event.outcome != "served":
        return
    charged = 0 if event.charge == "none" or event.refunded else event.price
    dims: list[tuple[str, int | None]] = [
        ("machine", event.machine_id), ("product", event.product_id),
        ("ptype", ptype_id(event.product_type)), ("consumer", event.consumer_id),
        ("group", event.group_id), ("selection", event.selection_id),
    ]
    if charged:
        dims.append(("method", method_id(BREW_METHODS.get(event.charge, "other"))))
    yield Increment(event.site_id, "brews", count=1, quantity=1, amount=charged)
    for kind, dim_id in dims:
        if dim_id is not None:
            yield Increment(event.site_id, "brews", kind, dim_id, count=1, quantity=1,
                            amount=charged)


def _topup(event: PaymentSettled | PaymentRefunded) -> Iterator[Increment]:
    """Top-ups have no site: they count on site 0, the company's."""
    if event.purpose != "topup":
        return
    sign = 1 if isinstance(event, PaymentSettled) else -1
    yield Increment(0, "topups", count=sign, amount=sign * event.amount)
    if event.consumer_id is not None:
        yield Increment(0, "topups", "consumer", event.consumer_id, count=sign,
                        amount=sign * event.amount)


def aggregate(facts_: Iterable[Fact]) -> dict[Key, tuple[int, int, int, int]]:
    """Facts added up by row: what a replay or a bulk load writes, one row each."""
    rows: dict[Key, tuple[int, int, int, int]] = {}
    for fact in facts_:
        i = fact.increment
        c, q, a, s = rows.get(fact.key, (0, 0, 0, 0))
        rows[fact.key] = (c + i.count, q + i.quantity, a + i.amount, s + i.seconds)
    return rows
