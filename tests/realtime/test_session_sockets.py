"""A session that ends closes the sockets opened with it, on every server; its old cookie
opens no staff socket afterwards. Against real `comptoir serve` processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from websockets.asyncio.client import ClientConnection

from accounts import service as staff_service
from db.engine import make_engine, make_sessionmaker
from demo.seed import DemoVenue, seed
from realtime.bus import make_bus
from realtime.events import run
from tests.api.test_bad_input import CASHIER
from tests.conftest import REDIS_URL, Database, Server, _truncate
from tests.realtime.conftest import PrivateRedis
from tests.realtime.phones import WAIT, Phone, receive, send, subscribe
from tests.realtime.test_two_processes import pg_url  # noqa: F401 (a fixture)

CLOSE_ENDED = 4001  # docs/realtime.md


async def closed_with(ws: ClientConnection) -> int | None:
    await asyncio.wait_for(ws.wait_closed(), WAIT)
    return ws.close_code


def pos_topic(venue: DemoVenue) -> str:
    return f"site:{venue.site_id}:pos"


def forbidden(topic: str) -> dict[str, Any]:
    return {"type": "error", "code": "forbidden", "topic": topic,
            "message": "You may not watch this topic."}


async def test_signing_out_closes_the_sockets_of_that_session_and_the_old_cookie_opens_none(
    db: Database, venue: DemoVenue, bus_url: str | None, server_factory: type[Server]
) -> None:
    server = server_factory({"DATABASE_URL": db.url, "REDIS_URL": bus_url or ""})
    topic = pos_topic(venue)
    async with Phone(server.url) as pos, Phone(server.url) as other:
        await pos.sign_in(*CASHIER)
        await other.sign_in(*CASHIER)  # the same person on another screen: not signed out
        old = pos.http.cookies["comptoir"]
        async with pos.socket() as one, pos.socket() as two, other.socket() as kept:
            for ws in (one, two, kept):
                await subscribe(ws, topic)
            signed_out = await pos.http.post("/api/v1/staff/logout", json={})
            assert signed_out.status_code == 200, signed_out.text
            assert await closed_with(one) == CLOSE_ENDED
            assert await closed_with(two) == CLOSE_ENDED
            await send(kept, "ping")
            assert await receive(kept) == {"type": "pong"}
        async with pos.socket(cookie=old) as ws:
            await send(ws, "subscribe", topic)
            assert await receive(ws) == forbidden(topic)


@pytest_asyncio.fixture
async def shared_venue(pg_url: str) -> AsyncIterator[tuple[Database, DemoVenue]]:  # noqa: F811
    engine = make_engine(pg_url)
    maker = make_sessionmaker(engine)
    await _truncate(maker, "postgresql")
    async with maker() as session, session.begin():
        venue = await seed(session)
    yield Database(pg_url, maker), venue
    await engine.dispose()


async def test_an_ended_session_closes_its_sockets_on_every_server(
    shared_venue: tuple[Database, DemoVenue], server_factory: type[Server]
) -> None:
    db, venue = shared_venue
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL}
    one, two = server_factory(env), server_factory(env)
    topic = pos_topic(venue)
    async with Phone(one.url) as pos, Phone(one.url) as tablet:
        await pos.sign_in(*CASHIER)
        await tablet.sign_in(*CASHIER)
        on_two = Phone(two.url)
        on_two.http.cookies.set("comptoir", pos.http.cookies["comptoir"])
        async with on_two, on_two.socket() as ws:
            await subscribe(ws, topic)
            assert (await pos.http.post("/api/v1/staff/logout", json={})).status_code == 200
            assert await closed_with(ws) == CLOSE_ENDED

        # Deactivated by a script of its own (`comptoir deactivate-staff`): every session
        # of the staff member ends, and its sockets close on every server.
        on_two = Phone(two.url)
        on_two.http.cookies.set("comptoir", tablet.http.cookies["comptoir"])
        async with on_two, on_two.socket() as ws:
            await subscribe(ws, topic)
            bus = make_bus(REDIS_URL)
            try:
                await run(db.sessionmaker, bus, lambda tx: staff_service.deactivate(tx, CASHIER[0]))
            finally:
                await bus.close()
            assert await closed_with(ws) == CLOSE_ENDED


async def test_a_sign_out_while_redis_is_away_still_closes_the_sockets_on_other_servers(
    shared_venue: tuple[Database, DemoVenue], server_factory: type[Server],
    private_redis: PrivateRedis,
) -> None:
    """The end is in the database too: a server that missed it on the bus finds it when it
    catches its sockets up."""
    db, venue = shared_venue
    env = {"DATABASE_URL": db.url, "REDIS_URL": private_redis.url}
    one, two = server_factory(env), server_factory(env)
    topic = pos_topic(venue)
    async with Phone(one.url) as pos, Phone(two.url) as on_two:
        await pos.sign_in(*CASHIER)
        on_two.http.cookies.set("comptoir", pos.http.cookies["comptoir"])
        async with on_two.socket() as ws:
            await subscribe(ws, topic)
            private_redis.kill()
            assert await receive(ws) == {"type": "bus", "up": False}
            assert (await pos.http.post("/api/v1/staff/logout", json={})).status_code == 200
            assert await closed_with(ws) == CLOSE_ENDED
