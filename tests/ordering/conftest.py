"""A small harness for the ordering services: one transaction per call, like a request.

The services never commit: each call here runs in its own `transaction()` (commit, then
publish, then hand the domain events to their subscribers), keeps the events it and its
subscribers' transactions emitted and runs again when a unique constraint refused it, as
web/state.run_tx does for real requests. The rooms are assembled as app.py does.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from accounts.service import StaffIdentity, login
from app import assemble
from backoffice.stats_topic import CHANGED, topic_of
from demo.seed import DemoVenue
from ordering import cart_service, diner_service, staff_service, views
from ordering.config import OrderingConfig
from ordering.models import DiningTable, OrderLine, Product, TableSession
from ordering.table_view import table_view
from realtime.bus import Bus
from realtime.events import Event, Tx, transaction
from realtime.models import current_version
from tests.conftest import Database

T = TypeVar("T")


@pytest.fixture
def bus_url() -> None:
    """The bus plays no part in these service tests; realtime tests cover Redis."""
    return None


@dataclass
class Table:
    id: int
    token: str


@dataclass
class Cafe:
    db: Database
    bus: Bus
    venue: DemoVenue
    config: OrderingConfig
    tables: list[Table]
    products: dict[str, Product]
    events: list[Event] = field(default_factory=list)
    last_events: list[Event] = field(default_factory=list)

    async def run(self, op: Callable[[Tx], Awaitable[T]]) -> T:
        """One unit of work; a concurrent duplicate refused by a constraint runs again."""
        for attempt in range(3):
            try:
                async with transaction(self.db.sessionmaker, self.bus) as tx:
                    result = await op(tx)
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            self.last_events = [*tx.events, *tx.reactions]
            self.events.extend(self.last_events)
            return result
        raise AssertionError("unreachable")

    # Diners

    async def start(self, table: Table, device: str, name: str) -> diner_service.TableAccess:
        return await self.run(
            lambda tx: diner_service.start(tx, self.config, table.token, device, name)
        )

    async def join(
        self, table: Table, device: str, name: str, pin: object
    ) -> diner_service.TableAccess | diner_service.PinRejected:
        return await self.run(
            lambda tx: diner_service.join(tx, self.config, table.token, device, name, pin)
        )

    async def access(self, table: Table, device: str) -> diner_service.TableAccess:
        return await self.run(
            lambda tx: diner_service.table_access(tx, self.config, table.token, device)
        )

    async def add(
        self, table: Table, device: str, product: str, quantity: object = 1,
        note: object = "", client_id: str | None = None,
    ) -> OrderLine:
        cid = client_id or uuid.uuid4().hex
        product_id = self.products[product].id
        return await self.run(
            lambda tx: cart_service.add_line(
                tx, self.config, table.token, device, cid, product_id, quantity, note
            )
        )

    async def submit(self, table: Table, device: str, key: str) -> diner_service.Submitted:
        return await self.run(
            lambda tx: diner_service.submit(tx, self.config, table.token, device, key)
        )

    async def party(self, table: Table, *names: str) -> str:
        """The first name opens the table, the others join with its PIN; returns the PIN."""
        opened = await self.start(table, f"device-{names[0].lower()}", names[0])
        assert opened.session is not None
        for name in names[1:]:
            joined = await self.join(table, f"device-{name.lower()}", name, opened.session.pin)
            assert isinstance(joined, diner_service.TableAccess)
        return opened.session.pin

    # Staff

    async def stats_told(self) -> tuple[str, str]:
        """The company's statistics screens told their figures changed (backoffice/)."""
        return (topic_of((await self.staff("cashier")).company_id), CHANGED)

    async def staff(self, role: str) -> StaffIdentity:
        email, password = next((e, p) for e, p, r in self.venue.staff if r == role)
        async with self.db.sessionmaker() as session:
            return await login(session, email, password)

    async def validate(self, staff: StaffIdentity, round_id: int) -> Any:
        return await self.run(lambda tx: staff_service.validate(tx, self.config, staff, round_id))

    # Reading the truth back

    async def view(self, table: Table) -> dict[str, Any]:
        async with self.db.sessionmaker() as session:
            return await table_view(session, table.id)

    async def pos(self) -> dict[str, Any]:
        async with self.db.sessionmaker() as session:
            return await views.pos_view(session, self.venue.site_id)

    async def version(self, topic: str) -> int:
        async with self.db.sessionmaker() as session:
            return await current_version(session, topic)

    async def set_idle_since(self, table: Table, when: datetime) -> None:
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                update(TableSession)
                .where(TableSession.table_id == table.id, TableSession.closed_at.is_(None))
                .values(last_activity_at=when)
            )

    async def count(self, stmt: Any) -> int:
        async with self.db.sessionmaker() as session:
            return int(await session.scalar(stmt) or 0)


def topics(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.topic, e.type) for e in events]


async def assert_versions_consecutive(cafe: Cafe) -> None:
    """Per topic, the published versions run 1, 2, 3… and end at the stored version."""
    by_topic: dict[str, list[int]] = {}
    for event in cafe.events:
        by_topic.setdefault(event.topic, []).append(event.version)
        assert event.data["view"]["version"] == event.version
    for topic, versions in by_topic.items():
        assert sorted(versions) == list(range(1, len(versions) + 1)), topic
        assert await cafe.version(topic) == len(versions), topic


@pytest_asyncio.fixture
async def cafe(db: Database, bus: Bus, venue: DemoVenue) -> Cafe:
    config = OrderingConfig()
    assemble(config)
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(DiningTable.id, DiningTable.token)
                .where(DiningTable.site_id == venue.site_id)
                .order_by(DiningTable.position)
            )
        ).all()
        products = (
            await session.scalars(select(Product).where(Product.site_id == venue.site_id))
        ).all()
    return Cafe(
        db, bus, venue, config,
        [Table(table_id, token) for table_id, token in rows],
        {p.name: p for p in products},
    )
