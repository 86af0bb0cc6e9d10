"""Staff sign-in and what a signed-in staff member may reach."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site, Staff
from accounts.passwords import hash_password, verify_password
from accounts.roles import Permission, can
from errors import N_, DomainError

_DUMMY_HASH = hash_password("not a password")


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


@dataclass(frozen=True)
class StaffIdentity:
    id: int
    company_id: int
    role: str
    name: str

    def may(self, permission: str) -> bool:
        """May this staff member do `permission` (a Permission's value)? For the pages'
        navigation, which shows only the sections the role may use."""
        return permission in set(Permission) and can(self.role, Permission(permission))


def normal_email(email: str) -> str:
    """Staff addresses are stored so: the one spelling to look up and to count tries of."""
    return email.strip().lower()


async def login(session: AsyncSession, email: str, password: str) -> StaffIdentity:
    staff = await session.scalar(select(Staff).where(Staff.email == normal_email(email)))
    # Hash even when nobody has this email, so timing does not tell who works here; in a
    # worker thread, so that scrypt's tens of milliseconds do not hold up every socket.
    stored = staff.password_hash if staff else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored)
    if staff is None or not ok or not staff.active:
        raise BadLogin()
    return StaffIdentity(staff.id, staff.company_id, staff.role, staff.name)


async def identity(session: AsyncSession, staff_id: object) -> StaffIdentity | None:
    if not isinstance(staff_id, int):
        return None
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None
    return StaffIdentity(staff.id, staff.company_id, staff.role, staff.name)


async def workplace(session: AsyncSession, staff: StaffIdentity) -> tuple[Company, list[Site]]:
    """The staff member's company and its open sites (not archived), in the order they were
    made."""
    company = await session.get(Company, staff.company_id)
    assert company is not None  # a staff row refers to its company
    sites = (await session.scalars(
        select(Site).where(Site.company_id == staff.company_id, Site.archived_at.is_(None))
        .order_by(Site.id))).all()
    return company, list(sites)
