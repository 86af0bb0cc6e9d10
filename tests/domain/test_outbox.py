"""Domain events through the outbox, on both databases: heard after commit, once in effect,
never when their transaction rolled back, retried by the sweeper when a subscriber fails.

A subscriber's effect here is a topic's version bumped in its delivery's transaction: a
failed attempt rolls its bump back, so the version counts the effects that committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from domain.events import DomainEvent, TableSettled
from domain.models import EventDelivery, OutboxEvent
from domain.outbox import HANDED_ON_WITHIN, deliver, record
from domain.outbox_sweeper import backoff, sweep_once
from domain.subscribers import subscribe, unsubscribe
from realtime.bus import Bus
from realtime.events import Tx, run, transaction
from realtime.models import bump_version, current_version
from tests.conftest import Database

pytestmark = pytest.mark.asyncio
EFFECT = "test:settled-tables"


@pytest.fixture
def bus_url() -> None:
    """The bus plays no part here; realtime tests cover Redis."""
    return None


@dataclass
class Counter:
    """A subscriber that fails its first `failures` attempts, then counts the table."""

    failures: int = 0
    attempts: int = 0
    heard: list[DomainEvent] = field(default_factory=list)

    async def __call__(self, tx: Tx, event: TableSettled) -> None:
        self.attempts += 1
        await bump_version(tx.session, EFFECT)  # rolled back with the attempt if it fails
        if self.attempts <= self.failures:
            raise RuntimeError("the subscriber is down")
        self.heard.append(event)


@pytest_asyncio.fixture
async def counter() -> AsyncIterator[Counter]:
    counting = Counter()
    subscribe(TableSettled, "test.counter", counting)
    yield counting
    unsubscribe(TableSettled, "test.counter")


def settled(amount: int = 4200) -> TableSettled:
    return TableSettled(
        company_id=1, site_id=1, table_id=7, session_id=70, amount=amount, currency="EUR",
        method="cash", staff_id=3,
    )


async def effects(db: Database) -> int:
    async with db.sessionmaker() as session:
        return await current_version(session, EFFECT)


async def pending(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.retry_at.is_not(None))
        ) or 0)


async def test_a_settled_table_is_heard_once_its_transaction_committed(
    db: Database, bus: Bus, counter: Counter
) -> None:
    event = settled()

    async def settle(tx: Tx) -> None:
        await record(tx, event)
        assert counter.heard == []  # not before the commit

    await run(db.sessionmaker, bus, settle)

    assert counter.heard == [event]  # already heard when the runner returns
    assert await effects(db) == 1
    assert await pending(db) == 0
    assert await sweep_once(db.sessionmaker, bus, datetime.now(UTC) + timedelta(days=1)) == 0
    assert await effects(db) == 1


async def test_a_subscriber_that_fails_twice_still_counts_the_table_once(
    db: Database, bus: Bus, counter: Counter
) -> None:
    counter.failures = 2
    event = settled()
    await run(db.sessionmaker, bus, lambda tx: record(tx, event))
    assert counter.attempts == 1 and counter.heard == []
    assert await effects(db) == 0 and await pending(db) == 1

    now = datetime.now(UTC)
    # A fresh event is left to the process that recorded it.
    assert await sweep_once(db.sessionmaker, bus, now) == 0
    later = now + HANDED_ON_WITHIN + timedelta(seconds=1)
    assert await sweep_once(db.sessionmaker, bus, later) == 1  # fails again
    assert counter.attempts == 2 and await effects(db) == 0
    assert await sweep_once(db.sessionmaker, bus, later) == 0  # backing off
    assert await sweep_once(db.sessionmaker, bus, later + backoff(1)) == 1

    assert counter.heard == [event]
    assert await effects(db) == 1
    assert await pending(db) == 0
    assert await sweep_once(db.sessionmaker, bus, later + timedelta(days=1)) == 0
    assert counter.attempts == 3 and await effects(db) == 1


async def test_an_event_is_not_heard_when_its_transaction_rolls_back(
    db: Database, bus: Bus, counter: Counter
) -> None:
    async def settle_then_fail(tx: Tx) -> None:
        await record(tx, settled())
        raise RuntimeError("the settlement fails after recording")

    with pytest.raises(RuntimeError):
        async with transaction(db.sessionmaker, bus) as tx:
            await settle_then_fail(tx)

    assert counter.attempts == 0
    assert await sweep_once(db.sessionmaker, bus, datetime.now(UTC) + timedelta(days=1)) == 0
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert counter.attempts == 0 and await effects(db) == 0


async def test_two_sweepers_at_once_make_one_effect(
    db: Database, bus: Bus, counter: Counter
) -> None:
    counter.failures = 1
    await run(db.sessionmaker, bus, lambda tx: record(tx, settled()))
    later = datetime.now(UTC) + HANDED_ON_WITHIN + timedelta(seconds=1)

    claimed = await asyncio.gather(
        *(sweep_once(db.sessionmaker, bus, later) for _ in range(4))
    )

    assert sorted(claimed) == [0, 0, 0, 1]
    assert len(counter.heard) == 1 and await effects(db) == 1


async def test_the_same_event_delivered_twice_at_once_makes_one_effect(
    db: Database, bus: Bus, counter: Counter
) -> None:
    """Were two processes to deliver one event together, its key keeps one effect."""
    counter.failures = 1
    event = settled()
    await run(db.sessionmaker, bus, lambda tx: record(tx, event))

    await asyncio.gather(*(deliver(event, db.sessionmaker, bus) for _ in range(3)))

    assert len(counter.heard) == 1 and await effects(db) == 1
    async with db.sessionmaker() as session:
        keys = (await session.execute(select(EventDelivery.event_id, EventDelivery.subscriber)
                                      .where(EventDelivery.subscriber == "test.counter")))
        assert keys.all() == [(str(event.id), "test.counter")]
    assert await pending(db) == 0


async def test_each_subscriber_hears_the_event_whatever_another_one_does(
    db: Database, bus: Bus, counter: Counter
) -> None:
    counter.failures = 1
    other = Counter()
    subscribe(TableSettled, "test.other", other)
    try:
        await run(db.sessionmaker, bus, lambda tx: record(tx, settled()))
        assert len(other.heard) == 1 and counter.heard == []
        later = datetime.now(UTC) + HANDED_ON_WITHIN + timedelta(seconds=1)
        assert await sweep_once(db.sessionmaker, bus, later) == 1
    finally:
        unsubscribe(TableSettled, "test.other")

    assert len(other.heard) == 1 and len(counter.heard) == 1  # the other was not repeated
    assert await effects(db) == 2


async def test_an_event_nobody_hears_is_kept_as_delivered(db: Database, bus: Bus) -> None:
    event = settled()
    await run(db.sessionmaker, bus, lambda tx: record(tx, event))
    async with db.sessionmaker() as session:
        row = await session.get(OutboxEvent, str(event.id))
        assert row is not None and row.retry_at is None and row.delivered_at is not None
        assert DomainEvent.parse(row.name, row.payload) == event
