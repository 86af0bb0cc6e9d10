"""An operator's sign-up: an address and a password, the address confirmed by a mailed
link, then the company named; only then do the company and its admin exist.

Mail is not sent here (this room sits below the mail outbox): `request` says what the
caller must mail, and the caller mails it in the same transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.commands import NewCompany
from accounts.models import Company, OperatorSignup, Staff
from accounts.passwords import hash_password
from accounts.service import PendingSignup, StaffIdentity, normal_email
from accounts.tokens import digest, new_token, well_formed
from errors import N_, DomainError, NotFound


class UnknownSignupLink(NotFound):
    """The confirmation link is unknown, already used or expired: sign up again for a new
    one."""

    code = "unknown_signup_link"
    message = N_("This link is not valid any more: sign up again to get a new one.")


class NoSignup(DomainError):
    """No confirmed sign-up on this browser: sign in with the address and password you
    signed up with, then name the company."""

    code = "no_signup"
    status = 401
    message = N_("Please sign in with the address and password you signed up with.")


async def request(
    session: AsyncSession, email: str, password: str, locale: str, ttl: timedelta,
    now: datetime,
) -> str | None:
    """The token of a link to mail to a new address; None when the address belongs to a
    member of staff or to a confirmed sign-up (its owner is told instead). The password is
    hashed either way, so both take as long."""
    address = normal_email(email)
    password_hash = await asyncio.to_thread(hash_password, password)
    if await session.scalar(select(Staff.id).where(Staff.email == address)) is not None:
        return None
    pending = await session.scalar(select(OperatorSignup).where(OperatorSignup.email == address))
    if pending is not None and pending.confirmed_at is not None:
        return None  # a stranger must not replace the password of a confirmed address
    if pending is None:
        pending = OperatorSignup(email=address)
        session.add(pending)
    # Unconfirmed: whoever signs up again (the owner who forgot the first try) gets a new
    # link and the old one dies; only the mailbox's owner can confirm either way.
    token, token_hash = new_token()
    pending.password_hash = password_hash
    pending.token_hash = token_hash
    pending.token_expires_at = now + ttl
    pending.locale = locale
    await session.flush()  # the address is unique: a concurrent twin fails here
    return token


async def confirm(session: AsyncSession, token: object, now: datetime) -> OperatorSignup:
    """The mailed link confirms the address, once, before it expires; it signs nobody in."""
    if not well_formed(token):
        raise UnknownSignupLink()
    assert isinstance(token, str)
    pending = await session.scalar(
        select(OperatorSignup).where(OperatorSignup.token_hash == digest(token))
    )
    expires = pending.token_expires_at if pending is not None else None
    if pending is None or expires is None or expires <= now:
        raise UnknownSignupLink()
    pending.confirmed_at = now
    pending.token_hash = None
    pending.token_expires_at = None
    await session.flush()
    return pending


async def pending_signup(session: AsyncSession, signup_id: object) -> PendingSignup:
    """The confirmed sign-up this browser signed in as."""
    found = await session.get(OperatorSignup, signup_id) if isinstance(signup_id, int) else None
    if found is None or found.confirmed_at is None:
        raise NoSignup()
    return PendingSignup(found.id, found.email)


async def create_company(
    session: AsyncSession, signup_id: object, new: NewCompany
) -> StaffIdentity:
    """The company, named, and its first member of staff: the operator, as its admin. The
    sign-up is spent."""
    pending = await pending_signup(session, signup_id)
    signup = await session.get(OperatorSignup, pending.id)
    assert signup is not None
    company = Company(name=new.company, currency=new.currency, timezone=new.timezone,
                      locale=new.language)
    session.add(company)
    await session.flush()
    staff = Staff(company_id=company.id, email=signup.email, name=new.name,
                  password_hash=signup.password_hash, role="admin", active=True)
    session.add(staff)
    await session.delete(signup)
    await session.flush()  # staff addresses are unique: one made meanwhile fails here
    return StaffIdentity(staff.id, company.id, staff.role, staff.name)
