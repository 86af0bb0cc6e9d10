"""Where a cart change's server CPU goes, layer by layer, without a network in between.

1. The service path: adds and removes at one table through the same services the API calls
   (ordering/cart_service.py), each in its own transaction (commit, then publish on an
   in-process bus with nobody listening), against PostgreSQL, one after the other. Reports
   the process's CPU per change and, from a second run under cProfile (timing CPU, not
   waiting), the CPU spent in the system calls that carry the database's round trips
   (socket send, epoll, recv), which on loopback also pay for waking the PostgreSQL backend.
2. The whole app: the same changes as HTTP requests handed to the ASGI app itself
   (middleware, session cookie, routing, body parsing, JSON reply; no socket, no HTTP
   parser), first with nobody watching the table, then with a table's worth of live
   sockets (six phones getting the HTML fragment, one POS getting JSON) whose writes go
   nowhere: the difference is what the hub spends to cut, render and frame each change.

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
from pathlib import Path
from typing import Any

from harness import RESULTS, drop_database, fresh_database, log

from ordering import cart_service, diner_service
from ordering.config import OrderingConfig
from realtime.bus import make_bus
from realtime.events import Tx, transaction

ROUNDS = 3  # of the app's measurement, with and without watchers
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
        result["app"] = await through_app(db, changes)
        return result
    finally:
        await engine.dispose()
        await drop_database("comptoir_bench_cart")


class _Nowhere:
    """A socket outlet that takes every frame and sends it nowhere (counts them)."""

    def __init__(self) -> None:
        self.frames = 0

    def write(self, text: str) -> bool:
        self.frames += 1
        return True

    def wake(self, conn: Any) -> None:
        raise AssertionError("a frame was refused")


async def through_app(db: dict[str, Any], changes: int) -> dict[str, Any]:
    """CPU per change through the ASGI app: without watchers, then with one table's."""
    from app import create_app
    from realtime.hub import Connection
    from realtime.models import current_version
    from realtime.topics import Viewer
    from settings import Settings

    app = create_app(Settings(database_url=db["url"], redis_url=None, secret_key="bench"))
    token = db["tables"][1][1]
    table_topic = f"table:{db['tables'][1][0]}"
    products = db["products"]
    cookie = ""

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        nonlocal cookie
        data = json.dumps(body).encode() if body is not None else b""
        headers = [(b"host", b"bench"), (b"origin", b"http://bench"),
                   (b"content-type", b"application/json"), (b"cookie", cookie.encode()),
                   (b"content-length", str(len(data)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 1), "server": ("bench", 80)}
        sent = False
        reply: dict[str, Any] = {"status": 0, "body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # the client never disconnects
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal cookie
            if message["type"] == "http.response.start":
                reply["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"set-cookie":
                        cookie = value.decode().split(";", 1)[0]
            else:
                reply["body"] += message.get("body", b"")

        await app(scope, receive, send)
        return reply["status"], json.loads(reply["body"] or b"null")

    async def run_changes(count: int, watchers: list[_Nowhere],
                          profiler: cProfile.Profile | None = None) -> float:
        lines: list[int] = []
        if profiler is not None:
            profiler.enable()
        cpu = time.process_time()
        for i in range(count):
            expected = sum(w.frames for w in watchers) + len(watchers)
            if i % 2 == 0 or not lines:
                status, reply = await call("POST", f"/api/v1/tables/{token}/cart/lines",
                                           {"client_id": uuid.uuid4().hex,
                                            "product_id": products[i % len(products)],
                                            "quantity": 1})
                assert status == 201, (status, reply)
                lines.append(reply["line"]["id"])
            else:
                status, reply = await call(
                    "DELETE", f"/api/v1/tables/{token}/cart/lines/{lines.pop(0)}")
                assert status == 200, (status, reply)
            while sum(w.frames for w in watchers) < expected:  # the hub's turn
                await asyncio.sleep(0)
        cpu = time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        return cpu / count * 1e6

    async with app.router.lifespan_context(app):
        status, reply = await call("GET", f"/api/v1/tables/{token}")
        assert status == 200, (status, reply)
        status, reply = await call("POST", f"/api/v1/tables/{token}/start", {"name": "Léa"})
        assert status in (200, 201), (status, reply)
        await run_changes(300, [])  # warm
        hub = app.state.comptoir.hub
        staff = Viewer(company_id=db["company_id"], staff_id=db["staff_id"], role="admin")
        watchers = [_Nowhere() for _ in range(7)]
        # Six phones get the page's HTML, the POS gets JSON (both the full cut).
        conns = [Connection(staff, "html" if index < 6 else "json", 256, outlet)
                 for index, outlet in enumerate(watchers)]

        async def watching(on: bool) -> None:
            """Sockets on (at the topic's version, as after a snapshot) or off the table."""
            if not on:
                for conn in conns:
                    hub.remove(conn)
                return
            async with app.state.comptoir.sessionmaker() as session:
                version = await current_version(session, table_topic)
            for conn in conns:
                hub.add(conn)
                hub.watch(conn, table_topic)
                conn.versions[table_topic] = version

        await watching(True)
        await run_changes(300, watchers)  # warm the templates' paths
        # Alternating rounds, the least of each kept: this shared VM's noise only adds.
        alones, watcheds = [], []
        for _ in range(ROUNDS):
            await watching(False)
            alones.append(await run_changes(changes // ROUNDS, []))
            await watching(True)
            watcheds.append(await run_changes(changes // ROUNDS, watchers))
        alone, watched = min(alones), min(watcheds)
        profiler = cProfile.Profile(time.process_time)
        await run_changes(changes, watchers, profiler)
    return {"profile": _top(profiler, changes), "by_package": by_package(profiler, changes),
            "cpu_us_per_change_no_watchers": round(alone),
            "cpu_us_per_change_7_watchers": round(watched),
            "fanout_us_per_change": round(watched - alone)}


def _top(profiler: cProfile.Profile, changes: int, count: int = 40) -> list[str]:
    """The functions that spent the most CPU of their own, in microseconds per change, and
    with what they call (cumulative): where the time goes."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:count]
    return [f"{v[2] / changes * 1e6:7.1f} us own {v[3] / changes * 1e6:8.1f} us cumulative "
            f"{v[1] / changes:6.2f} calls  {_short(pstats.func_std_string(k))}" for k, v in rows]


def _short(where: str) -> str:
    """A function's place without this machine's paths: from its package on."""
    for marker in ("site-packages/", str(Path(__file__).resolve().parent.parent) + "/",
                   "/lib/python3."):
        if marker in where:
            head, _, tail = where.partition(marker)
            return tail if marker != "/lib/python3." else "python3." + tail
    return where


def by_package(profiler: cProfile.Profile, changes: int) -> dict[str, float]:
    """Each library's (or the project's package's) own CPU per change, in microseconds,
    under the profiler (which inflates every call alike): which layer the time is spent in."""
    totals: dict[str, float] = {}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, name), value in stats.items():
        package = _package(filename, name)
        totals[package] = totals.get(package, 0.0) + value[2]
    grand = sum(totals.values()) or 1.0
    return {name: round(own / changes * 1e6, 1)
            for name, own in sorted(totals.items(), key=lambda item: -item[1])
            if own / grand >= 0.005}


def _package(filename: str, name: str) -> str:
    if filename == "~":  # a builtin: by what it is a method of
        return "C builtins: " + (name.split("'")[3] if name.count("'") >= 4 else name)
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    root = str(Path(__file__).resolve().parent.parent) + "/"
    if filename.startswith(root):
        return "comptoir: " + filename[len(root):].split("/")[0]
    return "stdlib: " + Path(filename).stem


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=3000)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.changes, profile=True))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cart_ops.json").write_text(json.dumps(result, indent=1) + "\n")
    log(json.dumps(result))
    app = result["app"]
    print(f"RESULT cpu_us_per_change={result['cpu_us_per_change']} "
          f"statements={result['statements_per_change']} "
          f"app_us_per_change={app['cpu_us_per_change_no_watchers']} "
          f"fanout_us_per_change={app['fanout_us_per_change']}")


if __name__ == "__main__":
    sys.exit(main())
