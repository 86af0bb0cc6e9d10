"""What the live path counts: sockets by kind, events published and handed out, sockets
that fell behind, the bus's lag and reconnections; and the request id events carry."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from prometheus_client import REGISTRY

from realtime.bus import MemoryBus, RedisBus
from realtime.events import Event, publish
from realtime.hub import Connection, Hub
from realtime.topics import Viewer
from telemetry import request_id
from tests.conftest import REDIS_URL, _reachable, unavailable
from tests.realtime.conftest import PrivateRedis
from tests.realtime.test_hub import TOPIC, counting, drain, event
from web.timers import every


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("viewer", "kind"),
    [
        (Viewer(device_key="d"), "diner"),
        (Viewer(device_key="d", staff_id=1, role="manager"), "staff"),
        (Viewer(device_key="d", consumer_id=4), "consumer"),
        (Viewer(role="device", locale="en"), "device"),
        (Viewer(), "anonymous"),
    ],
)
def test_open_sockets_are_counted_by_kind(viewer: Viewer, kind: str) -> None:
    hub = Hub()
    before = value("comptoir_sockets_open", kind=kind)
    conn = Connection(viewer, "json", 8)
    hub.add(conn)
    assert value("comptoir_sockets_open", kind=kind) == before + 1
    hub.remove(conn)
    hub.remove(conn)  # twice: counted once
    assert value("comptoir_sockets_open", kind=kind) == before


def test_events_handed_to_sockets_and_sockets_that_fell_behind_are_counted() -> None:
    counting()
    hub = Hub()
    slow, fast = Connection(Viewer(device_key="a"), "json", 2), Connection(Viewer(), "json", 8)
    for conn in (slow, fast):
        hub.add(conn)
        hub.watch(conn, TOPIC)
    delivered = value("comptoir_events_delivered_total")
    overflows = value("comptoir_socket_overflows_total", kind="diner")
    for version in (1, 2, 3):
        hub.dispatch(TOPIC, event(version))
    assert value("comptoir_events_delivered_total") == delivered + 6
    assert slow.overflowed
    assert value("comptoir_socket_overflows_total", kind="diner") == overflows + 1
    assert len(drain(fast)) == 3


async def test_published_events_carry_the_request_that_made_them() -> None:
    bus = MemoryBus()
    published = value("comptoir_events_published_total", kind="table")
    async with bus.listen() as messages:
        with request_id.bound("req-51"):
            made = Event("table:7", 3, "cart.added", {"change": {}, "view": {}})
        await publish(bus, [made, Event("table:7", 4, "cart.added", {"change": {}, "view": {}})])
        first, second = await anext(messages), await anext(messages)
    assert json.loads(first.payload)["request_id"] == "req-51"
    assert "request_id" not in json.loads(second.payload)  # a timer's, say: no request
    assert value("comptoir_events_published_total", kind="table") == published + 2


def test_every_cut_of_an_event_shows_its_request_id() -> None:
    counting()
    hub = Hub()
    staff = Connection(Viewer(staff_id=1, role="manager"), "json", 8)
    public, page = Connection(Viewer(), "json", 8), Connection(Viewer(), "html", 8)
    for conn in (staff, public, page):
        hub.add(conn)
        hub.watch(conn, TOPIC)
    with request_id.bound("req-52"):
        payload = Event(
            TOPIC, 1, "item.added", {"change": {}, "view": {"items": [], "version": 1}}
        ).to_json()
    hub.dispatch(TOPIC, payload)
    for conn in (staff, public, page):
        assert json.loads(drain(conn)[0])["request_id"] == "req-52"


async def test_a_job_run_is_counted_by_outcome() -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("once")

    ok = value("comptoir_job_runs_total", job="test job", outcome="ok")
    failed = value("comptoir_job_runs_total", job="test job", outcome="failed")
    task = asyncio.create_task(every(0.01, flaky, "test job"))
    while len(runs) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    assert value("comptoir_job_runs_total", job="test job", outcome="ok") >= ok + 2
    assert value("comptoir_job_runs_total", job="test job", outcome="failed") == failed + 1
    assert value("comptoir_job_duration_seconds_count", job="test job") >= 3


async def test_the_redis_bus_times_its_own_probes() -> None:
    if not _reachable("127.0.0.1", 6379):
        unavailable("Redis")
    bus = RedisBus(REDIS_URL, probe_s=0.02)
    lags = value("comptoir_bus_lag_seconds_count")
    try:
        async with bus.listen() as messages:
            # The hub reads on and on; probes are timed as they are read, never handed on.
            reading = asyncio.create_task(anext(messages))
            deadline = time.monotonic() + 5
            while value("comptoir_bus_lag_seconds_count") < lags + 3:
                assert time.monotonic() < deadline, "no probe came back"
                await asyncio.sleep(0.02)
            assert not reading.done()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
    finally:
        await bus.close()
    assert value("comptoir_bus_lag_seconds_sum") < 5  # seconds, however many probes


async def test_the_bus_counts_its_losses_and_reconnections(private_redis: PrivateRedis) -> None:
    bus = RedisBus(private_redis.url, retry_delay=0.05)
    lost, back = value("comptoir_bus_connection_lost_total"), value("comptoir_bus_reconnects_total")
    try:
        async with bus.listen() as messages:
            private_redis.kill()
            assert (await anext(messages)).resync
            assert value("comptoir_bus_connection_lost_total") == lost + 1
            await asyncio.to_thread(private_redis.start)
            assert (await anext(messages)).resync
            assert value("comptoir_bus_reconnects_total") == back + 1
    finally:
        await bus.close()
