"""Each topic's events reach every socket in version order: a version that overtook the one
before it on the bus waits for it, briefly; only a version that never comes costs a snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any, cast

from realtime.bus import Bus
from realtime.catch_up import catch_up
from realtime.hub import Connection, Hub
from realtime.models import bump_version
from realtime.websocket import serve_socket
from tests.conftest import Database
from tests.realtime.test_hub import STAFF, TOPIC, FakeSocket, counting, drain, event, versions
from tests.realtime.test_hub import wait_until as wait_for

HOLD_S = 0.1  # the default hold (settings.Settings.event_hold_s)


def watching(hub: Hub, count: int = 2, version: int = 0) -> list[Connection]:
    conns = []
    for fmt in ("json", "html")[:count] if count <= 2 else ("json",) * count:
        conn = Connection(STAFF, fmt, 50)
        hub.add(conn)
        hub.watch(conn, TOPIC)
        conn.versions[TOPIC] = version
        conns.append(conn)
    return conns


async def settled() -> None:
    """Past the hold: whatever waited for a missing version has gone by now."""
    await asyncio.sleep(HOLD_S * 1.5)


# The hub alone


async def test_a_version_that_overtook_the_one_before_it_waits_for_it() -> None:
    counting()
    hub = Hub()
    conns = watching(hub)
    hub.dispatch(TOPIC, event(2))
    assert [drain(conn) for conn in conns] == [[], []]  # 1 is on its way
    hub.dispatch(TOPIC, event(1))
    for conn in conns:
        assert versions(drain(conn)) == [1, 2]
        assert conn.versions[TOPIC] == 2
    await settled()
    assert [drain(conn) for conn in conns] == [[], []]  # nothing more, no gap


async def test_a_burst_in_any_order_goes_out_in_version_order_once() -> None:
    counting()
    hub = Hub()
    [conn] = watching(hub, 1)
    for version in (3, 5, 2, 3, 4, 1, 5, 2, 6):  # crossed, and some of them twice
        hub.dispatch(TOPIC, event(version))
    assert versions(drain(conn)) == [1, 2, 3, 4, 5, 6]
    hub.dispatch(TOPIC, event(4))  # older than what every socket has: dropped
    assert drain(conn) == []


async def test_a_version_that_never_comes_holds_the_next_for_the_hold_only() -> None:
    counting()
    hub = Hub()
    [conn] = watching(hub, 1)
    hub.dispatch(TOPIC, event(1))
    started = time.monotonic()
    hub.dispatch(TOPIC, event(3))  # 2 is lost
    hub.dispatch(TOPIC, event(4))
    assert versions(drain(conn)) == [1]
    await wait_for(lambda: conn.queue is not None)
    assert time.monotonic() - started >= HOLD_S * 0.9
    assert versions(drain(conn)) == [3, 4]  # the gap shows: the socket asks for a snapshot
    hub.dispatch(TOPIC, event(5))  # and what follows goes at once
    assert versions(drain(conn)) == [5]


async def test_each_waiting_version_waits_from_its_own_arrival() -> None:
    """A version behind a second gap is not swept out with the first one's expiry."""
    counting()
    hub = Hub(hold_s=0.3)
    [conn] = watching(hub, 1)
    hub.dispatch(TOPIC, event(2))  # 1 is lost
    await asyncio.sleep(0.2)
    hub.dispatch(TOPIC, event(4))  # 3 is on its way
    await wait_for(lambda: conn.queue is not None)
    assert versions(drain(conn)) == [2]  # 2's hold is over; 4's is not
    hub.dispatch(TOPIC, event(3))
    assert versions(drain(conn)) == [3, 4]


async def test_a_hold_of_zero_hands_events_on_as_they_come() -> None:
    counting()
    hub = Hub(hold_s=0)
    [conn] = watching(hub, 1)
    for version in (2, 1, 3):
        hub.dispatch(TOPIC, event(version))
    assert versions(drain(conn)) == [2, 3]


async def test_what_waits_is_bounded_and_forgotten_with_the_last_watcher() -> None:
    counting()
    hub = Hub()
    hub.sequencer.limit = 5
    [conn] = watching(hub, 1)
    for version in range(2, 7):  # 1 is missing: five wait
        hub.dispatch(TOPIC, event(version))
    assert hub.sequencer.waiting(TOPIC) == 5 and drain(conn) == []
    hub.dispatch(TOPIC, event(7))  # one too many: they go at once, gap and all
    assert versions(drain(conn)) == [2, 3, 4, 5, 6, 7]
    assert hub.sequencer.waiting(TOPIC) == 0

    hub.dispatch(TOPIC, event(9))
    assert hub.sequencer.waiting(TOPIC) == 1
    hub.remove(conn)  # the topic's last watcher
    assert len(hub.sequencer) == 0 and hub.topics == {}
    await settled()  # its timer went with it
    assert drain(conn) == []


async def test_a_socket_that_subscribes_while_versions_cross_gets_them_in_order() -> None:
    """The first watcher of a topic: the hub does not know where the topic stands until its
    snapshot is read, and holds what comes meanwhile."""
    counting()
    hub = Hub()
    conn = Connection(STAFF, "json", 50)
    hub.add(conn)
    conn.begin_snapshot(TOPIC)
    hub.watch(conn, TOPIC)
    hub.dispatch(TOPIC, event(3))  # committed after the snapshot's read; 2 is on its way
    hub.end_snapshot(conn, TOPIC, 1, json.dumps({"type": "snapshot", "version": 1}))
    assert versions(drain(conn)) == [1]
    hub.dispatch(TOPIC, event(2))
    assert versions(drain(conn)) == [2, 3]


async def test_a_late_subscriber_starts_from_its_snapshot_in_order() -> None:
    counting()
    hub = Hub()
    [early] = watching(hub, 1, version=4)
    late = Connection(STAFF, "json", 50)
    hub.add(late)
    late.begin_snapshot(TOPIC)
    hub.watch(late, TOPIC)
    hub.dispatch(TOPIC, event(6))  # 5 is on its way
    hub.end_snapshot(late, TOPIC, 4, json.dumps({"type": "snapshot", "version": 4}))
    hub.dispatch(TOPIC, event(5))
    assert versions(drain(early)) == [5, 6]
    assert versions(drain(late)) == [4, 5, 6]


async def test_sockets_caught_up_after_the_bus_lost_versions_stop_waiting_for_them(
    db: Database,
) -> None:
    counting()
    hub = Hub(db.sessionmaker, hold_s=30)  # the hold cannot be what releases 5 here
    [conn] = watching(hub, 1, version=1)
    hub.dispatch(TOPIC, event(2))  # the hub saw 2, then the bus lost 3 and 4
    async with db.sessionmaker() as session, session.begin():
        for _ in range(4):
            await bump_version(session, TOPIC)
    drain(conn)
    hub.dispatch(TOPIC, event(5))  # arrives before the hub caught its sockets up
    assert await catch_up(hub, db.sessionmaker) == 1
    texts = drain(conn)
    assert [(json.loads(t)["type"], json.loads(t)["version"]) for t in texts] == [
        ("snapshot", 4), ("event", 5)  # 5 followed the snapshot at once, without a hold
    ]
    hub.dispatch(TOPIC, event(6))
    assert versions(drain(conn)) == [6]


# Over a bus, to sockets that follow the protocol


async def test_events_published_out_of_order_on_the_bus_arrive_in_order(bus: Bus) -> None:
    counting()
    hub = Hub()
    conns = watching(hub)
    running = asyncio.create_task(hub.run(bus))
    try:
        await asyncio.sleep(0.05)  # the hub listens
        for version in (2, 1, 4, 3):
            await bus.publish(TOPIC, event(version))
        await wait_for(lambda: all(conn.versions[TOPIC] == 4 for conn in conns))
        for conn in conns:
            assert versions(drain(conn)) == [1, 2, 3, 4]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


class Client(FakeSocket):
    """A socket's far end that follows docs/realtime.md: applies the next version, ignores
    older ones, and asks for a snapshot when a version is skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.version: int | None = None
        self.applied: list[tuple[str, int]] = []  # ("snapshot" | "event", version)
        self.received_at: dict[int, float] = {}

    async def send_text(self, text: str) -> None:
        await super().send_text(text)
        message: dict[str, Any] = json.loads(text)
        kind, version = message.get("type"), message.get("version")
        if not isinstance(version, int):
            return
        self.received_at.setdefault(version, time.monotonic())
        if kind == "snapshot":
            self.version = version
            self.applied.append(("snapshot", version))
        elif kind == "event" and self.version is not None and version > self.version:
            if version == self.version + 1:
                self.version = version
                self.applied.append(("event", version))
            else:  # missed one: a fresh snapshot
                await self.incoming.put(json.dumps({"type": "resync", "topics": [TOPIC]}))


@contextlib.asynccontextmanager
async def clients(hub: Hub, db: Database, count: int) -> AsyncIterator[list[Client]]:
    sockets = [Client() for _ in range(count)]
    tasks = [
        asyncio.create_task(serve_socket(cast(Any, s), hub, db.sessionmaker, STAFF, 50))
        for s in sockets
    ]
    try:
        for socket in sockets:
            await socket.incoming.put(json.dumps({"type": "subscribe", "topics": [TOPIC]}))
        await wait_for(lambda: all(s.applied for s in sockets))
        yield sockets
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def commit(db: Database, count: int) -> None:
    async with db.sessionmaker() as session, session.begin():
        for _ in range(count):
            await bump_version(session, TOPIC)


async def test_sockets_get_crossed_versions_as_events_and_a_lost_one_as_a_snapshot(
    db: Database,
) -> None:
    counting()
    hub = Hub(db.sessionmaker)
    async with clients(hub, db, 3) as sockets:
        assert {s.applied[0] for s in sockets} == {("snapshot", 0)}
        await commit(db, 2)
        hub.dispatch(TOPIC, event(2))  # the two commits reached the bus crossed
        hub.dispatch(TOPIC, event(1))
        await wait_for(lambda: all(s.version == 2 for s in sockets))
        await settled()
        for socket in sockets:
            assert socket.applied == [("snapshot", 0), ("event", 1), ("event", 2)]

        await commit(db, 2)
        sent = time.monotonic()
        hub.dispatch(TOPIC, event(4))  # 3 was committed, but its event never comes
        await wait_for(lambda: all(s.version == 4 for s in sockets))
        for socket in sockets:
            assert socket.applied[3:] == [("snapshot", 4)]  # after the hold, one snapshot
            assert socket.received_at[4] - sent >= HOLD_S * 0.9


async def test_a_change_and_its_version_bump_go_together(db: Database) -> None:
    """change_and_bump: the change's returned row and the topic's next version, one
    statement on PostgreSQL; a change that touched no row still bumps the version."""
    from sqlalchemy import bindparam, delete, update

    from realtime.models import TopicVersion, change_and_bump, current_version

    table = TopicVersion.__table__
    rename = (update(table).where(table.c.topic == bindparam("old"))
              .values(version=bindparam("to")).returning(table.c.topic, table.c.version))
    forget = delete(table).where(table.c.topic == bindparam("old")).returning(table.c.topic)
    async with db.sessionmaker() as session, session.begin():
        assert await change_and_bump(session, rename, {"old": "nothing:1", "to": 5}, TOPIC) == (
            None, 1)
        await bump_version(session, "other:1")
        row, version = await change_and_bump(session, rename, {"old": "other:1", "to": 7},
                                             TOPIC)
        assert (row, version) == (("other:1", 7), 2)
        row, version = await change_and_bump(session, forget, {"old": "other:1"}, TOPIC)
        assert (row, version) == (("other:1",), 3)
    async with db.sessionmaker() as session:
        assert await current_version(session, TOPIC) == 3
        assert await current_version(session, "other:1") == 0
