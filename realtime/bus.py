"""The bus: one interface, an in-process backend and a Redis pub/sub backend.

Every process holds one subscription to every topic and hands messages to its own
sockets (realtime/hub.py), so the number of Redis connections never grows with sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from realtime.cuts import Wanted
from telemetry import metrics

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "comptoir:"
PROBE_CHANNEL = CHANNEL_PREFIX + "_probe"  # not a topic (no kind): never reaches the hub
PROBE_BYTES = PROBE_CHANNEL.encode()
PROBE_S = 5.0  # how often each listener times a message of its own through Redis
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)  # Redis away: reconnect, resync

@dataclass(frozen=True)
class BusMessage:
    """A payload for a topic, or a notice that the bus lost and regained messages."""

    topic: str
    payload: str
    resync: bool = False

class Bus(Protocol):
    # The cuts of each kind of topic that the hubs announced (realtime/cuts.py): what
    # this process makes ahead when it publishes.
    wanted: Wanted

    @property
    def healthy(self) -> bool: ...

    async def publish(self, topic: str, payload: str) -> None: ...

    def listen(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[BusMessage]]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

class MemoryBus:
    """In-process bus: the default, for one process."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[BusMessage]] = set()
        self.wanted = Wanted()

    @property
    def healthy(self) -> bool:
        return True

    async def publish(self, topic: str, payload: str) -> None:
        message = BusMessage(topic, payload)
        for queue in self._queues:
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[BusMessage]]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue()
        self._queues.add(queue)

        async def messages() -> AsyncIterator[BusMessage]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues.discard(queue)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._queues.clear()

class RedisBus:
    """Redis pub/sub: one pattern subscription per process, reconnecting on its own.

    Pub/sub keeps nothing for a subscriber that was away, so after every reconnection
    the listener yields a resync notice and the hub makes its sockets fetch snapshots.
    """

    def __init__(
        self, url: str, *, retry_delay: float = 0.2, probe_s: float = PROBE_S
    ) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # After a Redis restart a pooled connection is stale: publishing retries once on a
        # fresh one (a duplicate is harmless, screens drop versions they already have).
        self._redis = redis.Redis.from_url(
            url, health_check_interval=5, retry=Retry(NoBackoff(), 1)
        )
        # The subscriber must not reconnect behind our back: redis-py would resubscribe
        # silently and nobody would learn that messages were lost meanwhile.
        self._subscriber = redis.Redis.from_url(
            url, health_check_interval=5, retry=Retry(NoBackoff(), 0)
        )
        self._url = url
        self._retry_delay = retry_delay
        self._healthy = False
        self._probe_s = probe_s
        self._probe_id = secrets.token_hex(4)  # this process's probes; others' are ignored
        self.wanted = Wanted()

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def publish(self, topic: str, payload: str) -> None:
        await self._redis.publish(CHANNEL_PREFIX + topic, payload)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[BusMessage]]:
        # Subscribed before the block starts, as with MemoryBus: whatever is published
        # from then on reaches this listener.
        try:
            pubsub = await self._subscribe()
        except _LOST:
            pubsub = None
        messages = self._messages(pubsub)
        probing = asyncio.create_task(self._probe())
        try:
            yield messages
        finally:
            probing.cancel()
            await messages.aclose()

    async def _subscribe(self) -> Any:
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        self._healthy = True
        return pubsub

    async def _messages(self, pubsub: Any) -> AsyncGenerator[BusMessage, None]:
        try:
            if pubsub is None:
                yield BusMessage("", "", resync=True)  # down from the start: sockets poll
            while True:
                try:
                    if pubsub is None:
                        pubsub = await self._subscribe()
                        metrics.BUS_RECONNECTS.inc()
                        log.info("bus reconnected")
                        yield BusMessage("", "", resync=True)
                    while True:
                        message = await pubsub.get_message(timeout=None)
                        if message is None or message["type"] != "pmessage":
                            continue
                        if message["channel"] == PROBE_BYTES:
                            self._probed(message["data"])
                            continue
                        topic = message["channel"].decode()[len(CHANNEL_PREFIX) :]
                        yield BusMessage(topic, message["data"].decode())
                except _LOST:
                    if pubsub is not None:
                        metrics.BUS_LOST.inc()
                        log.warning("bus connection lost; retrying")
                        self._healthy = False  # before the notice: the hub reports "down"
                        with contextlib.suppress(Exception):
                            await pubsub.aclose()
                        pubsub = None
                        yield BusMessage("", "", resync=True)
                    await asyncio.sleep(self._retry_delay)
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _probe(self) -> None:
        """Publish a timed message of this process's own now and then: its round trip to
        the listener is the bus's lag as this process lives it (a listener behind on its
        messages reads the probe late too)."""
        while True:
            await asyncio.sleep(self._probe_s)
            with contextlib.suppress(Exception):  # the bus is away: the listener says so
                await self._redis.publish(
                    PROBE_CHANNEL, f"{self._probe_id} {time.monotonic()!r}"
                )

    def _probed(self, data: bytes) -> None:
        sender, _, sent = data.decode().partition(" ")
        if sender == self._probe_id:
            metrics.BUS_LAG.observe(time.monotonic() - float(sent))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._subscriber.aclose()
        await self._redis.aclose()


def make_bus(url: str | None) -> Bus:
    if not url or url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url)
    raise ValueError(f"unsupported bus URL: {url}")

