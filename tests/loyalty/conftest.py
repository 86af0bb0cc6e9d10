"""A harness for loyalty: a company with a site and customers, events recorded as the
till, the tables and the machines record them, each change in its own transaction. The
machines' harness (`coffee`) drives real brews; the bus plays no part here (`bus_url`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from accounts.models import Company, Site
from app import assemble
from customers.models import Consumer
from domain import outbox
from domain.events import DomainEvent, TicketRecorded
from loyalty import setup
from loyalty.commands import AddReward, SetRules
from loyalty.models import LoyaltyProfile, PointsEntry, Reward
from ordering.config import OrderingConfig
from realtime.bus import Bus, make_bus
from realtime.events import Event, Tx
from tests.conftest import Database, run_retrying
from tests.machines.conftest import bus_url, coffee  # noqa: F401
from web.commands import parse

T = TypeVar("T")


def key() -> str:
    return uuid.uuid4().hex


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def assembled() -> None:
    """What app.py registers at assembly, loyalty's subscribers among them."""
    assemble(OrderingConfig())


@dataclass
class Loyal:
    db: Database
    bus: Bus
    company_id: int
    site_id: int
    events: list[Event] = field(default_factory=list)  # published, reactions included

    async def run(self, op: Callable[[Tx], Awaitable[T]]) -> T:
        """One unit of work; a concurrent duplicate refused by a constraint runs again."""
        return await run_retrying(self.db, self.bus, op, self.events)

    async def customer(self, name: str = "Zoé", *, email: str | None = None,
                       company_id: int | None = None) -> int:
        async with self.db.sessionmaker() as session, session.begin():
            consumer = Consumer(company_id=company_id or self.company_id,
                                email=email if email is not None else f"{key()[:8]}@example.com",
                                name=name, password_hash="x", email_confirmed=True,
                                verified=True)
            session.add(consumer)
            await session.flush()
            return consumer.id

    async def other_company(self) -> int:
        async with self.db.sessionmaker() as session, session.begin():
            other = Company(name="Ailleurs SARL", currency="EUR", timezone="Europe/Paris",
                            locale="fr")
            session.add(other)
            await session.flush()
            return other.id

    async def rules(self, **values: Any) -> None:
        command = parse(SetRules, values)
        await self.run(lambda tx: setup.set_rules(tx, self.company_id, command))

    async def reward(self, **values: Any) -> Reward:
        command = parse(AddReward, {"name": "Un café offert", "cost_points": 10, **values})
        return await self.run(lambda tx: setup.add_reward(tx, self.company_id, command))

    async def record(self, event: DomainEvent) -> None:
        """As a room records a fact: in its transaction, heard after commit."""
        async def op(tx: Tx) -> None:
            await outbox.record(tx, event)
        await self.run(op)

    def sale(self, customer_id: int | None, total: int, **fields: Any) -> TicketRecorded:
        values: dict[str, Any] = {
            "company_id": self.company_id, "site_id": self.site_id, "till_id": 1,
            "ticket_id": fields.pop("ticket_id", 1000 + int(key()[:6], 16)),
            "ticket_uuid": uuid.uuid4(), "number": "T1-000001", "kind": "sale",
            "training": False, "total": total, "currency": "EUR", "staff_id": 1,
            "corrects_ticket_id": None, "customer_id": customer_id,
        }
        return TicketRecorded(**{**values, **fields})

    def refund(self, sale: TicketRecorded, total: int, **fields: Any) -> TicketRecorded:
        values: dict[str, Any] = {
            "ticket_id": sale.ticket_id + 1_000_000 + int(key()[:4], 16),
            "ticket_uuid": uuid.uuid4(), "kind": "refund",
            "corrects_ticket_id": sale.ticket_id,
        }
        return self.sale(None, -total, **{**values, **fields})

    async def balance(self, consumer_id: int) -> int:
        async with self.db.sessionmaker() as session:
            return await session.scalar(select(LoyaltyProfile.balance).where(
                LoyaltyProfile.consumer_id == consumer_id)) or 0

    async def ledger_sum(self, consumer_id: int) -> int:
        async with self.db.sessionmaker() as session:
            return int(await session.scalar(select(func.coalesce(func.sum(
                PointsEntry.points), 0)).where(PointsEntry.consumer_id == consumer_id)) or 0)

    async def entries(self, consumer_id: int) -> list[tuple[str, int]]:
        async with self.db.sessionmaker() as session:
            rows = await session.execute(
                select(PointsEntry.kind, PointsEntry.points)
                .where(PointsEntry.consumer_id == consumer_id).order_by(PointsEntry.id))
            return [(kind, points) for kind, points in rows]


@pytest_asyncio.fixture
async def loyal(db: Database) -> AsyncIterator[Loyal]:
    async with db.sessionmaker() as session, session.begin():
        company = Company(name="Le Zinc SARL", currency="EUR", timezone="Europe/Paris",
                          locale="fr")
        session.add(company)
        await session.flush()
        site = Site(company_id=company.id, name="Le Zinc")
        session.add(site)
        await session.flush()
        ids = company.id, site.id
    bus = make_bus(None)
    yield Loyal(db, bus, *ids)
    await bus.close()
