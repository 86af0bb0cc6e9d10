"""bench/segments.py: segment counts (and a first page of members) on 100,000 customers,
on PostgreSQL and SQLite.

    .venv/bin/python bench/segments.py                  # 100,000 customers, both backends
    .venv/bin/python bench/segments.py --customers 5000 --backends sqlite

Each backend's database is made fresh and migrated (PostgreSQL: `comptoir_bench_segments`;
SQLite: a file under /tmp), then seeded in bulk: one company, 3 sites, 2 rewards, the
customers (consumer + loyalty profile: a birthday for 4 in 5, consents for about half),
and for each customer 0 to 15 visits over two years (about 7.5 on average: ~750,000
`loyalty_entry` rows at full size), a refund for 1 in 20, rewards taken with points and
coupons used. Then each segment below (one criterion each, all / any of several, the best
N) is counted (loyalty/segment_query.count: the one select) and its first 20 members
listed, one warm-up then --reps runs. Writes bench/results/segments.json and ends with a
RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PG_ADMIN, RESULTS, log  # noqa: E402

PG_DB = "comptoir_bench_segments"
SQLITE_PATH = Path("/tmp/comptoir_bench_segments.db")
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BATCH = 5_000


def _pg_url() -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{PG_DB}"


async def _fresh(backend: str) -> str:
    from db.migrate import upgrade

    if backend == "postgresql":
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{PG_DB}"')
        finally:
            await admin.close()
        url = _pg_url()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{SQLITE_PATH}"
    await asyncio.to_thread(upgrade, url)
    return url


async def _insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(table.insert(), rows[start:start + BATCH])


async def _seed(maker: Any, customers: int, rng: random.Random) -> dict[str, Any]:
    from sqlalchemy import select

    from accounts.models import Company, Site
    from customers.models import Consumer
    from loyalty.models import Coupon, LoyaltyProfile, PointsEntry, Reward

    started = time.perf_counter()
    async with maker() as session, session.begin():
        company = Company(name="Bench Segments", currency="EUR", timezone="Europe/Paris",
                          locale="fr")
        session.add(company)
        await session.flush()
        sites = [Site(company_id=company.id, name=f"Site {n}") for n in range(3)]
        rewards = [Reward(company_id=company.id, name=name, cost_points=10,
                          effect="amount_off", amount=150) for name in ("Café", "Dessert")]
        session.add_all([*sites, *rewards])
        await session.flush()
        company_id, site_ids, reward_ids = company.id, [s.id for s in sites], [
            r.id for r in rewards]
        await _insert(session, Consumer.__table__, [
            {"company_id": company_id, "email": f"c{n}@bench.example", "name": f"Client {n}",
             "password_hash": "x", "email_confirmed": True, "verified": True,
             "role": "consumer", "created_at": NOW}
            for n in range(customers)])
        ids = list(await session.scalars(
            select(Consumer.id).where(Consumer.company_id == company_id)))
        profiles, entries, coupons = [], [], []
        for who in ids:
            born = date(1960 + rng.randrange(45), 1, 1) + timedelta(days=rng.randrange(365))
            profiles.append({
                "consumer_id": who, "company_id": company_id, "qr_token": uuid.uuid4().hex,
                "phone": None, "birthday": born if rng.random() < 0.8 else None,
                "email_consent_at": NOW if rng.random() < 0.5 else None,
                "sms_consent_at": NOW if rng.random() < 0.4 else None,
                "balance": 0, "created_at": NOW})
            site = rng.choice(site_ids)
            for _ in range(rng.randrange(16)):
                at = NOW - timedelta(minutes=rng.randrange(730 * 24 * 60))
                spent = rng.randrange(300, 6000)
                entries.append(_entry(company_id, who, "earn", spent, at, site, None))
                if rng.random() < 0.05:
                    entries.append(_entry(company_id, who, "take_back", -spent // 2,
                                          at + timedelta(days=1), site, None))
                if rng.random() < 0.1:
                    entries.append(_entry(company_id, who, "redeem", 0, None, site,
                                          rng.choice(reward_ids), created=at))
            if rng.random() < 0.05:
                coupons.append({"company_id": company_id, "consumer_id": who,
                                "reward_id": rng.choice(reward_ids),
                                "token": uuid.uuid4().hex, "trigger": "visits",
                                "expires_at": NOW + timedelta(days=30),
                                "used_at": NOW - timedelta(days=rng.randrange(300)),
                                "created_at": NOW})
        await _insert(session, LoyaltyProfile.__table__, profiles)
        await _insert(session, PointsEntry.__table__, entries)
        await _insert(session, Coupon.__table__, coupons)
    return {"company_id": company_id, "site": site_ids[0], "reward": reward_ids[0],
            "customers": len(ids), "entries": len(entries), "coupons": len(coupons),
            "seed_s": round(time.perf_counter() - started, 1)}


def _entry(company_id: int, who: int, kind: str, spent: int, at: datetime | None,
           site: int, reward: int | None, created: datetime | None = None) -> dict[str, Any]:
    return {"company_id": company_id, "consumer_id": who, "points": 1, "balance_after": 1,
            "kind": kind, "key": uuid.uuid4().hex, "origin": None, "spent": spent,
            "visit_at": at, "site_id": site, "reward_id": reward, "note": "",
            "created_at": created or at or NOW}


def _segments(site: int, reward: int) -> dict[str, dict[str, Any]]:
    def one(rule: dict[str, Any]) -> dict[str, Any]:
        return {"criteria": [rule]}

    return {
        "everyone": {},
        "birthday 12-15..01-15": one({"kind": "birthday_between", "start": "12-15",
                                      "end": "01-15"}),
        "birthday in 14 days": one({"kind": "birthday_soon", "days": 14}),
        "spent > 100.00 over 6 months": one({"kind": "spent", "amount": 10000, "months": 6}),
        "at least 5 visits over 12 months": one({"kind": "visits", "at_least": 5,
                                                 "months": 12}),
        "at most 1 visit over 6 months": one({"kind": "visits", "at_most": 1, "months": 6}),
        "last visit > 90 days ago": one({"kind": "last_visit", "when": "before", "days": 90}),
        "never visited": one({"kind": "last_visit", "when": "never"}),
        "visited site over 3 months": one({"kind": "site", "site_id": site, "months": 3}),
        "reward taken over 12 months": one({"kind": "reward_taken", "reward_id": reward,
                                            "months": 12}),
        "e-mail consent": one({"kind": "consent", "channel": "email"}),
        "all of 3 (consent, visits, spent)": {"match": "all", "criteria": [
            {"kind": "consent", "channel": "email"},
            {"kind": "visits", "at_least": 3, "months": 12},
            {"kind": "spent", "amount": 5000, "months": 12}]},
        "any of 3 (birthday, absent, reward)": {"match": "any", "criteria": [
            {"kind": "birthday_soon", "days": 30},
            {"kind": "last_visit", "when": "before", "days": 180},
            {"kind": "reward_taken", "months": 6}]},
        "best 1000 by spend over 12 months": {"best": {"n": 1000, "by": "spend",
                                                       "months": 12}},
        "best 500 by visits among e-mail consent": {
            "criteria": [{"kind": "consent", "channel": "email"}],
            "best": {"n": 500, "by": "visits", "months": 12}},
    }


async def _time(maker: Any, seeded: dict[str, Any], reps: int) -> list[dict[str, Any]]:
    from loyalty import segment_query
    from loyalty.segments import parse

    out = []
    for name, data in _segments(seeded["site"], seeded["reward"]).items():
        definition = parse(data)
        counts, pages = [], []
        found = 0
        for rep in range(reps + 1):
            async with maker() as session:
                start = time.perf_counter()
                found = await segment_query.count(session, seeded["company_id"], definition,
                                                  NOW)
                middle = time.perf_counter()
                await segment_query.members(session, seeded["company_id"], definition, NOW)
                end = time.perf_counter()
            if rep:  # the first is the warm-up
                counts.append((middle - start) * 1000)
                pages.append((end - middle) * 1000)
        row = {"segment": name, "customers": found,
               "count_p50_ms": round(statistics.median(counts), 1),
               "count_max_ms": round(max(counts), 1),
               "members_p50_ms": round(statistics.median(pages), 1)}
        log(row)
        out.append(row)
    return out


async def _backend(backend: str, customers: int, reps: int) -> dict[str, Any]:
    from sqlalchemy import text

    from db.engine import make_engine, make_sessionmaker

    url = await _fresh(backend)
    engine = make_engine(url)
    try:
        maker = make_sessionmaker(engine)
        seeded = await _seed(maker, customers, random.Random(19))
        log(backend, "seeded", seeded)
        if backend == "postgresql":
            async with engine.connect() as connection:
                await connection.execute(text("COMMIT"))
                await connection.execute(text("ANALYZE"))
        else:
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
        return {"backend": backend, **seeded, "timings": await _time(maker, seeded, reps)}
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    runs = [await _backend(b, args.customers, args.reps) for b in args.backends.split(",")]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "segments.json").write_text(json.dumps(
        {"at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs}, indent=1))
    for run in runs:
        worst = max(run["timings"], key=lambda row: row["count_p50_ms"])
        print(f"RESULT {run['backend']}: {run['customers']} customers, {run['entries']} "
              f"entries; slowest count p50 {worst['count_p50_ms']} ms ({worst['segment']})")


if __name__ == "__main__":
    asyncio.run(main())
