"""The cash drawer opened outside a sale, and the till's training mode: a supervisor's, by
PIN on a cashier's screen; journalled and audited."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select, update
from starlette.applications import Starlette

from demo.seed import PINS, DemoVenue
from domain.models import AuditEntry
from ordering.models import Product
from pos.drawer import pulse
from pos.models import JournalEntry, Ticket, Till
from tests.api.test_bad_input import CASHIER, expect
from tests.conftest import Database, client_for
from tests.pos.at_till import at_till, switch_in

SUPERVISOR = "superviseur@cafe-de-la-gare.fr"


async def _supervisor_id(db: Database) -> int:
    from accounts.models import Staff

    async with db.sessionmaker() as session:
        found = await session.scalar(select(Staff.id).where(Staff.email == SUPERVISOR))
    assert found is not None
    return found


async def _journal(db: Database, kind: str) -> list[str]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(JournalEntry.detail).where(
            JournalEntry.kind == kind).order_by(JournalEntry.position))).all())


async def test_a_cashier_opens_the_drawer_with_a_supervisors_pin(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    jobs: list[bytes] = []

    async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        jobs.append(await reader.read())
        writer.close()

    server = await asyncio.start_server(keep, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    supervisor = await _supervisor_id(db)
    async with server, client_for(app) as till:
        cashier = await at_till(till, db, CASHIER[0])
        headers = {"x-csrf-token": cashier.csrf}
        # No printer yet: the drawer hangs on it.
        expect(await till.post("/api/v1/till/drawer", headers=headers, json={
            "reason": "Monnaie", "approval": {"staff_id": supervisor,
                                              "pin": PINS[SUPERVISOR]}}), 409, "no_printer")
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(Till).values(printer=f"127.0.0.1:{port}"))
        expect(await till.post("/api/v1/till/drawer", headers=headers,
                               json={"reason": "Monnaie"}), 409, "approval_needed")
        expect(await till.post("/api/v1/till/drawer", headers=headers, json={
            "reason": "Monnaie", "approval": {"staff_id": supervisor, "pin": "0000"}}),
            403, "pin_refused")
        expect(await till.post("/api/v1/till/drawer", headers=headers, json={
            "reason": "", "approval": {"staff_id": supervisor, "pin": PINS[SUPERVISOR]}}),
            422, "invalid_input")
        assert await _journal(db, "drawer_opened") == []
        # The page's form: the approval as two fields.
        opened = await cashier.post("/api/v1/till/drawer", {
            "reason": "Monnaie", "approval_staff_id": str(supervisor),
            "approval_pin": PINS[SUPERVISOR]})
        assert opened.status_code == 200, opened.text
        assert opened.json()["approved_by"] == supervisor
        assert opened.headers["hx-redirect"] == "/till?done=drawer"
        assert "Le tiroir est ouvert." in (await till.get("/till?done=drawer")).text
        for _ in range(50):
            if jobs:
                break
            await asyncio.sleep(0.05)
    assert jobs == [pulse()]
    [detail] = await _journal(db, "drawer_opened")
    assert f'"approved_by":{supervisor}' in detail and "Monnaie" in detail
    async with db.sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "till.drawer"))
    assert entry is not None and entry.changes == {"reason": "Monnaie",
                                                   "approved_by": supervisor}


async def test_training_mode_is_started_by_a_supervisor_and_ends_with_the_member(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    supervisor = await _supervisor_id(db)
    async with client_for(app) as till:
        cashier = await at_till(till, db, CASHIER[0])
        headers = {"x-csrf-token": cashier.csrf}
        expect(await till.post("/api/v1/till/training", headers=headers, json={"on": True}),
               409, "approval_needed")
        started = await till.post("/api/v1/till/training", headers=headers, json={
            "on": True, "approval": {"staff_id": supervisor, "pin": PINS[SUPERVISOR]}})
        assert started.status_code == 200 and started.json()["supervisor_id"] == supervisor
        home = (await till.get("/till")).text
        assert "FORMATION" in home and "Sacha Superviseur" in home
        assert "FORMATION" in (await till.get("/till/sell")).text
        # A sale now is a training ticket, naming its supervisor.
        async with db.sessionmaker() as session:
            product = await session.scalar(select(Product).where(
                Product.site_id == venue.site_id, Product.archived_at.is_(None),
                Product.available.is_(True)).order_by(Product.id))
        assert product is not None
        sold = await till.post("/api/v1/till/sales", headers=headers, json={
            "uuid": str(uuid.uuid4()), "lines": [{"product_id": product.id, "quantity": 1}],
            "payments": [{"method": "card", "amount": product.price}]})
        assert sold.status_code == 201, sold.text
        async with db.sessionmaker() as session:
            ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.training and ticket.supervisor_id == supervisor
        # Another member switching in ends it.
        await switch_in(till, db, SUPERVISOR)
        assert "FORMATION" not in (await till.get("/till")).text
    assert [("\"on\":true" in d) for d in await _journal(db, "training")] == [True, False]
