"""The statistics' figures, read from stat_rollup only: one number, a series, a heat map, the
day so far. docs/statistics.md says what each measure means.

A range is answered from the coarsest rows that cover it: its whole months from the monthly
rows, the days at its edges from the daily rows; hours are read only for an hourly series or
the heat map. A scope limited to some sites reads those sites' rows only (and never the
company-wide top-ups, kept on site 0).

Filters: `sites` keeps those sites (within the scope); `machines` keeps the brews of those
machines and drops what came from tills and tables; `categories` keeps the tills' and tables'
sales of those menu categories and drops the brews; both together keep either. A row of
stat_rollup carries one dimension: a series `by` a dimension honours a filter on that same
dimension (and `sites`) only; the other filters then only choose which parts count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.facts import METHODS, WEEK_HOUR
from backoffice.models import StatRollup
from backoffice.periods import Granularity, Span, bucket_of, buckets, local_today, whole_months

__all__ = ["METHODS", "DaySummary", "Granularity", "Measure", "Query", "Row", "Scope", "figure",
           "heat_map", "series", "today"]


@dataclass(frozen=True)
class Scope:
    """Who asks: what they may see."""

    company_id: int
    sites: frozenset[int] | None  # None: all the company's sites
    tz: str  # the company's time zone


class Measure(StrEnum):
    BREWS = "brews"  # drinks served by the machines
    REVENUE = "revenue"  # counter tickets + table bills + what brews charged (minor units)
    ORDERS = "orders"  # rounds sent at tables
    TICKETS = "tickets"  # counter tickets (net of voids) + table bills
    BASKET = "basket"  # (counter + tables revenue) / tickets, minor units
    TURN_TIME = "turn_time"  # a settled table session's average length, seconds
    TOPUPS = "topups"  # credit bought (minus refunded), minor units
    COUNTER = "counter"  # revenue of the tills' counter tickets
    TABLES = "tables"  # revenue of table bills
    MACHINES = "machines"  # revenue of brews
    ITEMS = "items"  # units sold at the counter and at tables


@dataclass(frozen=True)
class Query:
    measure: Measure
    start: date  # inclusive local dates
    end: date
    granularity: Granularity | None = None  # None: one total
    sites: frozenset[int] = frozenset()  # within the scope; empty: all
    machines: frozenset[int] = frozenset()
    categories: frozenset[int] = frozenset()
    # "site", "channel", "method", "product", "category", "machine", "consumer", "group",
    # "selection", "ptype"
    by: str | None = None
    # By a dimension only: its `top` largest values (a year of 20,000 consumers for a page
    # that shows 500), ranked by the database; the measure's value must be a plain sum.
    top: int | None = None


@dataclass(frozen=True)
class Row:
    """A bucket ("2026-10-25", a week's Monday, "2026-10", "2026-10-25T02") or a dimension
    (its id as a string; a method's name, a channel's name) and its value."""

    key: str
    label_id: int | None
    value: int | float


@dataclass(frozen=True)
class DaySummary:
    """Today so far (local day), for the live home. Money in minor units."""

    day: date
    revenue: int
    tickets: int
    basket: int
    brews: int
    orders: int
    by_site: dict[int, int] = field(default_factory=dict)  # revenue
    by_channel: dict[str, int] = field(default_factory=dict)  # counter, tables, machines
    by_method: dict[str, int] = field(default_factory=dict)  # cash, card, online, credit…


DIMENSIONS = ("method", "product", "category", "machine", "consumer", "group", "selection",
              "ptype")
CHANNELS = {"sales": "counter", "tables": "tables", "brews": "machines", "rounds": "tables",
            "turns": "tables", "topups": "topups"}
Sums = tuple[int, int, int, int]  # count, quantity, amount, seconds
Value = Callable[[Sums], int]


def _ratio(numerator: int, denominator: int) -> int:
    """Rounded to the nearest unit (halves up); 0 over nothing."""
    return (2 * numerator + denominator) // (2 * denominator) if denominator > 0 else 0


_AMOUNT: Value = lambda s: s[2]  # noqa: E731
_COUNT: Value = lambda s: s[0]  # noqa: E731
# Each measure: the rollup measures it adds up, and its value from their summed columns.
MEASURES: dict[Measure, tuple[tuple[str, ...], Value]] = {
    Measure.BREWS: (("brews",), _COUNT),
    Measure.REVENUE: (("sales", "tables", "brews"), _AMOUNT),
    Measure.ORDERS: (("rounds",), _COUNT),
    Measure.TICKETS: (("sales", "tables"), _COUNT),
    Measure.BASKET: (("sales", "tables"), lambda s: _ratio(s[2], s[0])),
    Measure.TURN_TIME: (("turns",), lambda s: _ratio(s[3], s[0])),
    Measure.TOPUPS: (("topups",), _AMOUNT),
    Measure.COUNTER: (("sales",), _AMOUNT),
    Measure.TABLES: (("tables",), _AMOUNT),
    Measure.MACHINES: (("brews",), _AMOUNT),
    Measure.ITEMS: (("sales", "tables"), lambda s: s[1]),
}


# The column a dimension's values are ranked by in the database, for `Query.top`: a sum of
# one column across the measure's parts (a ratio cannot be ranked this way).
RANKED_BY: dict[Measure, str] = {
    Measure.BREWS: "count", Measure.ORDERS: "count", Measure.TICKETS: "count",
    Measure.REVENUE: "amount", Measure.TOPUPS: "amount", Measure.COUNTER: "amount",
    Measure.TABLES: "amount", Measure.MACHINES: "amount", Measure.ITEMS: "quantity",
}


def _add(a: Sums, b: Iterable[int]) -> Sums:
    c, q, m, s = b
    return (a[0] + c, a[1] + q, a[2] + m, a[3] + s)


@dataclass(frozen=True)
class _Part:
    """One rollup measure as a query reads it: which dimension's rows, which of their ids."""

    measure: str
    dim_kind: str
    dim_ids: frozenset[int] | None


def _parts(query: Query) -> list[_Part]:
    names, _ = MEASURES[query.measure]
    by_dim = query.by if query.by in DIMENSIONS else None
    found: list[_Part] = []
    for name in names:
        filters: dict[str, frozenset[int]] = {}
        if query.machines or query.categories:
            if name == "brews" and query.machines:
                filters["machine"] = query.machines
            elif name in ("sales", "tables") and query.categories:
                filters["category"] = query.categories
            else:
                continue  # this part has none of the filtered things
        if by_dim is not None:
            found.append(_Part(name, by_dim, filters.get(by_dim)))
        elif filters:
            (kind, ids), = filters.items()
            found.append(_Part(name, kind, ids))
        else:
            found.append(_Part(name, "", None))
    return found


def _sites(scope: Scope, query: Query) -> frozenset[int] | None:
    """The sites to read (None: every one, the company's own site 0 included)."""
    if scope.sites is None:
        return query.sites or None
    return scope.sites & query.sites if query.sites else scope.sites


def _where(scope: Scope, sites: frozenset[int] | None, part: _Part) -> list[ColumnElement[bool]]:
    where = [StatRollup.company_id == scope.company_id, StatRollup.measure == part.measure,
             StatRollup.dim_kind == part.dim_kind]
    if sites is not None:
        where.append(StatRollup.site_id.in_(sorted(sites)))
    if part.dim_ids is not None:
        where.append(StatRollup.dim_id.in_(sorted(part.dim_ids)))
    return where


async def _read(
    session: AsyncSession, scope: Scope, query: Query, group: str,
    only: list[int] | None = None,
) -> dict[tuple[str, str], Sums]:
    """Summed columns by (group key, rollup measure); `group` is "" (one total), "bucket"
    (the query's granularity), "site", "dim" or "channel"."""
    sites = _sites(scope, query)
    out: dict[tuple[str, str], Sums] = defaultdict(lambda: (0, 0, 0, 0))
    if sites is not None and not sites:
        return out
    span = Span(min(query.start, query.end), max(query.start, query.end))
    # Which rows: (grain, bucket condition, how a row's bucket maps to the group's key).
    reads: list[tuple[str, ColumnElement[bool], Callable[[str], str]]] = []
    granularity = query.granularity if group == "bucket" else None
    if group == "heat":
        # Whole months from their week-hour rows (totals only), the rest from the hours.
        months, edges = whole_months(span)
        if not all(part.dim_kind == "" for part in _parts(query)):
            months, edges = [], [span]
        if months:
            reads.append((WEEK_HOUR, StatRollup.bucket.between(f"{months[0]}/0",
                                                              f"{months[-1]}/9"),
                          lambda b: b[8:]))
        if edges:
            reads.append(("hour", or_(*(StatRollup.bucket.between(f"{e.start}T00",
                                                                   f"{e.end}T23")
                                        for e in edges)),
                          lambda b: f"{date.fromisoformat(b[:10]).isoweekday()}/{b[11:13]}"))
    elif granularity is Granularity.HOUR:
        reads.append(("hour", StatRollup.bucket.between(f"{span.start}T00", f"{span.end}T23"),
                      str))
    elif granularity in (Granularity.DAY, Granularity.WEEK):
        assert granularity is not None
        cut: Granularity = granularity
        reads.append(("day", StatRollup.bucket.between(str(span.start), str(span.end)),
                      lambda b: bucket_of(date.fromisoformat(b), cut)))
    else:
        months, edges = whole_months(span)
        if months:
            reads.append(("month", StatRollup.bucket.in_(months), str))
        if edges:
            reads.append(("day", or_(*(StatRollup.bucket.between(str(e.start), str(e.end))
                                       for e in edges)), lambda b: b[:7]))
    for part in _parts(query):
        for row_grain, buckets_in, key_of in reads:
            column = {"bucket": StatRollup.bucket, "heat": StatRollup.bucket,
                      "site": StatRollup.site_id, "dim": StatRollup.dim_id}.get(group)
            columns = [column] if column is not None else []
            stmt = (select(*columns, func.sum(StatRollup.count), func.sum(StatRollup.quantity),
                           func.sum(StatRollup.amount), func.sum(StatRollup.seconds))
                    .where(and_(*_where(scope, sites, part), StatRollup.grain == row_grain,
                                buckets_in)))
            if only is not None:
                stmt = stmt.where(StatRollup.dim_id.in_(only))
            if columns:
                stmt = stmt.group_by(*columns)
            for row in (await session.execute(stmt)).all():
                if row[-1] is None:
                    continue  # a sum over no rows
                if group in ("bucket", "heat"):
                    key = key_of(str(row[0]))
                elif group in ("site", "dim"):
                    key = str(row[0])
                elif group == "channel":
                    key = CHANNELS[part.measure]
                else:
                    key = ""
                values = cast(tuple[int | None, ...], tuple(row)[-4:])
                c, q, a, secs = (int(v or 0) for v in values)
                out[key, part.measure] = _add(out[key, part.measure], (c, q, a, secs))
    return out


def _values(read: dict[tuple[str, str], Sums], measure: Measure) -> dict[str, int]:
    _, value = MEASURES[measure]
    by_key: dict[str, Sums] = defaultdict(lambda: (0, 0, 0, 0))
    for (key, _), sums in read.items():
        by_key[key] = _add(by_key[key], sums)
    return {key: value(sums) for key, sums in by_key.items()}


async def figure(session: AsyncSession, scope: Scope, query: Query) -> int | float:
    """One number: the measure over the whole range, filtered."""
    total = Query(query.measure, query.start, query.end, None, query.sites, query.machines,
                  query.categories)
    return _values(await _read(session, scope, total, ""), query.measure).get("", 0)


async def series(session: AsyncSession, scope: Scope, query: Query) -> list[Row]:
    """The measure by bucket (`granularity`: every bucket of the range, zeros included) or by
    dimension (`by`: the keys that have rows, largest value first)."""
    if query.granularity is not None and query.by is not None:
        raise ValueError("a series is by bucket or by dimension, not both")
    if query.granularity is not None:
        values = _values(await _read(session, scope, query, "bucket"), query.measure)
        span = Span(min(query.start, query.end), max(query.start, query.end))
        return [Row(key, None, values.get(key, 0))
                for key in buckets(span, query.granularity, scope.tz)]
    if query.by is None:
        return [Row("", None, await figure(session, scope, query))]
    if query.by == "site":
        group = "site"
    elif query.by == "channel":
        group = "channel"
    elif query.by in DIMENSIONS:
        group = "dim"
    else:
        raise ValueError(f"no series by {query.by!r}")
    only = await _top(session, scope, query) if group == "dim" else None
    values = _values(await _read(session, scope, query, group, only), query.measure)
    rows = [_row(query.by, key, value) for key, value in values.items()]
    return sorted(rows, key=lambda r: (-r.value, r.key))[:query.top]


async def _top(session: AsyncSession, scope: Scope, query: Query) -> list[int] | None:
    """The ids of the `top` largest values of the dimension, in one statement over every
    part and grain the range reads (None: no top asked, or a measure not ranked so)."""
    column = RANKED_BY.get(query.measure)
    if query.top is None or column is None:
        return None
    sites = _sites(scope, query)
    if sites is not None and not sites:
        return []
    span = Span(min(query.start, query.end), max(query.start, query.end))
    months, edges = whole_months(span)
    grains = []
    if months:
        grains.append(and_(StatRollup.grain == "month", StatRollup.bucket.in_(months)))
    if edges:
        grains.append(and_(StatRollup.grain == "day", or_(
            *(StatRollup.bucket.between(str(e.start), str(e.end)) for e in edges))))
    parts = or_(*(and_(*_where(scope, sites, part)) for part in _parts(query)))
    ranked = func.sum(getattr(StatRollup, column))
    stmt = (select(StatRollup.dim_id).where(parts, or_(*grains))
            .group_by(StatRollup.dim_id).order_by(ranked.desc(), StatRollup.dim_id)
            .limit(query.top))
    return [int(i) for i in (await session.scalars(stmt)).all()]


def _row(by: str, key: str, value: int) -> Row:
    if by == "channel":
        return Row(key, None, value)
    dim_id = int(key)
    if by == "method":
        return Row(METHODS[dim_id - 1] if 0 < dim_id <= len(METHODS) else key, dim_id, value)
    return Row(key, dim_id, value)


async def heat_map(
    session: AsyncSession, scope: Scope, measure: Measure, start: date, end: date,
) -> dict[tuple[int, int], int]:
    """(ISO weekday 1-7, local hour 0-23) -> the measure over the range's hours; every cell."""
    query = Query(measure, start, end, Granularity.HOUR)
    read = await _read(session, scope, query, "heat")
    cells: dict[tuple[int, int], dict[tuple[str, str], Sums]] = defaultdict(dict)
    for (key, part), sums in read.items():
        weekday, hour = key.split("/")
        cell = (int(weekday), int(hour))
        cells[cell]["", part] = _add(cells[cell].get(("", part), (0, 0, 0, 0)), sums)
    grid = {(weekday, hour): 0 for weekday in range(1, 8) for hour in range(24)}
    for cell, sums_by_part in cells.items():
        grid[cell] = _values(sums_by_part, measure).get("", 0)
    return grid


async def today(session: AsyncSession, scope: Scope, now: datetime | None = None
                ) -> DaySummary:
    """The local day so far (the day `now` is in, by default the current one): revenue per
    site, per channel and per method, tickets, basket, brews and orders."""
    day = local_today(scope.tz, now)
    sites = _sites(scope, Query(Measure.REVENUE, day, day))
    where = [StatRollup.company_id == scope.company_id, StatRollup.grain == "day",
             StatRollup.bucket == day.isoformat(),
             StatRollup.measure.in_(("sales", "tables", "brews", "rounds")),
             StatRollup.dim_kind.in_(("", "method"))]
    if sites is not None:
        where.append(StatRollup.site_id.in_(sorted(sites)))
    rows = (await session.execute(
        select(StatRollup.site_id, StatRollup.measure, StatRollup.dim_kind, StatRollup.dim_id,
               StatRollup.count, StatRollup.amount).where(*where))).all()
    by_site: dict[int, int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    by_method: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    for site_id, measure, dim_kind, dim_id, count, amount in rows:
        if dim_kind == "method":
            if measure != "rounds":
                by_method[METHODS[dim_id - 1] if 0 < dim_id <= len(METHODS) else "other"] += \
                    amount
            continue
        counts[measure] += count
        amounts[measure] += amount
        if measure != "rounds":
            by_site[site_id] += amount
            by_channel[CHANNELS[measure]] += amount
    tickets = counts["sales"] + counts["tables"]
    return DaySummary(
        day=day, revenue=amounts["sales"] + amounts["tables"] + amounts["brews"],
        tickets=tickets, basket=_ratio(amounts["sales"] + amounts["tables"], tickets),
        brews=counts["brews"], orders=counts["rounds"], by_site=dict(by_site),
        by_channel=dict(by_channel), by_method=dict(by_method),
    )
