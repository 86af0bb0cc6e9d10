"""The per-process hub: one bus subscription, fanned out to local sockets.

Each message is parsed once and each (audience, locale, format) cut of it is rendered
once, however many sockets receive it. Each socket has a bounded queue: one that falls
too far behind is closed with a "resync" reason instead of slowing the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from realtime.bus import Bus
from realtime.topics import TopicKind, Viewer, parse

log = logging.getLogger(__name__)

CLOSE_RESYNC = 4000  # websocket close code: reconnect and fetch snapshots


def text_frame(data: bytes) -> bytes:
    """An unmasked, unfragmented websocket text frame (RFC 6455 §5.2), as servers send."""
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + data


class Outgoing(str):
    """A message's text that many sockets send: its websocket frame is encoded once."""

    @property
    def frame(self) -> bytes:
        cached: bytes | None = self.__dict__.get("_frame")
        if cached is None:
            cached = self.__dict__["_frame"] = text_frame(self.encode())
        return cached


class Outbox:
    """A bounded FIFO with a single consumer, for the hot path of every socket.

    The subset of asyncio.Queue the hub and its sender use, at a fraction of the cost:
    no task accounting, and one waiter future at most (only the socket's sender waits).
    """

    __slots__ = ("_items", "_maxsize", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._items: deque[str | None] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: str | None) -> None:
        if len(self._items) >= self._maxsize:
            raise asyncio.QueueFull
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> str | None:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.popleft()

    async def get(self) -> str | None:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class Connection:
    """One websocket's subscriptions, versions and bounded send queue."""

    def __init__(self, viewer: Viewer, fmt: str, queue_size: int) -> None:
        self.viewer = viewer
        self.fmt = fmt
        self.queue = Outbox(queue_size)
        self.versions: dict[str, int] = {}
        self.loading: dict[str, list[tuple[int, str]]] = {}
        self.overflowed = False
        # Set by the websocket server when it can write a frame at once (returns False when
        # it cannot: backpressure, closing). Used only while nothing waits in the queue and
        # the sender holds nothing, so frames never overtake each other.
        self.direct: Callable[[str], bool] | None = None
        self.busy = False  # the sender took a frame from the queue and has not sent it yet

    def send(self, text: str) -> None:
        if self.overflowed:
            return
        if (
            self.direct is not None
            and not self.busy
            and not self.queue._items
            and self.direct(text)
        ):
            return  # written now: no queue, no task switch
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed = True
            # Make room for the sentinel so the sender wakes up and closes the socket.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    def offer(self, topic: str, version: int, text: str) -> None:
        if topic in self.loading:
            self.loading[topic].append((version, text))
            return
        if version <= self.versions.get(topic, 0):
            return  # already included in what this socket has
        self.versions[topic] = version
        self.send(text)

    def begin_snapshot(self, topic: str) -> None:
        self.loading[topic] = []

    def end_snapshot(self, topic: str, version: int, text: str) -> None:
        buffered = self.loading.pop(topic, [])
        self.versions[topic] = version
        self.send(text)
        for event_version, event_text in sorted(buffered, key=lambda item: item[0]):
            self.offer(topic, event_version, event_text)


def bus_notice(up: bool) -> str:
    """Tells a socket to fetch snapshots again; while the bus is down, on a timer."""
    return json.dumps({"type": "resync", "bus": "up" if up else "down"})


class Snapshots:
    """Views read for subscriptions, by topic and version, kept for a short while.

    When many sockets subscribe at once (a venue opening, a worker restart, every socket
    resyncing after Redis came back), each topic is read from the database once per version,
    and each cut of it framed once, instead of once per socket. A version names one committed
    state, so a view read at that version is the view at that version; the time-to-live
    bounds how stale the few time-dependent parts of a view (the POS's PIN-lockout alerts)
    can get.
    """

    def __init__(self, ttl: float = 1.0, limit: int = 4096) -> None:
        self.ttl = ttl
        self.limit = limit
        # topic -> (version, read at, view, frames by cut)
        self._entries: dict[str, tuple[int, float, dict[str, Any], dict[Any, str]]] = {}

    def view(self, topic: str, version: int) -> dict[str, Any] | None:
        entry = self._entries.get(topic)
        if entry is None or entry[0] != version or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[2]

    def keep(self, topic: str, version: int, view: dict[str, Any]) -> None:
        if len(self._entries) >= self.limit:
            now = time.monotonic()
            for name, entry in list(self._entries.items()):
                if now - entry[1] > self.ttl:
                    del self._entries[name]
            if len(self._entries) >= self.limit:
                self._entries.clear()
        self._entries[topic] = (version, time.monotonic(), view, {})

    def frame(self, topic: str, version: int, cut: Any, make: Callable[[], str]) -> str:
        """The framed snapshot for one cut (audience, locale, format), made once."""
        entry = self._entries.get(topic)
        if entry is None or entry[0] != version:
            return make()
        text = entry[3].get(cut)
        if text is None:
            text = entry[3][cut] = Outgoing(make())
        return text


class Hub:
    def __init__(self) -> None:
        self.topics: dict[str, set[Connection]] = {}
        self.connections: set[Connection] = set()
        self.bus_up = True  # a socket that connects while it is down must be told
        self.snapshots = Snapshots()

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)

    def remove(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for topic in list(conn.versions) + list(conn.loading):
            self.unwatch(conn, topic)

    def watch(self, conn: Connection, topic: str) -> None:
        self.topics.setdefault(topic, set()).add(conn)

    def unwatch(self, conn: Connection, topic: str) -> None:
        conns = self.topics.get(topic)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.topics[topic]

    async def run(self, bus: Bus) -> None:
        async with bus.listen() as messages:
            async for message in messages:
                if message.resync:
                    self.resync_all(bus.healthy)
                    continue
                try:
                    self.dispatch(message.topic, message.payload)
                except Exception:
                    # One bad message must not end live updates for the whole process;
                    # sockets that missed it see a version gap and fetch a snapshot.
                    log.exception("could not dispatch a message on %s", message.topic)

    def resync_all(self, bus_healthy: bool) -> None:
        self.bus_up = bus_healthy
        text = bus_notice(bus_healthy)
        for conn in list(self.connections):
            conn.send(text)

    def dispatch(self, topic: str, payload: str) -> None:
        conns = self.topics.get(topic)
        if not conns:
            return
        parsed = parse(topic)
        if parsed is None:
            return
        kind, _ = parsed
        message = json.loads(payload)
        version = int(message["version"])
        # Every cut is made once per message, and the full JSON cut is the payload itself.
        cache: dict[tuple[str, str, str], str] = {("full", "", "json"): Outgoing(payload)}
        for conn in list(conns):
            text = self._cut(kind, message, conn, cache)
            conn.offer(topic, version, text)

    @staticmethod
    def _cut(
        kind: TopicKind,
        message: dict[str, Any],
        conn: Connection,
        cache: dict[tuple[str, str, str], str],
    ) -> str:
        data = message["data"]
        audience = kind.audience(data["view"], conn.viewer)
        key = (audience, conn.viewer.locale if conn.fmt == "html" else "", conn.fmt)
        text = cache.get(key)
        if text is None:
            text = Outgoing(frame(kind, message, data["view"], data.get("change"), audience, conn))
            cache[key] = text
        return text


def frame(
    kind: TopicKind,
    message: dict[str, Any],
    view: dict[str, Any],
    change: dict[str, Any] | None,
    audience: str,
    conn: Connection,
) -> str:
    """A snapshot or an event as one socket's format and audience need it."""
    out = {k: message[k] for k in ("type", "topic", "version", "event") if k in message}
    if audience != "full":
        change = None  # what happened, and who did it, is for members and staff only
    if conn.fmt == "html":
        out.update(kind.render(view, message.get("event"), change, audience, conn.viewer.locale))
    else:
        shown = kind.present(view, audience)
        out["data"] = {"change": change, "view": shown} if message["type"] == "event" else shown
    return json.dumps(out, separators=(",", ":"), default=str)
