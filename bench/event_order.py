"""Events in version order under concurrent changes: how many reach the phones as events.

Two `comptoir serve` processes share PostgreSQL and a private Redis. P phones sit at one
table, half of them on each server, each with a socket that follows docs/realtime.md (apply
the next version, ignore older ones, ask for a snapshot on a gap and wait for it). Each round,
every phone sends C cart changes at once through its own server (P × C concurrent changes);
then the bench waits until every phone holds the table's version in the database and counts,
per (phone, version), whether it arrived as an event or inside a snapshot the phone had to ask
for. It runs once per hold (`EVENT_HOLD_S`); a hold of 0 hands events on as they come off the
bus, as the hub did before it put them in order.

    .venv/bin/python bench/event_order.py                   # 8 phones × 50 changes, 5 rounds
    .venv/bin/python bench/event_order.py --holds 0,0.1,1   # the holds to compare

Needs PostgreSQL on 127.0.0.1:5432 (the bench's own database `comptoir_event_order`) and
`redis-server`. Writes bench/results/event_order.json and ends with one line:

    RESULT hold_s=<s> live=<0..1> snapshots=<asked> ... (one per hold)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from typing import Any

import httpx
from harness import RESULTS, Redis, drop_database, fresh_database, log, start_server, stop
from websockets.asyncio.client import ClientConnection, connect

DB_NAME = "comptoir_event_order"
WAIT_S = 60.0


class Follower:
    """One phone's socket, following the protocol on its table's topic."""

    def __init__(self, ws: ClientConnection, topic: str, version: int) -> None:
        self.ws = ws
        self.topic = topic
        self.version = version
        self.events = 0
        self.snapshots = 0  # asked for after a gap, or sent by the server catching up
        self.resyncing = False

    async def follow(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("topic") != self.topic:
                continue
            version = message["version"]
            if message["type"] == "snapshot":
                self.snapshots += 1
                self.resyncing = False
                self.version = max(self.version, version)
            elif message["type"] == "event" and version > self.version:
                if version == self.version + 1:
                    self.version = version
                    self.events += 1
                elif not self.resyncing:
                    self.resyncing = True
                    await self.ws.send(json.dumps({"type": "resync", "topics": [self.topic]}))


async def table_version(http: httpx.AsyncClient, token: str) -> int:
    reply = await http.get(f"/api/v1/tables/{token}")
    reply.raise_for_status()
    version: int = reply.json()["table"]["version"]
    return version


async def one_hold(hold_s: float, args: argparse.Namespace) -> dict[str, Any]:
    venue = await fresh_database(1, DB_NAME)
    redis = Redis()
    await redis.start()
    os.environ["EVENT_HOLD_S"] = str(hold_s)
    servers = [await start_server("ours", 1, redis.url, venue["url"], f"order-{n}")
               for n in range(args.servers)]
    token = venue["tables"][0][1]
    products = venue["products"][:3]
    try:
        async with contextlib.AsyncExitStack() as stack:
            phones = [
                await stack.enter_async_context(httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{servers[n % len(servers)].port}", timeout=WAIT_S,
                    limits=httpx.Limits(max_connections=args.changes)))
                for n in range(args.phones)
            ]
            for n, http in enumerate(phones):
                state = (await http.get(f"/api/v1/tables/{token}")).raise_for_status().json()
                if n == 0:
                    pin = (await http.post(f"/api/v1/tables/{token}/start",
                                           json={"name": "P0"})).raise_for_status().json()["pin"]
                else:
                    (await http.post(f"/api/v1/tables/{token}/join",
                                     json={"name": f"P{n}", "pin": pin})).raise_for_status()
            topic = state["topics"][0]
            lines: list[list[int]] = []
            for http in phones:  # each phone changes its own lines
                own = []
                for product in products:
                    reply = await http.post(f"/api/v1/tables/{token}/cart/lines", json={
                        "client_id": uuid.uuid4().hex, "product_id": product, "quantity": 1})
                    own.append(reply.raise_for_status().json()["line"]["id"])
                lines.append(own)

            followers = []
            for n, http in enumerate(phones):
                url = f"ws://127.0.0.1:{servers[n % len(servers)].port}/ws?format=json"
                ws = await stack.enter_async_context(connect(
                    url, additional_headers={"Cookie": f"comptoir={http.cookies['comptoir']}"}))
                await ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
                snapshot = json.loads(await ws.recv())
                followers.append(Follower(ws, topic, snapshot["version"]))
            tasks = [asyncio.create_task(f.follow()) for f in followers]
            start = min(f.version for f in followers)
            rounds = []
            try:
                for round_ in range(args.rounds):
                    before = await table_version(phones[0], token)
                    began = time.monotonic()

                    async def change(n: int, k: int) -> int:
                        line = lines[n][k % len(lines[n])]
                        reply = await phones[n].patch(
                            f"/api/v1/tables/{token}/cart/lines/{line}",
                            json={"quantity": 1 + k % 40})
                        return reply.status_code

                    offset = round_ * args.changes  # each round sets other quantities
                    statuses = await asyncio.gather(*(
                        change(n, offset + k)
                        for k in range(args.changes) for n in range(args.phones)))
                    changed = time.monotonic() - began
                    final = await table_version(phones[0], token)
                    async with asyncio.timeout(WAIT_S):
                        while any(f.version < final for f in followers):
                            await asyncio.sleep(0.02)
                    rounds.append({"versions": final - before, "changes_s": round(changed, 2),
                                   "converged_s": round(time.monotonic() - began, 2),
                                   "refused": sum(1 for s in statuses if s >= 400),
                                   "load_1min": os.getloadavg()[0]})
                    log(f"hold {hold_s}s round {round_ + 1}: {rounds[-1]}")
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            end = await table_version(phones[0], token)
    finally:
        for server in servers:
            stop(server.process)
        redis.kill()
        await drop_database(DB_NAME)
    pairs = args.phones * (end - start)
    live = sum(f.events for f in followers)
    return {"hold_s": hold_s, "phones": args.phones, "changes_per_phone": args.changes,
            "servers": args.servers, "pairs": pairs, "live": live,
            "live_share": round(live / pairs, 5) if pairs else None,
            "snapshots": sum(f.snapshots for f in followers),
            "snapshots_per_phone": [f.snapshots for f in followers], "rounds": rounds}


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    return [await one_hold(float(hold), args) for hold in args.holds.split(",")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=8)
    parser.add_argument("--changes", type=int, default=50, help="per phone and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--holds", default="0,0.1", help="EVENT_HOLD_S values, in seconds")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "event_order.json").write_text(json.dumps(results, indent=1) + "\n")
    for result in results:
        print(f"RESULT hold_s={result['hold_s']} live={result['live_share']} "
              f"snapshots={result['snapshots']} pairs={result['pairs']}")


if __name__ == "__main__":
    sys.exit(main())
