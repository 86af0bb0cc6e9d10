"""What the machine topics show, read from the database in one go."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site
from customers.models import Consumer
from machines import recipes
from machines.brew_state import ACTIVE
from machines.models import Brew, Machine, MachineGroup, SelectionProduct

RECENT = 10


def machine_topic(machine_id: int) -> str:
    return f"machine:{machine_id}"


async def company_of_machine(session: AsyncSession, machine: Machine) -> Company:
    company = await session.scalar(
        select(Company).join(Site, Site.company_id == Company.id).where(Site.id == machine.site_id)
    )
    assert company is not None
    return company


def brew_dict(brew: Brew, machine_name: str | None = None) -> dict[str, Any]:
    return {
        "id": brew.id,
        "machine_id": brew.machine_id,
        "machine": machine_name,
        "product": brew.product_name,
        "type": brew.product_type,
        "status": brew.status,
        "progress": brew.progress,
        "reason": brew.reason,
        "price": brew.price,
        "charge": brew.charge,
        "refunded": brew.refunded,
        "consumer_id": brew.consumer_id,
        "requested_at": brew.requested_at.isoformat(),
        "finished_at": brew.finished_at.isoformat() if brew.finished_at else None,
    }


async def offered(session: AsyncSession, machine: Machine) -> list[dict[str, Any]]:
    """The enabled drinks of every selection the machine offers (its own, its groups'),
    so a page shows an edit to any of them live, whichever one its visitor is given."""
    group_selections = await session.scalars(
        select(MachineGroup.selection_id)
        .where(MachineGroup.machine_id == machine.id, MachineGroup.selection_id.is_not(None))
    )
    ids = sorted({s for s in [machine.selection_id, *group_selections] if s is not None})
    if not ids:
        return []
    rows = await session.scalars(
        select(SelectionProduct)
        .where(SelectionProduct.selection_id.in_(ids), SelectionProduct.enabled)
        .order_by(SelectionProduct.position, SelectionProduct.id)
    )
    drinks: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for p in rows:
        drinks[p.selection_id].append(
            {"id": p.id, "name": p.name, "type": p.type, "icon": recipes.drink(p.type).icon,
             "price": p.price, "needs": sorted(recipes.drink(p.type).needs)}
        )
    return [{"id": i, "drinks": drinks[i]} for i in ids]


async def machine_view(session: AsyncSession, machine_id: int) -> dict[str, Any]:
    machine = await session.get(Machine, machine_id)
    assert machine is not None
    company = await company_of_machine(session, machine)
    brews = (
        await session.execute(
            select(Brew, Consumer.name)
            .outerjoin(Consumer, Consumer.id == Brew.consumer_id)
            .where(Brew.machine_id == machine_id)
            .order_by(Brew.id.desc())
            .limit(RECENT)
        )
    ).all()
    latest = brews[0][0] if brews else None
    alerts = list(machine.alerts or [])
    return {
        "machine": {
            "id": machine.id,
            "name": machine.name,
            "model": machine.model,
            "serial": machine.serial,
            "mode": machine.mode,
            "site_id": machine.site_id,
            "company_id": company.id,
            "online": machine.online,
            "last_seen_at": machine.last_seen_at.isoformat() if machine.last_seen_at else None,
            "alerts": alerts,
            "missing": sorted(recipes.missing(alerts)),
        },
        "busy": latest is not None and latest.status in ACTIVE,
        "brew": brew_dict(latest) if latest else None,
        "recent": [{**brew_dict(b), "consumer": name} for b, name in brews],
        "selections": await offered(session, machine),
        "currency": company.currency,
        "timezone": company.timezone,
    }


async def user_brews(session: AsyncSession, consumer_id: int) -> dict[str, Any]:
    """The machines' part of a customer's own view: their latest brews."""
    brews = (
        await session.execute(
            select(Brew, Machine.name)
            .join(Machine, Machine.id == Brew.machine_id)
            .where(Brew.consumer_id == consumer_id)
            .order_by(Brew.id.desc())
            .limit(RECENT)
        )
    ).all()
    return {"brews": [brew_dict(b, name) for b, name in brews]}
