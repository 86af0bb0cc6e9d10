"""The statistics' figures (backoffice/stats.py) against a data set computed by hand, on both
databases: two days when Paris changes its clocks, refunds and voids, training tickets and
duplicates, two sites, and a manager limited to one of them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import pytest_asyncio

from backoffice import rollups, stats
from backoffice.stats import Granularity, Measure, Query, Row, Scope
from domain.events import DomainEvent, PaidPart
from tests.backoffice.stat_events import (
    COMPANY,
    PARIS,
    bill,
    brew,
    freed,
    line,
    submitted,
    ticket,
    topup,
    utc,
)
from tests.conftest import Database

pytestmark = pytest.mark.asyncio
ALL = Scope(COMPANY, None, PARIS)
FIRST_ONLY = Scope(COMPANY, frozenset({1}), PARIS)
AUTUMN = date(2026, 10, 25)  # 25 hours: 02:00-02:59 twice
SPRING = date(2026, 3, 29)  # 23 hours: no 02:00


def cash(amount: int) -> list[PaidPart]:
    return [PaidPart(method="cash", amount=amount)]


EVENTS: list[DomainEvent] = [
    # 2026-10-25, local time (UTC+2 until 03:00, then UTC+1).
    ticket(utc("2026-10-24 22:30"), 500, site=2),  # 00:30 local: the 25th already
    ticket(utc("2026-10-25 00:30"), 1000, payments=cash(1000)),  # the first 02:30
    ticket(utc("2026-10-25 01:30"), 2000),  # the second 02:30
    ticket(utc("2026-10-25 01:45"), -1000, kind="void", payments=cash(-1000)),
    ticket(utc("2026-10-25 09:00"), 0, kind="duplicate", lines=[], payments=[]),
    ticket(utc("2026-10-25 09:05"), 999, training=True),
    brew(utc("2026-10-25 10:00"), 120, site=2, machine=2, refunded=True),  # served, given back
    brew(utc("2026-10-25 10:05"), 120, site=2, machine=2, outcome="failed", refunded=True),
    topup(utc("2026-10-25 10:00"), 2000),
    topup(utc("2026-10-25 10:30"), 500, refunded=True),
    submitted(utc("2026-10-25 18:00"), 2500),
    submitted(utc("2026-10-25 18:30"), 1500),
    bill(utc("2026-10-25 19:00"), 4000,
         lines=[line(2, 1, 2, 2500), line(3, 5, 1, 1500)]),  # 20:00 local
    freed(utc("2026-10-25 19:30"), 50),
    freed(utc("2026-10-25 19:40"), 70),
    freed(utc("2026-10-25 19:50"), 5, settled=False),
    brew(utc("2026-10-25 23:30"), 150),  # 00:30 local on the 26th
    # 2026-03-29, local time (UTC+1 until 02:00, then UTC+2).
    ticket(utc("2026-03-28 23:30"), 700, site=2),  # 00:30 local
    ticket(utc("2026-03-29 00:30"), 800),  # 01:30
    ticket(utc("2026-03-29 01:30"), 1200),  # 03:30: the clocks skipped 02:00
    ticket(utc("2026-03-29 12:00"), -300, kind="refund"),  # 14:00
    bill(utc("2026-03-29 12:30"), 2000, at_till=True),  # its ticket counts it: none here
]


@pytest_asyncio.fixture
async def figures(db: Database) -> Database:
    async with db.sessionmaker() as session, session.begin():
        await rollups.apply(session, rollups.bulk_rows(EVENTS, {COMPANY: PARIS}))
    return db


async def figure(db: Database, scope: Scope, measure: Measure, start: date,
                 end: date | None = None, **filters: frozenset[int]) -> int | float:
    async with db.sessionmaker() as session:
        return await stats.figure(session, scope, Query(measure, start, end or start, **filters))


async def series(db: Database, scope: Scope, query: Query) -> list[Row]:
    async with db.sessionmaker() as session:
        return await stats.series(session, scope, query)


async def test_the_autumn_day_with_its_repeated_hour(figures: Database) -> None:
    expect = {Measure.COUNTER: 2500, Measure.TABLES: 4000, Measure.MACHINES: 0,
              Measure.REVENUE: 6500, Measure.TICKETS: 3, Measure.BASKET: 2167,
              Measure.BREWS: 1, Measure.ORDERS: 2, Measure.TURN_TIME: 3600,
              Measure.TOPUPS: 1500, Measure.ITEMS: 5}
    got = {measure: await figure(figures, ALL, measure, AUTUMN) for measure in expect}
    assert got == expect
    hourly = await series(figures, ALL, Query(Measure.REVENUE, AUTUMN, AUTUMN, Granularity.HOUR))
    assert len(hourly) == 24  # 25 hours, the repeated one in one bucket
    assert {r.key: r.value for r in hourly if r.value} == {
        "2026-10-25T00": 500, "2026-10-25T02": 2000, "2026-10-25T20": 4000}
    tickets = await series(figures, ALL, Query(Measure.TICKETS, AUTUMN, AUTUMN, Granularity.HOUR))
    assert {r.key: r.value for r in tickets if r.value} == {
        "2026-10-25T00": 1, "2026-10-25T02": 1, "2026-10-25T20": 1}


async def test_the_spring_day_without_its_two_oclock(figures: Database) -> None:
    assert await figure(figures, ALL, Measure.REVENUE, SPRING) == 700 + 800 + 1200 - 300
    assert await figure(figures, ALL, Measure.TICKETS, SPRING) == 3  # a refund is no ticket
    hourly = await series(figures, ALL, Query(Measure.REVENUE, SPRING, SPRING, Granularity.HOUR))
    assert len(hourly) == 23 and "2026-03-29T02" not in {r.key for r in hourly}
    assert {r.key: r.value for r in hourly if r.value} == {
        "2026-03-29T00": 700, "2026-03-29T01": 800, "2026-03-29T03": 1200,
        "2026-03-29T14": -300}


async def test_a_manager_of_one_site_sees_only_its_figures(figures: Database) -> None:
    assert await figure(figures, FIRST_ONLY, Measure.REVENUE, AUTUMN) == 6000
    assert await figure(figures, FIRST_ONLY, Measure.TICKETS, AUTUMN) == 2
    assert await figure(figures, FIRST_ONLY, Measure.BASKET, AUTUMN) == 3000
    assert await figure(figures, FIRST_ONLY, Measure.BREWS, AUTUMN) == 0
    assert await figure(figures, FIRST_ONLY, Measure.TOPUPS, AUTUMN) == 0  # the company's
    assert await figure(figures, FIRST_ONLY, Measure.REVENUE, AUTUMN,
                        sites=frozenset({2})) == 0  # a site not theirs: nothing
    assert await figure(figures, ALL, Measure.REVENUE, AUTUMN, sites=frozenset({2})) == 500
    by_site = await series(figures, FIRST_ONLY, Query(Measure.REVENUE, AUTUMN, AUTUMN, by="site"))
    assert by_site == [Row("1", 1, 6000)]
    async with figures.sessionmaker() as session:
        heat = await stats.heat_map(session, FIRST_ONLY, Measure.REVENUE, AUTUMN, AUTUMN)
    assert {cell: v for cell, v in heat.items() if v} == {(7, 2): 2000, (7, 20): 4000}


async def test_ranges_read_whole_months_and_edge_days_alike(figures: Database) -> None:
    spring_to_autumn = 2400 + 6500
    assert await figure(figures, ALL, Measure.REVENUE, SPRING, AUTUMN) == spring_to_autumn
    assert await figure(figures, ALL, Measure.REVENUE, date(2026, 3, 1),
                        date(2026, 10, 31)) == spring_to_autumn + 150
    assert await figure(figures, ALL, Measure.REVENUE, date(2026, 3, 30),
                        date(2026, 10, 24)) == 0
    assert await figure(figures, ALL, Measure.REVENUE, AUTUMN, SPRING) == spring_to_autumn
    monthly = await series(figures, ALL, Query(Measure.REVENUE, date(2026, 3, 15), AUTUMN,
                                               Granularity.MONTH))
    assert [(r.key, r.value) for r in monthly] == [
        ("2026-03", 2400), ("2026-04", 0), ("2026-05", 0), ("2026-06", 0), ("2026-07", 0),
        ("2026-08", 0), ("2026-09", 0), ("2026-10", 6500)]
    weekly = await series(figures, ALL, Query(Measure.REVENUE, date(2026, 10, 19),
                                              date(2026, 11, 1), Granularity.WEEK))
    assert [(r.key, r.value) for r in weekly] == [("2026-10-19", 6500), ("2026-10-26", 150)]
    daily = await series(figures, ALL, Query(Measure.BREWS, AUTUMN, date(2026, 10, 26),
                                             Granularity.DAY))
    assert [(r.key, r.value) for r in daily] == [("2026-10-25", 1), ("2026-10-26", 1)]


async def test_series_by_dimension_and_filters(figures: Database) -> None:
    day = Query(Measure.REVENUE, AUTUMN, AUTUMN, by="method")
    assert await series(figures, ALL, day) == [Row("cash", 1, 4000), Row("card", 2, 2500)]
    channels = await series(figures, ALL, Query(Measure.REVENUE, AUTUMN, AUTUMN, by="channel"))
    assert channels == [Row("tables", None, 4000), Row("counter", None, 2500),
                        Row("machines", None, 0)]
    products = await series(figures, ALL, Query(Measure.ITEMS, AUTUMN, AUTUMN, by="product"))
    assert products == [Row("1", 1, 2), Row("2", 2, 2), Row("3", 3, 1)]  # 3 sold, 1 voided
    assert await figure(figures, ALL, Measure.REVENUE, AUTUMN,
                        categories=frozenset({1})) == 2500 + 2500
    assert await figure(figures, ALL, Measure.REVENUE, AUTUMN,
                        categories=frozenset({5})) == 1500
    assert await figure(figures, ALL, Measure.BREWS, AUTUMN, machines=frozenset({2})) == 1
    assert await figure(figures, ALL, Measure.BREWS, AUTUMN, machines=frozenset({1})) == 0
    assert await figure(figures, ALL, Measure.COUNTER, AUTUMN, machines=frozenset({2})) == 0
    by_machine = await series(figures, ALL, Query(Measure.BREWS, AUTUMN, date(2026, 10, 26),
                                                  by="machine"))
    assert by_machine == [Row("1", 1, 1), Row("2", 2, 1)]
    with pytest.raises(ValueError):
        await series(figures, ALL, Query(Measure.BREWS, AUTUMN, AUTUMN, Granularity.DAY,
                                         by="machine"))


async def test_the_heat_map_puts_each_hour_in_its_weekday(figures: Database) -> None:
    async with figures.sessionmaker() as session:
        heat = await stats.heat_map(session, ALL, Measure.REVENUE, AUTUMN, date(2026, 10, 26))
        turns = await stats.heat_map(session, ALL, Measure.TURN_TIME, AUTUMN, AUTUMN)
    assert len(heat) == 7 * 24
    assert {cell: v for cell, v in heat.items() if v} == {
        (7, 0): 500, (7, 2): 2000, (7, 20): 4000, (1, 0): 150}
    assert {cell: v for cell, v in turns.items() if v} == {(7, 20): 3600}  # 20:30, 20:40


@pytest.mark.parametrize("measure, by", [
    (Measure.BREWS, "machine"), (Measure.REVENUE, "method"), (Measure.ITEMS, "product"),
    (Measure.BASKET, "site")])
async def test_the_top_of_a_dimension_is_the_head_of_the_whole(
    figures: Database, measure: Measure, by: str
) -> None:
    """A page asks the database for the largest values only: the same rows as the head of
    the whole series, whatever the range reads (a whole month and loose days here)."""
    for start in (AUTUMN, date(2026, 10, 1)):
        whole = await series(figures, ALL, Query(measure, start, date(2026, 11, 2), by=by))
        for top in (1, 2):
            assert await series(figures, ALL, Query(
                measure, start, date(2026, 11, 2), by=by, top=top)) == whole[:top]
        assert len(whole) > 1, (measure, by)


async def test_whole_months_of_the_heat_map_read_their_week_hours(figures: Database) -> None:
    """October read whole (its weekday-and-hour rows) gives what its days give one by one
    (their hours), the clock change included; a range with loose days adds them."""
    october = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
    async with figures.sessionmaker() as session:
        whole = await stats.heat_map(session, ALL, Measure.REVENUE, october[0], october[-1])
        more = await stats.heat_map(session, ALL, Measure.REVENUE, october[0],
                                    date(2026, 11, 2))
        by_day = [await stats.heat_map(session, ALL, Measure.REVENUE, day, day)
                  for day in [*october, date(2026, 11, 1), date(2026, 11, 2)]]
    one_by_one = {cell: sum(day[cell] for day in by_day[:31]) for cell in whole}
    assert whole == one_by_one and any(whole.values())
    assert more == {cell: sum(day[cell] for day in by_day) for cell in whole}


async def test_today_sums_the_local_day_so_far(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.sessionmaker() as session, session.begin():
        await rollups.apply(session, rollups.bulk_rows([
            ticket(now, 1000, payments=cash(1000)),
            ticket(now, 600, site=2),
            bill(now, 3000, method="card", payments=[]),
            brew(now, 150, site=2),
            submitted(now, 3000),
            ticket(now - timedelta(days=2), 5000),
        ], {COMPANY: PARIS}))
    async with db.sessionmaker() as session:
        summary = await stats.today(session, ALL, now)
        mine = await stats.today(session, FIRST_ONLY, now)
        assert (await stats.today(session, ALL, now - timedelta(days=2))).revenue == 5000
    assert (summary.revenue, summary.tickets, summary.basket, summary.brews, summary.orders) == (
        4750, 3, 1533, 1, 1)
    assert summary.by_site == {1: 4000, 2: 750}
    assert summary.by_channel == {"counter": 1600, "tables": 3000, "machines": 150}
    assert summary.by_method == {"cash": 1000, "card": 3600, "credit": 150}
    assert (mine.revenue, mine.tickets, mine.by_site) == (4000, 2, {1: 4000})
