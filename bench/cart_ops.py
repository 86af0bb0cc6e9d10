"""Where a cart change's server time goes, without HTTP or sockets: the service path alone.

Runs adds and removes at one table through the same services the API calls
(ordering/cart_service.py), each in its own transaction (commit, then publish on an
in-process bus with nobody listening), against PostgreSQL, one after the other. Reports
the process's CPU per change and, from a second run under cProfile (timing CPU, not
waiting), the CPU spent in the system calls that carry the database's round trips (socket
send, epoll, recv), which on loopback also pay for waking the PostgreSQL backend.

    .venv/bin/python bench/cart_ops.py [--changes 3000]

Writes bench/results/cart_ops.json. It needs what bench/fanout.py needs of PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from harness import RESULTS, drop_database, fresh_database, log

from ordering import cart_service, diner_service
from ordering.config import OrderingConfig
from realtime.bus import make_bus
from realtime.events import Tx, transaction

SYSCALLS = {"send": "{method 'send' of '_socket.socket' objects}",
            "poll": "{method 'poll' of 'select.epoll' objects}",
            "recv": "{method 'recv' of '_socket.socket' objects}"}


async def run(changes: int, profile: bool) -> dict[str, Any]:
    from db.engine import make_engine, make_sessionmaker

    db = await fresh_database(tables=2, name="comptoir_bench_cart")
    engine = make_engine(db["url"])
    sessionmaker = make_sessionmaker(engine)
    bus = make_bus(None)
    config = OrderingConfig()
    token = db["tables"][0][1]
    products = db["products"]
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    async def unit(op: Any) -> Any:
        async with transaction(sessionmaker, bus) as tx:
            return await op(tx)

    lines: list[int] = []

    async def change(i: int) -> None:
        if i % 2 == 0 or not lines:
            client_id, product = uuid.uuid4().hex, products[i % len(products)]

            def add(tx: Tx) -> Any:
                return cart_service.add_line(tx, config, token, "bench-device", client_id,
                                             product, 1)
            lines.append((await unit(add)).id)
        else:
            line = lines.pop(0)
            await unit(lambda tx: cart_service.remove_line(tx, config, token, "bench-device",
                                                           line))

    try:
        await unit(lambda tx: diner_service.start(tx, config, token, "bench-device", "Léa"))
        for i in range(300):  # warm: statements compiled and prepared, pool filled
            await change(i)
        from sqlalchemy import event

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(changes):
            await change(i)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        result: dict[str, Any] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "changes": changes,
            "cpu_us_per_change": round(cpu / changes * 1e6),
            "wall_us_per_change": round(wall / changes * 1e6),
            "statements_per_change": round(statements / changes, 2),
        }
        if profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
            profiler.enable()
            for i in range(changes):
                await change(i)
            profiler.disable()
            stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
            total = sum(v[2] for v in stats.values())
            by_name = {pstats.func_std_string(k): v for k, v in stats.items()}
            result["profiled_syscalls"] = {
                name: {"calls_per_change": round(by_name[key][1] / changes, 2),
                       "cpu_us_per_call": round(by_name[key][2] / by_name[key][1] * 1e6, 1),
                       "share_of_profiled_time": round(by_name[key][2] / total, 3)}
                for name, key in SYSCALLS.items() if key in by_name
            }
        return result
    finally:
        await engine.dispose()
        await drop_database("comptoir_bench_cart")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=3000)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.changes, profile=True))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cart_ops.json").write_text(json.dumps(result, indent=1) + "\n")
    log(json.dumps(result))
    print(f"RESULT cpu_us_per_change={result['cpu_us_per_change']} "
          f"statements={result['statements_per_change']}")


if __name__ == "__main__":
    sys.exit(main())
