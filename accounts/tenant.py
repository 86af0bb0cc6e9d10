"""The one tenant guard: a member of staff reaches only what their own company owns.

Another company's object, or one kept on a site the staff member may not use, answers
exactly as a missing one (the room's not-found error): ids are sequential, and a different
answer would tell an outsider which ones exist. Staff may use every site of their company,
or only the sites they were given (`StaffIdentity.sites`).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from accounts.models import Site
from accounts.service import NotSignedIn, StaffIdentity
from db.base import is_id
from errors import DomainError, NotFound


class Member(Protocol):
    """A signed-in member of staff, or a live viewer who may be one."""

    @property
    def company_id(self) -> int | None: ...


class SiteMember(Member, Protocol):
    """A member of staff, or a live viewer, who may be limited to some sites."""

    def may_use(self, site_id: int) -> bool: ...


class CompanyOwned(Protocol):
    @property
    def company_id(self) -> int: ...


class SiteKept(Protocol):
    @property
    def site_id(self) -> int: ...


Owned = TypeVar("Owned", bound=CompanyOwned)
Kept = TypeVar("Kept", bound=SiteKept)


def belongs(who: Member | None, company_id: int | None) -> bool:
    """Does this company's object belong to whoever `who` is (False for nobody)?"""
    return who is not None and who.company_id is not None and company_id == who.company_id


def works_at(who: SiteMember | None, company_id: int | None, site_id: int | None) -> bool:
    """Does the site (of `company_id`) belong to whoever `who` is, and may they work there?
    What every live topic kept on a site asks before a socket may watch it."""
    return site_id is not None and belongs(who, company_id) and who is not None and (
        who.may_use(site_id))


def guard(
    staff: StaffIdentity | None, company_id: int | None, not_found: type[DomainError] = NotFound,
    site_id: int | None = None,
) -> None:
    """Refuse an object of `company_id` (None: none was found) unless the staff's company's,
    and, for an object kept on a site (`site_id`), one of the sites they may use."""
    if staff is None:
        raise NotSignedIn()
    if not belongs(staff, company_id):
        raise not_found()
    if site_id is not None and not staff.may_use(site_id):
        raise not_found()


async def owned(
    session: AsyncSession,
    staff: StaffIdentity | None,
    model: type[Owned],
    object_id: object,
    not_found: type[DomainError] = NotFound,
) -> Owned:
    """The company-owned object of this id, if it is the staff member's company's."""
    found = await session.get(model, object_id) if is_id(object_id) else None
    guard(staff, found.company_id if found is not None else None, not_found)
    assert found is not None
    return found


async def site_for(session: AsyncSession, staff: StaffIdentity | None, site_id: object) -> Site:
    """The site, if this staff member may use it; the same answer as a missing one otherwise."""
    site = await owned(session, staff, Site, site_id)
    assert staff is not None
    if not staff.may_use(site.id):
        raise NotFound()
    return site


async def on_site(
    session: AsyncSession,
    staff: StaffIdentity | None,
    model: type[Kept],
    object_id: object,
    not_found: type[DomainError] = NotFound,
) -> Kept:
    """An object kept on a site (a table, a product, a machine), if the staff may use the site."""
    found = await session.get(model, object_id) if is_id(object_id) else None
    site = await session.get(Site, found.site_id) if found is not None else None
    guard(staff, site.company_id if site is not None else None, not_found)
    assert found is not None and site is not None and staff is not None
    if not staff.may_use(site.id):
        raise not_found()
    return found


def owned_by(staff: StaffIdentity, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """A query's filter to the rows of the staff member's company (`column`: a company_id)."""
    return column == staff.company_id
