"""bench/campaign_send.py: a campaign sent to 100,000 customers, on PostgreSQL: the
recipients resolved (the whole base: every customer with a profile) and the messages
queued (one `loyalty_message` each, INSERT … ON CONFLICT DO NOTHING in chunks), then the
same send again (a retry: nothing more queued), and the first delivery sweep's batch.

    .venv/bin/python bench/campaign_send.py              # 100,000 customers
    .venv/bin/python bench/campaign_send.py --customers 10000

The database `comptoir_bench_campaigns` is made fresh, migrated, given a demo venue and
the customers (half of them with e-mail consent), timed, then dropped. Prints the times.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import drop_database, fresh_database, log  # noqa: E402

PG_DB = "comptoir_bench_campaigns"
CHUNK = 5000


async def main(customers: int) -> None:
    from sqlalchemy import func, insert, select, text

    from customers.models import Consumer
    from db.engine import make_engine, make_sessionmaker
    from loyalty import campaign_send
    from loyalty.models import Campaign, CampaignMessage, LoyaltyProfile
    from realtime.bus import make_bus
    from realtime.events import Tx

    venue = await fresh_database(1, PG_DB)
    company_id = venue["company_id"]
    engine = make_engine(venue["url"])
    sessionmaker = make_sessionmaker(engine)
    now = datetime.now(UTC)
    try:
        started = time.perf_counter()
        async with sessionmaker() as session, session.begin():
            first = (await session.scalar(select(func.max(Consumer.id))) or 0) + 1
            for start in range(0, customers, CHUNK):
                chunk = range(first + start, first + min(start + CHUNK, customers))
                await session.execute(insert(Consumer), [
                    {"id": i, "company_id": company_id, "email": f"c{i}@bench.example",
                     "name": f"Client {i}", "password_hash": "x"} for i in chunk])
                await session.execute(insert(LoyaltyProfile), [
                    {"consumer_id": i, "company_id": company_id, "qr_token": f"bench-{i}",
                     "email_consent_at": now if i % 2 else None} for i in chunk])
            made = Campaign(company_id=company_id, name="Bench", channel="email",
                                subject="Bonjour", blocks=[{"kind": "text", "text": "Venez"}],
                                status="sending", sent_at=now)
            session.add(made)
            await session.flush()
            campaign_id = made.id
        async with engine.connect() as connection:  # statistics, as a live database has
            await connection.execute(text("ANALYZE consumer"))
            await connection.execute(text("ANALYZE loyalty_profile"))
            await connection.commit()
        log(f"{customers} customers made in {time.perf_counter() - started:.1f} s")

        timings: dict[str, float] = {}
        async with sessionmaker() as session, session.begin():
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            started = time.perf_counter()
            ids = await campaign_send.recipients(session, campaign, campaign_send.whole_base,
                                                 now)
            timings["recipients resolved"] = time.perf_counter() - started
            started = time.perf_counter()
            queued = await campaign_send.queue(Tx(session), campaign, ids, now)
            timings["messages queued"] = time.perf_counter() - started
        async with sessionmaker() as session, session.begin():
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            started = time.perf_counter()
            again = await campaign_send.queue(Tx(session), campaign, ids, now)
            timings["the same send again"] = time.perf_counter() - started
        bus = make_bus(None)
        settings = SimpleNamespace(public_url="https://bench.example", secret_key="s" * 32)
        started = time.perf_counter()
        delivered = await campaign_send.sweep_once(sessionmaker, bus, settings,
                                                   campaign_send.whole_base, now)
        timings[f"one delivery sweep ({delivered} mails to the outbox)"] = (
            time.perf_counter() - started)
        await bus.close()
        async with sessionmaker() as session:
            rows = await session.scalar(select(func.count()).select_from(CampaignMessage))
        assert queued == rows and again == 0, (queued, rows, again)
        log(f"{len(ids)} recipients, {queued} messages queued (e-mail consent), "
            f"{again} on the retry")
        for name, seconds in timings.items():
            log(f"RESULT {name}: {seconds * 1000:.0f} ms")
    finally:
        await engine.dispose()
        await drop_database(PG_DB)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().customers))
