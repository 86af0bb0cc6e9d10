"""Who may watch `machine:{id}` on the live channel, against a real `comptoir serve`.

Machine ids are sequential: a cookie alone must not reveal every company's machines. A
browser watches a machine once it used the machine's token (its QR code); staff watch the
machines of their own company.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy import select

from customers.models import Consumer
from demo.seed import DemoVenue
from machines import device_service
from machines.models import Machine
from realtime.bus import make_bus
from realtime.events import transaction
from tests.conftest import Database, Server
from tests.machines.conftest import key
from tests.realtime.phones import Phone, another_company_admin, receive, send, subscribe


@dataclass
class Machines:
    server: Server
    token: str  # the open machine's
    topic: str
    other_topic: str  # another machine of the same venue, never scanned here


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Server]]:
    """One server per database for the module: starting one takes seconds."""
    started: dict[str, Server] = {}
    yield started
    for server in started.values():
        server.stop()


@pytest_asyncio.fixture
async def machines(
    db: Database, venue: DemoVenue, servers: dict[str, Server]
) -> AsyncIterator[Machines]:
    if db.url not in servers:
        servers[db.url] = await asyncio.to_thread(Server, {"DATABASE_URL": db.url})
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(Machine).order_by(Machine.id))).all()
    machine = next(m for m in rows if m.mode == "open")
    other = next(m for m in rows if m.id != machine.id)
    bus = make_bus(None)
    try:  # online, so that it takes a brew (nobody brews it here: no device serves it)
        async with transaction(db.sessionmaker, bus) as tx:
            await device_service.connected(tx, machine.id, "c1", datetime.now(UTC))
    finally:
        await bus.close()
    yield Machines(servers[db.url], machine.token, f"machine:{machine.id}",
                   f"machine:{other.id}")


def forbidden(topic: str) -> dict[str, str]:
    return {"type": "error", "code": "forbidden", "topic": topic,
            "message": "You may not watch this topic."}


async def refused(phone: Phone, topic: str) -> None:
    async with phone.socket() as ws:
        await send(ws, "subscribe", topic)
        assert await receive(ws) == forbidden(topic)


async def test_only_a_browser_that_scanned_the_machine_watches_it(machines: Machines) -> None:
    token = machines.token
    async with (
        Phone(machines.server.url) as visitor,  # opens the machine's page (its QR code)
        Phone(machines.server.url) as screen,  # the machine's own display
        Phone(machines.server.url) as program,  # reads its state by API
        Phone(machines.server.url) as brewer,  # only brews, by API
    ):
        phones = (visitor, screen, program, brewer)
        for phone in phones:
            assert (await phone.http.get("/")).status_code == 200  # a cookie, no machine
            await refused(phone, machines.topic)

        assert (await visitor.http.get(f"/m/{token}")).status_code == 200
        assert (await screen.http.get(f"/m/{token}/display")).status_code == 200
        state = await program.http.get(f"/api/v1/machines/{token}")
        assert state.status_code == 200
        drink = state.json()["drinks"][0]["id"]
        brewed = await brewer.http.post(
            f"/api/v1/machines/{token}/brews",
            json={"product_id": drink, "idempotency_key": key()},
        )
        assert brewed.status_code == 201, brewed.text

        for phone in phones:
            async with phone.socket() as ws:
                snapshot = await subscribe(ws, machines.topic)
                assert snapshot["data"]["machine"]["online"] is True
                assert "recent" not in snapshot["data"]  # the public cut: who brewed, no
                await send(ws, "subscribe", machines.other_topic)
                assert await receive(ws) == forbidden(machines.other_topic)


async def test_staff_watch_the_machines_of_their_own_company_only(
    machines: Machines, venue: DemoVenue, db: Database
) -> None:
    other_email, other_password = await another_company_admin(db)
    cashier_email, cashier_password, _ = venue.staff[2]
    async with Phone(machines.server.url) as cashier, Phone(machines.server.url) as other:
        await cashier.sign_in(cashier_email, cashier_password)
        await other.sign_in(other_email, other_password)
        async with cashier.socket() as ws:  # no scan needed
            for topic in (machines.topic, machines.other_topic):
                snapshot = await subscribe(ws, topic)
                assert "recent" in snapshot["data"]  # the full view
        await refused(other, machines.topic)

        # At the machine with its QR code, like anyone: the public cut, that machine only.
        assert (await other.http.get(f"/m/{machines.token}")).status_code == 200
        async with other.socket() as ws:
            snapshot = await subscribe(ws, machines.topic)
            assert "recent" not in snapshot["data"]
            await send(ws, "subscribe", machines.other_topic)
            assert await receive(ws) == forbidden(machines.other_topic)


async def test_only_roles_that_see_people_watch_a_consumer(
    machines: Machines, venue: DemoVenue, db: Database
) -> None:
    """`user:{id}` holds a consumer's name, e-mail, balance and ledger: the kitchen, the
    till and the supervisor may not watch it; an administrator of the company may."""
    email, password = venue.consumers[0]
    async with db.sessionmaker() as session:
        lea = await session.scalar(select(Consumer.id).where(Consumer.email == email))
    topic = f"user:{lea}"
    by_role = {role: (address, secret) for address, secret, role in venue.staff}
    for role in ("kitchen", "cashier", "supervisor"):
        async with Phone(machines.server.url) as staff:
            await staff.sign_in(*by_role[role])
            await refused(staff, topic)
    async with Phone(machines.server.url) as admin, Phone(machines.server.url) as herself:
        await admin.sign_in(*by_role["admin"])
        async with admin.socket() as ws:
            assert (await subscribe(ws, topic))["data"]["consumer"]["email"] == email
        signed = await herself.http.post("/api/v1/consumers/login", json={
            "machine": machines.token, "email": email, "password": password})
        assert signed.status_code == 200
        async with herself.socket() as ws:
            assert (await subscribe(ws, topic))["data"]["consumer"]["id"] == lea
