"""Keeping stat_rollup current from the rooms' domain events, and rebuilding it from them.

A subscriber hears each counted event once in effect (the outbox's delivery key commits with
its increments), adds them with one UPSERT per row (`count = count + excluded.count`…), and
bumps the company's live topic `stats:{company}` so that open screens read their figures
again. `rebuild` deletes the rollups and replays every event of the outbox, in recorded
order, through the same pure function (backoffice/facts.py); `apply` also serves a bulk
seeder (thousands of events, one executemany).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from backoffice.facts import VALUES, Key, aggregate, facts
from backoffice.models import StatRollup
from backoffice.stats_topic import stats_changed
from domain.events import (
    BrewFinished,
    DomainEvent,
    PaymentRefunded,
    PaymentSettled,
    RoundSubmitted,
    TableFreed,
    TableSettled,
    TicketRecorded,
)
from domain.models import EventDelivery, OutboxEvent
from domain.subscribers import subscribe
from realtime.events import Tx

SUBSCRIBER = "backoffice.rollups"  # the deliveries' key: keep it
HEARD: tuple[type[DomainEvent], ...] = (
    TicketRecorded, TableSettled, TableFreed, BrewFinished, RoundSubmitted, PaymentSettled,
    PaymentRefunded,
)
KEY = ("company_id", "grain", "bucket", "site_id", "measure", "dim_kind", "dim_id")
BATCH = 5000  # events replayed per round trip of a rebuild


async def zone_of(session: AsyncSession, company_id: int) -> str:
    company = await session.get(Company, company_id)
    return company.timezone if company is not None else "UTC"


async def heard(tx: Tx, event: DomainEvent) -> None:
    """A counted event: its rows added, the company's screens told."""
    company_id = getattr(event, "company_id", None)
    if company_id is None:
        return
    found = facts(event, await zone_of(tx.session, company_id))
    if found:
        await apply(tx.session, rows_of(aggregate(found)))
        await stats_changed(tx, company_id)


def rows_of(sums: Mapping[Key, tuple[int, int, int, int]]) -> list[dict[str, Any]]:
    """Aggregated facts as rows of stat_rollup (dicts for one executemany)."""
    return [dict(zip(KEY + VALUES, key + values, strict=True))
            for key, values in sums.items() if any(values)]


async def apply(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add `rows` to stat_rollup: one statement, executed for each row (an executemany)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(StatRollup)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: getattr(StatRollup, name) + getattr(stmt.excluded, name)
              for name in VALUES},
    )
    connection = await session.connection()  # Core: no ORM work for thousands of rows
    await connection.execute(stmt, list(rows))


def bulk_rows(events: Iterable[DomainEvent], zones: Mapping[int, str]) -> list[dict[str, Any]]:
    """The rows a batch of events adds, added up (a seeder writes them with `apply`):
    `zones`, each company's time zone."""
    return rows_of(aggregate(
        fact for event in events
        for fact in facts(event, zones.get(getattr(event, "company_id", 0), "UTC"))
    ))


async def rebuild(session: AsyncSession, company_id: int | None = None) -> int:
    """Delete the rollups (of one company, or all) and replay every event of the outbox in
    recorded order; returns how many events counted. Each replayed event is marked as
    heard by the subscriber, so that a delivery still on its way adds nothing twice. Run in
    the caller's transaction."""
    wipe = delete(StatRollup)
    if company_id is not None:
        wipe = wipe.where(StatRollup.company_id == company_id)
    await session.execute(wipe.execution_options(synchronize_session=False))
    names = [kind.name for kind in HEARD]
    zones: dict[int, str] = {}
    counted = 0
    after: tuple[datetime, str] | None = None
    while True:  # pages in recorded order, each its own round trip (no cursor held open)
        query = (select(OutboxEvent.recorded_at, OutboxEvent.id, OutboxEvent.name,
                        OutboxEvent.payload)
                 .where(OutboxEvent.name.in_(names))
                 .order_by(OutboxEvent.recorded_at, OutboxEvent.id).limit(BATCH))
        if after is not None:
            query = query.where(tuple_(OutboxEvent.recorded_at, OutboxEvent.id) > after)
        page = (await session.execute(query)).all()
        if not page:
            return counted
        after = (page[-1][0], page[-1][1])
        batch: list[DomainEvent] = []
        for _, _, name, payload in page:
            event = DomainEvent.parse(name, payload)
            owner = getattr(event, "company_id", None)
            if owner is None or company_id is not None and owner != company_id:
                continue
            if owner not in zones:
                zones[owner] = await zone_of(session, owner)
            batch.append(event)
        counted += await _replay(session, batch, zones)


async def _replay(session: AsyncSession, events: list[DomainEvent],
                  zones: Mapping[int, str]) -> int:
    if not events:
        return 0
    await apply(session, bulk_rows(events, zones))
    now = datetime.now(UTC)
    dialect = session.get_bind().dialect.name
    mark = (pg_insert if dialect == "postgresql" else sqlite_insert)(EventDelivery)
    connection = await session.connection()
    await connection.execute(mark.on_conflict_do_nothing(), [
        {"event_id": str(event.id), "subscriber": SUBSCRIBER, "delivered_at": now}
        for event in events
    ])
    return len(events)


def register() -> None:
    for kind in HEARD:
        subscribe(kind, SUBSCRIBER, heard)

