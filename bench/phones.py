"""The real path's phones (sockets following docs/realtime.md) and its HTTP client."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import clock
from loadgen_wire import PING, TEXT, frames, pong, upgrade_request

if TYPE_CHECKING:  # the phones report to the run they belong to
    from real_path import RealPath


@dataclass
class Member:
    table: int  # index
    token: str
    cookie: str
    lines: list[int] = field(default_factory=list)
    busy: bool = False


@dataclass
class Op:
    kind: str  # add | remove
    table: int
    scheduled: float
    line: int | None = None
    status: int = 0
    started: float = 0.0  # when the bench got to send it: late means the bench stalled
    done: float = 0.0


LINE = re.compile(rb'data-line=\\"(\d+)\\"')
EVENT = re.compile(rb'"topic":"([^"]+)","version":(\d+)')


class Phone(asyncio.Protocol):
    """A member's page socket (format=html, what live.js gets), following docs/realtime.md:
    versions per topic, a resync on a gap, nothing to do on a bus notice (the server sends
    what moved). Records when each cart line first shows and when it goes."""

    def __init__(self, real: RealPath, member: Member, topic: str) -> None:
        self.real = real
        self.member = member
        self.topic = topic
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.ready = asyncio.get_running_loop().create_future()
        self.version = -1
        self.lines: set[int] = set()
        self.seen: dict[int, float] = {}
        self.gone: dict[int, float] = {}
        self.gaps = 0
        self.bus_notices = 0
        self.messages = 0
        self.reconnects = 0
        self.history: list[tuple[float, int]] = []  # (when, version) at each change

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  (uvloop's is no subclass)
        transport.write(upgrade_request("/ws?format=html", "127.0.0.1", self.real.port,
                                        self.member.cookie))

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.transport = None
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed"))
        elif not self.real.closing:
            # As live.js does: a socket the server closed (it fell too far behind, the
            # worker restarted) comes back after a moment and starts from a snapshot.
            self.reconnects += 1
            task = asyncio.create_task(self.reconnect())
            self.real.pending.add(task)
            task.add_done_callback(self.real.pending.discard)

    async def reconnect(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.real.closing:
            await asyncio.sleep(0.5)
            self.buffer.clear()
            self.version = -1
            try:
                await loop.create_connection(lambda: self, "127.0.0.1", self.real.port)
                return
            except OSError:
                continue

    def send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        n = len(payload)
        assert n < 126 and self.transport is not None
        self.transport.write(bytes([0x81, 0x80 | n]) + b"\0\0\0\0" + payload)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = b" 101 " in bytes(buffer[:end])
            del buffer[: end + 4]
            if not ok:
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.send({"type": "subscribe", "topics": [self.topic]})
        for opcode, payload in frames(buffer):
            if opcode == TEXT:
                self.on_text(payload)
            elif opcode == PING and self.transport is not None:
                # Answered as browsers do: unanswered, the server's keep-alive closes the
                # socket and the phone reconnects.
                self.transport.write(pong(payload))

    def on_text(self, text: bytes) -> None:
        now = clock()
        self.messages += 1
        kind = text[9:14] if text[8] == 34 else text[10:15]
        if kind.startswith(b"bus"):
            self.bus_notices += 1  # nothing to do: the server catches its sockets up
            return
        match = EVENT.search(text, 0, 200)
        if match is None:
            return
        version = int(match.group(2))
        if kind == b"snaps":
            self.version = version
            self.history.append((now, version))
            self.apply(text, now)
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == b"event":
            if version <= self.version:
                return
            if version > self.version + 1:  # missed one: fetch a snapshot
                self.gaps += 1
                self.send({"type": "resync", "topics": [self.topic]})
                return
            self.version = version
            self.history.append((now, version))
            self.apply(text, now)

    def apply(self, text: bytes, now: float) -> None:
        lines = {int(m) for m in LINE.findall(text)}
        for line in lines - self.lines:
            self.seen.setdefault(line, now)
        for line in self.lines - lines:
            self.gone.setdefault(line, now)
        self.lines = lines


class HttpPool:
    """Keep-alive HTTP/1.1 connections for the cart requests, opened as needed.

    A connection idle for longer than the server keeps it (uvicorn: 5 s) is closed
    rather than reused, as HTTP clients do (httpx's keep-alive expiry), so a request is
    never written to a connection the server is closing.
    """

    KEEP_ALIVE_S = 4.0

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.count = 0
        self.freed = asyncio.Condition()

    async def request(self, method: str, path: str, cookie_value: str,
                      body: bytes = b"") -> tuple[int, bytes]:
        reader, writer = await self._take()
        try:
            writer.write(
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Cookie: comptoir={cookie_value}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            data = await reader.readexactly(length)
        except Exception:
            await self._drop(writer)
            raise
        self.idle.append((reader, writer, clock()))
        async with self.freed:
            self.freed.notify()
        return status, data

    async def _drop(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        self.count -= 1
        async with self.freed:
            self.freed.notify()

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            while self.idle:
                reader, writer, since = self.idle.pop()
                if clock() - since < self.KEEP_ALIVE_S:
                    return reader, writer
                await self._drop(writer)
            if self.count < self.size:
                self.count += 1
                try:
                    return await asyncio.open_connection("127.0.0.1", self.port)
                except Exception:
                    self.count -= 1
                    raise
            async with self.freed:
                await self.freed.wait()

    def close(self) -> None:
        for _, writer, _since in self.idle:
            writer.close()
