"""A paired till in HTTP tests: the device's client paired with a code (as the back office
gives it), then a member of staff switched in with their PIN."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from sqlalchemy import select

from accounts.models import Site, Staff
from demo.seed import PINS
from pos import device
from pos.models import Till
from pos.tills import NewTill, create_till
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.backoffice.helpers import Staffer
from tests.conftest import Database

T = TypeVar("T")


async def new_till(db: Database, prefix: str = "T1", site_id: int | None = None) -> Till:
    """A till of the demo company (at its first site unless told), not paired yet."""
    async with db.sessionmaker() as session:
        site = await session.get(Site, site_id) if site_id else await session.scalar(
            select(Site).order_by(Site.id))
        admin = await session.scalar(select(Staff.id).where(Staff.role == "admin")
                                     .order_by(Staff.id))
    assert site is not None and admin is not None
    command = NewTill(company_id=site.company_id, site_id=site.id, prefix=prefix,
                      name=f"Caisse {prefix}", staff_id=admin)
    return await _run(db, lambda tx: create_till(tx, command))


async def pair(db: Database, client: httpx.AsyncClient, till: Till) -> None:
    """`client` becomes the till's device (its cookie holds the credential)."""
    code = await _run(db, lambda tx: _issue(tx, till))
    answer = await client.post("/api/v1/till/pair", json={"code": code})
    assert answer.status_code == 200, answer.text


async def _issue(tx: Tx, till: Till) -> str:
    admin = await tx.session.scalar(select(Staff.id).where(
        Staff.company_id == till.company_id, Staff.role == "admin").order_by(Staff.id))
    assert admin is not None
    return await device.issue_pairing(tx, till.company_id, till.id, admin)


async def switch_in(client: httpx.AsyncClient, db: Database, email: str,
                    pin: str | None = None) -> Staffer:
    """The member switches in on the till `client` is, with their (demo) PIN; a browser of
    the till's pages, with its CSRF token."""
    async with db.sessionmaker() as session:
        staff_id = await session.scalar(select(Staff.id).where(Staff.email == email))
    assert staff_id is not None
    answer = await client.post("/api/v1/till/switch",
                               json={"staff_id": staff_id, "pin": pin or PINS[email]})
    assert answer.status_code == 200, answer.text
    me = await client.get("/api/v1/staff/me")
    assert me.status_code == 200, me.text
    return Staffer(client, me.json()["csrf_token"])


async def at_till(client: httpx.AsyncClient, db: Database, email: str,
                  prefix: str = "T1") -> Staffer:
    """A new till of the demo site, paired as `client`, with `email` switched in."""
    async with db.sessionmaker() as session:
        till = await session.scalar(select(Till).where(Till.prefix == prefix))
    if till is None:
        till = await new_till(db, prefix)
    await pair(db, client, till)
    return await switch_in(client, db, email)


async def _run(db: Database, op: Callable[[Tx], Awaitable[T]]) -> T:
    bus = make_bus(None)
    try:
        return await run(db.sessionmaker, bus, op)
    finally:
        await bus.close()
