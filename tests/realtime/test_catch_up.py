"""Sockets brought back to the database's state by the hub when the bus lost messages:
one read per topic that moved, nothing for the others, nothing asked by the clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, cast

from realtime import topics
from realtime.bus import BusMessage
from realtime.catch_up import catch_up
from realtime.hub import Connection, Hub
from realtime.models import bump_version
from realtime.topics import Viewer
from tests.conftest import Database
from tests.realtime.test_hub import STAFF, TOPIC, counting, drain

OTHER = "counting:2"


async def commit_versions(db: Database, topic: str, count: int) -> None:
    for _ in range(count):
        async with db.sessionmaker() as session, session.begin():
            await bump_version(session, topic)


def watching(hub: Hub, topic: str, version: int, viewer: Viewer = STAFF) -> Connection:
    conn = Connection(viewer, "json", 10)
    hub.add(conn)
    hub.watch(conn, topic)
    conn.versions[topic] = version
    return conn


async def test_sockets_behind_get_one_fresh_snapshot_per_topic(db: Database) -> None:
    kind = counting()
    hub = Hub(db.sessionmaker)
    await commit_versions(db, TOPIC, 3)  # committed while the bus carried nothing
    await commit_versions(db, OTHER, 1)
    behind = [watching(hub, TOPIC, 1) for _ in range(5)]
    public = watching(hub, TOPIC, 1, Viewer(locale="fr"))
    current = watching(hub, TOPIC, 3)  # it had them all
    loading = watching(hub, TOPIC, 1)
    loading.begin_snapshot(TOPIC)  # reading its own snapshot: left to it
    other = watching(hub, OTHER, 1)  # this topic did not move for it

    assert await catch_up(hub, db.sessionmaker) == 1
    assert kind.snapshots == 1  # six sockets behind, one read
    for conn in behind:
        [text] = drain(conn)
        message = json.loads(text)
        assert (message["type"], message["topic"], message["version"]) == ("snapshot", TOPIC, 3)
        assert message["data"]["secret"] == "pin"  # staff: the full cut
        assert conn.versions[TOPIC] == 3
    [text] = drain(public)
    assert json.loads(text)["data"] == {"items": 0, "version": 3}  # its own cut
    assert drain(current) == [] and drain(loading) == [] and drain(other) == []

    assert await catch_up(hub, db.sessionmaker) == 0  # nothing moved since
    assert kind.snapshots == 1


async def test_an_event_newer_than_the_snapshot_is_not_undone(db: Database) -> None:
    counting()
    hub = Hub(db.sessionmaker)
    await commit_versions(db, TOPIC, 2)
    conn = watching(hub, TOPIC, 4)  # an event at 4 reached it (the database said 2 before)
    assert await catch_up(hub, db.sessionmaker) == 0
    assert drain(conn) == [] and conn.versions[TOPIC] == 4


class Broken:
    """A topic kind whose snapshot cannot be read (its row was deleted, say)."""

    async def snapshot(self, session: Any, args: list[str]) -> dict[str, Any]:
        raise RuntimeError("gone")


async def test_a_topic_that_cannot_be_read_does_not_hold_the_others_back(
    db: Database,
) -> None:
    counting()
    topics.register("broken", cast(Any, Broken()))
    hub = Hub(db.sessionmaker)
    await commit_versions(db, "broken:1", 1)
    await commit_versions(db, TOPIC, 1)
    stuck = watching(hub, "broken:1", 0)
    fine = watching(hub, TOPIC, 0)
    assert await catch_up(hub, db.sessionmaker) == 2
    assert drain(stuck) == [] and stuck.versions["broken:1"] == 0  # tried again next round
    assert [json.loads(t)["version"] for t in drain(fine)] == [1]


class DownBus:
    """A bus that is down from the start and comes back when told."""

    def __init__(self) -> None:
        self.healthy = False
        self.messages: asyncio.Queue[BusMessage] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def listen(self) -> Any:
        async def messages() -> Any:
            while True:
                yield await self.messages.get()

        yield messages()


async def test_while_the_bus_is_down_the_hub_polls_and_catches_sockets_up(
    db: Database,
) -> None:
    counting()
    hub = Hub(db.sessionmaker)
    conn = watching(hub, TOPIC, 0)
    bus = DownBus()
    running = asyncio.create_task(hub.run(cast(Any, bus)))
    try:
        await bus.messages.put(BusMessage("", "", resync=True))  # down
        await wait_until(lambda: not hub.bus_up)
        assert [json.loads(t) for t in drain(conn)] == [{"type": "bus", "up": False}]

        await commit_versions(db, TOPIC, 2)  # its event is lost: nobody hears it
        await wait_until(lambda: conn.versions.get(TOPIC) == 2)  # the hub's next poll
        [snapshot] = [json.loads(t) for t in drain(conn)]
        assert (snapshot["type"], snapshot["version"]) == ("snapshot", 2)

        bus.healthy = True
        await commit_versions(db, TOPIC, 1)  # lost just before the bus came back
        await bus.messages.put(BusMessage("", "", resync=True))  # up
        await wait_until(lambda: conn.versions.get(TOPIC) == 3)
        texts = [json.loads(t) for t in drain(conn)]
        assert texts[0] == {"type": "bus", "up": True}
        assert [(m["type"], m["version"]) for m in texts[1:]] == [("snapshot", 3)]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
