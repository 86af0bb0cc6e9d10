"""The coffee machines of some sites at a glance, for the back office's live day: each one
online or not, brewing or not (its latest brew still under way, as its own page says
`busy`), and its alerts; read in two statements however many machines there are."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from machines import recipes
from machines.brew_state import ACTIVE
from machines.models import Brew, Machine


@dataclass(frozen=True)
class MachineState:
    id: int
    name: str
    site_id: int
    online: bool
    brewing: bool
    alerts: list[str]
    missing: list[str]  # the ingredients its alerts say are out (machines/recipes.py)


async def fleet(session: AsyncSession, site_ids: Collection[int]) -> list[MachineState]:
    """The machines of these sites, by name."""
    if not site_ids:
        return []
    machines = (await session.scalars(
        select(Machine).where(Machine.site_id.in_(sorted(site_ids)))
        .order_by(Machine.name, Machine.id)
    )).all()
    if not machines:
        return []
    latest = (
        select(func.max(Brew.id))
        .where(Brew.machine_id.in_([m.id for m in machines]))
        .group_by(Brew.machine_id)
    )
    brewing = set((await session.scalars(
        select(Brew.machine_id).where(Brew.id.in_(latest), Brew.status.in_(ACTIVE))
    )).all())
    return [
        MachineState(m.id, m.name, m.site_id, m.online, m.id in brewing, list(m.alerts or []),
                     sorted(recipes.missing(m.alerts or [])))
        for m in machines
    ]
