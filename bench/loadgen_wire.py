"""What the load generator's processes share: the clock, CPU time, percentiles, and the
JSON-lines conversation with bench/fanout.py."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time
from array import array
from typing import Any

clock = time.monotonic  # CLOCK_MONOTONIC: the same clock in every process of the box

EVENT = re.compile(rb'"topic":"([^"]+)","version":(\d+)')
STAMP = re.compile(rb'"t":([0-9.]+),"s":(\d+)')


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
