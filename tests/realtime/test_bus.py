"""The bus contract, run alike on the memory and Redis backends, and Redis reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable

from realtime.bus import Bus, BusMessage, RedisBus
from realtime.hub import Connection, Hub
from realtime.topics import Viewer
from tests.realtime.conftest import PrivateRedis

WAIT = 5.0  # seconds before a message that should have come is declared lost


def topic() -> str:
    # The shared Redis carries other tests' and servers' messages: each test listens
    # for topics of its own.
    return f"test-{uuid.uuid4().hex}"


async def next_on(messages: AsyncIterator[BusMessage], topics: set[str]) -> BusMessage:
    """The next message for one of `topics`, skipping other traffic on the bus."""

    async def wait() -> BusMessage:
        async for message in messages:
            if message.topic in topics:
                return message
        raise AssertionError("the listener stopped")

    return await asyncio.wait_for(wait(), WAIT)


async def test_a_published_message_reaches_a_listener(bus: Bus) -> None:
    name = topic()
    async with bus.listen() as messages:
        await bus.publish(name, '{"version": 1}')
        message = await next_on(messages, {name})
    assert (message.topic, message.payload, message.resync) == (name, '{"version": 1}', False)


async def test_messages_of_one_topic_keep_their_order(bus: Bus) -> None:
    name = topic()
    async with bus.listen() as messages:
        for n in range(20):
            await bus.publish(name, str(n))
        received = [(await next_on(messages, {name})).payload for _ in range(20)]
    assert received == [str(n) for n in range(20)]


async def test_a_listener_does_not_receive_what_was_published_before_it(bus: Bus) -> None:
    name = topic()
    await bus.publish(name, "before")
    async with bus.listen() as messages:
        await bus.publish(name, "after")
        message = await next_on(messages, {name})
    assert message.payload == "after"


async def test_two_listeners_both_receive(bus: Bus) -> None:
    name = topic()
    async with bus.listen() as first, bus.listen() as second:
        await bus.publish(name, "hello")
        got = [await next_on(first, {name}), await next_on(second, {name})]
    assert [m.payload for m in got] == ["hello", "hello"]


async def test_a_listener_only_gets_what_is_published_while_it_listens(bus: Bus) -> None:
    name = topic()
    async with bus.listen() as messages:
        await bus.publish(name, "one")
        assert (await next_on(messages, {name})).payload == "one"
    await bus.publish(name, "missed")
    async with bus.listen() as messages:
        await bus.publish(name, "two")
        assert (await next_on(messages, {name})).payload == "two"


# Redis going away and coming back: a private server, never the shared one.


async def next_notice(messages: AsyncIterator[BusMessage]) -> BusMessage:
    notice = await next_on(messages, {""})
    assert notice.resync
    return notice


async def test_redis_bus_tells_listeners_to_resync_after_a_restart(
    private_redis: PrivateRedis,
) -> None:
    bus = RedisBus(private_redis.url, retry_delay=0.05)
    name = topic()
    try:
        async with bus.listen() as messages:
            await bus.publish(name, "before")
            assert (await next_on(messages, {name})).payload == "before"
            assert bus.healthy

            private_redis.kill()
            await next_notice(messages)
            assert not bus.healthy  # what the hub tells sockets (and catches them up)

            # Same port, empty: whatever was published meanwhile is gone.
            await asyncio.to_thread(private_redis.start)
            await next_notice(messages)
            assert bus.healthy  # subscribed again: the hub catches its sockets up

            await bus.publish(name, "after")
            assert (await next_on(messages, {name})).payload == "after"
    finally:
        await bus.close()


async def test_redis_bus_down_at_start_says_so_then_recovers(
    private_redis: PrivateRedis,
) -> None:
    private_redis.kill()
    bus = RedisBus(private_redis.url, retry_delay=0.05)
    name = topic()
    try:
        async with bus.listen() as messages:
            await next_notice(messages)
            assert not bus.healthy
            await asyncio.to_thread(private_redis.start)
            await next_notice(messages)
            assert bus.healthy
            await bus.publish(name, "first")
            assert (await next_on(messages, {name})).payload == "first"
    finally:
        await bus.close()


async def test_hub_tells_sockets_the_bus_went_down_and_came_back(
    private_redis: PrivateRedis,
) -> None:
    bus = RedisBus(private_redis.url, retry_delay=0.05)
    hub = Hub()
    conn = Connection(Viewer(), "json", 10)
    hub.add(conn)
    running = asyncio.create_task(hub.run(bus))
    try:
        await wait_until(lambda: bus.healthy)
        private_redis.kill()
        await wait_until(lambda: conn.queue is not None)
        down = conn.next_frame()
        await asyncio.to_thread(private_redis.start)
        await wait_until(lambda: bool(conn.queue))
        up = conn.next_frame()
        assert [json.loads(down or ""), json.loads(up or "")] == [
            {"type": "bus", "up": False},
            {"type": "bus", "up": True},
        ]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await bus.close()


async def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
