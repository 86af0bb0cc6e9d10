"""What one open websocket costs the server: memory, tasks, garbage-collector pauses.

    .venv/bin/python bench/socket_memory.py --sockets 5000

Starts `comptoir serve` as bench/fanout.py does (one worker, PostgreSQL, a private
redis-server), opens the fan-out workload's sockets with the bench's load generator in two
halves (each socket authenticated and subscribed, with its snapshots), and reads the
server's RSS from /proc before and after each half, and its own counts from /healthz
(tasks, sockets, garbage-collector collections and pauses). With `--hold` it then publishes
at a low rate for that many seconds with every socket open. Prints one JSON object;
bench/README.md explains the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import resource
import sys
import urllib.request
from typing import Any

from fanout_level import Workload, build_specs
from harness import (
    BENCH,
    RESULTS,
    Child,
    Redis,
    clock,
    drop_database,
    fresh_database,
    log,
    start_server,
    stop,
    usage,
)

DATABASE = "comptoir_socket_memory"  # not the fan-out bench's: both may run on one box


def health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


async def settled_rss(pids: list[int], seconds: float = 1.0) -> int:
    """RSS in KiB once the server is done with what was asked of it."""
    await asyncio.sleep(seconds)
    return usage(pids)[1]


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    workload = Workload(max(1, math.ceil(args.sockets / (args.phones + 0.05))), args.phones)
    redis = Redis()
    await redis.start()
    venue = await fresh_database(workload.tables, DATABASE)
    server = await start_server("ours", 1, redis.url, venue["url"], log_name="socket-memory")
    children: list[Child] = []
    publisher: Child | None = None
    try:
        specs, topics = build_specs("ours", workload, venue)
        pids = server.pids()
        rss = [await settled_rss(pids)]
        states = [await asyncio.to_thread(health, server.port)]
        halves = [specs[: len(specs) // 2], specs[len(specs) // 2 :]]
        connected = 0
        started = clock()
        for part, half in enumerate(halves):
            path = RESULTS / f".socket-memory-{part}.json"
            path.write_text(json.dumps(half))
            child = Child([sys.executable, str(BENCH / "loadgen.py"), "sockets", "127.0.0.1",
                           str(server.port), "/ws?format=json", str(path)])
            await child.start()
            children.append(child)
            answer = await child.ask("connect", concurrency=args.concurrency)
            connected += answer["connected"]
            if answer["failed"]:
                log("failed sockets:", answer["failures"])
            rss.append(await settled_rss(pids))
            states.append(await asyncio.to_thread(health, server.port))
            log(f"{connected} sockets: RSS {rss[-1] / 1024:.1f} MiB")
        ramp_s = clock() - started
        out: dict[str, Any] = {
            "sockets": connected, "tables": workload.tables, "ramp_s": round(ramp_s, 1),
            "server_rss_mib": [round(r / 1024, 1) for r in rss],
            "rss_kib_per_socket": round((rss[2] - rss[0]) / max(connected, 1), 1),
            "rss_kib_per_socket_second_half": round(
                (rss[2] - rss[1]) / max(connected - len(halves[0]), 1), 1),
            "tasks_per_socket": round(
                (states[2]["process"]["tasks"] - states[0]["process"]["tasks"])
                / max(connected, 1), 2),
            "gc_ramp": gc_between(states[0]["process"]["gc"], states[2]["process"]["gc"]),
        }
        if args.hold:
            topics_path = RESULTS / ".socket-memory-topics.json"
            topics_path.write_text(json.dumps(topics))
            publisher = Child([sys.executable, str(BENCH / "loadgen.py"), "publish", "ours",
                               redis.url, str(topics_path)])
            await publisher.start()
            before = await asyncio.to_thread(health, server.port)
            sent = await publisher.ask("run", step=1, rate=args.rate, seconds=args.hold,
                                       venue_hz=1.0)
            after = await asyncio.to_thread(health, server.port)
            out["hold"] = {"seconds": args.hold, "events": sent["total"],
                           "gc": gc_between(before["process"]["gc"], after["process"]["gc"])}
        return out
    finally:
        for child in [*children, publisher]:
            if child is not None:
                with contextlib.suppress(Exception):
                    await child.ask("close") if child in children else None
                await child.close()
        stop(server.process)
        redis.kill()
        await drop_database(DATABASE)
        for leftover in RESULTS.glob(".socket-memory-*.json"):
            leftover.unlink()


def gc_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Collections per generation between two readings of the server's /healthz, and the
    pauses of the full ones (the server keeps the most recent)."""
    collections = [a - b for a, b in zip(after["collections"], before["collections"], strict=True)]
    full = collections[2]
    pauses = after["full_pauses_ms"][-full:] if full else []
    return {"collections": collections, "full_pauses_ms": pauses,
            "full_pause_max_ms": max(pauses, default=0.0),
            "young_pause_max_ms": after["young_pause_max_ms"],
            "frozen": after["frozen"], "freezes": after["freezes"] - before["freezes"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--phones", type=int, default=6, help="per table, as bench/fanout.py")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument("--hold", type=float, default=0.0,
                        help="then publish for this many seconds with every socket open")
    parser.add_argument("--rate", type=float, default=200.0, help="table events/s in --hold")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    RESULTS.mkdir(exist_ok=True)
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run  # type: ignore[assignment]
    print(json.dumps(run(measure(args)), indent=1))


if __name__ == "__main__":
    main()
