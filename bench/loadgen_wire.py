"""What the bench's clients share (the load generator's processes, and the real path's
phones): the clock, CPU time, percentiles, websocket frames as servers send them, and the
JSON-lines conversation with bench/fanout.py. Standard library only: the peers' venv runs it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import sys
import time
from array import array
from typing import Any

clock = time.monotonic  # CLOCK_MONOTONIC: the same clock in every process of the box

def family(stack: str) -> str:
    """The library a stack's configuration runs: `channels_pubsub` and `channels@2` are
    Channels (its pub/sub layer; two workers), `broadcaster_asis` is broadcaster (as
    shipped, without the subscribe fix), and so on."""
    return stack.split("@")[0].split("_")[0]


def stack_workers(stack: str, default: int) -> int:
    """The workers a configuration names (`socketio@2`), else the run's own."""
    return int(stack.split("@")[1]) if "@" in stack else default


EVENT = re.compile(rb'"topic":"([^"]+)","version":(\d+)')
STAMP = re.compile(rb'"t":([0-9.]+),"s":(\d+)')


TEXT, CLOSE, PING = 1, 8, 9


def upgrade_request(path: str, host: str, port: int, cookie: str | None) -> bytes:
    """A websocket handshake request, with the session cookie when there is one."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if cookie:
        lines.append(f"Cookie: comptoir={cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """The whole (unmasked, unfragmented) frames at the start of `buffer`, as (opcode,
    payload), taken out of it; a frame not complete yet stays for the next read."""
    found = []
    pos, size = 0, len(buffer)
    while size - pos >= 2:
        length = buffer[pos + 1] & 0x7F
        start = pos + 2
        if length == 126:
            if size - pos < 4:
                break
            length, start = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), pos + 4
        elif length == 127:
            if size - pos < 10:
                break
            length, start = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), pos + 10
        end = start + length
        if end > size:
            break
        found.append((buffer[pos] & 0x0F, bytes(buffer[start:end])))
        pos = end
    if pos:
        del buffer[:pos]
    return found


def pong(payload: bytes) -> bytes:
    """The answer to a ping, as a client sends it (masked, here with a zero mask)."""
    return bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentiles(values: array[float] | list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        return round(ordered[min(n - 1, int(q * n))], 3)

    return {"count": n, "p50": at(0.5), "p90": at(0.9), "p99": at(0.99),
            "p999": at(0.999), "max": round(ordered[-1], 3)}


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[str(value)] = out.get(str(value), 0) + 1
    return out


async def command_loop(handle: Any) -> None:
    """One JSON command per stdin line, one JSON answer per stdout line."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        command = json.loads(line)
        if command["cmd"] == "exit":
            return
        try:
            answer = await handle(command)
        except Exception as error:  # the orchestrator prints it and stops
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
