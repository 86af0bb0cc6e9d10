"""A coffee machine written from docs/machines.md alone, as a hardware partner would: the
tests' own device, sharing nothing with machines/simulator.py.

    async with PartnerDevice(server_url, secret) as device:
        command = await device.next("brew")
        await device.report(command["brew_id"], "accepted")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = 1


class Refused(Exception):
    """The server closed the connection; `code` is its close code (1.1, 1.5)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


class PartnerDevice:
    """One connection of a machine: opened with its secret in the handshake (1.1), or in a
    first `hello` message when `hello` is true."""

    def __init__(self, server_url: str, secret: str, *, hello: bool = False) -> None:
        self.url = server_url.replace("http", "ws", 1) + "/ws/device"
        self.secret = secret
        self.hello = hello
        self.welcome: dict[str, Any] = {}
        self.seen: list[dict[str, Any]] = []  # every message received, in order
        self._socket: ClientConnection | None = None

    async def __aenter__(self) -> PartnerDevice:
        headers = {} if self.hello else {"Authorization": f"Device {self.secret}"}
        self._socket = await connect(self.url, additional_headers=headers)
        if self.hello:
            await self.send({"type": "hello", "secret": self.secret})
        first = await self.recv()
        if first.get("type") != "welcome":
            raise Refused(*(await self.closed()))
        assert first["protocol"] == PROTOCOL, first
        assert isinstance(first["heartbeat_s"], int | float) and first["heartbeat_s"] > 0
        self.welcome = first
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with contextlib.suppress(ConnectionClosed):  # the server may have closed it first
            await self.socket.close()

    @property
    def socket(self) -> ClientConnection:
        assert self._socket is not None, "not connected"
        return self._socket

    @property
    def machine_id(self) -> int:
        return int(self.welcome["machine"]["id"])

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def send_raw(self, frame: str | bytes) -> None:
        """A frame as it is: text that may not be JSON, or a binary frame."""
        await self.socket.send(frame)

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        """The next message from the server."""
        raw = await asyncio.wait_for(self.socket.recv(), timeout)
        message = json.loads(raw)
        assert isinstance(message, dict) and "type" in message, raw
        self.seen.append(message)
        return message

    async def next(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The next message of this type, skipping others (brew commands, pongs)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            message = await self.recv(deadline - asyncio.get_running_loop().time())
            if message["type"] == kind:
                return message

    async def answer(self, message: dict[str, Any] | str | bytes) -> dict[str, Any]:
        """Send a message, then ping: what the server said in between (its error, if it
        refused the message), or the pong alone when it had nothing to say. The pong
        proves the connection is still open and served."""
        if isinstance(message, dict):
            await self.send(message)
        else:
            await self.send_raw(message)
        await self.send({"type": "ping"})
        reply = await self.next_reply()
        if reply["type"] != "pong":
            assert (await self.next_reply())["type"] == "pong"
        return reply

    async def next_reply(self) -> dict[str, Any]:
        """The next error or pong (commands may come in between)."""
        while True:
            message = await self.recv()
            if message["type"] in ("error", "pong"):
                return message

    async def heartbeat(self, alerts: list[str] | None = None) -> None:
        await self.send({"type": "heartbeat"} if alerts is None
                        else {"type": "heartbeat", "alerts": alerts})

    async def report(self, brew_id: int, status: str, **fields: Any) -> None:
        await self.send({"type": "brew", "brew_id": brew_id, "status": status, **fields})

    async def closed(self, timeout: float = 10) -> tuple[int | None, str]:
        """Wait until the server closes the connection: its close code and reason."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self.seen.append(json.loads(await self.socket.recv()))
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame is not None else (None, "")
