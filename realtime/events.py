"""Events and the transaction that emits them: published only after commit."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.bus import Bus
from realtime.cuts import made_ahead
from realtime.models import bump_version
from telemetry import metrics, request_id

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    """What a screen receives: the topic's new version, what happened and the new view;
    and the id of the request that made the change, when a request did (logs tie the
    two together)."""

    topic: str
    version: int
    type: str
    data: dict[str, Any]
    request_id: str | None = field(default_factory=request_id.current, kw_only=True)

    def to_json(self) -> str:
        return json.dumps(
            {"type": "event", "topic": self.topic, "version": self.version,
             "event": self.type, "data": self.data, **self._request()},
            separators=(",", ":"), default=str,
        )

    def _request(self) -> dict[str, str]:
        return {"request_id": self.request_id} if self.request_id else {}


@dataclass(frozen=True)
class Frame(Event):
    """What a device receives rather than a screen: a message in its own protocol's shape
    (`data`), versioned on its topic like any event.

    The hub sends the frame's text as is to every socket watching the topic, in version
    order, with no view to cut or render: a topic of frames keeps its watchers out by
    authorisation alone. On the bus it travels already encoded, so nobody encodes it again.
    """

    def to_json(self) -> str:
        return json.dumps(
            {"type": "frame", "topic": self.topic, "version": self.version,
             "frame": json.dumps(self.data, separators=(",", ":"), default=str),
             **self._request()},
            separators=(",", ":"),
        )


ViewBuilder = Callable[[], Awaitable[dict[str, Any]]]
# Work a transaction hands on once it committed (domain/outbox.py delivers its facts so);
# it returns the screen events its own transactions published.
AfterCommit = Callable[["async_sessionmaker[AsyncSession]", Bus], Awaitable[list[Event]]]


@dataclass
class Tx:
    """A unit of work: one database transaction, the events it will publish, and what it
    hands on after commit (`reactions`: the events that work published in turn)."""

    session: AsyncSession
    events: list[Event] = field(default_factory=list)
    after_commit: list[AfterCommit] = field(default_factory=list)
    reactions: list[Event] = field(default_factory=list)

    async def emit(
        self, topic: str, type: str, change: dict[str, Any], view: ViewBuilder,
        version: int | None = None,
    ) -> Event:
        """Bump the topic's version and record an event carrying the change and new view.
        `version`: the one the change's own statement bumped it to (change_and_bump)."""
        if version is None:
            version = await bump_version(self.session, topic)
        data = {"change": change, "view": {**await view(), "version": version}}
        event = Event(topic, version, type, data)
        self.events.append(event)
        return event

    async def send_frame(self, topic: str, frame: dict[str, Any]) -> Frame:
        """Bump the topic's version and record a frame for the devices watching it."""
        version = await bump_version(self.session, topic)
        sent = Frame(topic, version, str(frame.get("type", "")), frame)
        self.events.append(sent)
        return sent


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus
) -> AsyncIterator[Tx]:
    """Commit, then publish, then hand on the work that waited for the commit (awaited, so
    a request's answer already shows it); an exception rolls back and does none of it."""
    async with sessionmaker() as session:
        async with session.begin():
            tx = Tx(session)
            yield tx
    await publish(bus, tx.events)
    for work in tx.after_commit:
        try:
            tx.reactions.extend(await work(sessionmaker, bus))
        except Exception:
            # Committed is committed: the work is retried from the database, not here.
            log.exception("work after commit failed")


async def publish(bus: Bus, events: list[Event]) -> None:
    # The change is committed: a bus failure must not turn it into an error for the
    # client. Screens resync from snapshots when the bus comes back.
    for event in events:
        payload = event.to_json()
        if type(event) is Event:  # a device's frame goes as it is
            try:
                payload = made_ahead(bus.wanted, event.topic, payload)
            except Exception:
                # The hubs make what did not come made: a cut that fails here is not lost.
                log.exception("could not make the cuts of %s v%s", event.topic, event.version)
        try:
            await bus.publish(event.topic, payload)
        except Exception:
            metrics.PUBLISH_FAILURES.inc()
            log.warning("bus publish failed for %s v%s", event.topic, event.version)
        else:
            metrics.EVENTS_PUBLISHED.labels(event.topic.partition(":")[0]).inc()
            log.debug("published %s v%s %s", event.topic, event.version, event.type)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, op: Callable[[Tx], Awaitable[T]]
) -> T:
    """Run a change in its own transaction, publishing after commit: the one runner of HTTP
    routes, websocket and device handlers, and sweepers.

    A unique constraint that refused a concurrent duplicate (two first diners, two
    identical retries) is resolved by running once more: the second run finds what the
    first one committed and returns it.
    """
    for attempt in range(3):
        try:
            async with transaction(sessionmaker, bus) as tx:
                return await op(tx)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
