"""Managing the staff: invite, roles, sites, personal PINs, deactivation, the searched list.

An invitation is a staff row without a password and the SHA-256 of a link's token (the
link itself is mailed by the back office, which sits above the mail outbox); accepting it
sets the password. The personal PIN (4 to 6 digits) is set by the staff member themselves
and hashed with scrypt in a worker thread; a manager can only clear it (a PIN reset). A
deactivated member signs in no more, and their cookie opens nothing from their next
request on (accounts.service.identity reads `active` every time). Role changes, sites, PIN
resets and deactivations are written to the audit log.
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
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site, Staff, StaffSite
from accounts.passwords import hash_password, verify_password
from accounts.roles import ROLES, Permission, require
from accounts.service import StaffIdentity, normal_email
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


class BadSites(InvalidInput):
    """Staff not on every site need at least one site of the company."""

    code = "bad_sites"
    message = N_("Choose at least one site, or every site.")


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
    """A role and where it applies: every site, or the listed ones."""

    role: RoleName
    all_sites: bool = True
    sites: Annotated[list[int], Field(max_length=500), Invalid(BadSites)] = []


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
    require(staff.role, Permission.CONFIGURE)


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


async def sites_of(session: AsyncSession, member_id: int) -> list[int]:
    return list((await session.scalars(
        select(StaffSite.site_id).where(StaffSite.staff_id == member_id)
        .order_by(StaffSite.site_id))).all())


async def _check(session: AsyncSession, staff: StaffIdentity, given: Assignment) -> list[int]:
    """The assignment's sites, checked: the giver's company's, and the role theirs to give."""
    if not may_give(staff.role, given.role):
        raise _at(BadRole(), "role")
    if given.all_sites:
        if staff.sites is not None:  # one cannot give more sites than one has
            raise _at(BadSites(), "sites")
        return []
    ids = sorted(set(given.sites))
    known = set((await session.scalars(select(Site.id).where(
        Site.company_id == staff.company_id, Site.id.in_(ids)))).all())
    if not ids or known != set(ids) or not all(staff.may_use(i) for i in ids):
        raise _at(BadSites(), "sites")
    return ids


def _at(error: InvalidInput, field: str) -> InvalidInput:
    error.field = field
    return error


async def _assign(tx: Tx, member_id: int, all_sites: bool, sites: list[int]) -> None:
    await tx.session.execute(delete(StaffSite).where(StaffSite.staff_id == member_id))
    if not all_sites:
        tx.session.add_all(StaffSite(staff_id=member_id, site_id=s) for s in sites)


async def invite(tx: Tx, staff: StaffIdentity, new: Invitation) -> tuple[Staff, str]:
    """A new member, invited: their row (no password yet) and the link's token."""
    _manager(staff)
    sites = await _check(tx.session, staff, new)
    email = normal_email(new.email)
    if await tx.session.scalar(select(Staff.id).where(Staff.email == email)) is not None:
        raise _at(EmailTaken(), "email")
    token = secrets.token_urlsafe(24)
    invited = Staff(company_id=staff.company_id, email=email, name=new.name,
                    password_hash="", role=new.role, active=True, all_sites=new.all_sites,
                    invite_hash=_digest(token),
                    invite_expires_at=datetime.now(UTC) + INVITE_FOR)
    tx.session.add(invited)
    await tx.session.flush()  # the address is unique: a concurrent twin fails here
    await _assign(tx, invited.id, new.all_sites, sites)
    await audit.record(tx, staff.id, staff.company_id, "staff.invite", f"staff:{invited.id}",
                       {"email": email, "role": new.role, "all_sites": new.all_sites,
                        "sites": sites})
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
    sites = await _check(tx.session, staff, given)
    before = {"role": found.role, "all_sites": found.all_sites,
              "sites": await sites_of(tx.session, found.id)}
    after = {"role": given.role, "all_sites": given.all_sites, "sites": sites}
    if before == after:
        return found
    found.role, found.all_sites = given.role, given.all_sites
    await _assign(tx, found.id, given.all_sites, sites)
    action = "staff.role" if before["role"] != after["role"] else "staff.sites"
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
