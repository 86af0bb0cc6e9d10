"""Setting machines up from the back office: the models offered, a serial checked, the sites
a machine may go to, a machine renamed or moved, the machines of a site a page at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned_by, site_for
from domain import audit
from errors import NotFound
from machines.access import Mode
from machines.admin_service import machine_for, set_mode
from machines.errors import SerialTaken
from machines.models import Machine, Selection
from machines.publishing import machine_changed
from realtime.events import Tx

# The models Comptoir speaks to out of the box (the demo's and the simulator's); a
# company's own (its machines' and selections') are offered too.
KNOWN_MODELS = ("Jura X8", "Simulator")
# A serial as printed on a machine's plate: letters, digits and . _ / - (2 to 60).
SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{1,59}")
PAGE_SIZE = 20


async def models_offered(session: AsyncSession, staff: StaffIdentity) -> list[str]:
    """The known models and those the company already uses, each once, sorted."""
    used = await session.scalars(
        select(Selection.model).where(owned_by(staff, Selection.company_id))
        .union(select(Machine.model).join(Site, Site.id == Machine.site_id)
               .where(owned_by(staff, Site.company_id)))
    )
    return sorted({*KNOWN_MODELS, *used}, key=str.casefold)


def serial_shaped(serial: str) -> bool:
    return SERIAL.fullmatch(serial) is not None


async def serial_free(session: AsyncSession, serial: str) -> None:
    """Refuse a serial another machine has (a physical machine is added once)."""
    if await session.scalar(select(Machine.id).where(Machine.serial == serial)) is not None:
        taken = SerialTaken()
        taken.field = "serial"
        raise taken


async def open_sites(session: AsyncSession, staff: StaffIdentity) -> list[Site]:
    """The sites a machine may be put on: the company's, not archived, that staff may use."""
    found = (await session.scalars(
        select(Site).where(owned_by(staff, Site.company_id), Site.archived_at.is_(None))
        .order_by(Site.name, Site.id))).all()
    return [site for site in found if staff.may_use(site.id)]


async def open_site(session: AsyncSession, staff: StaffIdentity, site_id: object) -> Site:
    """A site a machine may go to; an archived one answers as missing."""
    site = await site_for(session, staff, site_id)
    if site.archived_at is not None:
        raise NotFound()
    return site


def _target(machine: Machine) -> str:
    return f"{machine.name} (#{machine.id})"


async def edit_machine(
    tx: Tx, staff: StaffIdentity, machine_id: object, name: str, mode: Mode
) -> Machine:
    """Its name (what staff and consumers see) and access mode."""
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    if machine.name != name:
        await audit.record(tx, staff.id, staff.company_id, "machine.renamed", _target(machine),
                           {"name": [machine.name, name]})
        machine.name = name
        await machine_changed(tx, machine.id, "machine.renamed", {"name": name})
    return await set_mode(tx, staff, machine.id, mode)


async def move_machine(
    tx: Tx, staff: StaffIdentity, machine_id: object, site_id: object
) -> Machine:
    """Put a machine on another site of the company; its selection, groups, brews and secret
    go with it."""
    staff.require(Permission.RUN_MACHINES)
    machine = await machine_for(tx, staff, machine_id)
    site = await open_site(tx.session, staff, site_id)
    if site.id == machine.site_id:
        return machine
    before = await tx.session.get(Site, machine.site_id)
    assert before is not None
    await audit.record(tx, staff.id, staff.company_id, "machine.moved", _target(machine),
                       {"site": [before.name, site.name]})
    machine.site_id = site.id
    await tx.session.flush()
    await machine_changed(tx, machine.id, "machine.moved", {"site_id": site.id})
    return machine


@dataclass(frozen=True)
class MachinePage:
    rows: list[Machine]
    total: int
    page: int
    pages: int


async def listing(
    session: AsyncSession, staff: StaffIdentity, site_id: int | None = None, page: int = 1,
    search: str = "",
) -> MachinePage:
    """The machines on the sites staff may use (or on one of them), by name, a page at a
    time, those whose name, serial or model holds `search` when given; another company's
    site, or one they may not use, answers as missing."""
    query = select(Machine).join(Site, Site.id == Machine.site_id).where(
        owned_by(staff, Site.company_id))
    words = search.strip().lower().replace("%", "").replace("_", "")
    if words:
        like = f"%{words}%"
        query = query.where(or_(func.lower(Machine.name).like(like),
                                func.lower(Machine.serial).like(like),
                                func.lower(Machine.model).like(like)))
    if site_id is not None:
        query = query.where(Machine.site_id == (await site_for(session, staff, site_id)).id)
    elif staff.sites is not None:
        query = query.where(Machine.site_id.in_(staff.sites))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = (await session.scalars(
        query.order_by(Machine.name, Machine.id).offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE))).all()
    return MachinePage(list(rows), total, page, pages)
