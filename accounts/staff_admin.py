"""Managing the staff: invite, roles, sites, personal PINs, deactivation, the searched list.

An invitation is a staff row without a password and the SHA-256 of a link's token (the
link itself is mailed by the back office, which sits above the mail outbox); accepting it
sets the password. The personal PIN (4 to 6 digits) is set by the staff member themselves
and hashed with scrypt in a worker thread; a manager can only clear it (a PIN reset). A
deactivated member signs in no more, and their cookie opens nothing from their next
request on (accounts.service.identity reads `active` every time). Role changes, sites and
sections (accounts/staff_limits.py), PIN resets and deactivations are written to the audit
log.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Staff
from accounts.passwords import hash_password, verify_password
from accounts.roles import ROLES, Permission
from accounts.sections import Section
from accounts.service import StaffIdentity, normal_email
from accounts.staff_limits import (
    BadSections,
    BadSites,
    at,
    checked_sections,
    checked_sites,
    sections_of,
    sites_of,
    store,
)
from accounts.tenant import owned
from domain import audit
from errors import N_, Forbidden, InvalidInput, NotFound
from realtime.events import Tx
from web import session_store
from web.commands import Collapsed, Command, Invalid, Text

INVITE_FOR = timedelta(days=7)
PAGE_SIZE = 20
SORTS = {"name": Staff.name, "email": Staff.email, "role": Staff.role, "active": Staff.active}
# Least to most: a role is given by someone of that role or above. The machines' roles
# (accounts/roles.py) each do one part of the machines' work, none of the floor's.
ROLE_ORDER = ["kitchen", "cashier", "reporter", "product_manager", "user_manager",
              "machine_owner", "supervisor", "manager", "admin"]


class BadEmail(InvalidInput):
    """Not an e-mail address (something@somewhere, at most 254 characters)."""

    code = "bad_email"
    message = N_("Enter an e-mail address.")


class EmailTaken(InvalidInput):
    """A member of staff (of any company) already signs in with this address."""

    code = "email_taken"
    message = N_("Someone already signs in with this address.")


class BadStaffName(InvalidInput):
    """The name is blank or over 120 characters."""

    code = "bad_staff_name"
    message = N_("Give a name of 1 to 120 characters.")


class BadRole(InvalidInput):
    """Not one of the roles, or one above the role of whoever gives it."""

    code = "bad_role"
    message = N_("Choose one of the roles you may give.")


class BadPin(InvalidInput):
    """A personal PIN is 4 to 6 digits."""

    code = "bad_pin"
    message = N_("A PIN is 4 to 6 digits.")


class BadPassword(InvalidInput):
    """A password has 10 to 200 characters."""

    code = "bad_password"
    message = N_("Choose a password of 10 to 200 characters.")


class BadInvitation(NotFound):
    """The invitation link is unknown, used or expired."""

    code = "bad_invitation"
    message = N_("This invitation link is not valid any more: ask for a new one.")


class NotOnYourself(Forbidden):
    """Nobody changes their own role or sites, or deactivates themselves: another manager
    must (a company is never left without one by mistake)."""

    code = "not_on_yourself"
    message = N_("Ask another manager to change this for you.")


Email = Annotated[Collapsed, Field(min_length=3, max_length=254,
                                   pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), Invalid(BadEmail)]
StaffName = Annotated[Collapsed, Field(min_length=1, max_length=120), Invalid(BadStaffName)]
RoleName = Annotated[Literal["kitchen", "cashier", "reporter", "product_manager",
                             "user_manager", "machine_owner", "supervisor", "manager", "admin"],
                     Invalid(BadRole)]


class Assignment(Command):
    """A role and where it applies: every site, or the listed ones; every section of the
    back office the role opens, or the listed ones (accounts/sections.py)."""

    role: RoleName
    all_sites: bool = True
    sites: Annotated[list[int], Field(max_length=500), Invalid(BadSites)] = []
    all_sections: Annotated[bool, Invalid(BadSections)] = True
    sections: Annotated[list[Section], Field(max_length=len(Section)),
                        Invalid(BadSections)] = []


class Invitation(Assignment):
    email: Email
    name: StaffName


class Acceptance(Command):
    password: Annotated[Text, Field(min_length=10, max_length=200), Invalid(BadPassword)]


class PinChoice(Command):
    pin: Annotated[Text, Field(pattern=r"^[0-9]{4,6}$"), Invalid(BadPin)]


@dataclass(frozen=True)
class StaffPage:
    rows: Sequence[Staff]
    total: int
    page: int
    pages: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _manager(staff: StaffIdentity) -> None:
    staff.require(Permission.CONFIGURE)


def may_give(giver: str, role: str) -> bool:
    """A role is given by someone of that role or above (a manager makes no admin)."""
    return role in ROLES and giver in ROLE_ORDER and (
        ROLE_ORDER.index(role) <= ROLE_ORDER.index(giver))


async def listing(
    session: AsyncSession, staff: StaffIdentity, search: str = "", sort: str = "name",
    descending: bool = False, page: int = 1,
) -> StaffPage:
    """The company's staff matching `search` (name or e-mail), sorted, a page at a time."""
    _manager(staff)
    query = select(Staff).where(Staff.company_id == staff.company_id)
    words = search.strip()[:100]
    if words:
        like = f"%{words.lower().replace('%', '').replace('_', '')}%"
        query = query.where(or_(func.lower(Staff.name).like(like),
                                func.lower(Staff.email).like(like)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    column = SORTS.get(sort, Staff.name)
    order = column.desc() if descending else column.asc()
    rows = (await session.scalars(
        query.order_by(order, Staff.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).all()
    return StaffPage(rows, total, page, pages)


async def member(session: AsyncSession, staff: StaffIdentity, staff_id: object) -> Staff:
    """A member of the manager's company (another company's answers as missing)."""
    found = await owned(session, staff, Staff, staff_id)
    _manager(staff)
    return found


@dataclass(frozen=True)
class _Given:
    sites: list[int]
    all_sections: bool
    sections: list[str]


async def _check(session: AsyncSession, staff: StaffIdentity, given: Assignment) -> _Given:
    """The assignment checked: the role theirs to give, the sites and sections their own."""
    if not may_give(staff.role, given.role):
        raise at(BadRole(), "role")
    sites = await checked_sites(session, staff, given.all_sites, given.sites)
    all_sections, sections = checked_sections(staff, given.role, given.all_sections,
                                              given.sections)
    return _Given(sites, all_sections, sections)


async def invite(tx: Tx, staff: StaffIdentity, new: Invitation) -> tuple[Staff, str]:
    """A new member, invited: their row (no password yet) and the link's token."""
    _manager(staff)
    checked = await _check(tx.session, staff, new)
    email = normal_email(new.email)
    if await tx.session.scalar(select(Staff.id).where(Staff.email == email)) is not None:
        raise at(EmailTaken(), "email")
    token = secrets.token_urlsafe(24)
    invited = Staff(company_id=staff.company_id, email=email, name=new.name,
                    password_hash="", role=new.role, active=True, all_sites=new.all_sites,
                    all_sections=checked.all_sections,
                    invite_hash=_digest(token),
                    invite_expires_at=datetime.now(UTC) + INVITE_FOR)
    tx.session.add(invited)
    await tx.session.flush()  # the address is unique: a concurrent twin fails here
    await store(tx, invited.id, checked.sites, checked.sections)
    await audit.record(tx, staff.id, staff.company_id, "staff.invite", f"staff:{invited.id}",
                       {"email": email, "role": new.role, "all_sites": new.all_sites,
                        "sites": checked.sites, "all_sections": checked.all_sections,
                        "sections": checked.sections})
    return invited, token


async def invited(session: AsyncSession, token: object) -> Staff:
    """The member an invitation link is for, while it is valid."""
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        raise BadInvitation()
    found = await session.scalar(select(Staff).where(Staff.invite_hash == _digest(token)))
    if (found is None or not found.active or found.invite_expires_at is None
            or found.invite_expires_at < datetime.now(UTC)):
        raise BadInvitation()
    return found


async def accept(tx: Tx, token: object, given: Acceptance) -> Staff:
    """The invited member chooses a password; the link then opens nothing."""
    found = await invited(tx.session, token)
    found.password_hash = await asyncio.to_thread(hash_password, given.password)
    found.invite_hash = found.invite_expires_at = None
    return found


async def assign(tx: Tx, staff: StaffIdentity, member_id: object, given: Assignment) -> Staff:
    """A new role and sites for a member; what changed goes to the audit log."""
    found = await member(tx.session, staff, member_id)
    if found.id == staff.id:
        raise NotOnYourself()
    if not may_give(staff.role, found.role):  # a manager does not touch an admin
        raise Forbidden()
    checked = await _check(tx.session, staff, given)
    before = {"role": found.role, "all_sites": found.all_sites,
              "sites": await sites_of(tx.session, found.id),
              "all_sections": found.all_sections,
              "sections": await sections_of(tx.session, found.id)}
    after = {"role": given.role, "all_sites": given.all_sites, "sites": checked.sites,
             "all_sections": checked.all_sections, "sections": checked.sections}
    if before == after:
        return found
    found.role, found.all_sites = given.role, given.all_sites
    found.all_sections = checked.all_sections
    await store(tx, found.id, checked.sites, checked.sections)
    action = ("staff.role" if before["role"] != after["role"] else
              "staff.sites" if before["sites"] != after["sites"]
              or before["all_sites"] != after["all_sites"] else "staff.sections")
    await audit.record(tx, staff.id, staff.company_id, action, f"staff:{found.id}",
                       {"before": before, "after": after})
    return found


async def set_active(tx: Tx, staff: StaffIdentity, member_id: object, active: bool) -> Staff:
    """Deactivate (no sign-in, every session of theirs ended) or reactivate a member."""
    found = await member(tx.session, staff, member_id)
    if found.id == staff.id:
        raise NotOnYourself()
    if not may_give(staff.role, found.role):
        raise Forbidden()
    if found.active != active:
        found.active = active
        if not active:  # signed out everywhere at once: their open screens close
            await session_store.end_all_of(tx, staff_id=found.id)
        await audit.record(tx, staff.id, staff.company_id,
                           "staff.activate" if active else "staff.deactivate",
                           f"staff:{found.id}", {"email": found.email})
    return found


async def reset_pin(tx: Tx, staff: StaffIdentity, member_id: object) -> Staff:
    """Clear a member's PIN (forgotten, or seen by someone): they set a new one themselves."""
    found = await member(tx.session, staff, member_id)
    if not may_give(staff.role, found.role):
        raise Forbidden()
    found.pin_hash = None
    await audit.record(tx, staff.id, staff.company_id, "staff.pin_reset", f"staff:{found.id}",
                       {"email": found.email})
    return found


async def set_own_pin(tx: Tx, staff: StaffIdentity, choice: PinChoice) -> None:
    """The signed-in member sets their personal PIN (hashed: nobody can read it back)."""
    found = await tx.session.get(Staff, staff.id)
    if found is None or not found.active:
        raise NotFound()
    found.pin_hash = await asyncio.to_thread(hash_password, choice.pin)


async def check_pin(session: AsyncSession, staff_id: int, pin: str) -> bool:
    """Is this the member's PIN (for the till's switch of user)? In a worker thread."""
    found = await session.get(Staff, staff_id)
    if found is None or not found.active or not found.pin_hash:
        return False
    return await asyncio.to_thread(verify_password, pin, found.pin_hash)
