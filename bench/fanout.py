"""Comptoir's live path against the peers a developer would pick, on loopback.

    .venv/bin/python bench/fanout.py --quick      # under 5 minutes
    .venv/bin/python bench/fanout.py              # the full run (15,000+ sockets)

One after the other, never at the same time: (1) the fan-out layer of Comptoir (the real
/ws endpoint and hub, fed through its real Redis bus), of Starlette + broadcaster and of
Django Channels + channels-redis, under the same workload; (2) the real path, a cart change
through Comptoir's HTTP API -> PostgreSQL commit -> Redis -> every member's socket, with
1 and 2 workers. Writes bench/results/fanout.json and fanout.md, and ends with one
`RESULT …` line. bench/README.md explains the workload, the phases and every number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fanout_level import Fanout, Workload
from harness import (
    RESULTS,
    SERVER_ROOT,
    STACKS,
    Redis,
    clock,
    drop_database,
    fresh_database,
    log,
    peers_python,
    versions,
)
from real_path import RealPath
from report import markdown, result_line

# Loopback round trip


async def loopback_rtt() -> float:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(64):
            writer.write(data)
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times = []
    for _ in range(500):
        started = time.perf_counter()
        writer.write(b"x")
        await reader.read(64)
        times.append(time.perf_counter() - started)
    writer.close()
    server.close()
    times.sort()
    return round(times[len(times) // 2] * 1e6, 1)


def server_commit() -> str:
    """The commit Comptoir's server ran from (with "+changes" when its checkout had some)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(SERVER_ROOT[0]), *args], capture_output=True,
                              text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


# Main


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run, under 5 minutes")
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--tables", type=int, help="tables at the fan-out level")
    parser.add_argument("--phones", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="server workers, every stack")
    parser.add_argument("--message-bytes", type=int, default=1024)
    parser.add_argument("--socket-processes", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument("--start-rate", type=float, default=2000.0, help="notifies/s")
    parser.add_argument("--step-factor", type=float, default=1.4)
    parser.add_argument("--max-steps", type=int, default=10)
    parser.add_argument("--step-seconds", type=float)
    parser.add_argument("--hold-seconds", type=float)
    parser.add_argument("--hold-tables", type=int,
                        help="a separate ramp + hold with this many tables (full: 2500)")
    parser.add_argument("--venue-off", action="store_true",
                        help="find each stack's knee again without the venue's 1 Hz event")
    parser.add_argument("--drain", type=float, default=1.0)
    parser.add_argument("--real-tables", type=int)
    parser.add_argument("--real-start-rate", type=float,
                        help="cart ops/s (default 10, 20 with --quick)")
    parser.add_argument("--real-max-steps", type=int, default=14,
                        help="steps end sooner once p99 > 1 s (the capacity is found)")
    parser.add_argument("--real-step-seconds", type=float)
    parser.add_argument("--http-connections", type=int, default=64)
    parser.add_argument("--real-workers", default="1,2")
    parser.add_argument("--server-root",
                        help="run Comptoir's server from this checkout (an earlier commit's, "
                             "to compare with), the bench from this one")
    parser.add_argument("--pin", action="store_true",
                        help="real path: the server alone on one core (taskset), PostgreSQL, "
                             "Redis and the load generator on the other (a 2-core box)")
    parser.add_argument("--restart-both", action="store_true",
                        help="also restart Redis under the 2-worker real path")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the servers for a step at the knee (bench/results/profile-*)")
    parser.add_argument("--out", default=str(RESULTS / "fanout.json"))
    args = parser.parse_args(argv)
    quick = args.quick
    # The 1 Hz event to every socket is a burst of one frame per socket: with thousands of
    # sockets on one worker it alone exceeds 50 ms (see bench/README.md), so the rate steps
    # run on 100 tables and the many-socket case has its own hold run.
    args.tables = args.tables or 100
    args.hold_tables = args.hold_tables if args.hold_tables is not None else (0 if quick else 2500)
    args.step_seconds = args.step_seconds or (3.0 if quick else 8.0)
    args.hold_seconds = args.hold_seconds if args.hold_seconds is not None else (
        4.0 if quick else 30.0)
    args.real_tables = args.real_tables or (20 if quick else 100)
    args.real_step_seconds = args.real_step_seconds or (3.0 if quick else 8.0)
    # Quick: two steps fewer per worker count (every step at 10–20 ops/s sits far below
    # the knee anyway), so that the whole run stays under five minutes.
    args.real_start_rate = args.real_start_rate or (20.0 if quick else 10.0)
    return args


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    RESULTS.mkdir(exist_ok=True)
    stacks = [s for s in args.stacks.split(",") if s]
    if any(s != "ours" for s in stacks):
        peers_python()
    if args.server_root:
        SERVER_ROOT[0] = Path(args.server_root).resolve()
    redis = Redis()
    await redis.start()
    started = clock()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()} {_cpu_model()}", "cores": os.cpu_count(),
            "mode": "quick" if args.quick else "full", "workers": args.workers,
            "tables": args.tables, "phones": args.phones, "message_bytes": args.message_bytes,
            "sockets": Workload(args.tables, args.phones).sockets,
            "loopback_rtt_us": await loopback_rtt(), "versions": versions(),
            "argv": sys.argv[1:], "server_commit": server_commit(),
        },
        "fanout": {}, "hold": {}, "real": {},
    }
    try:
        if stacks:
            venue = await fresh_database(args.tables)
            for stack in stacks:
                log("fan-out:", stack)
                try:
                    results["fanout"][stack] = await Fanout(stack, args, venue, redis).run()
                except Exception as error:
                    log(stack, "failed:", repr(error))
                    results["fanout"][stack] = {"error": repr(error)}
                if redis.process is None:
                    await redis.start()
        if stacks and args.hold_tables:
            venue = await fresh_database(args.hold_tables)
            for stack in stacks:
                log("hold:", stack, Workload(args.hold_tables, args.phones).sockets, "sockets")
                try:
                    results["hold"][stack] = await Fanout(
                        stack, args, venue, redis, hold_only=True).run()
                except Exception as error:
                    log(stack, "failed:", repr(error))
                    results["hold"][stack] = {"error": repr(error)}
        for workers in [int(w) for w in args.real_workers.split(",") if w]:
            log("real path:", workers, "worker(s)")
            try:
                results["real"][str(workers)] = await RealPath(args, workers, redis).run()
            except Exception as error:
                log("real path failed:", repr(error))
                results["real"][str(workers)] = {"error": repr(error)}
            if redis.process is None:
                await redis.start()
        real = results["real"]
        if "1" in real and "2" in real and real["1"].get("capacity_ops_per_s_p99_under_1s"):
            results["real_capacity_2_vs_1"] = round(
                real["2"].get("capacity_ops_per_s_p99_under_1s", 0)
                / real["1"]["capacity_ops_per_s_p99_under_1s"], 2)
    finally:
        redis.kill()
        await drop_database()
        for leftover in RESULTS.glob(".*.json"):
            leftover.unlink()
    results["meta"]["seconds"] = round(clock() - started, 1)
    return results


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run  # type: ignore[assignment]
    results = run(amain(args))
    out = Path(args.out)
    out.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    out.with_suffix(".md").write_text(table)
    print(table)
    print(result_line(results))


if __name__ == "__main__":
    main()
