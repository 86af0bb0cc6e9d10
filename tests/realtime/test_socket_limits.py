"""Limits of the live channel against a real `comptoir serve`: sockets per device cookie and
per table's diners (settings), the size of a client's message, and frames that are not
the protocol's (binary, bad JSON) answered without a traceback. On both databases."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from demo.seed import DemoVenue
from realtime.topics import MAX_TOPIC_LENGTH
from realtime.websocket import MAX_MESSAGE, MAX_TOPICS
from tests.api.test_bad_input import CASHIER
from tests.conftest import Database, Server
from tests.realtime.phones import WAIT, Phone, receive, send, subscribe

PER_DEVICE = 50  # the default of WS_MAX_PER_DEVICE
PER_TABLE = 3  # WS_MAX_PER_TABLE, as the servers of this module are told


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    yield started
    for server in started.values():
        server.stop()


@dataclass
class Venue:
    server: Server
    token: str
    topic: str


@pytest_asyncio.fixture
async def venue_served(
    db: Database, venue: DemoVenue, servers: dict[str, Server]
) -> AsyncIterator[Venue]:
    if db.url not in servers:
        servers[db.url] = Server(
            {"DATABASE_URL": db.url, "REDIS_URL": "", "WS_MAX_PER_TABLE": str(PER_TABLE)}
        )
    server = servers[db.url]
    token = venue.table_tokens[0][1]
    async with Phone(server.url) as probe:
        state = await probe.scan(token)
    yield Venue(server, token, f"table:{state['table']['table']['id']}")


async def closed_with(ws: ClientConnection) -> int | None:
    """The close code the server ends the socket with (what it sends before is skipped)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_the_51st_socket_of_one_device_is_refused_and_another_device_connects(
    venue_served: Venue,
) -> None:
    url = venue_served.server.url
    async with Phone(url) as lea, Phone(url) as tom, AsyncExitStack() as stack:
        await lea.scan(venue_served.token)
        await tom.scan(venue_served.token)
        sockets = await asyncio.gather(
            *(stack.enter_async_context(lea.socket()) for _ in range(PER_DEVICE))
        )
        for ws in sockets:  # each one is served
            await send(ws, "ping")
        for ws in sockets:
            assert await receive(ws) == {"type": "pong"}

        with pytest.raises(InvalidStatus) as refused:
            async with lea.socket():
                pass
        response = refused.value.response
        assert response.status_code == 429
        assert json.loads(response.body or b"")["error"]["code"] == "too_many_sockets"

        async with tom.socket() as other:  # another phone on the same network is not slowed
            await send(other, "ping")
            assert await receive(other) == {"type": "pong"}

        await sockets[0].close()  # one closed: its place is free again
        for _ in range(50):
            try:
                async with lea.socket() as again:
                    await send(again, "ping")
                    assert await receive(again) == {"type": "pong"}
                break
            except InvalidStatus:  # the server has not seen the close yet
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the device's socket count did not go down")


async def test_a_tables_diners_hold_at_most_the_limit_of_sockets_staff_do_not_count(
    venue_served: Venue, venue: DemoVenue
) -> None:
    url, token, topic = venue_served.server.url, venue_served.token, venue_served.topic
    async with AsyncExitStack() as stack:
        phones = [await stack.enter_async_context(Phone(url)) for _ in range(PER_TABLE + 1)]
        for phone in phones:
            await phone.scan(token)
        watching = [await stack.enter_async_context(p.socket()) for p in phones[:PER_TABLE]]
        for ws in watching:
            await subscribe(ws, topic)

        late = await stack.enter_async_context(phones[-1].socket())
        await send(late, "subscribe", topic)
        assert await closed_with(late) == 1013  # try again later

        # Resubscribing a socket already counted is no new socket.
        await send(watching[0], "resync", topic)
        assert (await receive(watching[0]))["type"] == "snapshot"
        # Another table is another count.
        other = venue.table_tokens[1][1]
        await phones[-1].scan(other)
        state = await phones[-1].http.get(f"/api/v1/tables/{other}")
        other_topic = f"table:{state.json()['table']['table']['id']}"
        async with phones[-1].socket() as elsewhere:
            await subscribe(elsewhere, other_topic)
        # Staff (the POS) watch whatever the diners do.
        pos = await stack.enter_async_context(Phone(url))
        await pos.sign_in(*CASHIER)
        async with pos.socket() as till:
            await subscribe(till, topic)
        # A diner who leaves frees a place.
        await watching[0].close()
        for _ in range(50):
            async with phones[-1].socket() as retry:
                await send(retry, "subscribe", topic)
                try:
                    first = await receive(retry)
                except ConnectionClosed:
                    await asyncio.sleep(0.1)
                    continue
                assert first["type"] == "snapshot"
                break
        else:
            pytest.fail("the table's socket count did not go down")


async def test_a_message_over_the_protocols_size_closes_the_socket_with_1009(
    venue_served: Venue,
) -> None:
    async with Phone(venue_served.server.url) as lea:
        await lea.scan(venue_served.token)
        async with lea.socket() as ws:
            # The biggest message the protocol has is answered: every topic at once, each
            # of the longest name a topic may have (none of these exists).
            longest = [f"table:{n:0{MAX_TOPIC_LENGTH - 6}d}" for n in range(MAX_TOPICS)]
            await send(ws, "subscribe", *longest)
            for _ in longest:
                assert (await receive(ws))["code"] == "forbidden"
            await ws.send(json.dumps({"type": "ping", "pad": "x" * MAX_MESSAGE}))
            assert await closed_with(ws) == 1009


async def test_a_binary_frame_and_bad_json_get_an_error_and_the_socket_goes_on(
    venue_served: Venue,
) -> None:
    async with Phone(venue_served.server.url) as lea:
        await lea.scan(venue_served.token)
        async with lea.socket() as ws:
            await ws.send(b'{"type": "ping"}')
            error = await receive(ws)
            assert (error["type"], error["code"]) == ("error", "bad_message")
            for bad in ("not json", "[" * 3000 + "]" * 3000, "[]", '"ping"', '{"topics": 3}'):
                await ws.send(bad)
                error = await receive(ws)
                assert (error["type"], error["code"]) == ("error", "bad_message"), bad
            await send(ws, "ping")
            assert await receive(ws) == {"type": "pong"}
    assert "Traceback" not in venue_served.server.logs
