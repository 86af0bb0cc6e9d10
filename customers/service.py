"""Consumer accounts: sign up, confirm the email, sign in, approval by an administrator."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.passwords import dummy_hash, hash_password, verify_password
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned
from customers import mail
from customers.commands import SignUp
from customers.errors import BadConsumerLogin, UnknownToken
from customers.models import Consumer, OutboxMail
from customers.policy import policy
from customers.publishing import user_changed
from errors import N_
from realtime.events import Tx
from web.i18n import gettext

ROLES = ("consumer", "staff", "guest")  # what an approved account may be
CONFIRM_SUBJECT = N_("Confirm your email")
CONFIRM_BODY = N_(
    "Hello %(name)s,\n\nConfirm your email to use the coffee machines:\n%(link)s\n"
)
TAKEN_SUBJECT = N_("Someone tried to sign up with your address")
TAKEN_BODY = N_(
    "Hello,\n\nSomeone tried to create a coffee-machine account with this address, which "
    "already has one. If it was you, sign in with your password:\n%(link)s\n\nIf it was "
    "not you, you can ignore this message: nothing changed.\n"
)
TAKEN_NOTICE_EVERY = timedelta(hours=1)  # at most one such mail an hour to an address


@dataclass(frozen=True)
class SignUpLinks:
    """Where the mail of a sign-up leads: this site, and where this person signs in."""

    base_url: str
    sign_in: str  # a path of this site


async def signup(
    tx: Tx, company_id: int, new: SignUp, links: SignUpLinks, locale: str = "en"
) -> Consumer | None:
    """A new account, unconfirmed, whose confirmation link goes out by mail in the language
    the person signed up in; or, when the address has an account already, None and a mail
    telling its owner. Both take about as long (the password is hashed either way), and the
    caller answers both alike: a sign-up never tells who has an account."""
    address, display = new.email, new.name
    session = tx.session
    password_hash = await asyncio.to_thread(hash_password, new.password)
    owner = await session.scalar(
        select(Consumer).where(Consumer.company_id == company_id, Consumer.email == address)
    )
    if owner is not None:
        await _tell_owner(session, owner, links, locale)
        return None
    rules = await policy(session, company_id)
    token = secrets.token_urlsafe(24)
    consumer = Consumer(
        company_id=company_id, email=address, name=display, password_hash=password_hash,
        email_token=token, verified=not rules.require_approval,
    )
    session.add(consumer)
    await session.flush()  # (company, email) is unique: a concurrent twin fails here
    link = f"{links.base_url}/account/confirm/{token}"
    mail.queue(
        session, consumer.id, address, gettext(locale, CONFIRM_SUBJECT),
        gettext(locale, CONFIRM_BODY) % {"name": display, "link": link},
    )
    return consumer


async def _tell_owner(
    session: AsyncSession, owner: Consumer, links: SignUpLinks, locale: str
) -> None:
    """The owner hears of a sign-up with their address, at most once an hour, and nothing
    of what the stranger typed (their name could carry a message)."""
    since = datetime.now(UTC) - TAKEN_NOTICE_EVERY
    recent = await session.scalar(
        select(OutboxMail.id)
        .where(OutboxMail.consumer_id == owner.id, OutboxMail.created_at > since).limit(1)
    )
    if recent is not None:
        return
    link = f"{links.base_url}{links.sign_in}"
    mail.queue(session, owner.id, owner.email, gettext(locale, TAKEN_SUBJECT),
               gettext(locale, TAKEN_BODY) % {"link": link})


async def confirm(tx: Tx, token: object) -> Consumer:
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        raise UnknownToken()
    consumer = await tx.session.scalar(select(Consumer).where(Consumer.email_token == token))
    if consumer is None:
        raise UnknownToken()
    consumer.email_confirmed = True
    consumer.email_token = None
    await tx.session.flush()
    await user_changed(tx, consumer.id, "account.confirmed", {})
    return consumer


async def login(tx: Tx, company_id: int, email: str, password: str) -> Consumer:
    consumer = await tx.session.scalar(
        select(Consumer).where(Consumer.company_id == company_id, Consumer.email == email)
    )
    # Hash even for an unknown email, so timing does not tell who has an account.
    stored = consumer.password_hash if consumer else dummy_hash()
    ok = await asyncio.to_thread(verify_password, password, stored)
    if consumer is None or not ok:
        raise BadConsumerLogin()
    return consumer


async def approve(tx: Tx, staff: StaffIdentity, consumer_id: int, role: str) -> Consumer:
    """An administrator approves a consumer's request and gives them a role."""
    staff.require(Permission.MANAGE_PEOPLE)
    consumer = await owned(tx.session, staff, Consumer, consumer_id)
    consumer.verified = True
    consumer.role = role
    await tx.session.flush()
    await user_changed(tx, consumer.id, "account.approved", {"role": consumer.role})
    return consumer
