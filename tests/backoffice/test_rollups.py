"""The rollups kept by the events (backoffice/rollups.py), on both databases: each event adds
once however often it is delivered, the company's screens are told, and a rebuild from the
outbox gives the same rows as the live ones, after any sequence of sales, refunds, voids,
brews, bills, top-ups and replays (hypothesis)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from accounts.models import Company
from backoffice import rollups, stats
from backoffice.facts import aggregate, facts
from backoffice.models import StatRollup
from backoffice.stats import Measure, Query, Scope
from backoffice.stats_topic import topic_of
from domain import outbox
from domain.events import DomainEvent, PaidPart
from domain.models import EventDelivery, OutboxEvent
from domain.subscribers import unsubscribe
from realtime.bus import Bus, make_bus
from realtime.events import Tx, run
from realtime.models import current_version
from settings import ROOT
from tests.backoffice import stat_events as make
from tests.backoffice.stat_events import PARIS, utc
from tests.conftest import Database

pytestmark = pytest.mark.asyncio
T = TypeVar("T")
Rows = dict[tuple[Any, ...], tuple[int, int, int, int]]


@pytest_asyncio.fixture
async def company(db: Database) -> AsyncIterator[int]:
    """A company in Paris, and the rollups hearing the events (as app.assemble does)."""
    rollups.register()
    async with db.sessionmaker() as session, session.begin():
        found = Company(name="Le Comptoir", timezone=PARIS)
        session.add(found)
        await session.flush()
        company_id = found.id
    yield company_id
    for kind in rollups.HEARD:
        unsubscribe(kind, rollups.SUBSCRIBER)


@pytest_asyncio.fixture
async def memory_bus() -> AsyncIterator[Bus]:
    bus = make_bus(None)
    yield bus
    await bus.close()


async def record(db: Database, bus: Bus, event: DomainEvent) -> None:
    """Recorded in a transaction of its own, and so delivered after commit."""

    async def op(tx: Tx) -> None:
        await outbox.record(tx, event)

    await run(db.sessionmaker, bus, op)


async def rows(db: Database) -> Rows:
    async with db.sessionmaker() as session:
        found = (await session.execute(select(StatRollup))).scalars().all()
    return {(r.company_id, r.grain, r.bucket, r.site_id, r.measure, r.dim_kind, r.dim_id):
            (r.count, r.quantity, r.amount, r.seconds) for r in found
            if (r.count, r.quantity, r.amount, r.seconds) != (0, 0, 0, 0)}


async def test_a_sale_is_counted_once_however_often_delivered(
    db: Database, company: int, memory_bus: Bus
) -> None:
    sale = make.ticket(utc("2026-10-25 01:30"), 1250, company=company)
    async with memory_bus.listen() as heard:
        await record(db, memory_bus, sale)
        published = await outbox.deliver(sale, db.sessionmaker, memory_bus)  # again: nothing
        told = await asyncio.wait_for(anext(heard), 5)
    assert published == []
    assert told.topic == topic_of(company)
    found = await rows(db)
    assert found[(company, "hour", "2026-10-25T02", 1, "sales", "", 0)] == (1, 1, 1250, 0)
    assert found[(company, "month", "2026-10", 1, "sales", "method", 2)] == (1, 0, 1250, 0)
    async with db.sessionmaker() as session:
        assert await current_version(session, topic_of(company)) == 1
        total = await stats.figure(session, Scope(company, None, PARIS),
                                   Query(Measure.REVENUE, utc("2026-10-25 00:00").date(),
                                         utc("2026-10-25 00:00").date()))
    assert total == 1250


async def test_an_event_that_counts_nothing_tells_no_screen(
    db: Database, company: int, memory_bus: Bus
) -> None:
    await record(db, memory_bus, make.ticket(utc("2026-10-25 01:30"), 500, company=company,
                                             training=True))
    assert await rows(db) == {}
    async with db.sessionmaker() as session:
        assert await current_version(session, topic_of(company)) == 0


async def test_a_rebuild_gives_the_live_rows_and_marks_what_it_replayed(
    db: Database, company: int, memory_bus: Bus
) -> None:
    at = utc("2026-03-29 01:30")
    events = [make.ticket(at, 800, company=company), make.brew(at, 120, company=company),
              make.topup(at, 2000, company=company),
              make.ticket(at + timedelta(hours=1), -800, kind="void", company=company)]
    for event in events:
        await record(db, memory_bus, event)
    live = await rows(db)
    assert live == {key: value for key, value in aggregate(
        fact for e in events for fact in facts(e, PARIS)).items() if value != (0, 0, 0, 0)}
    async with db.sessionmaker() as session, session.begin():
        assert await rollups.rebuild(session) == len(events)
    assert await rows(db) == live
    async with db.sessionmaker() as session, session.begin():
        await rollups.rebuild(session, company_id=company + 1)  # another company's: no change
        marked = await session.scalar(select(EventDelivery.event_id).where(
            EventDelivery.subscriber == rollups.SUBSCRIBER).limit(1))
    assert marked is not None
    assert await rows(db) == live


async def test_events_recorded_before_the_rollups_heard_them_count_once_rebuilt(
    db: Database, company: int, memory_bus: Bus
) -> None:
    for kind in rollups.HEARD:
        unsubscribe(kind, rollups.SUBSCRIBER)
    before = make.ticket(utc("2026-03-29 01:30"), 800, company=company)
    await record(db, memory_bus, before)  # nobody heard it: kept as delivered
    rollups.register()
    assert await rows(db) == {}
    done = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "comptoir_cli", "rebuild-stats", "--company", str(company)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "DATABASE_URL": db.url, "SECRET_KEY": "test-secret"})
    assert done.returncode == 0, done.stderr
    assert "from 1 events" in done.stdout
    rebuilt = await rows(db)
    assert rebuilt[(company, "day", "2026-03-29", 1, "sales", "", 0)] == (1, 1, 800, 0)
    await outbox.deliver(before, db.sessionmaker, memory_bus)  # late: marked, adds nothing
    assert await rows(db) == rebuilt


def _at() -> st.SearchStrategy[Any]:
    """Instants around both of Paris's clock changes of 2026, and at month ends."""
    starts = st.sampled_from([utc("2026-03-28 21:00"), utc("2026-10-24 21:00"),
                              utc("2026-05-31 20:00")])
    return st.builds(lambda s, m: s + timedelta(minutes=m), starts,
                     st.integers(min_value=0, max_value=9 * 60))


def _event(company: int) -> st.SearchStrategy[DomainEvent]:
    amount = st.integers(min_value=1, max_value=50_000)
    site = st.integers(min_value=1, max_value=2)
    sale = st.builds(lambda at, a, s, m, t: make.ticket(
        at, a, site=s, payments=[PaidPart(method=m, amount=a)], training=t, company=company),
        _at(), amount, site, st.sampled_from(["cash", "card"]), st.booleans())
    correction = st.builds(lambda at, a, s, k: make.ticket(
        at, -a, site=s, kind=k, company=company), _at(), amount, site,
        st.sampled_from(["refund", "void"]))
    brewed = st.builds(lambda at, a, s, c, o, r: make.brew(
        at, a, site=s, charge=c, outcome=o, refunded=r, company=company), _at(), amount, site,
        st.sampled_from(["none", "credit", "payment"]), st.sampled_from(["served", "failed"]),
        st.booleans())
    billed = st.builds(lambda at, a, s: make.bill(at, a, site=s, company=company), _at(),
                       amount, site)
    topped = st.builds(lambda at, a, r: make.topup(at, a, refunded=r, company=company), _at(),
                       amount, st.booleans())
    return st.one_of(sale, correction, brewed, billed, topped)


async def test_rebuilt_rollups_equal_the_live_ones_after_any_sequence(
    db: Database, company: int, memory_bus: Bus
) -> None:
    loop = asyncio.get_running_loop()

    def wait(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def start_afresh() -> None:
        async with db.sessionmaker() as session, session.begin():
            for table in (StatRollup, EventDelivery, OutboxEvent):
                await session.execute(delete(table))

    steps = st.lists(st.one_of(_event(company), st.integers(min_value=0, max_value=30)),
                     min_size=1, max_size=25)

    @settings(max_examples=15, deadline=None, database=None,
              phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(steps=steps)
    def journey(steps: list[DomainEvent | int]) -> None:
        wait(start_afresh())
        done: list[DomainEvent] = []
        for step in steps:
            if isinstance(step, int):  # a replay: an event delivered again
                if done:
                    wait(outbox.deliver(done[step % len(done)], db.sessionmaker, memory_bus))
                continue
            wait(record(db, memory_bus, step))
            done.append(step)
        live = wait(rows(db))
        expected = {key: value for key, value in aggregate(
            fact for e in done for fact in facts(e, PARIS)).items() if value != (0, 0, 0, 0)}
        assert live == expected

        async def rebuilt() -> Rows:
            async with db.sessionmaker() as session, session.begin():
                await rollups.rebuild(session)
            return await rows(db)

        assert wait(rebuilt()) == live

    await asyncio.to_thread(journey)
