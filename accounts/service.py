"""Staff sign-in and what a signed-in staff member may reach."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import sections as sectioned
from accounts.models import Company, OperatorSignup, Site, Staff, StaffSection, StaffSite
from accounts.passwords import dummy_hash, verify_password
from accounts.roles import Permission
from accounts.sections import Section
from errors import N_, DomainError
from realtime.events import Tx
from web.session_store import end_all_of


class BadLogin(DomainError):
    """Wrong email or password, or the account is disabled."""

    code = "bad_login"
    status = 401
    message = N_("Wrong email or password.")


class NotSignedIn(DomainError):
    """A staff endpoint was called without a signed-in staff session: POST /api/v1/staff/login
    first."""

    code = "not_signed_in"
    status = 401
    message = N_("Please sign in.")


class SignupNotConfirmed(DomainError):
    """The address of this sign-up is not confirmed yet: follow the mailed link first."""

    code = "email_not_confirmed"
    status = 403
    message = N_("Confirm your email address first: follow the link in the mail we sent "
                 "you, then sign in.")


@dataclass(frozen=True)
class PendingSignup:
    """A confirmed sign-up whose company is still to be named (accounts/signups.py)."""

    id: int
    email: str


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    company_id: int
    role: str
    name: str
    # The sites they may work at: None for every site of the company.
    sites: frozenset[int] | None = None
    # The back office's sections they are limited to (accounts/sections.py): None for all.
    sections: frozenset[Section] | None = None

    def may_use(self, site_id: int) -> bool:
        return self.sites is None or site_id in self.sites

    def may(self, permission: str) -> bool:
        """May this staff member do `permission` (a Permission or its value)? Their role's,
        less the sections they are not given: the one check, for pages, the API and the
        navigation alike."""
        return sectioned.holds(self, permission)

    def require(self, permission: Permission) -> None:
        """Refused (Forbidden: a page in their language with a way back) unless they may."""
        sectioned.require(self, permission)

    def require_any(self, *permissions: Permission) -> None:
        sectioned.require_any(self, *permissions)

    @property
    def permissions(self) -> frozenset[Permission]:
        return sectioned.permissions_of(self.role, self.sections)


async def identities(session: AsyncSession, rows: Sequence[Staff]) -> list[StaffIdentity]:
    """Each member's identity, their sites and sections read in two queries for them all."""
    ids = [row.id for row in rows]
    sites: dict[int, set[int]] = {i: set() for i in ids}
    sections: dict[int, set[Section]] = {i: set() for i in ids}
    if any(not row.all_sites for row in rows):
        for staff_id, site_id in (await session.execute(select(
                StaffSite.staff_id, StaffSite.site_id).where(StaffSite.staff_id.in_(ids)))).all():
            sites[staff_id].add(site_id)
    if any(not row.all_sections for row in rows):
        for staff_id, name in (await session.execute(select(
                StaffSection.staff_id, StaffSection.section).where(
                StaffSection.staff_id.in_(ids)))).all():
            if name in set(Section):
                sections[staff_id].add(Section(name))
    return [StaffIdentity(
        row.id, row.company_id, row.role, row.name,
        None if row.all_sites else frozenset(sites[row.id]),
        None if row.all_sections else frozenset(sections[row.id])) for row in rows]


async def _identity_of(session: AsyncSession, staff: Staff) -> StaffIdentity:
    return (await identities(session, [staff]))[0]


def normal_email(email: str) -> str:
    """Staff addresses are stored so: the one spelling to look up and to count tries of."""
    return email.strip().lower()


async def login(
    session: AsyncSession, email: str, password: str
) -> StaffIdentity | PendingSignup:
    """The member of staff; or, for an operator who signed up and has no company yet, the
    sign-up, once its address is confirmed (before: `SignupNotConfirmed`, said only to
    whoever gave the right password)."""
    address = normal_email(email)
    staff = await session.scalar(select(Staff).where(Staff.email == address))
    signup = None
    if staff is None:
        signup = await session.scalar(
            select(OperatorSignup).where(OperatorSignup.email == address))
    # Hash even when nobody has this email, so timing does not tell who works here; in a
    # worker thread, so that scrypt's tens of milliseconds do not hold up every socket.
    stored = (staff.password_hash if staff else signup.password_hash if signup
              else dummy_hash())
    ok = await asyncio.to_thread(verify_password, password, stored)
    if signup is not None and ok:
        if signup.confirmed_at is None:
            raise SignupNotConfirmed()
        return PendingSignup(signup.id, signup.email)
    if staff is None or not ok or not staff.active:
        raise BadLogin()
    return await _identity_of(session, staff)


async def set_password(session: AsyncSession, staff_id: int, password_hash: str) -> None:
    """A new password (hashed by the caller, in a worker thread) for a member of staff."""
    staff = await session.get(Staff, staff_id)
    if staff is not None:
        staff.password_hash = password_hash
        await session.flush()


async def identity(session: AsyncSession, staff_id: object) -> StaffIdentity | None:
    if not isinstance(staff_id, int):
        return None
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None  # a deactivated member's cookie opens nothing from their next request on
    return await _identity_of(session, staff)


async def deactivate(tx: Tx, email: str) -> int | None:
    """The staff member may no longer sign in, and every session they are signed in on ends
    at once: their screens are signed out, and their live sockets close on every process
    the bus reaches. Their id, or None when nobody has this address."""
    staff = await tx.session.scalar(select(Staff).where(Staff.email == normal_email(email)))
    if staff is None:
        return None
    staff.active = False
    await end_all_of(tx, staff_id=staff.id)
    return staff.id


async def workplace(session: AsyncSession, staff: StaffIdentity) -> tuple[Company, list[Site]]:
    """The staff member's company and the open sites (not archived) they may use, in the
    order they were made."""
    company = await session.get(Company, staff.company_id)
    assert company is not None  # a staff row refers to its company
    sites = (await session.scalars(
        select(Site).where(Site.company_id == staff.company_id, Site.archived_at.is_(None))
        .order_by(Site.id))).all()
    return company, [site for site in sites if staff.may_use(site.id)]
