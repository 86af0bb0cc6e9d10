"""The per-process hub: one bus subscription, fanned out to local sockets.

Each topic's messages go out in version order (realtime/sequencer.py: a version that
overtook the one before it on the bus waits for it, briefly). Each message is parsed once,
and each (audience, locale, format) cut of it comes made from the process that published
it (realtime/cuts.py) or, when it did not, is made here once, however many sockets
receive it. Each socket has a bounded queue: one that falls too far behind is closed with
a "resync" reason instead of slowing the others. When the bus loses messages, the hub
brings its sockets back to the database's state itself (realtime/catch_up.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.bus import Bus
from realtime.catch_up import catch_up
from realtime.cuts import CUTS_TOPIC, RENEW_S, Cut, announcement, frame, split
from realtime.frames import Outgoing
from realtime.sequencer import Sequencer
from realtime.snapshots import Snapshots
from realtime.topics import TopicKind, Viewer, parse
from telemetry import metrics

log = logging.getLogger(__name__)

CLOSE_RESYNC = 4000  # websocket close code: reconnect and fetch snapshots
POLL_S = 1.0  # while the bus is down, how often the database's versions are compared
SETTLE_S = 1.0  # after it is back, once more this much later (a publish that failed late)
HOLD_S = 0.1  # how long a version waits for the one before it (settings: EVENT_HOLD_S)
SPREAD = 512  # sockets a message is written to before the event loop runs again


class Outlet(Protocol):
    """Where a connection's frames go: the socket behind it."""

    def write(self, text: str) -> bool:
        """Write a frame at once if the socket can take it now; False if it cannot."""
        ...

    def wake(self, conn: Connection) -> None:
        """Frames wait in the connection's queue: take them (Connection.next_frame)."""
        ...


class Connection:
    """One websocket's subscriptions, versions and bounded send queue.

    A frame is written at once while the socket takes it. Only when it cannot (the client
    reads slowly, or the server has no direct path) do frames wait in a queue, which exists
    only while they do: thousands of idle sockets hold no queue and no task for it.
    """

    __slots__ = ("viewer", "fmt", "queue_size", "versions", "loading", "queue", "overflowed",
                 "outlet")

    def __init__(
        self, viewer: Viewer, fmt: str, queue_size: int, outlet: Outlet | None = None
    ) -> None:
        self.viewer = viewer
        self.fmt = fmt
        self.queue_size = queue_size
        self.versions: dict[str, int] = {}
        # Topics whose snapshot is being read, with the events that arrived meanwhile.
        self.loading: dict[str, list[tuple[int, str]]] | None = None
        # Frames waiting for the socket, from the first one it could not take until its
        # outlet has sent them all (a frame it holds in flight keeps the queue there too,
        # so that later frames never overtake it).
        self.queue: deque[str] | None = None
        self.overflowed = False  # fell too far behind: takes nothing more, to be closed
        self.outlet = outlet

    def send(self, text: str) -> None:
        if self.overflowed:
            return
        queue = self.queue
        if queue is None:
            outlet = self.outlet
            if outlet is not None and outlet.write(text):
                return  # written now: no queue, no task switch
            self.queue = deque((text,))
            if outlet is not None:
                outlet.wake(self)
        elif len(queue) < self.queue_size:
            queue.append(text)
        else:
            self.overflowed = True
            metrics.SOCKET_OVERFLOWS.labels(self.viewer.kind).inc()
            queue.clear()  # its outlet ends on the empty queue and closes the socket

    def next_frame(self) -> str | None:
        """The next waiting frame, for the outlet; None once none waits (the queue goes)."""
        queue = self.queue
        if queue:
            return queue.popleft()
        self.queue = None
        return None

    def offer(self, topic: str, version: int, text: str) -> None:
        loading = self.loading
        if loading is not None and topic in loading:
            loading[topic].append((version, text))
            return
        if version <= self.versions.get(topic, 0):
            return  # already included in what this socket has
        self.versions[topic] = version
        self.send(text)

    def begin_snapshot(self, topic: str) -> None:
        if self.loading is None:
            self.loading = {}
        self.loading[topic] = []

    def end_snapshot(self, topic: str, version: int, text: str) -> None:
        buffered = self.drop_snapshot(topic)
        self.versions[topic] = version
        self.send(text)
        for event_version, event_text in sorted(buffered, key=lambda item: item[0]):
            self.offer(topic, event_version, event_text)

    def drop_snapshot(self, topic: str) -> list[tuple[int, str]]:
        """Stop buffering a topic's events; what was buffered."""
        loading = self.loading
        if loading is None:
            return []
        buffered = loading.pop(topic, [])
        if not loading:
            self.loading = None
        return buffered

    def is_loading(self, topic: str) -> bool:
        """Is this connection reading the topic's snapshot right now?"""
        return self.loading is not None and topic in self.loading

    def topics(self) -> list[str]:
        """Every topic this connection watches or is subscribing to."""
        return [*self.versions, *(self.loading or ())]


def bus_notice(up: bool) -> str:
    """Tells a socket whether live changes flow; the server catches it up either way."""
    return json.dumps({"type": "bus", "up": up}, separators=(",", ":"))


class _Going:
    """A message on its way to a topic's sockets: what every batch of them shares."""

    __slots__ = ("kind", "message", "version", "conns", "cache", "shipped", "used")

    def __init__(self, kind: TopicKind, message: dict[str, Any], version: int,
                 conns: list[Connection], cache: dict[Cut, str]) -> None:
        self.kind = kind
        self.message = message
        self.version = version
        self.conns = conns
        self.cache = cache  # cuts made so far (or shipped with the message)
        self.shipped = set(cache)
        self.used: set[Cut] = set()


class Hub:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession] | None = None, hold_s: float = HOLD_S
    ) -> None:
        """`sessionmaker`: where sockets are caught up from when the bus lost messages
        (without one, as in tests of the fan-out alone, they are only told). `hold_s`: how
        long a version waits for the one before it (0: not at all)."""
        self.topics: dict[str, set[Connection]] = {}
        self.sequencer = Sequencer(self._fan_out, self._floor, hold_s)
        self.connections: set[Connection] = set()
        self.bus_up = True  # a socket that connects while it is down must be told
        self.snapshots = Snapshots()
        self.sessionmaker = sessionmaker
        self._catching_up: asyncio.Task[None] | None = None
        self._rounds_due = 0  # rounds still to run once the bus is back
        self._wake = asyncio.Event()  # the bus changed: the next round starts now
        self.bus: Bus | None = None  # where cuts are announced, once the hub runs
        self._announced: dict[tuple[str, Cut], float] = {}  # last told, by kind and cut
        self._telling: set[asyncio.Task[None]] = set()
        # Topics whose message is going out in batches, with their messages that wait.
        self._spreading: dict[str, deque[tuple[dict[str, Any], str, dict[Cut, str]]]] = {}

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)
        metrics.SOCKETS_OPEN.labels(conn.viewer.kind).inc()

    def remove(self, conn: Connection) -> None:
        if conn in self.connections:
            metrics.SOCKETS_OPEN.labels(conn.viewer.kind).dec()
        self.connections.discard(conn)
        for topic in conn.topics():
            self.unwatch(conn, topic)

    def watch(self, conn: Connection, topic: str) -> None:
        conns = self.topics.get(topic)
        if conns is None:
            conns = self.topics[topic] = set()
            self.sequencer.open(topic)
        conns.add(conn)

    def has_room(self, conn: Connection, topic: str, limit: int) -> bool:
        """May this connection watch the topic, which takes at most `limit` guests (sockets
        of viewers who are not staff)? Staff always may, and one that already watches it."""
        if conn.viewer.staff_id is not None:
            return True
        conns = self.topics.get(topic)
        if not conns or conn in conns:
            return True
        return sum(1 for c in conns if c.viewer.staff_id is None) < limit

    def unwatch(self, conn: Connection, topic: str) -> None:
        conns = self.topics.get(topic)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.topics[topic]
                self.sequencer.close(topic)
            elif conn.is_loading(topic):
                # It will not read its snapshot now; the others may have read theirs.
                conn.drop_snapshot(topic)
                self.sequencer.settle(topic)

    def end_snapshot(self, conn: Connection, topic: str, version: int, text: str) -> None:
        """Send a socket the snapshot it subscribed for, then the events that followed it."""
        conn.end_snapshot(topic, version, text)
        self.sequencer.settle(topic)

    def caught_up(self, topic: str, version: int) -> None:
        """Every socket watching the topic was sent its state at `version` (catch_up.py)."""
        self.sequencer.advance(topic, version)

    def _floor(self, topic: str) -> int | None:
        """The version every socket watching the topic holds, or None while one of them is
        reading its snapshot (the sequencer starts from it)."""
        floor: int | None = None
        for conn in self.topics.get(topic, ()):
            if conn.is_loading(topic):
                return None
            version = conn.versions.get(topic, 0)
            if floor is None or version < floor:
                floor = version
        return floor

    async def run(self, bus: Bus) -> None:
        self.bus = bus
        try:
            async with bus.listen() as messages:
                async for message in messages:
                    if message.resync:
                        self.bus_changed(bus.healthy)
                        continue
                    if message.topic == CUTS_TOPIC:
                        bus.wanted.heard(message.payload)
                        continue
                    try:
                        self.dispatch(message.topic, message.payload)
                    except Exception:
                        # One bad message must not end live updates for the whole process;
                        # sockets that missed it see a version gap and fetch a snapshot.
                        log.exception("could not dispatch a message on %s", message.topic)
        finally:
            self.bus = None
            self._stop_catching_up()
            self.sequencer.close_all()

    def bus_changed(self, bus_healthy: bool) -> None:
        """The bus went down or came back: messages may be lost. Tell every socket, and
        catch them up from the database: every second while it is down, and at once and
        once more a second later when it is back."""
        self.bus_up = bus_healthy
        text = bus_notice(bus_healthy)
        for conn in list(self.connections):
            conn.send(text)
        if self.sessionmaker is None:
            return
        self._rounds_due = 2
        self._wake.set()  # a round under way ends first: what it sends is still true
        if self._catching_up is None:
            self._catching_up = asyncio.get_running_loop().create_task(
                self._catch_up(self.sessionmaker)
            )

    async def _catch_up(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        try:
            while self._rounds_due > 0 or not self.bus_up:
                self._wake.clear()
                try:
                    moved = await catch_up(self, sessionmaker)
                    if moved:
                        log.info("caught sockets up on %d topic(s)", moved)
                except Exception:
                    log.exception("could not catch sockets up; trying again")
                if self.bus_up:
                    self._rounds_due -= 1
                if self._rounds_due > 0 or not self.bus_up:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(POLL_S if not self.bus_up else SETTLE_S):
                            await self._wake.wait()
        finally:
            self._catching_up = None

    def _stop_catching_up(self) -> None:
        if self._catching_up is not None:
            self._catching_up.cancel()
            self._catching_up = None

    def dispatch(self, topic: str, payload: str) -> None:
        """A message from the bus: to the topic's sockets once its turn comes."""
        if topic not in self.topics or parse(topic) is None:
            return
        text, made = split(payload)
        message = json.loads(text)
        self.sequencer.push(topic, int(message["version"]), (message, text, made))

    def _fan_out(self, topic: str, item: tuple[dict[str, Any], str, dict[Cut, str]]) -> None:
        waiting = self._spreading.get(topic)
        if waiting is not None:
            waiting.append(item)  # the topic's message before is still going out
            return
        self._spread(topic, item)

    def _spread(self, topic: str, item: tuple[dict[str, Any], str, dict[Cut, str]]) -> None:
        conns = self.topics.get(topic)
        parsed = parse(topic)
        if not conns or parsed is None:
            return
        kind, _ = parsed
        message, payload, made = item
        version = int(message["version"])
        metrics.EVENTS_DELIVERED.inc(len(conns))
        log.debug("push %s v%s to %d socket(s)", topic, version, len(conns),
                  extra={"request_id": message.get("request_id")})
        if message["type"] == "frame":  # a device's own message (events.Frame): as it is
            published = Outgoing(message["frame"])
            for conn in list(conns):
                conn.offer(topic, version, published)
            return
        # Every cut is made once per message (most came made with it), and the full JSON
        # cut is the event's text itself.
        cache: dict[Cut, str] = {("full", "", "json"): Outgoing(payload)}
        for cut, text in made.items():
            cache[cut] = Outgoing(text)
        going = _Going(kind, message, version, list(conns), cache)
        if len(going.conns) > SPREAD:
            self._spreading[topic] = deque()  # its next messages wait for this one
        self._go_on(topic, going, 0)

    def _go_on(self, topic: str, going: _Going, start: int) -> None:
        """Send a message to its sockets from `start`, SPREAD of them at a time: between two
        batches the event loop runs, so that other topics' messages (a table's, while the
        venue's goes to 15,000 sockets) are not held behind the whole burst."""
        conns = going.conns
        end = start + SPREAD
        watching = self.topics.get(topic)
        if watching:
            kind, message, version, cache, used = (
                going.kind, going.message, going.version, going.cache, going.used)
            for conn in conns[start:end]:
                if start and conn not in watching:
                    continue  # went away between two batches
                conn.offer(topic, version, self._cut(kind, message, conn, cache, used))
        if end < len(conns):
            asyncio.get_running_loop().call_soon(self._go_on, topic, going, end)
            return
        self._tell(topic.partition(":")[0], going.used, going.shipped)
        waiting = self._spreading.pop(topic, None)
        while waiting:  # the topic's messages that came meanwhile, in their order
            self._spread(topic, waiting.popleft())
            if topic in self._spreading:  # that one goes out in batches too: the rest waits
                self._spreading[topic].extend(waiting)
                break

    def _tell(self, kind: str, used: set[Cut], shipped: set[Cut]) -> None:
        """Announce the cuts this process's sockets used: at once one that did not come
        made, and every RENEW_S those that did, so that publishers go on making them."""
        bus = self.bus
        if bus is None:
            return
        now = time.monotonic()
        for cut in used:
            if cut == ("full", "", "json"):
                continue  # always there
            told = self._announced.get((kind, cut))
            if told is not None and now - told < RENEW_S and cut in shipped:
                continue
            if told is not None and now - told < 1.0:
                continue  # told just now: the publishers have not heard it yet
            self._announced[(kind, cut)] = now
            task = asyncio.get_running_loop().create_task(
                bus.publish(CUTS_TOPIC, announcement(kind, cut)))
            self._telling.add(task)
            task.add_done_callback(self._told)

    def _told(self, task: asyncio.Task[None]) -> None:
        self._telling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("could not announce a cut: %r", task.exception())

    def snapshot_text(
        self, kind: TopicKind, topic: str, version: int, view: dict[str, Any], conn: Connection
    ) -> str:
        """A topic's snapshot as this socket's cut needs it, framed once per cut."""
        message: dict[str, Any] = {"type": "snapshot", "topic": topic, "version": version}
        audience = kind.audience(view, conn.viewer)
        cut = (audience, conn.viewer.locale if conn.fmt == "html" else "", conn.fmt)
        return self.snapshots.frame(
            topic, version, cut, lambda: frame(kind, message, view, None, *cut)
        )

    @staticmethod
    def _cut(
        kind: TopicKind,
        message: dict[str, Any],
        conn: Connection,
        cache: dict[Cut, str],
        used: set[Cut],
    ) -> str:
        data = message["data"]
        audience = kind.audience(data["view"], conn.viewer)
        key = (audience, conn.viewer.locale if conn.fmt == "html" else "", conn.fmt)
        used.add(key)
        text = cache.get(key)
        if text is None:
            text = Outgoing(frame(kind, message, data["view"], data.get("change"), *key))
            cache[key] = text
        return text

