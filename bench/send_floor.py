"""The floor under any fan-out on this box: what one websocket frame's write costs the kernel.

A server in uvloop writes an already-encoded 1 KiB text frame to each of N loopback
sockets, one `transport.write` per socket and nothing else (no Python framing, no JSON, no
bus), while another process reads them all. The time per write is what every notify costs
at least, whatever the framework: the burst of one message to N sockets cannot be
delivered faster than N of them, and a p99 over a workload where such bursts are a share
of the notifies cannot be lower than that share's tail.

    .venv/bin/python bench/send_floor.py [--sockets 605,15125] [--bursts 40]

Writes bench/results/send_floor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import selectors
import socket
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from harness import RESULTS, log

FRAME = bytes((0x81, 126)) + (1024).to_bytes(2, "big") + b"x" * 1024


def read_all(port: int, count: int, seconds: float) -> None:
    """The reading side (a child process): connect `count` sockets, read until told."""
    sockets = []
    for index in range(count):
        # Several loopback source addresses: tens of thousands of sockets would exhaust one
        # address's ephemeral ports.
        source = (f"127.0.{1 + index % 8}.{1 + index // 8 % 250}", 0)
        sockets.append(socket.create_connection(("127.0.0.1", port), source_address=source))
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.5):
            try:
                if not key.fileobj.recv(65536):  # type: ignore[union-attr]
                    return
            except BlockingIOError:
                pass


async def measure(count: int, bursts: int) -> dict[str, Any]:
    transports: list[asyncio.Transport] = []

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            transports.append(transport)  # type: ignore[arg-type]

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Accept, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    child = os.fork()
    if child == 0:
        try:
            read_all(port, count, 120)
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 60
        while len(transports) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if len(transports) < count:
            raise RuntimeError(f"only {len(transports)} of {count} sockets connected")
        await asyncio.sleep(0.5)
        walls, cpus = [], []
        for _ in range(bursts):
            wall, cpu = time.perf_counter(), time.process_time()
            for transport in transports:
                transport.write(FRAME)
            walls.append((time.perf_counter() - wall) / count * 1e6)
            cpus.append((time.process_time() - cpu) / count * 1e6)
            await asyncio.sleep(0.25)  # the reader drains; buffers never fill
        wall_us = statistics.median(walls)
        return {"sockets": count, "frame_bytes": len(FRAME),
                "wall_us_per_write": round(wall_us, 1),
                "cpu_us_per_write": round(statistics.median(cpus), 1),
                "burst_ms": round(wall_us * count / 1000, 1)}
    finally:
        for transport in transports:
            transport.close()
        server.close()
        os.kill(child, 9)
        os.waitpid(child, 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", default="605,15125")
    parser.add_argument("--bursts", type=int, default=40)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.sockets.split(",") if n]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * max(counts) + 256)),
                                                hard))
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    runs = [run(measure(n, args.bursts)) for n in counts]
    result = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "cores": os.cpu_count(), "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "send_floor.json").write_text(json.dumps(result, indent=1) + "\n")
    log(json.dumps(result))
    print("RESULT " + " ".join(f"sockets={r['sockets']}:{r['wall_us_per_write']}us/write,"
                               f"burst={r['burst_ms']}ms" for r in runs))


if __name__ == "__main__":
    sys.exit(main())
