"""A harness for the machines services: one transaction per call, like a request or a
device message, on the seeded demo company; machines added as its admin would."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from starlette.applications import Starlette

from accounts.models import Site, Staff
from accounts.passwords import hash_password
from accounts.service import StaffIdentity
from app import assemble
from customers.models import Consumer, GroupMember, LedgerEntry, OutboxMail
from customers.views import balance_of
from demo.seed import DemoVenue
from machines import admin_service, brew_service, device_service
from machines.commands import AddMachine, ManualCredit
from machines.models import Machine, MachineGroup, SelectionProduct
from ordering.config import OrderingConfig
from realtime.bus import Bus
from realtime.events import Event, Tx
from tests.conftest import Database, run_retrying
from tests.conftest import test_settings as settings_for
from web.commands import Command, parse

T = TypeVar("T")
C = TypeVar("C", bound=Command)
PASSWORD = "coffee-lover"
ADMIN_EMAIL = "admin@cafe-de-la-gare.fr"
PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: scrypt is slow on purpose


def key() -> str:
    return uuid.uuid4().hex


def given(kind: type[C], /, **data: Any) -> C:
    """A command as a JSON request would carry it: refused input raises its error."""
    return parse(kind, data)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def assembled() -> None:
    """What app.py registers at assembly: who hears a payment's end, a customer's brews."""
    assemble(OrderingConfig())


@pytest.fixture
def bus_url() -> None:
    """The bus plays no part in these service tests; realtime tests cover Redis."""
    return None


@dataclass
class Coffee:
    db: Database
    bus: Bus
    venue: DemoVenue
    admin: StaffIdentity
    company_id: int
    events: list[Event] = field(default_factory=list)

    async def run(self, op: Callable[[Tx], Awaitable[T]]) -> T:
        """One unit of work; a concurrent duplicate refused by a constraint runs again."""
        return await run_retrying(self.db, self.bus, op, self.events)

    async def machine(self, mode: str = "open", *, online: bool = True) -> Machine:
        serial = f"SN-{key()[:10]}"
        added = await self.run(
            lambda tx: admin_service.add_machine(
                tx, self.admin, given(AddMachine, site_id=self.venue.site_id,
                                      name=f"Machine {serial}", model="Jura X8", serial=serial,
                                      mode=mode)
            )
        )
        if online:
            await self.run(lambda tx: device_service.connected(tx, added.machine.id, "c1", now()))
        return added.machine

    async def consumer(
        self, name: str = "Zoé", *, ready: bool = True, groups: tuple[Machine, ...] = (),
        credit: int = 0,
    ) -> int:
        async with self.db.sessionmaker() as session, session.begin():
            consumer = Consumer(
                company_id=self.company_id, email=f"{key()[:8]}@example.com", name=name,
                password_hash=PASSWORD_HASH, email_confirmed=ready, verified=ready,
            )
            session.add(consumer)
            await session.flush()
            for machine in groups:
                group_id = await session.scalar(
                    select(MachineGroup.group_id)
                    .where(MachineGroup.machine_id == machine.id)
                    .order_by(MachineGroup.group_id)
                )
                assert group_id is not None, "the machine's mode made no group"
                session.add(GroupMember(group_id=group_id, consumer_id=consumer.id))
            consumer_id = consumer.id
        if credit:
            await self.run(
                lambda tx: admin_service.manual_credit(
                    tx, self.admin, consumer_id,
                    given(ManualCredit, amount=credit, idempotency_key=key(), note="test"),
                )
            )
        return consumer_id

    async def drinks(self, machine: Machine, selection_id: int | None = None) -> dict[str, int]:
        """Drink type → id in the machine's selection (or another one)."""
        async with self.db.sessionmaker() as session:
            if selection_id is None:
                fresh = await session.get(Machine, machine.id)
                assert fresh is not None
                selection_id = fresh.selection_id
            rows = await session.scalars(
                select(SelectionProduct).where(SelectionProduct.selection_id == selection_id)
            )
            return {p.type: p.id for p in rows}

    async def price(self, drink_id: int) -> int:
        async with self.db.sessionmaker() as session:
            product = await session.get(SelectionProduct, drink_id)
            assert product is not None
            return product.price

    async def brew(
        self, machine: Machine, drink_id: int, consumer_id: int | None = None,
        idempotency_key: str | None = None, device: str = "phone",
    ) -> brew_service.Requested:
        return await self.run(
            lambda tx: brew_service.request(
                tx, machine.token, drink_id, consumer_id, device, idempotency_key or key(), now()
            )
        )

    async def report(self, machine: Machine, brew_id: int, status: str, **extra: Any) -> bool:
        message = device_service.Report(brew_id, status, extra.get("progress"),
                                        extra.get("reason"))
        return await self.run(lambda tx: device_service.report(tx, machine.id, message, now()))

    async def alerts(self, machine: Machine, alerts: list[str]) -> None:
        await self.run(lambda tx: device_service.set_alerts(tx, machine.id, alerts, now()))

    async def balance(self, consumer_id: int) -> int:
        async with self.db.sessionmaker() as session:
            return await balance_of(session, consumer_id)

    async def ledger_sum(self, consumer_id: int) -> int:
        async with self.db.sessionmaker() as session:
            total = await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.consumer_id == consumer_id
                )
            )
            return int(total or 0)

    async def entries(self, consumer_id: int) -> list[tuple[str, int]]:
        async with self.db.sessionmaker() as session:
            rows = await session.execute(
                select(LedgerEntry.kind, LedgerEntry.amount)
                .where(LedgerEntry.consumer_id == consumer_id)
                .order_by(LedgerEntry.id)
            )
            return [(kind, amount) for kind, amount in rows]


async def mailed_link(db: Database, to: str) -> str:
    """The path of the last confirmation link mailed to `to` (read where the mail waits)."""
    async with db.sessionmaker() as session:
        body = await session.scalar(
            select(OutboxMail.body).where(OutboxMail.to == to).order_by(OutboxMail.id.desc())
        )
    found = re.search(r"/account/confirm/[\w-]+", body or "")
    assert found is not None, body
    return found.group(0)


async def signed_up(
    client: httpx.AsyncClient, db: Database, machine: str, email: str, name: str = "Nina",
    password: str = "long enough",
) -> int:
    """A consumer who signed up at `machine`, followed the mailed link and signed in."""
    asked = await client.post("/api/v1/consumers/signup", json={
        "machine": machine, "email": email, "name": name, "password": password})
    assert asked.status_code == 202, asked.text
    assert (await client.get(await mailed_link(db, email))).status_code == 200
    signed = await client.post("/api/v1/consumers/login", json={
        "machine": machine, "email": email, "password": password})
    assert signed.status_code == 200, signed.text
    consumer_id: int = signed.json()["consumer"]["id"]
    return consumer_id


@pytest_asyncio.fixture
async def app(db: Database, venue: DemoVenue) -> AsyncIterator[Starlette]:
    """The app in-process with the test payment provider (pay, decline, pay late)."""
    from app import create_app

    application = create_app(settings_for(db.url, payment_provider="test"))
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def coffee(db: Database, bus: Bus, venue: DemoVenue) -> Coffee:
    async with db.sessionmaker() as session:
        row = await session.scalar(select(Staff).where(Staff.email == ADMIN_EMAIL))
        assert row is not None
        admin = StaffIdentity(row.id, row.company_id, row.role, row.name)  # no slow hashing
        site = await session.get(Site, venue.site_id)
        assert site is not None
    return Coffee(db, bus, venue, admin, site.company_id)
