"""The demo's two coffee machines: one open in the hall, one prepaid in the open space,
with a demo consumer who has credit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.passwords import hash_password
from customers import credit
from customers.ledger import Kind
from customers.models import Consumer, GroupMember, UserGroup
from machines import admin_service
from machines.access import Mode
from machines.models import Machine, MachineGroup
from realtime.events import Tx

MACHINES: list[tuple[str, str, Mode]] = [
    ("DEMO-HALL-1", "Machine du hall", Mode.OPEN),
    ("DEMO-OPEN-2", "Machine de l'open space", Mode.PREPAID),
]
DEMO_SERIALS = [serial for serial, _, _ in MACHINES]
CONSUMER = ("lea@exemple.fr", "Léa Martin", "cafe-demo")
START_CREDIT = 1000


@cache
def _consumer_hash() -> str:
    return hash_password(CONSUMER[2])  # once per process: scrypt is slow on purpose


@dataclass(frozen=True)
class DemoMachine:
    name: str
    token: str
    mode: str


async def seed_machines(
    session: AsyncSession, site_id: int, company_id: int
) -> tuple[list[DemoMachine], list[tuple[str, str]]]:
    """Create the demo machines and consumer once; seeding again returns what is there."""
    tx = Tx(session)  # no bus: nobody watches yet
    machines: list[Machine] = []
    for serial, name, mode in MACHINES:
        machine = await session.scalar(select(Machine).where(Machine.serial == serial))
        if machine is None:
            machine = Machine(
                site_id=site_id, name=name, model="Jura X8", serial=serial, mode=mode.value,
                token=secrets.token_urlsafe(16), settings_pin=admin_service.new_pin(),
                maintenance_pin=admin_service.new_pin(), alerts=[],
            )
            session.add(machine)
            await session.flush()
            await admin_service.ensure_for_mode(tx, machine, mode)
        machines.append(machine)
    email, display, password = CONSUMER
    consumer = await session.scalar(
        select(Consumer).where(Consumer.company_id == company_id, Consumer.email == email)
    )
    if consumer is None:
        consumer = Consumer(
            company_id=company_id, email=email, name=display, password_hash=_consumer_hash(),
            email_confirmed=True, verified=True,
        )
        session.add(consumer)
        await session.flush()
        group_id = await session.scalar(
            select(MachineGroup.group_id).where(MachineGroup.machine_id == machines[1].id)
        )
        assert group_id is not None
        group = await session.get(UserGroup, group_id)
        assert group is not None
        # The open space gets 2 € every Monday morning.
        group.recharge_amount, group.recharge_every, group.recharge_at = 200, "week", "07:00"
        session.add(GroupMember(group_id=group_id, consumer_id=consumer.id))
        await credit.post(
            tx, consumer.id, START_CREDIT, Kind.MANUAL, f"demo:{consumer.id}",
            note="demo", publish=False,
        )
    return (
        [DemoMachine(m.name, m.token, m.mode) for m in machines],
        [(email, password)],
    )
