"""bench/stats.py: every dashboard widget and statistics query on a year of a 20-site
company, through the rollups and computed raw, on PostgreSQL.

    .venv/bin/python bench/stats.py                 # seed at scale 1 (once), then time
    .venv/bin/python bench/stats.py --reuse         # time again on the seeded database
    .venv/bin/python bench/stats.py --scale 0.05    # a smaller company

The database `comptoir_bench_stats` is made fresh (unless --reuse finds the company in it),
migrated and seeded by `comptoir seed --large`'s own code (demo/large.py: written in bulk,
then the rollups rebuilt from its events), timed. It is kept at the end, for --reuse.

Then each query of backoffice/stats.py a widget or a statistics page asks (`figure` of every
measure with its previous period, `series` by bucket and by dimension, `heat_map`, `today`;
periods today, this week, this month, this year, and ranges) is timed through the rollups
(one warm-up, then --reps runs) and the same figures raw (bench/stats_raw.py: SQL over the
rooms' raw rows, grouped by local time on each view; up to --reps runs, fewer once a query
has taken 2 s in all). Both answers are compared. Writes bench/results/stats.json and .md
and ends with a RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stats_raw as raw  # noqa: E402
from bench.harness import PG_ADMIN, RESULTS, log  # noqa: E402

PG_DB = "comptoir_bench_stats"
TARGET_MS = 300.0
RAW_BUDGET_S = 2.0  # a raw query runs again until it has taken this long in all
RAW_TIMEOUT_S = 30  # a raw statement longer than this is stopped (and said so)

Call = Callable[[Any], Awaitable[Any]]  # a session -> the answer


@dataclass
class Case:
    name: str
    rollups: Call
    raw: Call | None


def _url() -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{PG_DB}"


async def _prepare(scale: float, reuse: bool) -> dict[str, Any]:
    """The seeded database: (re)made unless --reuse finds the company; the seed's timings."""
    import asyncpg
    from sqlalchemy import select

    from accounts.models import Company
    from db.engine import make_engine, make_sessionmaker
    from db.migrate import upgrade
    from demo.large import NAME, make_large

    url = _url()
    if reuse:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                found = await session.scalar(select(Company.id).where(Company.name == NAME))
            if found is not None:
                return {"company_id": found, "reused": True}
        except Exception as error:  # no database yet
            log("no database to reuse:", error)
        finally:
            await engine.dispose()
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    try:
        seeded = await make_large(make_sessionmaker(engine), scale=scale,
                                  progress=lambda line: log(line))
    finally:
        await engine.dispose()
    return {"company_id": seeded.company_id, "reused": False, "scale": scale,
            "write_s": round(seeded.seconds, 1), "rebuild_s": round(seeded.rebuild_seconds, 1),
            "rows": seeded.rows, "events": seeded.events}


def _cases(company_id: int, tz: str, today: date, sites: list[int],
           machines: list[int]) -> list[Case]:
    from backoffice import stats
    from backoffice.periods import Granularity, Period, previous, span_of
    from backoffice.stats import Measure, Query, Scope

    scope = Scope(company_id, None, tz)
    cases: list[Case] = []

    def add(name: str, query: Query, compare: Query | None = None) -> None:
        """A widget or page query, with its previous period when it compares."""
        kind = stats.figure if query.granularity is None and query.by is None else stats.series
        raw_kind = raw.figure if kind is stats.figure else raw.series
        queries = [query] + ([compare] if compare else [])

        async def through_rollups(session: Any) -> Any:
            return [await kind(session, scope, q) for q in queries]

        async def computed_raw(session: Any) -> Any:
            return [await raw_kind(session, company_id, tz, q) for q in queries]

        cases.append(Case(name, through_rollups, computed_raw))

    grains = {Period.TODAY: Granularity.HOUR, Period.WEEK: Granularity.DAY,
              Period.MONTH: Granularity.DAY, Period.YEAR: Granularity.MONTH}
    for period, grain in grains.items():
        span = span_of(period, today)
        before = previous(period, span)
        for measure in Measure:
            add(f"widget {measure} {period} vs previous",
                Query(measure, span.start, span.end),
                Query(measure, before.start, before.end))
        for measure in (Measure.REVENUE, Measure.TICKETS, Measure.BREWS, Measure.ORDERS):
            add(f"chart {measure} {period} by {grain} vs previous",
                Query(measure, span.start, span.end, grain),
                Query(measure, before.start, before.end, grain))
        add(f"widget revenue {period}, one site",
            Query(Measure.REVENUE, span.start, span.end, sites=frozenset(sites[:1])))
        add(f"widget brews {period}, two machines",
            Query(Measure.BREWS, span.start, span.end, machines=frozenset(machines[:2])))
        add(f"widget revenue {period}, one category (rollups only)",
            Query(Measure.REVENUE, span.start, span.end, categories=frozenset({1})))
    for period in (Period.MONTH, Period.YEAR):
        span = span_of(period, today)
        for by in ("site", "channel", "method", "product", "category"):
            add(f"page revenue {period} by {by}",
                Query(Measure.REVENUE, span.start, span.end, by=by))
        add(f"page items {period} by product", Query(Measure.ITEMS, span.start, span.end,
                                                      by="product"))
        for by in ("site", "machine", "product", "consumer", "group", "selection", "ptype"):
            add(f"page brews {period} by {by}",
                Query(Measure.BREWS, span.start, span.end, by=by))
        # What the consumption page asks for its table (the first 500; the exports, all).
        add(f"page brews {period} by consumer, first 500",
            Query(Measure.BREWS, span.start, span.end, by="consumer", top=500))
        for measure in (Measure.REVENUE, Measure.BREWS):

            async def rolled(session: Any, m: Measure = measure, s: Any = span) -> Any:
                return await stats.heat_map(session, scope, m, s.start, s.end)

            async def counted(session: Any, m: Measure = measure, s: Any = span) -> Any:
                return await raw.heat_map(session, company_id, tz, m, s.start, s.end)

            cases.append(Case(f"page heat map {measure} {period}", rolled, counted))
    year = span_of(Period.YEAR, today)
    last_week = (today - timedelta(days=6), today)
    for measure in (Measure.REVENUE, Measure.TICKETS, Measure.BREWS):
        add(f"page {measure} this year by week",
            Query(measure, year.start, year.end, Granularity.WEEK))
        add(f"page {measure} last 7 days by hour",
            Query(measure, *last_week, Granularity.HOUR))
    add("page revenue last 365 days by month",
        Query(Measure.REVENUE, today - timedelta(days=364), today, Granularity.MONTH))

    async def home(session: Any) -> Any:
        return await stats.today(session, scope)

    async def home_raw(session: Any) -> Any:
        return [await raw.series(session, company_id, tz,
                                 Query(Measure.REVENUE, today, today, by=by))
                for by in ("site", "channel", "method")] + [
            await raw.figure(session, company_id, tz, Query(m, today, today))
            for m in (Measure.TICKETS, Measure.BREWS, Measure.ORDERS)]

    cases.append(Case("home today (live day)", home, home_raw))
    return cases


def _plain(answer: Any) -> Any:
    """An answer as comparable values: series as {key: value} without zeros."""
    if isinstance(answer, list) and answer and hasattr(answer[0], "key"):
        return {row.key: row.value for row in answer if row.value}
    if isinstance(answer, list):
        return [_plain(a) for a in answer]
    if isinstance(answer, dict):
        return {str(k): v for k, v in answer.items() if v}
    return answer


def _summary(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(samples), "p50": round(statistics.median(ordered), 2),
            "p95": round(p95, 2), "max": round(ordered[-1], 2)}


async def _time(session: Any, call: Call, reps: int,
                budget: float | None) -> tuple[Any, list[float]]:
    samples: list[float] = []
    answer = None
    for _ in range(reps):
        started = time.perf_counter()
        answer = await call(session)
        samples.append((time.perf_counter() - started) * 1000)
        if budget is not None and sum(samples) > budget * 1000:
            break
    return answer, samples


async def measure(company_id: int, reps: int) -> list[dict[str, Any]]:
    from sqlalchemy import select, text
    from sqlalchemy.exc import DBAPIError

    from accounts.models import Company, Site
    from backoffice.periods import local_today
    from db.engine import make_engine, make_sessionmaker
    from machines.models import Machine

    engine = make_engine(_url())
    out = []
    try:
        async with make_sessionmaker(engine)() as session:
            company = await session.get(Company, company_id)
            assert company is not None
            sites = list(await session.scalars(
                select(Site.id).where(Site.company_id == company_id).order_by(Site.id)))
            machines = list(await session.scalars(
                select(Machine.id).where(Machine.site_id.in_(sites)).order_by(Machine.id)))
            today = local_today(company.timezone)
            for case in _cases(company_id, company.timezone, today, sites, machines):
                await case.rollups(session)  # warm-up: plans and pages cached
                answer, fast = await _time(session, case.rollups, reps, None)
                row: dict[str, Any] = {"query": case.name, "rollups_ms": _summary(fast)}
                if case.raw is not None and "rollups only" not in case.name:
                    await session.execute(text(f"SET statement_timeout = '{RAW_TIMEOUT_S}s'"))
                    try:
                        counted, slow = await _time(session, case.raw, reps, RAW_BUDGET_S)
                    except DBAPIError:
                        await session.rollback()
                        row["raw_ms"] = {"n": 0, "p50": None, "p95": None, "max": None}
                    else:
                        row["raw_ms"] = _summary(slow)
                        row["same"] = _same(answer, counted, case.name)
                log(f"{case.name}: rollups p95 {row['rollups_ms']['p95']} ms"
                    + (f", raw p50 {row['raw_ms']['p50']} ms, same {row.get('same')}"
                       if "raw_ms" in row else ""))
                out.append(row)
                await session.rollback()
    finally:
        await engine.dispose()
    return out


def _same(rolled: Any, counted: Any, name: str) -> bool:
    if name.startswith("home"):
        summary = rolled
        return bool(
            _plain(counted[0]) == {str(k): v for k, v in summary.by_site.items() if v}
            and _plain(counted[1]) == {k: v for k, v in summary.by_channel.items() if v}
            and _plain(counted[2]) == {k: v for k, v in summary.by_method.items() if v}
            and counted[3:] == [summary.tickets, summary.brews, summary.orders])
    return bool(_plain(rolled) == _plain(counted))


def _machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as file:
        memory = int(file.readline().split()[1]) // (1024 * 1024)
    return f"{platform.machine()} {model}, {os.cpu_count()} cores, {memory} GiB"


def _versions() -> dict[str, str]:
    import subprocess
    from importlib.metadata import version

    out = {name: version(name) for name in ("sqlalchemy", "asyncpg", "pydantic")}
    out["python"] = platform.python_version()
    psql = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                           "SHOW server_version"], capture_output=True, text=True)
    out["postgresql"] = psql.stdout.strip() or "?"
    return out


def _markdown(result: dict[str, Any]) -> str:
    seed = result["seed"]
    lines = [f"Run {result['at']}, on {result['machine']}; {result['versions']}.", ""]
    if not seed.get("reused"):
        rows = seed["rows"]
        lines += [
            f"Seed (scale {seed['scale']}): written in {seed['write_s']} s "
            f"({rows.get('pos_ticket_line', 0) + rows.get('order_line', 0):,} ticket lines, "
            f"{rows.get('brew', 0):,} brews, {rows.get('consumer', 0):,} consumers, "
            f"{sum(seed['events'].values()):,} events), rollups rebuilt in "
            f"{seed['rebuild_s']} s.", ""]
    lines += ["| query | rollups p50 / p95 ms | raw p50 / p95 ms (runs) | same figures |",
              "|---|---|---|---|"]
    for row in result["queries"]:
        fast = row["rollups_ms"]
        slow = row.get("raw_ms")
        raw_text = (f"{slow['p50']} / {slow['p95']} ({slow['n']})" if slow and slow["n"]
                    else f"> {RAW_TIMEOUT_S} s (stopped)" if slow else "—")
        same = {True: "yes", False: "**no**", None: "—"}[row.get("same")]
        lines.append(f"| {row['query']} | {fast['p50']} / {fast['p95']} | {raw_text} | "
                     f"{same} |")
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    started = datetime.now(UTC)
    seed = await _prepare(args.scale, args.reuse)
    queries = await measure(seed["company_id"], args.reps)
    result = {"at": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": _machine(),
              "versions": _versions(), "seed": seed, "queries": queries}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stats.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "stats.md").write_text(_markdown(result))
    p95s = [row["rollups_ms"]["p95"] for row in queries]
    raws = [row["raw_ms"]["p50"] for row in queries if row.get("raw_ms", {}).get("n")]
    stopped = sum(1 for row in queries if row.get("raw_ms", {}).get("n") == 0)
    over = sum(1 for p in p95s if p > TARGET_MS)
    differ = sum(1 for row in queries if row.get("same") is False)
    print(f"RESULT queries={len(queries)} rollups_p95_max_ms={max(p95s)} "
          f"rollups_p95_median_ms={statistics.median(p95s):.2f} over_{TARGET_MS:.0f}ms={over} "
          f"raw_p50_median_ms={statistics.median(raws) if raws else 0:.1f} "
          f"raw_p50_max_ms={max(raws) if raws else 0:.1f} raw_stopped={stopped} differ={differ} "
          f"seed_write_s={seed.get('write_s', '-')} rebuild_s={seed.get('rebuild_s', '-')}")


if __name__ == "__main__":
    asyncio.run(main())
