"""The load generator's publisher: open-loop events on the stack's Redis channels."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from loadgen_wire import clock, command_loop, cpu_seconds, family

# Publisher


class Publisher:
    """Open-loop Poisson publishing, each message stamped with its *scheduled* time.

    Ours and broadcaster get raw RESP PUBLISH commands written back to back (the cost of
    publishing must not limit what is measured); Channels gets its own `group_send`,
    the documented way for anything outside a consumer to reach a group, and Socket.IO a
    write-only `AsyncRedisManager`'s `emit` to the topic's room. Every stack's
    events of one topic leave in their order: one connection written in order for the
    first two, and for Channels one sender per group awaiting each `group_send` before the
    next (a task per send let a topic's events overtake each other, counted against
    Channels as gaps and reorders); the same for Socket.IO.
    """

    def __init__(self, stack: str, redis_url: str, spec: dict[str, Any]) -> None:
        self.stack = family(stack)
        self.pubsub = stack.endswith("_pubsub")  # Channels' pub/sub layer, as the server's
        self.redis_url = redis_url
        self.tables: list[str] = spec["tables"]
        self.venue: str = spec["venue"]
        self.views: dict[str, str] = spec["views"]  # topic -> JSON of the rest of the view
        self.seq: dict[str, int] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.layer: Any = None
        self.failed = 0
        self.inflight: set[asyncio.Task[None]] = set()
        self.groups: dict[str, asyncio.Queue[str]] = {}  # each group's or room's sender

    async def connect(self) -> None:
        if self.stack == "channels":
            from channels_redis.core import RedisChannelLayer
            from channels_redis.pubsub import RedisPubSubChannelLayer

            host, port = self.redis_url.split("//", 1)[1].split("/")[0].split(":")
            layer = RedisPubSubChannelLayer if self.pubsub else RedisChannelLayer
            self.layer = layer(hosts=[(host, int(port))])
            return
        if self.stack == "socketio":
            import socketio

            self.layer = socketio.AsyncRedisManager(self.redis_url, write_only=True)
            return
        await self._open()

    @property
    def ordered_by_sender(self) -> bool:
        """The stacks published through their library's call, one sender per topic."""
        return self.stack in ("channels", "socketio")

    async def _open(self) -> None:
        host, port = self.redis_url.split("//", 1)[1].split("/")[0].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        self.writer = writer

        async def drain_replies() -> None:
            while await reader.read(65536):
                pass

        task = asyncio.create_task(drain_replies())
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    def channel(self, topic: str) -> str:
        if self.stack == "ours":
            return "comptoir:" + topic
        if self.stack == "channels":
            return topic.replace(":", ".")
        return topic

    def payload(self, topic: str, at: float, step: int) -> str:
        version = self.seq[topic] = self.seq.get(topic, 0) + 1
        return (
            f'{{"type":"event","topic":"{topic}","version":{version},"event":"bench",'
            f'"data":{{"change":{{"by":"bench"}},"view":{{"t":{at:.6f},"s":{step},'
            f'{self.views[topic]},"version":{version}}}}}}}'
        )

    async def send(self, batch: list[tuple[str, str]]) -> None:
        if self.ordered_by_sender:
            for channel, text in batch:
                queue = self.groups.get(channel)
                if queue is None:
                    queue = self.groups[channel] = asyncio.Queue()
                    task = asyncio.create_task(self._group_sender(channel, queue))
                    self.inflight.add(task)
                    task.add_done_callback(self.inflight.discard)
                queue.put_nowait(text)
            return
        out = bytearray()
        for channel, text in batch:
            c, p = channel.encode(), text.encode()
            out += b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(c), c, len(p), p)
        try:
            if self.writer is None or self.writer.is_closing():
                await self._open()
            assert self.writer is not None
            self.writer.write(bytes(out))
            await self.writer.drain()
        except OSError:
            self.failed += len(batch)
            self.writer = None

    async def _group_sender(self, group: str, queue: asyncio.Queue[str]) -> None:
        """The group's events, each sent once the one before it was."""
        while True:
            text = await queue.get()
            try:
                if self.stack == "socketio":
                    await self.layer.emit("event", text, room=group, namespace="/")
                else:
                    await self.layer.group_send(group, {"type": "bench.message", "text": text})
            except Exception:
                self.failed += 1
            finally:
                queue.task_done()

    async def drained(self, timeout: float = 10) -> None:
        """Every group's events handed to the layer (Channels), or `timeout` passed."""
        if self.groups:
            await asyncio.wait([asyncio.create_task(q.join()) for q in self.groups.values()],
                               timeout=timeout)

    async def run(self, step: int, rate: float, seconds: float, venue_hz: float,
                  tables: int | None) -> dict[str, Any]:
        """Publish for `seconds`: table events at `rate`/s, the venue event at `venue_hz`."""
        tables_list = self.tables[:tables] if tables else self.tables
        published: dict[str, int] = {}
        cpu = cpu_seconds()
        failed = self.failed
        start = clock()
        end = start + seconds
        next_table = start + random.expovariate(rate) if rate > 0 else end
        next_venue = start + (1 / venue_hz if venue_hz else seconds + 1)
        worst_late = 0.0
        while True:
            now = clock()
            due = min(next_table, next_venue)
            if due >= end:
                break
            if due > now:
                await asyncio.sleep(due - now)
                now = clock()
            batch: list[tuple[str, str]] = []
            while next_table <= now and next_table < end:
                topic = random.choice(tables_list)
                batch.append((self.channel(topic), self.payload(topic, next_table, step)))
                published[topic] = published.get(topic, 0) + 1
                next_table += random.expovariate(rate)
            while next_venue <= now and next_venue < end:
                topic = self.venue
                batch.append((self.channel(topic), self.payload(topic, next_venue, step)))
                published[topic] = published.get(topic, 0) + 1
                next_venue += 1 / venue_hz
            if batch:
                worst_late = max(worst_late, now - due)
                await self.send(batch)
        if self.ordered_by_sender:
            await self.drained()
        return {"published": published, "total": sum(published.values()),
                "failed": self.failed - failed, "late_max_ms": round(worst_late * 1000, 3),
                "seconds": round(clock() - start, 3), "cpu_s": round(cpu_seconds() - cpu, 3)}


async def serve_publisher(stack: str, redis_url: str, spec_path: str) -> None:
    with open(spec_path) as file:
        spec = json.load(file)
    publisher = Publisher(stack, redis_url, spec)
    await publisher.connect()

    async def handle(command: dict[str, Any]) -> dict[str, Any]:
        if command["cmd"] == "run":
            return await publisher.run(command["step"], command["rate"], command["seconds"],
                                       command.get("venue_hz", 1.0), command.get("tables"))
        raise ValueError(command["cmd"])

    await command_loop(handle)
