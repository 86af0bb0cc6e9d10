"""Sockets brought back to the database's state when the bus lost messages.

Pub/sub keeps nothing for a subscriber that was away. While the bus is down, and when it is
back, each process compares the versions its sockets hold with the database's (one query
for every topic it watches) and sends a fresh snapshot of each topic that moved to the
sockets behind on it: one read per topic, however many sockets watch it, and nothing for
the topics that did not move. Clients do nothing but follow versions (docs/realtime.md),
so a venue of thousands of screens does not ask for thousands of snapshots at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import on_postgresql
from realtime.models import current_version, versions_of
from realtime.topics import TopicKind, parse
from telemetry import metrics

if TYPE_CHECKING:
    from realtime.hub import Connection, Hub

log = logging.getLogger(__name__)

CONCURRENT_READS = 4  # topics read at once: the database serves the requests too


@contextlib.asynccontextmanager
async def consistent_read(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A read-only transaction whose statements all see one committed state: a topic's
    version and its view must agree."""
    async with sessionmaker() as session:
        if on_postgresql(session):
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
        finally:
            await session.rollback()


async def read_view(
    session: AsyncSession, hub: Hub, kind: TopicKind, args: list[str], topic: str
) -> tuple[int, dict[str, Any]]:
    """The topic's version and view, read once per version however many sockets ask
    (every time, for a kind whose view changes without a version: see topics.TopicKind)."""
    version = await current_version(session, topic)
    shared = getattr(kind, "cache_snapshots", True)
    view = hub.snapshots.view(topic, version) if shared else None
    if view is None:
        view = await kind.snapshot(session, args)
        view["version"] = version
        if shared:
            hub.snapshots.keep(topic, version, view)
    return version, view


async def catch_up(hub: Hub, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Send a fresh snapshot to every socket behind the database; how many topics moved."""
    watched = list(hub.topics)
    if not watched:
        return 0
    async with consistent_read(sessionmaker) as session:
        versions = await versions_of(session, watched)
    moved = [topic for topic in watched if _behind(hub, topic, versions.get(topic, 0))]
    gate = asyncio.Semaphore(CONCURRENT_READS)

    async def refresh(topic: str) -> None:
        async with gate:
            try:
                await _refresh(hub, sessionmaker, topic)
            except Exception:  # one topic's failure must not hold the others back
                log.exception("could not read %s to catch its sockets up", topic)

    await asyncio.gather(*(refresh(topic) for topic in moved))
    return len(moved)


def _behind(hub: Hub, topic: str, version: int) -> list[Connection]:
    """The topic's sockets holding an older version (a socket reading its own snapshot
    right now is left to it: what it reads is fresh)."""
    return [
        conn for conn in hub.topics.get(topic, ())
        if conn.versions.get(topic, 0) < version and not conn.is_loading(topic)
    ]


async def _refresh(hub: Hub, sessionmaker: async_sessionmaker[AsyncSession], topic: str) -> None:
    parsed = parse(topic)
    if parsed is None:
        return
    kind, args = parsed
    async with consistent_read(sessionmaker) as session:
        version, view = await read_view(session, hub, kind, args, topic)
    # Events newer than this snapshot that arrived meanwhile were sent as usual: a socket
    # that has one already skips the snapshot (and, if it missed one before it, sees the
    # gap and asks for its own snapshot, as the protocol says).
    for conn in _behind(hub, topic, version):
        conn.versions[topic] = version
        conn.send(hub.snapshot_text(kind, topic, version, view, conn))
        metrics.SNAPSHOTS_SENT.labels("catch_up").inc()
    hub.caught_up(topic, version)  # events held for versions the bus lost wait no more
