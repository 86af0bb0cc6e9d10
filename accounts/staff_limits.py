"""Where a member of staff may work and what of the back office they open: their sites and
their sections, checked against whoever gives them, stored, and read back for the list.

A giver limited to some sites or sections gives no more than they have; a role that opens
no section (a cashier) is stored with every section, there being nothing to limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site, Staff, StaffSection, StaffSite
from accounts.sections import Section, opens_sections
from accounts.service import StaffIdentity
from errors import N_, InvalidInput
from realtime.events import Tx


class BadSites(InvalidInput):
    """Staff not on every site need at least one site of the company."""

    code = "bad_sites"
    message = N_("Choose at least one site, or every site.")


class BadSections(InvalidInput):
    """Every section, or some of customers, campaigns, statistics and loyalty settings,
    none of them beyond those of whoever gives them."""

    code = "bad_sections"
    message = N_("Choose every section, or only some of those you open yourself.")


def at(error: InvalidInput, field: str) -> InvalidInput:
    error.field = field
    return error


async def checked_sites(session: AsyncSession, staff: StaffIdentity, all_sites: bool,
                        sites: Sequence[int]) -> list[int]:
    """The sites given, checked: the giver's company's, and the giver's own."""
    if all_sites:
        if staff.sites is not None:  # one cannot give more sites than one has
            raise at(BadSites(), "sites")
        return []
    ids = sorted(set(sites))
    known = set((await session.scalars(select(Site.id).where(
        Site.company_id == staff.company_id, Site.id.in_(ids)))).all())
    if not ids or known != set(ids) or not all(staff.may_use(i) for i in ids):
        raise at(BadSites(), "sites")
    return ids


def checked_sections(staff: StaffIdentity, role: str, all_sections: bool,
                     sections: Sequence[Section]) -> tuple[bool, list[str]]:
    """(every section?, the sections given) for a member of `role`. None of them is
    allowed: a manager of the floor who opens no customers and no statistics."""
    if not opens_sections(role):
        return True, []
    if all_sections:
        if staff.sections is not None:  # one cannot give more sections than one has
            raise at(BadSections(), "sections")
        return True, []
    chosen = set(sections)
    if staff.sections is not None and not chosen <= staff.sections:
        raise at(BadSections(), "sections")
    return False, [s.value for s in Section if s in chosen]


async def sites_of(session: AsyncSession, member_id: int) -> list[int]:
    return list((await session.scalars(
        select(StaffSite.site_id).where(StaffSite.staff_id == member_id)
        .order_by(StaffSite.site_id))).all())


async def sections_of(session: AsyncSession, member_id: int) -> list[str]:
    found = set((await session.scalars(
        select(StaffSection.section).where(StaffSection.staff_id == member_id))).all())
    return [s.value for s in Section if s.value in found]


async def store(tx: Tx, member_id: int, sites: list[int], sections: list[str]) -> None:
    """The member's sites and sections rows (none for every site or every section)."""
    await tx.session.execute(delete(StaffSite).where(StaffSite.staff_id == member_id))
    await tx.session.execute(delete(StaffSection).where(StaffSection.staff_id == member_id))
    tx.session.add_all(StaffSite(staff_id=member_id, site_id=s) for s in sites)
    tx.session.add_all(StaffSection(staff_id=member_id, section=s) for s in sections)


@dataclass(frozen=True)
class Limits:
    """What the staff list says of a member's reach: None for every section or site."""

    sections: list[str] | None
    sites: list[str] | None


async def limits_of(session: AsyncSession, rows: Sequence[Staff]) -> dict[int, Limits]:
    """Each listed member's sections and sites' names, in two queries for the page."""
    ids = [row.id for row in rows]
    sections: dict[int, list[str]] = {i: [] for i in ids}
    sites: dict[int, list[str]] = {i: [] for i in ids}
    for staff_id, name in (await session.execute(select(
            StaffSection.staff_id, StaffSection.section).where(
            StaffSection.staff_id.in_(ids)))).all():
        sections[staff_id].append(name)
    for staff_id, site in (await session.execute(select(StaffSite.staff_id, Site.name).join(
            Site, Site.id == StaffSite.site_id).where(StaffSite.staff_id.in_(ids))
            .order_by(Site.name))).all():
        sites[staff_id].append(site)
    return {row.id: Limits(
        None if row.all_sections or not opens_sections(row.role)
        else [s.value for s in Section if s.value in sections[row.id]],
        None if row.all_sites else sites[row.id]) for row in rows}
