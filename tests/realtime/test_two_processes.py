"""Two server processes sharing PostgreSQL and Redis: a phone on each sees the other's changes,
in version order."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection

from db.engine import make_engine, make_sessionmaker
from demo.seed import DemoVenue, seed
from realtime.models import current_version
from tests.conftest import (
    PG_URL,
    REDIS_URL,
    Database,
    Server,
    _migrate_fresh,
    _reachable,
    _truncate,
    unavailable,
)
from tests.realtime.conftest import PrivateRedis
from tests.realtime.phones import WAIT, Phone, receive, send, subscribe


@pytest.fixture
def pg_url() -> str:
    """PostgreSQL and Redis only: SQLite and the memory bus cannot span processes."""
    if not _reachable("127.0.0.1", 5432):
        unavailable("PostgreSQL")
    if not _reachable("127.0.0.1", 6379):
        unavailable("Redis")
    _migrate_fresh(PG_URL)  # outside the event loop: it runs one of its own
    return PG_URL


@pytest_asyncio.fixture
async def shared(pg_url: str) -> AsyncIterator[tuple[Database, DemoVenue]]:
    engine = make_engine(pg_url)
    maker = make_sessionmaker(engine)
    await _truncate(maker, "postgresql")
    async with maker() as session, session.begin():
        venue = await seed(session)
    yield Database(pg_url, maker), venue
    await engine.dispose()


async def seated(a: Phone, b: Phone, token: str) -> tuple[str, list[int]]:
    """Anne opens the table, Bruno joins it: the table's topic and two products."""
    state = await a.scan(token)
    await b.scan(token)
    pin = await a.start(token, "Anne")
    await b.join(token, "Bruno", pin)
    return state["topics"][0], [p["id"] for p in state["menu"]["categories"][0]["products"][:2]]


async def test_phones_on_two_servers_see_each_other_in_order(
    shared: tuple[Database, DemoVenue], server_factory: type[Server]
) -> None:
    db, venue = shared
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL}
    one, two = server_factory(env), server_factory(env)
    assert one.port != two.port
    token = venue.table_tokens[0][1]

    async with Phone(one.url) as a, Phone(two.url) as b:
        topic, products = await seated(a, b, token)

        async with a.socket() as a_ws, b.socket() as b_ws:
            a_snapshot = await subscribe(a_ws, topic)
            b_snapshot = await subscribe(b_ws, topic)
            version = a_snapshot["version"]
            assert b_snapshot["version"] == version  # one database, one version

            await a.add(token, products[0], 2)  # through server one
            on_b = await receive(b_ws)  # … seen on server two
            assert (on_b["event"], on_b["version"]) == ("cart.added", version + 1)
            cart = on_b["data"]["view"]["session"]["cart"]
            assert [(ln["member"], ln["quantity"]) for ln in cart] == [("Anne", 2)]

            await b.add(token, products[1], 1)  # through server two
            on_a = [await receive(a_ws), await receive(a_ws)]
            on_b2 = await receive(b_ws)
            assert [m["version"] for m in on_a] == [version + 1, version + 2]
            assert on_b2["version"] == version + 2
            cart = on_a[1]["data"]["view"]["session"]["cart"]
            assert [(ln["member"], ln["product_id"]) for ln in cart] == [
                ("Anne", products[0]), ("Bruno", products[1])
            ]
            assert on_a[1]["data"]["view"] == on_b2["data"]["view"]


async def test_while_redis_is_down_each_server_catches_its_own_phones_up(
    shared: tuple[Database, DemoVenue], server_factory: type[Server],
    private_redis: PrivateRedis,
) -> None:
    """A change committed through one server while Redis is away reaches a phone on the
    other from the database, without the phone asking; and live events flow again once
    Redis is back."""
    db, venue = shared
    env = {"DATABASE_URL": db.url, "REDIS_URL": private_redis.url}
    one, two = server_factory(env), server_factory(env)
    token = venue.table_tokens[0][1]

    async with Phone(one.url) as a, Phone(two.url) as b:
        topic, products = await seated(a, b, token)

        async with a.socket() as a_ws, b.socket() as b_ws:
            version = (await subscribe(a_ws, topic))["version"]
            await subscribe(b_ws, topic)

            private_redis.kill()
            assert await receive(a_ws) == {"type": "bus", "up": False}
            assert await receive(b_ws) == {"type": "bus", "up": False}

            await a.add(token, products[0], 2)  # commits; its event reaches nobody
            # Server two reads what moved every second and sends it: a fresh snapshot.
            on_b = await receive(b_ws)
            assert (on_b["type"], on_b["version"]) == ("snapshot", version + 1)
            cart = on_b["data"]["session"]["cart"]
            assert [(ln["member"], ln["quantity"]) for ln in cart] == [("Anne", 2)]
            on_a = await receive(a_ws)  # server one did the same for its own phone
            assert (on_a["type"], on_a["version"]) == ("snapshot", version + 1)

            await asyncio.to_thread(private_redis.start)
            assert await receive(a_ws) == {"type": "bus", "up": True}
            assert await receive(b_ws) == {"type": "bus", "up": True}
            await b.add(token, products[1], 1)  # live again: an event, not a snapshot
            on_a = await receive(a_ws)
            assert (on_a["type"], on_a["version"]) == ("event", version + 2)


class Follower:
    """A phone's socket following docs/realtime.md on one topic, counting how each version
    reached it: as an event, or inside a snapshot it had to ask for after a gap."""

    def __init__(self, ws: ClientConnection, topic: str, start: int) -> None:
        self.ws = ws
        self.topic = topic
        self.version = start
        self.events = 0  # versions applied from events
        self.snapshots = 0  # snapshots asked for after a gap
        self.resyncing = False

    async def follow(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("topic") != self.topic:
                continue
            version = message["version"]
            if message["type"] == "snapshot":
                self.snapshots += 1
                self.resyncing = False
                self.version = max(self.version, version)
            elif message["type"] == "event" and version > self.version:
                if version == self.version + 1:
                    self.version = version
                    self.events += 1
                elif not self.resyncing:  # missed one: a fresh snapshot
                    self.resyncing = True
                    await send(self.ws, "resync", self.topic)


async def test_concurrent_changes_over_two_servers_reach_every_phone_as_events(
    shared: tuple[Database, DemoVenue], server_factory: type[Server]
) -> None:
    """Changes committed together through both servers reach the bus in either order; every
    phone still gets each version as an event (none lost with Redis healthy), so none has
    to ask for a snapshot."""
    db, venue = shared
    # A hold long enough for a box whose cores are shared: there, one process can run a
    # publish several hundred milliseconds after another process's later one.
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL, "EVENT_HOLD_S": "2"}
    servers = await asyncio.gather(*(asyncio.to_thread(server_factory, env) for _ in "ab"))
    token = venue.table_tokens[0][1]
    phone_count, changes_each = 8, 8

    async with contextlib.AsyncExitStack() as stack:
        phones = [await stack.enter_async_context(Phone(servers[i % 2].url))
                  for i in range(phone_count)]
        state = await phones[0].scan(token)
        topic = state["topics"][0]
        products = [p["id"] for p in state["menu"]["categories"][0]["products"][:3]]
        pin = await phones[0].start(token, "Phone 0")
        for index, phone in enumerate(phones[1:], 1):
            await phone.scan(token)
            await phone.join(token, f"Phone {index}", pin)

        followers = []
        for phone in phones:
            ws = await stack.enter_async_context(phone.socket())
            followers.append(Follower(ws, topic, (await subscribe(ws, topic))["version"]))
        start = min(f.version for f in followers)
        assert all(f.version == start for f in followers)  # nothing changed meanwhile
        tasks = [asyncio.create_task(f.follow()) for f in followers]
        try:
            await asyncio.gather(*(
                phone.add(token, products[n % len(products)])
                for n in range(changes_each) for phone in phones
            ))
            async with db.sessionmaker() as session:
                final = await current_version(session, topic)
            assert final == start + phone_count * changes_each
            async with asyncio.timeout(WAIT):
                while any(f.version < final for f in followers):
                    await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    live = sum(f.events for f in followers)
    expected = phone_count * (final - start)
    assert live / expected >= 0.999, (live, expected)
    assert [f.snapshots for f in followers] == [0] * phone_count  # nothing was really lost
