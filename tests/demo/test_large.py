"""`comptoir seed --large` at a tiny scale: what it writes holds together. The rollups
rebuilt from its events give the figures counted from its raw rows, its events say what
its rows say, and the till's chains are whole."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import case, func, select

from backoffice.models import StatRollup
from backoffice.periods import Granularity
from backoffice.stats import Measure, Query, Scope, figure, series
from demo.large import NAME, ZONE, AlreadySeeded, Seeded, Size, make_large, seed_large
from domain.models import OutboxEvent
from machines.models import Brew
from ordering.models import OrderLine, Payment, Round, TableSession
from payments.models import ProviderPayment
from pos.models import Ticket, TicketLine
from pos.verification import verify_company
from settings import ROOT
from tests.conftest import Database

# Three sites over 40 days, across the night the clocks go forward (2026-03-29, Paris).
SIZE = Size(sites=3, days=40, ticket_lines=2_000_000, brews=500_000, consumers=20_000)
SCALE = 0.001
LAST_DAY = date(2026, 4, 5)
NOW = datetime(2026, 4, 5, 16, 30, tzinfo=UTC)  # the last day is cut at its afternoon


async def _seeded(db: Database) -> Seeded:
    return await make_large(db.sessionmaker, scale=SCALE, seed=3, size=SIZE,
                            last_day=LAST_DAY, now=NOW)


async def test_the_rollups_rebuilt_from_its_events_give_what_its_rows_count(
    db: Database,
) -> None:
    seeded = await _seeded(db)
    async with db.sessionmaker() as session:
        company = seeded.company_id
        sold = (await session.execute(select(
            func.sum(Ticket.total_incl),
            func.sum(case((Ticket.kind == "sale", 1), (Ticket.kind == "void", -1), else_=0)),
        ).where(Ticket.company_id == company))).one()
        counter_items = await session.scalar(select(func.sum(TicketLine.quantity)))
        bills = (await session.execute(select(func.sum(Payment.amount),
                                              func.count(func.distinct(Payment.session_id)))
                                       )).one()
        table_items = await session.scalar(select(func.sum(OrderLine.quantity)))
        served = (await session.execute(select(
            func.count(),
            func.sum(case(((Brew.charge == "none") | Brew.refunded, 0), else_=Brew.price)),
        ).where(Brew.status == "done"))).one()
        rounds = await session.scalar(select(func.count()).select_from(Round))
        topups = await session.scalar(select(func.sum(ProviderPayment.amount)).where(
            ProviderPayment.purpose == "topup", ProviderPayment.status == "succeeded"))
        turns = await session.scalar(select(func.count()).select_from(TableSession).where(
            TableSession.settled_at.is_not(None)))
        # A wider range than the days seeded: a refund late in the evening of the last day
        # counts the next day.
        scope = Scope(company, None, ZONE)
        wide = (date(2026, 2, 1), date(2026, 4, 30))

        async def total(measure: Measure) -> int | float:
            return await figure(session, scope, Query(measure, *wide))

        assert sold[0] and bills[0] and served[0] and rounds and topups  # something of each
        assert await total(Measure.COUNTER) == sold[0]
        assert await total(Measure.TABLES) == bills[0]
        assert await total(Measure.MACHINES) == served[1]
        assert await total(Measure.REVENUE) == sold[0] + bills[0] + served[1]
        assert await total(Measure.TICKETS) == sold[1] + bills[1]
        assert await total(Measure.ITEMS) == counter_items + table_items
        assert await total(Measure.BREWS) == served[0]
        assert await total(Measure.ORDERS) == rounds
        assert await total(Measure.TOPUPS) == topups
        by_site = await series(session, scope, Query(Measure.REVENUE, *wide, by="site"))
        assert len(by_site) == SIZE.sites
        assert sum(row.value for row in by_site) == sold[0] + bills[0] + served[1]
        by_day = await series(session, scope, Query(Measure.TICKETS, *wide, Granularity.DAY))
        assert sum(row.value for row in by_day) == sold[1] + bills[1]
        assert {row.key for row in by_day if row.value} <= {
            f"2026-{m:02d}-{d:02d}" for m, d in ((2, 25), (2, 26), (2, 27), (2, 28))
        } | {f"2026-03-{d:02d}" for d in range(1, 32)} | {f"2026-04-0{d}" for d in range(1, 7)}
        assert turns == bills[1]


async def test_its_events_say_what_its_rows_say_and_its_chains_are_whole(db: Database) -> None:
    seeded = await _seeded(db)
    async with db.sessionmaker() as session:
        payloads = (await session.execute(select(OutboxEvent.name, OutboxEvent.payload))).all()
        tickets = [json.loads(p) for name, p in payloads if name == "ticket.recorded"]
        assert len(tickets) == await session.scalar(select(func.count()).select_from(Ticket))
        assert sum(t["total"] for t in tickets) == await session.scalar(
            select(func.sum(Ticket.total_incl)))
        for ticket in tickets:  # each line and payment adds up to its ticket
            assert sum(line["amount"] for line in ticket["lines"]) == ticket["total"]
            assert sum(part["amount"] for part in ticket["payments"]) == ticket["total"]
            assert ticket["sold_at"] is not None
        settled = [json.loads(p) for name, p in payloads if name == "table.settled"]
        assert sum(t["amount"] for t in settled) == await session.scalar(
            select(func.sum(Payment.amount)))
        assert all(sum(line["amount"] for line in t["lines"]) == t["amount"] for t in settled)
        assert seeded.events["brew.finished"] == await session.scalar(
            select(func.count()).select_from(Brew))
        # Nothing after the moment it was seeded at; everything delivered.
        assert await session.scalar(select(func.max(OutboxEvent.recorded_at))) <= NOW
        assert await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.delivered_at.is_(None))) == 0
        assert await verify_company(session, seeded.company_id) == []
        with pytest.raises(AlreadySeeded, match=re.escape(NAME)):
            await seed_large(session, scale=SCALE, size=SIZE, last_day=LAST_DAY, now=NOW)


def _seed_command(db: Database) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "comptoir_cli", "seed", "--large", "--scale", "0.0002",
         "--seed", "5"], capture_output=True, text=True, cwd=ROOT, timeout=240,
        env={**os.environ, "DATABASE_URL": db.url, "SECRET_KEY": "test-secret"})


async def test_the_command_prints_its_progress_and_refuses_a_second_company(
    db: Database,
) -> None:
    done = await asyncio.to_thread(_seed_command, db)
    assert done.returncode == 0, done.stderr
    assert "20 sites" in done.stdout and "rollups rebuilt from" in done.stdout
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(StatRollup)) > 0
    again = await asyncio.to_thread(_seed_command, db)
    assert again.returncode != 0 and "is there already" in again.stderr
    assert "Traceback" not in again.stderr
