"""Retries the outbox's undelivered events; safe to run in every process at once.

An event is claimed by a conditional update on its attempt count, so of two sweepers one
takes it; were both to deliver it anyway, each delivery's key keeps the effects once.
Each attempt pushes the next one further away, up to a cap: a subscriber that keeps
failing is retried, slowly, until it is fixed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import changed
from domain.events import DomainEvent
from domain.models import OutboxEvent
from domain.outbox import deliver
from realtime.bus import Bus
from realtime.events import Tx, run

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LAST_RETRY = timedelta(minutes=10)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th try an event is tried again."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LAST_RETRY)


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, now: datetime | None = None
) -> int:
    """Try the events due by `now` once more; returns how many this process claimed."""
    now = now or datetime.now(UTC)
    async with sessionmaker() as session:
        due = (
            await session.execute(
                select(OutboxEvent.id, OutboxEvent.name, OutboxEvent.payload,
                       OutboxEvent.attempts)
                .where(OutboxEvent.retry_at <= now)
                .order_by(OutboxEvent.retry_at)
                .limit(BATCH)
            )
        ).all()
    claimed = 0
    for event_id, name, payload, attempts in due:
        if not await run(sessionmaker, bus, partial(_claim, event_id, attempts, now)):
            continue  # another process has it
        claimed += 1
        try:
            event = DomainEvent.parse(name, payload)
        except (KeyError, ValueError):
            log.exception("outbox event %s (%s) cannot be read", event_id, name)
            continue
        await deliver(event, sessionmaker, bus)
    return claimed


async def _claim(event_id: str, attempts: int, now: datetime, tx: Tx) -> bool:
    moved = await tx.session.execute(
        update(OutboxEvent)
        .where(
            OutboxEvent.id == event_id, OutboxEvent.attempts == attempts,
            OutboxEvent.retry_at.is_not(None),
        )
        .values(attempts=attempts + 1, retry_at=now + backoff(attempts + 1))
        .execution_options(synchronize_session=False)
    )
    return changed(moved) == 1
