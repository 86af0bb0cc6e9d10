"""The load generator's websocket clients: a minimal RFC 6455 client, many per process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from array import array
from typing import Any

from loadgen_wire import (
    CLOSE,
    EVENT,
    PING,
    STAMP,
    TEXT,
    _count,
    clock,
    command_loop,
    cpu_seconds,
    frames,
    percentiles,
    pong,
    upgrade_request,
)

VENUE_PREFIX = b"menu:"  # the venue-wide topic's (bench/fanout_level.py VENUE)

# Sockets


class Step:
    """What the sockets of this process received of one step of the publisher."""

    __slots__ = ("received", "gaps", "duplicates", "reordered", "latencies", "table_latencies",
                 "venue_latencies")

    def __init__(self) -> None:
        self.received = 0
        self.gaps = 0
        self.duplicates = 0
        self.reordered = 0
        self.latencies: array[float] = array("f")
        # Apart: a table's events, and the venue's 1 Hz event to every socket (a burst of
        # one frame per socket, which sets every stack's p99 when they are mixed).
        self.table_latencies: array[float] = array("f")
        self.venue_latencies: array[float] = array("f")


class Client(asyncio.Protocol):
    """One websocket: handshake, frame parsing, per-topic sequence checks."""

    def __init__(self, pool: Pool, index: int, cookie: str | None, topics: list[str]) -> None:
        self.pool = pool
        self.index = index
        self.cookie = cookie
        self.topics = topics
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.ready = asyncio.get_running_loop().create_future()
        self.waiting = set(topics)  # snapshots (ours) or the ack (peers) still to come
        self.last: dict[bytes, int] = {}
        self.stalled = False
        self.closed_code: int | None = None
        self.first_after: float | None = None
        self.bus_notices = 0
        self.errors = 0
        self.counts: dict[int, int] = {}  # step -> events received

    # Wire

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  (uvloop's is no subclass)
        transport.write(upgrade_request(self.pool.path, self.pool.host, self.pool.port,
                                        self.cookie))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self.closed_code is None:
            self.closed_code = 1006
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during the handshake"))

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0xFE]) + n.to_bytes(2, "big")
        key = int.from_bytes(mask * (n // 4 + 1), "big") >> (8 * (4 - n % 4))
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
        assert self.transport is not None
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[:end]).split(b"\r\n", 1)[0]
            del buffer[: end + 4]
            if b" 101 " not in status:
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            if not self.pool.socketio:  # Socket.IO subscribes once its namespace is open
                self.send_text(json.dumps({"type": "subscribe", "topics": self.topics}))
        for opcode, payload in frames(buffer):
            if opcode == TEXT:
                if self.pool.socketio:
                    self.on_socketio(payload)
                else:
                    self.on_text(payload)
            elif opcode == CLOSE:
                self.closed_code = int.from_bytes(payload[:2], "big") or 1005
                assert self.transport is not None
                self.transport.close()
            elif opcode == PING:
                assert self.transport is not None
                self.transport.write(pong(payload))

    # Messages

    def on_socketio(self, packet: bytes) -> None:
        """Engine.IO 4 / Socket.IO 5 packets over the websocket transport: open ("0"), ping
        ("2", answered "3"), the namespace connected ("40"), and events ("42[name, data]");
        an event's data is the publisher's JSON text, read as the other stacks' frames."""
        if packet.startswith(b"42"):
            name, *data = json.loads(packet[2:])
            if name == "event" and data:
                self.on_text(data[0].encode())
            elif name == "subscribed":
                self.on_text(b'{"type":"subscribed"}')
        elif packet == b"2":
            self.send_text("3")
        elif packet.startswith(b"40"):
            self.send_text("42" + json.dumps(["subscribe", {"topics": self.topics}],
                                             separators=(",", ":")))
        elif packet.startswith(b"0"):
            self.send_text("40")
        elif not packet.startswith((b"41", b"44")):
            self.errors += 1

    def on_text(self, text: bytes) -> None:
        # `{"type":"event"…` from frames, `{"type": "subscribed"…` from json.dumps defaults
        kind = text[9:14] if text[8] == 34 else text[10:15]
        if kind == b"event":
            self.on_event(text)
        elif kind == b"snaps":
            match = EVENT.search(text, 0, 300)
            if match:
                topic = match.group(1)
                self.last[topic] = int(match.group(2))
                self.waiting.discard(topic.decode())
                if not self.waiting and not self.ready.done():
                    self.ready.set_result(None)
        elif kind == b"subsc":  # a peer's acknowledgement of the whole subscription
            self.waiting.clear()
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind.startswith(b"bus"):  # ours: the bus went down or came back
            self.bus_notices += 1
        else:
            self.errors += 1
            if self.pool.error_samples < 5:
                self.pool.error_samples += 1
                print(json.dumps({"sample": text[:200].decode(errors="replace")}),
                      file=sys.stderr)

    def on_event(self, text: bytes) -> None:
        now = clock()
        if self.stalled:
            return
        match = EVENT.search(text, 0, 300)
        stamp = STAMP.search(text, 0, 400)
        if match is None or stamp is None:
            self.errors += 1
            return
        topic = match.group(1)
        version = int(match.group(2))
        sent = float(stamp.group(1))
        number = int(stamp.group(2))
        step = self.pool.step(number)
        step.received += 1
        self.counts[number] = self.counts.get(number, 0) + 1
        latency = (now - sent) * 1000.0
        step.latencies.append(latency)
        (step.venue_latencies if topic.startswith(VENUE_PREFIX) else step.table_latencies
         ).append(latency)
        last = self.last.get(topic, 0)
        if version == last + 1:
            self.last[topic] = version
        elif version > last + 1:
            step.gaps += version - last - 1
            self.last[topic] = version
        elif version == last:
            step.duplicates += 1
        else:
            step.reordered += 1
        if self.first_after is None and sent >= self.pool.mark:
            self.first_after = now


class Pool:
    """The sockets of this process and what they received, step by step."""

    def __init__(self, host: str, port: int, path: str, specs: list[dict[str, Any]]) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.socketio = path.startswith("/socket.io/")  # the python-socketio peer's wire
        self.specs = specs
        self.clients: list[Client] = []
        self.steps: dict[int, Step] = {}
        self.mark = float("inf")
        self.error_samples = 0

    def step(self, number: int) -> Step:
        found = self.steps.get(number)
        if found is None:
            found = self.steps[number] = Step()
        return found

    async def connect(self, concurrency: int, sources: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(concurrency)
        failures: list[str] = []
        started = clock()
        cpu = cpu_seconds()

        async def one(index: int, spec: dict[str, Any]) -> None:
            async with gate:
                client = Client(self, index, spec.get("cookie"), spec["topics"])
                # Spread over several loopback source addresses: tens of thousands of
                # sockets in a run would otherwise exhaust one address's ephemeral ports.
                source = (f"127.0.{1 + index % sources}.{1 + index // sources % 250}", 0)
                try:
                    await loop.create_connection(
                        lambda: client, self.host, self.port, local_addr=source
                    )
                    await asyncio.wait_for(client.ready, 60)
                    self.clients.append(client)
                except Exception as error:
                    failures.append(f"{type(error).__name__}: {error}"[:200])
                    if client.transport is not None:
                        client.transport.close()

        await asyncio.gather(*(one(i, spec) for i, spec in enumerate(self.specs)))
        elapsed = clock() - started
        return {"connected": len(self.clients), "failed": len(failures),
                "failures": failures[:5], "seconds": round(elapsed, 3),
                "cpu_s": round(cpu_seconds() - cpu, 3)}

    def report(self, number: int, published: dict[str, int]) -> dict[str, Any]:
        step = self.steps.pop(number, Step())
        expected = 0
        short: list[list[Any]] = []
        for client in self.clients:
            if not client.stalled:
                wanted = sum(published.get(topic, 0) for topic in client.topics)
                expected += wanted
                got = client.counts.pop(number, 0)
                if got < wanted and len(short) < 5:
                    short.append([client.index, len(client.topics), wanted, got,
                                  client.open, client.closed_code])
        out: dict[str, Any] = {
            "received": step.received, "expected": expected, "gaps": step.gaps,
            "duplicates": step.duplicates, "reordered": step.reordered,
            "latency_ms": percentiles(step.latencies),
            "table_latency_ms": percentiles(step.table_latencies),
            "venue_latency_ms": percentiles(step.venue_latencies),
            "open": sum(1 for c in self.clients if c.open),
            "closed_codes": _count(c.closed_code for c in self.clients if not c.open),
            "bus_notices": sum(c.bus_notices for c in self.clients),
            "errors": sum(c.errors for c in self.clients),
            "short": short,
            "cpu_s": round(cpu_seconds(), 3),
        }
        return out

    def stall(self, every: int) -> int:
        count = 0
        for client in self.clients[::every]:
            client.stalled = True
            if client.transport is not None and client.open:
                client.transport.pause_reading()
            count += 1
        return count

    def converged(self, mark: float) -> dict[str, Any]:
        live = [c for c in self.clients if c.open and not c.stalled]
        firsts = [c.first_after for c in live if c.first_after is not None]
        return {"sockets": len(live), "resumed": len(firsts),
                "max_s": round(max(firsts) - mark, 3) if firsts else None,
                "bus_notices": sum(c.bus_notices for c in live)}

    def close(self) -> None:
        for client in self.clients:
            if client.transport is not None:
                client.transport.close()


async def serve_sockets(host: str, port: int, path: str, specs_path: str) -> None:
    with open(specs_path) as file:
        specs = json.load(file)
    pool = Pool(host, port, path, specs)
    await command_loop(pool_commands(pool))


def pool_commands(pool: Pool) -> Any:
    async def handle(command: dict[str, Any]) -> dict[str, Any]:
        name = command["cmd"]
        if name == "connect":
            return await pool.connect(command.get("concurrency", 200), command.get("sources", 8))
        if name == "report":
            return pool.report(command["step"], command["published"])
        if name == "stall":
            return {"stalled": pool.stall(command["every"])}
        if name == "mark":
            pool.mark = command["at"]
            for client in pool.clients:
                client.first_after = None
            return {}
        if name == "converged":
            return pool.converged(pool.mark)
        if name == "close":
            pool.close()
            return {}
        raise ValueError(name)

    return handle
