"""A shop with two tills, a cashier and a supervisor, on either database; the services run
through the one transaction runner on a memory bus (the records publish nothing)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import pytest
import pytest_asyncio

from accounts.models import Company, Site, Staff
from pos import clock
from pos.records import Method, Origin, PaymentInput, Recorded, Sale, record_sale
from pos.signing import sealing_box
from pos.tills import NewTill, create_till
from pos.vat import INTERMEDIATE, Line
from realtime.bus import Bus, make_bus
from realtime.events import Tx, run
from tests.conftest import Database

T = TypeVar("T")
SECRET = "test-secret"
BOX = sealing_box(SECRET)


@dataclass
class Shop:
    db: Database
    bus: Bus
    company_id: int
    site_id: int
    cashier_id: int
    supervisor_id: int
    till_ids: list[int]

    async def run(self, op: Callable[[Tx], Awaitable[T]]) -> T:
        return await run(self.db.sessionmaker, self.bus, op)

    def origin(self, till: int = 0, **more: object) -> Origin:
        return Origin(uuid=more.pop("uuid", None) or uuid.uuid4(),  # type: ignore[arg-type]
                      till_id=self.till_ids[till], company_id=self.company_id,
                      staff_id=self.cashier_id, **more)  # type: ignore[arg-type]

    async def sell(self, *lines: Line, till: int = 0, cash: int | None = None,
                   card: int = 0, **more: object) -> Recorded:
        total = sum(line.total_incl for line in lines)
        payments = []
        if card:
            payments.append(PaymentInput(Method.CARD, card))
        if total - card:
            payments.append(PaymentInput(Method.CASH, total - card, cash))
        sale = Sale(self.origin(till, **more), list(lines), payments)
        return await self.run(lambda tx: record_sale(tx, sale))


COFFEE = Line("Café", 1, 150, INTERMEDIATE)


@pytest.fixture
def bus_url() -> None:
    return None


class Clock:
    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


@pytest.fixture
def clock_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The server's clock, set by the test (`clock_at.at = …`), else the real one."""
    fake = Clock()
    monkeypatch.setattr(clock, "now", fake)
    yield fake


@pytest_asyncio.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    bus = make_bus(None)
    async with db.sessionmaker() as session, session.begin():
        company = Company(name="Le Zinc SARL", currency="EUR", timezone="Europe/Paris")
        session.add(company)
        await session.flush()
        site = Site(company_id=company.id, name="Le Zinc")
        session.add(site)
        await session.flush()
        cashier = Staff(company_id=company.id, email=f"c{company.id}@zinc.test", name="Chloé",
                        password_hash="x", role="cashier")
        supervisor = Staff(company_id=company.id, email=f"s{company.id}@zinc.test",
                           name="Sami", password_hash="x", role="supervisor")
        session.add_all([cashier, supervisor])
        await session.flush()
        ids = (company.id, site.id, cashier.id, supervisor.id)
    shop = Shop(db, bus, *ids, [])
    for prefix in ("T1", "T2"):
        till = await shop.run(lambda tx, p=prefix: create_till(tx, NewTill(  # type: ignore[misc]
            shop.company_id, shop.site_id, p, f"Comptoir {p}", shop.supervisor_id)))
        shop.till_ids.append(till.id)
    yield shop
    await bus.close()
