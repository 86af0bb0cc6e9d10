"""bench/till_sync.py: the till's offline sync, measured against a real server.

    .venv/bin/python bench/till_sync.py                    # SQLite and PostgreSQL, ~6 min
    .venv/bin/python bench/till_sync.py --db sqlite --sales 2000

For each database: a fresh one (PostgreSQL: `comptoir_bench_sync`, dropped at the end;
SQLite: a file under /tmp), migrated, seeded with the demo venue and 21 tills, each paired
over HTTP like a device; then one `comptoir serve` process (one worker, no Redis) and two
phases, one after the other:

1. **one till** uploads N sales made offline (10,000 by default), in batches of 100, one
   request after the other, as the till's page does when the network comes back;
2. **20 tills at once** upload 250 sales each (`--per-till`), in batches of 100, all
   concurrently.

Each phase reports sales recorded per second (wall clock), the server's CPU seconds per sale
(its process tree's utime + stime, from /proc, before and after), and checks that nothing
was recorded twice: the tickets in the database equal the sales sent, every answer says
"recorded", each till's `acked_sequence` is its last number, and the last batch sent again
answers "duplicate" for each sale with no ticket more. An upload that fails (a 5xx: on
SQLite, a writer that waited past its 30 s busy timeout) is sent again whole after half a
second, as the page does; the table counts them. Writes bench/results/till_sync.json
and .md, and ends with a RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.harness import (  # noqa: E402
    PG_ADMIN,
    RESULTS,
    box_busy,
    log,
    start_server,
    stop,
    usage,
)

PG_DB = "comptoir_bench_sync"
BATCH = 100
TILLS = 20


async def prepare(url: str) -> dict[str, Any]:
    """Migrate, seed the demo venue, make 21 tills and a pairing code for each."""
    from sqlalchemy import select

    from accounts.models import Site, Staff
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade
    from demo.seed import seed
    from pos import device
    from pos.tills import NewTill, create_till
    from realtime.bus import make_bus
    from realtime.events import run

    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    bus = make_bus(None)
    try:
        maker = make_sessionmaker(engine)
        async with maker() as session, session.begin():
            venue = await seed(session, tables=2)
            site = await session.get(Site, venue.site_id)
            assert site is not None
            admin = await session.scalar(select(Staff.id).where(
                Staff.company_id == site.company_id, Staff.role == "admin"))
            cashier = await session.scalar(select(Staff.id).where(
                Staff.company_id == site.company_id, Staff.role == "cashier"))
            company_id, site_id = site.company_id, site.id
        assert admin is not None and cashier is not None
        codes = []
        for index in range(TILLS + 1):
            till = await run(maker, bus, lambda tx, i=index: create_till(  # type: ignore[misc]
                tx, NewTill(company_id, site_id, f"B{i}", f"Banc {i}", admin)))
            codes.append(await run(maker, bus, lambda tx, t=till: device.issue_pairing(  # type: ignore[misc]
                tx, company_id, t.id, admin)))
        return {"codes": codes, "cashier": cashier}
    finally:
        await bus.close()
        await engine.dispose()


async def count_tickets(url: str) -> int:
    from sqlalchemy import func, select

    from db.engine import make_engine, make_sessionmaker
    from pos.models import Ticket

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(select(func.count()).select_from(Ticket)) or 0
    finally:
        await engine.dispose()


def a_sale(products: list[dict[str, Any]], cashier: int, sequence: int) -> dict[str, Any]:
    one, two = products[sequence % len(products)], products[(sequence * 7) % len(products)]
    total = 2 * one["price"] + two["price"]
    return {"uuid": str(uuid.uuid4()), "sequence": sequence, "staff_id": cashier,
            "device_at": "2026-12-07T10:00:05Z",
            "lines": [{"product_id": one["id"], "label": one["name"], "quantity": 2,
                       "unit_price": one["price"], "vat_rate": one["vat_rate"]},
                      {"product_id": two["id"], "label": two["name"], "quantity": 1,
                       "unit_price": two["price"], "vat_rate": two["vat_rate"]}],
            "payments": [{"method": "cash", "amount": total, "tendered": total + 500}]}


async def upload(client: httpx.AsyncClient, sales: list[dict[str, Any]], version: int
                 ) -> dict[str, Any]:
    """Every sale in batches, one request after the other; the statuses counted."""
    statuses: dict[str, int] = {}
    last: dict[str, Any] = {}
    retries = 0
    for start in range(0, len(sales), BATCH):
        batch = sales[start:start + BATCH]
        while True:  # as the till's page does: a failed upload is sent again, whole
            try:
                answer = await client.post("/api/v1/till/sync", json={
                    "sales": batch, "catalog_version": version,
                    "waiting": len(sales) - start - len(batch)}, timeout=120)
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code < 500:
                break
            retries += 1
            await asyncio.sleep(0.5)
        answer.raise_for_status()
        last = answer.json()
        for result in last["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    return {"statuses": statuses, "retries": retries, "acked": last.get("acked_sequence"),
            "highest": last.get("highest_sequence")}


async def phase(name: str, server: Any, url: str, clients: list[httpx.AsyncClient],
                products: list[dict[str, Any]], cashier: int, per_till: int, version: int,
                before: int) -> dict[str, Any]:
    plans = [[a_sale(products, cashier, n) for n in range(1, per_till + 1)] for _ in clients]
    cpu0, busy0, t0 = usage(server.pids())[0], box_busy(), time.monotonic()
    outcomes = await asyncio.gather(*(upload(c, plan, version)
                                      for c, plan in zip(clients, plans, strict=True)))
    elapsed = time.monotonic() - t0
    cpu = usage(server.pids())[0] - cpu0
    busy = box_busy() - busy0
    sent = per_till * len(clients)
    recorded = sum(o["statuses"].get("recorded", 0) for o in outcomes)
    # The last batch of the first till again, as after a lost reply: all duplicates.
    again = await upload(clients[0], plans[0][-BATCH:], version)
    tickets = await count_tickets(url) - before
    result = {
        "phase": name, "tills": len(clients), "sales": sent, "batch": BATCH,
        "seconds": round(elapsed, 2), "sales_per_s": round(sent / elapsed, 1),
        "server_cpu_s": round(cpu, 2), "server_cpu_ms_per_sale": round(1000 * cpu / sent, 2),
        "box_cpu_ms_per_sale": round(1000 * busy / sent, 2),
        "recorded": recorded, "tickets": tickets,
        "acked_all": all(o["acked"] == per_till for o in outcomes),
        "retry_duplicates": again["statuses"].get("duplicate", 0),
        "failed_uploads_sent_again": sum(o["retries"] for o in outcomes),
        "no_duplicate": tickets == sent == recorded
        and again["statuses"] == {"duplicate": min(BATCH, per_till)},
    }
    log(name, json.dumps(result))
    return result


async def bench(db: str, sales: int, per_till: int) -> list[dict[str, Any]]:
    tmp = None
    if db == "sqlite":
        tmp = tempfile.mkdtemp(prefix="comptoir-bench-sync-")
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    else:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{PG_DB}"')
        finally:
            await admin.close()
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{base}/{PG_DB}"
    log(db, "preparing", url)
    seeded = await prepare(url)
    server = await start_server("ours", 1, "", url, log_name=f"till-sync-{db}")
    base_url = f"http://127.0.0.1:{server.port}"
    clients = [httpx.AsyncClient(base_url=base_url) for _ in range(TILLS + 1)]
    try:
        for client, code in zip(clients, seeded["codes"], strict=True):
            paired = await client.post("/api/v1/till/pair", json={"code": code})
            paired.raise_for_status()
        catalog = (await clients[0].get("/api/v1/till/catalog")).json()
        products = catalog["products"]
        results = [await phase("one till", server, url, clients[:1], products,
                               seeded["cashier"], sales, catalog["version"], 0)]
        before = await count_tickets(url)
        results.append(await phase(f"{TILLS} tills at once", server, url, clients[1:],
                                   products, seeded["cashier"], per_till,
                                   catalog["version"], before))
        for r in results:
            r["db"] = db
        return results
    finally:
        for client in clients:
            await client.aclose()
        stop(server.process)
        if db == "postgresql":
            import asyncpg

            admin = await asyncpg.connect(PG_ADMIN)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            finally:
                await admin.close()
        elif tmp:
            for name in os.listdir(tmp):
                os.remove(os.path.join(tmp, name))
            os.rmdir(tmp)


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| database | phase | sales | seconds | sales/s | server CPU ms/sale | "
             "box CPU ms/sale | uploads failed (5xx) and sent again | "
             "tickets = sales sent, all acked, retry all duplicate |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['db']} | {r['phase']} | {r['sales']:,} | {r['seconds']} | "
                     f"{r['sales_per_s']:,} | {r['server_cpu_ms_per_sale']} | "
                     f"{r['box_cpu_ms_per_sale']} | {r['failed_uploads_sent_again']} | "
                     f"{'yes' if r['no_duplicate'] and r['acked_all'] else 'NO'} "
                     f"({r['tickets']:,} tickets) |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batch", type=int, default=BATCH, help="sales per upload")
    parser.add_argument("--sales", type=int, default=10_000, help="sales of the one till")
    parser.add_argument("--per-till", type=int, default=250,
                        help="sales of each of the 20 tills uploading at once")
    args = parser.parse_args()
    global BATCH
    BATCH = args.batch
    rows: list[dict[str, Any]] = []
    for db in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        rows.extend(await bench(db, args.sales, args.per_till))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "till_sync.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "till_sync.md").write_text(table(rows) + "\n")
    print(table(rows))
    print("RESULT " + " ".join(
        f"{r['db']}_{'one' if r['tills'] == 1 else 'many'}={r['sales_per_s']}/s,"
        f"{r['server_cpu_ms_per_sale']}ms,{'ok' if r['no_duplicate'] else 'DUPLICATE'}"
        for r in rows))


if __name__ == "__main__":
    asyncio.run(main())
