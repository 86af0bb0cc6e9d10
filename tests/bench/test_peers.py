"""The benchmark's fairness to its peers (bench/fanout.py), not its speed: the publisher
hands every stack each topic's events in their order, and the broadcaster peer enters
its subscribes one at a time per channel, so that a burst of first subscribers to a
channel all hear it. broadcaster itself lives in the bench's own environment: its race is
played here by a stand-in that does what broadcaster 0.3.1's `subscribe()` does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))  # the bench's scripts import each other so


class SlowLayer:
    """A channel layer whose `group_send` takes a random while, as a Redis round trip."""

    def __init__(self) -> None:
        self.heard: dict[str, list[int]] = {}

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(random.uniform(0, 0.003))
        version = int(message["text"].split('"version":')[1].split(",")[0])
        self.heard.setdefault(group, []).append(version)


async def test_every_stacks_publisher_keeps_each_topics_order(bench_path: None) -> None:
    from load_publisher import Publisher

    topics = [f"table:{n}" for n in range(5)]
    spec = {"tables": topics, "venue": "venue:1",
            "views": {t: '"x":1' for t in [*topics, "venue:1"]}}
    publisher = Publisher("channels", "redis://127.0.0.1:6379", spec)
    layer = publisher.layer = SlowLayer()
    sent: dict[str, int] = {}
    for _ in range(40):  # batches as the open loop makes them, several events per topic
        batch = []
        for topic in random.choices(topics, k=6):
            sent[topic] = sent.get(topic, 0) + 1
            batch.append((publisher.channel(topic), publisher.payload(topic, 0.0, 1)))
        await publisher.send(batch)
        await asyncio.sleep(0)
    await publisher.drained()
    assert publisher.failed == 0
    for topic, count in sent.items():
        assert layer.heard[publisher.channel(topic)] == list(range(1, count + 1)), topic
    for task in publisher.inflight:
        task.cancel()


class Wire:
    """A Redis connection's writing end: what was written, in order."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        await asyncio.sleep(random.uniform(0, 0.002))

    def is_closing(self) -> bool:
        return False


@pytest.mark.parametrize("stack", ["ours", "broadcaster"])
async def test_the_publish_commands_leave_in_each_topics_order(
    bench_path: None, stack: str
) -> None:
    from load_publisher import Publisher

    topics = [f"table:{n}" for n in range(5)]
    spec = {"tables": topics, "venue": "venue:1", "views": {t: '"x":1' for t in topics}}
    publisher = Publisher(stack, "redis://127.0.0.1:6379", spec)
    wire = Wire()
    publisher.writer = wire  # type: ignore[assignment]
    sent: dict[str, int] = {}

    async def batches() -> None:
        for _ in range(20):
            batch = []
            for topic in random.choices(topics, k=6):
                sent[topic] = sent.get(topic, 0) + 1
                batch.append((publisher.channel(topic), publisher.payload(topic, 0.0, 1)))
            await publisher.send(batch)

    await asyncio.gather(batches(), batches())  # two open-loop bursts interleaved
    heard: dict[str, list[int]] = {}
    for command in bytes(wire.data).split(b"*3\r\n")[1:]:
        parts = command.split(b"\r\n")
        channel, text = parts[3].decode(), parts[5].decode()
        heard.setdefault(channel, []).append(int(text.split('"version":')[1].split(",")[0]))
    for topic, count in sent.items():
        assert heard[publisher.channel(topic)] == list(range(1, count + 1)), topic


class RacyBroadcast:
    """broadcaster 0.3.1's subscribe, as it is: checks, awaits SUBSCRIBE, then assigns."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[object]] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[object]:
        queue = object()
        if not self.subscribers.get(channel):
            await asyncio.sleep(0.001)  # SUBSCRIBE sent to Redis, its answer awaited
            self.subscribers[channel] = {queue}
        else:
            self.subscribers[channel].add(queue)
        try:
            yield queue
        finally:
            self.subscribers[channel].discard(queue)


async def _registered_in_burst(racy: RacyBroadcast, subscribe: Any, count: int) -> int:
    """`count` sockets subscribe to one channel at once; while all of them are in, how many
    of their queues the broadcast holds."""
    inside = asyncio.Event()
    readies = [asyncio.Event() for _ in range(count)]

    async def one(ready: asyncio.Event) -> None:
        async with subscribe("table:1"):
            ready.set()
            await inside.wait()

    tasks = [asyncio.create_task(one(ready)) for ready in readies]
    await asyncio.gather(*(ready.wait() for ready in readies))
    registered = len(racy.subscribers["table:1"])
    inside.set()
    await asyncio.gather(*tasks)
    return registered


async def test_the_broadcaster_peer_registers_every_socket_of_a_connect_burst() -> None:
    from bench.peers.broadcaster_app import serialised

    racy = RacyBroadcast()
    # As broadcaster 0.3.1 alone: first subscribers overwrite each other.
    assert await _registered_in_burst(
        racy, lambda channel: racy.subscribe(channel=channel), 50) == 1
    fixed = RacyBroadcast()
    assert await _registered_in_burst(fixed, serialised(fixed.subscribe), 50) == 50
    assert fixed.subscribers["table:1"] == set()  # and each leaves as it goes


class Transport:
    """A socket's writing end: the client's frames, unmasked."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def write(self, data: bytes) -> None:
        length = data[1] & 0x7F
        start = 2 if length < 126 else 4
        if length == 126:
            length = int.from_bytes(data[2:4], "big")
        mask, payload = data[start:start + 4], data[start + 4:start + 4 + length]
        self.sent.append(bytes(b ^ mask[i % 4] for i, b in enumerate(payload)).decode())


async def test_the_socketio_peers_sockets_speak_engine_io_and_read_its_events(
    bench_path: None,
) -> None:
    from load_publisher import Publisher
    from load_sockets import Client, Pool

    pool = Pool("127.0.0.1", 1, "/socket.io/?EIO=4&transport=websocket", [])
    client = Client(pool, 0, None, ["table:1", "menu:1"])
    wire = Transport()
    client.transport = wire  # type: ignore[assignment]
    client.open = True
    client.on_socketio(b'0{"sid":"abc","pingInterval":25000}')  # Engine.IO open
    client.on_socketio(b'40{"sid":"def"}')  # the namespace connected
    client.on_socketio(b"2")  # a ping
    assert wire.sent == ["40", '42["subscribe",{"topics":["table:1","menu:1"]}]', "3"]
    assert not client.ready.done()
    client.on_socketio(b'42["subscribed",{}]')
    assert client.ready.done()
    # An event as the server relays what the publisher emitted: its JSON text as the data.
    publisher = Publisher("socketio", "redis://127.0.0.1:6379",
                          {"tables": ["table:1"], "venue": "menu:1",
                           "views": {"table:1": '"x":1', "menu:1": '"y":2'}})
    for _ in range(3):
        text = publisher.payload("table:1", 0.0, 7)
        client.on_socketio(b"42" + json.dumps(["event", text]).encode())
    step = pool.steps[7]
    assert (step.received, step.gaps, step.reordered, client.errors) == (3, 0, 0, 0)
    client.on_socketio(b'42["event","{\\"type\\":\\"event\\",\\"topic\\":\\"table:1\\",'
                       b'\\"version\\":5,\\"data\\":{\\"view\\":{\\"t\\":0.0,\\"s\\":7}}}"]')
    assert step.gaps == 1  # version 4 never came
    # The venue's event to every socket is timed apart from the tables' events.
    client.on_socketio(b"42" + json.dumps(["event", publisher.payload("menu:1", 0.0, 7)]).encode())
    assert (len(step.table_latencies), len(step.venue_latencies), len(step.latencies)) == (
        4, 1, 5)


def test_a_stacks_configuration_names_its_library_and_workers(bench_path: None) -> None:
    from loadgen_wire import family, stack_workers

    assert [family(s) for s in ("ours", "channels_pubsub", "channels@2", "socketio@2",
                                "broadcaster_asis")] == [
        "ours", "channels", "channels", "socketio", "broadcaster"]
    assert [stack_workers(s, 1) for s in ("channels", "channels@2", "socketio@3")] == [1, 2, 3]


def test_a_librarys_fair_knee_is_its_best_configurations(bench_path: None) -> None:
    from report import result_line

    fan = {"ours": 30000.0, "channels": 0.0, "channels_pubsub": 900.0, "channels@2": 1500.0,
           "socketio": 8000.0, "socketio@2": 6000.0, "broadcaster_asis": 0.0,
           "broadcaster": 12000.0}
    results = {"fanout": {stack: {"knee_notifies_per_s": knee} for stack, knee in fan.items()},
               "real": {"1": {"knee_ops_per_s": 150.0, "cart_cpu_ms": 2.5}}}
    line = result_line(results)
    for part in ("knee_ours=30000", "knee_broadcaster=12000", "knee_channels=1500",
                 "knee_socketio=8000", "cart_ops=150", "cart_cpu_ms=2.5"):
        assert part in line.split(), (part, line)


def test_the_capacity_model_scales_with_workers_and_keeps_p99_under_50_ms(
    bench_path: None,
) -> None:
    """M/M/1 per worker: at the modelled knee λ, the p99 time in the system,
    ln(100) / (μ − λ), is 50 ms."""
    import math

    from real_path import capacity_model

    model = capacity_model(4.0)  # 4 ms of server CPU per change: μ = 250/s
    assert model["ops_per_s_per_core"] == 250.0
    one = model["workers"]["1"]["knee_ops_per_s"]
    assert math.log(100) / (250.0 - one) == pytest.approx(0.05, rel=1e-3)
    assert model["workers"]["4"]["knee_ops_per_s"] == pytest.approx(4 * one, abs=0.2)
    assert model["workers"]["2"]["saturation_ops_per_s"] == 500.0
    assert capacity_model(100.0)["workers"]["1"]["knee_ops_per_s"] == 0.0  # μ below the tail
