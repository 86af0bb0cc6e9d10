"""Inviting a consumer by e-mail from the back office, and the invited person's first
password.

An invitation is a consumer account without a password (approved: the operator asked for
it) and a password-reset link (`password_reset`: single use, kept as its sha256) that lasts
as long as a staff invitation (`staff_admin.INVITE_FOR`). Choosing the password through the
link spends it like any reset, and signs the person in (the caller does). An address that
already has an account of the company is said so to the operator, and nothing is sent;
inviting someone again who has not answered yet keeps their one account and sends a new
link, the old one spent. Every invitation sent is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from accounts.service import StaffIdentity
from accounts.staff_admin import INVITE_FOR
from accounts.tokens import new_token
from customers import mail, password_reset
from customers.commands import Email, Password
from customers.errors import BadEmail, UnknownToken
from customers.models import Consumer, PasswordReset
from customers.people_admin import ConsumerName, ConsumerRole, manager
from domain import audit
from errors import N_
from realtime.events import Tx
from web.commands import Command, Invalid
from web.i18n import gettext

LANDING = "/account"  # where the invited person arrives, signed in
INVITE_SUBJECT = N_("You are invited to %(company)s")
INVITE_BODY = N_(
    "Hello %(name)s,\n\n%(company)s invites you to open your customer account. Choose your "
    "password here (the link works for 7 days, once):\n%(link)s\n\nIf you did not expect "
    "this message, you can ignore it: no account opens without your password.\n")


class ConsumerInvitation(Command):
    email: Annotated[Email, Invalid(BadEmail)]
    name: ConsumerName
    role: ConsumerRole = "consumer"


class FirstPassword(Command):
    password: Password


@dataclass(frozen=True)
class Invited:
    """What became of an invitation: the account, and whether a link went out (`sent`),
    and whether the person had been invited before without answering (`again`)."""

    consumer: Consumer
    sent: bool
    again: bool


async def invite(tx: Tx, staff: StaffIdentity, given: ConsumerInvitation, base_url: str,
                 locale: str, now: datetime) -> Invited:
    """Invite `given.email` to the staff member's company (see the module's docstring)."""
    manager(staff)
    session = tx.session
    found = await session.scalar(select(Consumer).where(
        Consumer.company_id == staff.company_id, Consumer.email == given.email))
    if found is not None and found.password_hash:
        return Invited(found, sent=False, again=False)  # a member already: nothing to send
    again = found is not None
    if found is None:
        found = Consumer(company_id=staff.company_id, email=given.email, name=given.name,
                         password_hash="", verified=True, role=given.role)
        session.add(found)
        await session.flush()  # (company, email) is unique: a concurrent twin fails here
    else:  # one link at a time: the one mailed before opens nothing now
        await session.execute(
            update(PasswordReset)
            .where(PasswordReset.consumer_id == found.id, PasswordReset.used_at.is_(None))
            .values(used_at=now).execution_options(synchronize_session=False))
    token, token_hash = new_token()
    session.add(PasswordReset(token_hash=token_hash, consumer_id=found.id, sign_in=LANDING,
                              expires_at=now + INVITE_FOR))
    company = await session.scalar(select(Company.name).where(Company.id == staff.company_id))
    words = {"name": found.name, "company": company or "Comptoir",
             "link": f"{base_url}/account/invite/{token}"}
    # Tied to no consumer, as a reset link is: the outbox page shows consumers' mail to
    # administrators, and this link opens the account.
    mail.queue(session, None, found.email, gettext(locale, INVITE_SUBJECT) % words,
               gettext(locale, INVITE_BODY) % words)
    await audit.record(tx, staff.id, staff.company_id, "consumer.invite",
                       f"consumer:{found.id}",
                       {"email": found.email, "role": found.role, "again": again})
    return Invited(found, sent=True, again=again)


async def invited(session: AsyncSession, token: object, now: datetime) -> Consumer:
    """The person an invitation link is for, while it works: a link for an account that
    has a password already (a reset's) is no invitation, and answers as unknown."""
    reset = await password_reset.usable(session, token, now)
    found = (await session.get(Consumer, reset.consumer_id)
             if reset.consumer_id is not None else None)
    if found is None or found.password_hash:
        raise UnknownToken()
    return found


async def accept(tx: Tx, token: object, given: FirstPassword, now: datetime) -> Consumer:
    """The invited person's password: the link is spent, the address confirmed (the link
    reached it). The caller signs them in."""
    found = await invited(tx.session, token, now)
    await password_reset.choose(tx, token, given.password, now)
    return found
