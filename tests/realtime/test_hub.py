"""The hub and its connections, without network or database: versions, buffering,
slow consumers and rendering once per audience."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from realtime import topics
from realtime.bus import BusMessage, MemoryBus
from realtime.events import Event, Frame
from realtime.hub import CLOSE_RESYNC, Connection, Hub
from realtime.models import bump_version
from realtime.topics import Viewer
from realtime.websocket import serve_socket
from tests.conftest import Database

TOPIC = "counting:1"
STAFF = Viewer(staff_id=1, company_id=1, role="manager", locale="fr")


class CountingKind:
    """A topic kind that counts how often each cut is made."""

    def __init__(self) -> None:
        self.renders: Counter[tuple[str, str]] = Counter()
        self.presents: Counter[str] = Counter()
        self.snapshots = 0

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        return True

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        self.snapshots += 1
        return {"items": [], "secret": "pin"}

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        return "full" if viewer.staff_id is not None else "public"

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        self.presents[audience] += 1
        if audience == "full":
            return view
        return {"items": len(view["items"]), "version": view["version"]}

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        self.renders[(audience, locale)] += 1
        return {"html": {"box": f"{audience}/{locale}/v{view['version']}"}, "notify": change}


def counting() -> CountingKind:
    kind = CountingKind()
    topics.register("counting", kind)  # a fresh one per test, so counts start at zero
    return kind


def event(version: int, item: str = "x") -> str:
    view = {"items": [item] * version, "secret": "pin", "version": version}
    return Event(TOPIC, version, "item.added", {"change": {"item": item}, "view": view}).to_json()


def drain(conn: Connection) -> list[str]:
    """What waits in a connection's queue (these connections have no socket behind them)."""
    out: list[str] = []
    while (text := conn.next_frame()) is not None:
        out.append(text)
    return out


def versions(texts: list[str]) -> list[int]:
    return [json.loads(text)["version"] for text in texts]


# Versions and snapshots


def test_events_not_newer_than_the_snapshot_are_dropped() -> None:
    conn = Connection(Viewer(), "json", 10)
    conn.begin_snapshot(TOPIC)
    conn.end_snapshot(TOPIC, 5, json.dumps({"type": "snapshot", "version": 5}))
    for version in (4, 5, 6, 6, 7):
        conn.offer(TOPIC, version, json.dumps({"type": "event", "version": version}))
    assert versions(drain(conn)) == [5, 6, 7]


def test_events_arriving_during_a_snapshot_follow_it_in_version_order() -> None:
    conn = Connection(Viewer(), "json", 10)
    conn.begin_snapshot(TOPIC)
    for version in (8, 6, 5, 7):  # published while the snapshot was being read
        conn.offer(TOPIC, version, json.dumps({"type": "event", "version": version}))
    assert drain(conn) == []  # nothing leaves before the snapshot
    conn.end_snapshot(TOPIC, 6, json.dumps({"type": "snapshot", "version": 6}))
    texts = drain(conn)
    assert json.loads(texts[0])["type"] == "snapshot"
    assert versions(texts) == [6, 7, 8]


def test_topics_are_versioned_separately() -> None:
    conn = Connection(Viewer(), "json", 10)
    conn.offer("a:1", 3, json.dumps({"version": 3}))
    conn.offer("b:1", 1, json.dumps({"version": 1}))
    conn.offer("a:1", 2, json.dumps({"version": 2}))
    assert versions(drain(conn)) == [3, 1]


async def test_a_frame_reaches_its_watchers_as_published_in_version_order() -> None:
    """A device's frames are neither cut nor rendered: each watcher gets the frame itself,
    in version order like any event."""
    kind = counting()
    hub = Hub()
    watchers = [Connection(STAFF, "json", 10), Connection(Viewer(locale="en"), "html", 10)]
    for conn in watchers:
        hub.add(conn)
        hub.watch(conn, TOPIC)
    frames = [Frame(TOPIC, v, "brew", {"type": "brew", "brew_id": 40 + v}) for v in (1, 2, 3)]
    for sent in (frames[0], frames[2], frames[1], frames[1]):  # the second one comes late
        hub.dispatch(TOPIC, sent.to_json())
    for conn in watchers:
        assert [json.loads(text) for text in drain(conn)] == [
            {"type": "brew", "brew_id": 41}, {"type": "brew", "brew_id": 42},
            {"type": "brew", "brew_id": 43},
        ]
        assert conn.versions[TOPIC] == 3
    assert not kind.renders and not kind.presents


# Slow consumers


def test_a_slow_socket_is_cut_off_while_the_others_get_everything() -> None:
    counting()
    hub = Hub()
    slow, fast, other = (Connection(Viewer(), "json", size) for size in (3, 50, 50))
    for conn in (slow, fast, other):
        hub.add(conn)
        hub.watch(conn, TOPIC)
    for version in range(1, 11):
        hub.dispatch(TOPIC, event(version))
    assert slow.overflowed
    assert drain(slow) == []  # nothing left to send: the socket is to be closed
    assert versions(drain(fast)) == list(range(1, 11))
    assert versions(drain(other)) == list(range(1, 11))

    hub.dispatch(TOPIC, event(11))
    assert drain(slow) == []  # an overflowed socket takes nothing more
    assert versions(drain(fast)) == [11]


class FakeSocket:
    """Just enough of a Starlette WebSocket for serve_socket."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {"query_string": b""}
        self.incoming: asyncio.Queue[str] = asyncio.Queue()
        self.sent: list[str] = []
        self.closed: tuple[int, str | None] | None = None

    async def accept(self) -> None:
        return None

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.receive", "text": await self.incoming.get()}

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)


async def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_burst_larger_than_the_queue_closes_the_socket_with_4000() -> None:
    counting()
    hub = Hub()
    socket = FakeSocket()
    serving = asyncio.create_task(
        serve_socket(cast(Any, socket), hub, cast(Any, None), Viewer(), queue_size=4)
    )
    await wait_until(lambda: bool(hub.connections))
    conn = next(iter(hub.connections))
    hub.watch(conn, TOPIC)
    for version in range(1, 10):  # all at once: the sender has no chance to keep up
        hub.dispatch(TOPIC, event(version))
    await asyncio.wait_for(serving, 5)
    assert socket.closed == (CLOSE_RESYNC, "resync")
    assert hub.connections == set() and hub.topics == {}


async def test_ping_gets_pong_and_nonsense_gets_an_error() -> None:
    hub = Hub()
    socket = FakeSocket()
    serving = asyncio.create_task(
        serve_socket(cast(Any, socket), hub, cast(Any, None), Viewer(), queue_size=4)
    )
    try:
        for raw in ('{"type": "ping"}', "not json", '{"type": "dance"}'):
            await socket.incoming.put(raw)
        await wait_until(lambda: len(socket.sent) == 3)
        replies = [json.loads(text) for text in socket.sent]
        assert replies[0] == {"type": "pong"}
        assert [r["code"] for r in replies[1:]] == ["bad_message", "bad_message"]
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


# Rendering once


def test_each_cut_is_rendered_once_per_event_whatever_the_number_of_sockets() -> None:
    kind = counting()
    hub = Hub()
    viewers = {
        "staff-html-fr": (STAFF, "html", 3),
        "staff-html-en": (Viewer(staff_id=2, company_id=1, locale="en"), "html", 2),
        "diner-html-fr": (Viewer(device_key="d"), "html", 4),
        "diner-json": (Viewer(device_key="d", locale="en"), "json", 3),
        "staff-json": (STAFF, "json", 2),
    }
    conns: dict[str, list[Connection]] = {}
    for name, (viewer, fmt, count) in viewers.items():
        conns[name] = [Connection(viewer, fmt, 10) for _ in range(count)]
        for conn in conns[name]:
            hub.add(conn)
            hub.watch(conn, TOPIC)

    hub.dispatch(TOPIC, event(1))
    assert kind.renders == {("full", "fr"): 1, ("full", "en"): 1, ("public", "fr"): 1}
    assert kind.presents == {"public": 1}  # full JSON is the published event itself

    received = {name: [drain(c) for c in group] for name, group in conns.items()}
    for name, per_socket in received.items():
        assert all(texts == per_socket[0] for texts in per_socket), name  # same bytes
    staff_fr = json.loads(received["staff-html-fr"][0][0])
    assert staff_fr["html"] == {"box": "full/fr/v1"} and staff_fr["notify"] == {"item": "x"}
    assert json.loads(received["staff-html-en"][0][0])["html"] == {"box": "full/en/v1"}
    diner_html = json.loads(received["diner-html-fr"][0][0])
    assert diner_html["html"] == {"box": "public/fr/v1"}
    assert diner_html["notify"] is None  # what happened is for the full audience only
    diner_json = json.loads(received["diner-json"][0][0])
    assert diner_json["data"] == {"change": None, "view": {"items": 1, "version": 1}}
    staff_json = json.loads(received["staff-json"][0][0])
    assert staff_json["data"]["view"]["secret"] == "pin"
    assert staff_json["data"]["change"] == {"item": "x"}

    hub.dispatch(TOPIC, event(2))
    assert kind.renders == {("full", "fr"): 2, ("full", "en"): 2, ("public", "fr"): 2}
    assert kind.presents == {"public": 2}


# The hub's bus loop


class StubBus:
    """A bus whose messages and health the test decides."""

    def __init__(self) -> None:
        self.healthy = True
        self.messages: asyncio.Queue[BusMessage] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[BusMessage]]:
        async def messages() -> AsyncIterator[BusMessage]:
            while True:
                yield await self.messages.get()

        yield messages()


async def test_one_broken_message_does_not_stop_live_updates() -> None:
    counting()
    bus = MemoryBus()
    hub = Hub()
    conn = Connection(Viewer(), "json", 10)
    hub.add(conn)
    hub.watch(conn, TOPIC)
    running = asyncio.create_task(hub.run(bus))
    try:
        await wait_until(lambda: bool(bus._queues))
        await bus.publish(TOPIC, "{not json")
        await bus.publish(TOPIC, event(1))
        await wait_until(lambda: conn.queue is not None)
        assert versions(drain(conn)) == [1]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_a_socket_opened_while_the_bus_is_down_is_told_so() -> None:
    bus = StubBus()
    hub = Hub()
    running = asyncio.create_task(hub.run(cast(Any, bus)))
    try:
        bus.healthy = False
        await bus.messages.put(BusMessage("", "", resync=True))
        await wait_until(lambda: not hub.bus_up)

        socket = FakeSocket()
        serving = asyncio.create_task(
            serve_socket(cast(Any, socket), hub, cast(Any, None), Viewer(), queue_size=4)
        )
        await wait_until(lambda: bool(socket.sent))
        assert json.loads(socket.sent[0]) == {"type": "bus", "up": False}

        bus.healthy = True
        await bus.messages.put(BusMessage("", "", resync=True))
        await wait_until(lambda: len(socket.sent) == 2)
        assert json.loads(socket.sent[1]) == {"type": "bus", "up": True}
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


# Snapshots read once


async def subscribed(hub: Hub, db: Database, count: int) -> tuple[list[FakeSocket], list[Any]]:
    sockets = [FakeSocket() for _ in range(count)]
    tasks = [
        asyncio.create_task(serve_socket(cast(Any, s), hub, db.sessionmaker, STAFF, 10))
        for s in sockets
    ]
    for socket in sockets:
        await socket.incoming.put(json.dumps({"type": "subscribe", "topics": [TOPIC]}))
    await wait_until(lambda: all(s.sent for s in sockets))
    return sockets, tasks


async def test_sockets_subscribing_together_read_each_version_once(db: Database) -> None:
    kind = counting()
    hub = Hub()
    sockets, tasks = await subscribed(hub, db, 6)
    try:
        snapshots = [json.loads(s.sent[0]) for s in sockets]
        assert {(m["type"], m["version"]) for m in snapshots} == {("snapshot", 0)}
        assert kind.snapshots == 1  # six sockets, one read
        assert kind.presents["full"] == 1  # and framed once

        async with db.sessionmaker() as session, session.begin():
            await bump_version(session, TOPIC)  # a change committed meanwhile
        late, late_tasks = await subscribed(hub, db, 2)
        tasks += late_tasks
        assert [json.loads(s.sent[0])["version"] for s in late] == [1, 1]
        assert kind.snapshots == 2  # a new version is read again, once
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# A burst to many sockets


class Recording:
    """An outlet that takes every frame at once and notes who got which version, in the
    order they were written across all sockets."""

    def __init__(self, name: str, written: list[tuple[str, int]]) -> None:
        self.name = name
        self.written = written

    def write(self, text: str) -> bool:
        self.written.append((self.name, json.loads(text)["version"]))
        return True

    def wake(self, conn: Connection) -> None:
        raise AssertionError("every frame is taken at once")


async def test_a_burst_to_many_sockets_lets_another_topics_event_through_in_order() -> None:
    """The venue's message to thousands of sockets goes out in batches (SPREAD): a table's
    event that arrives meanwhile is written between two batches, not after the whole
    burst; and the venue's next message waits for its last batch."""
    from realtime.hub import SPREAD

    counting()
    hub = Hub()
    written: list[tuple[str, int]] = []
    table = "counting:2"
    many = SPREAD * 3 + 5
    for index in range(many):
        conn = Connection(STAFF, "json", 16, Recording(f"venue-{index}", written))
        hub.add(conn)
        hub.watch(conn, TOPIC)
        conn.versions[TOPIC] = 0
    phone = Connection(STAFF, "json", 16, Recording("phone", written))
    hub.add(phone)
    hub.watch(phone, table)
    phone.versions[table] = 0

    hub.dispatch(TOPIC, event(1))
    hub.dispatch(TOPIC, event(2))  # waits for the first one's last batch
    assert len(written) == SPREAD  # one batch, then the event loop's turn
    first = {name for name, _ in written}
    gone = next(c for c in hub.topics[TOPIC] if cast(Recording, c.outlet).name not in first)
    hub.remove(gone)  # a socket that closes meanwhile gets nothing more
    hub.dispatch(table, event(1).replace(TOPIC, table))
    assert written[-1] == ("phone", 1)  # at once, between the venue's batches
    await wait_until(lambda: len(written) == 1 + 2 * (many - 1))
    await asyncio.sleep(0.05)  # and nothing more comes
    by_socket: dict[str, list[int]] = {}
    for name, version in written:
        by_socket.setdefault(name, []).append(version)
    assert by_socket.pop("phone") == [1]
    assert cast(Recording, gone.outlet).name not in by_socket
    assert len(by_socket) == many - 1
    assert all(versions == [1, 2] for versions in by_socket.values())
    assert hub._spreading == {}
