"""Recording facts in the outbox and handing them to their subscribers, at least once.

`record` writes the event in the caller's transaction: a rollback takes it away with
everything else. Once that transaction committed, the runner hands it to each subscriber
at once (the request's answer already shows the reactions); each delivery is a transaction
of its own that inserts the (event, subscriber) key beside the subscriber's effects, so a
repeated delivery changes nothing. What failed is retried by the sweeper (outbox_sweeper).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import DomainEvent
from domain.models import EventDelivery, OutboxEvent
from domain.subscribers import Subscriber, subscribers_of
from realtime.bus import Bus
from realtime.events import Event, Tx, run
from telemetry import request_id

log = logging.getLogger(__name__)

# The sweeper leaves a fresh event to the process that recorded it for this long.
HANDED_ON_WITHIN = timedelta(seconds=30)


async def record(tx: Tx, event: DomainEvent) -> None:
    """Keep `event` with the transaction's changes; its subscribers hear it after commit.

    An event nobody subscribes to is kept as delivered: for the record, not for a sweep.
    """
    now = datetime.now(UTC)
    heard = bool(subscribers_of(event.name))
    connection = await tx.session.connection()  # one Core statement, no ORM work
    await connection.execute(
        insert(OutboxEvent).values(
            id=str(event.id), name=event.name, payload=event.model_dump_json(),
            recorded_at=now, attempts=0,
            retry_at=now + HANDED_ON_WITHIN if heard else None,
            delivered_at=None if heard else now,
        )
    )
    if heard:
        tx.after_commit.append(partial(deliver, event))
    log.debug("recorded %s %s", event.name, event.id)


async def deliver(
    event: DomainEvent, sessionmaker: async_sessionmaker[AsyncSession], bus: Bus
) -> list[Event]:
    """Hand a committed event to each of its subscribers; returns what they published.

    A subscriber that fails is logged and left to the sweeper; once all have it, the
    event leaves the sweeper's sight. What delivering does is done, and logged, on behalf
    of the request the event happened in, even when the sweeper retries it later.
    """
    with request_id.bound(event.request_id):
        return await _deliver(event, sessionmaker, bus)


async def _deliver(
    event: DomainEvent, sessionmaker: async_sessionmaker[AsyncSession], bus: Bus
) -> list[Event]:
    published: list[Event] = []
    complete = True
    for subscriber in subscribers_of(event.name):
        try:
            published.extend(await _deliver_to(subscriber, event, sessionmaker, bus))
        except Exception:
            log.exception("subscriber %s failed on %s %s", subscriber.name, event.name, event.id)
            complete = False
    if complete:
        await run(sessionmaker, bus, partial(_delivered, str(event.id)))
    return published


async def _deliver_to(
    subscriber: Subscriber, event: DomainEvent,
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus,
) -> list[Event]:
    committed: list[Tx] = []

    async def op(tx: Tx) -> None:
        committed.clear()
        first = await tx.session.scalar(
            _insert_for(tx.session.get_bind().dialect.name)(EventDelivery)
            .values(event_id=str(event.id), subscriber=subscriber.name,
                    delivered_at=datetime.now(UTC))
            .on_conflict_do_nothing()
            .returning(EventDelivery.event_id)
        )
        if first is None:
            return  # it has it already (an earlier attempt, another process)
        await subscriber.handle(tx, event)
        committed.append(tx)

    await run(sessionmaker, bus, op)
    if committed:
        log.info("%s heard %s %s", subscriber.name, event.name, event.id,
                 extra={"event": event.name, "event_id": str(event.id)})
    return [e for tx in committed for e in (*tx.events, *tx.reactions)]


async def _delivered(event_id: str, tx: Tx) -> None:
    await tx.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id)
        .values(retry_at=None, delivered_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )


def _insert_for(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert
