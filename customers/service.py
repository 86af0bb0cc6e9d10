"""Consumer accounts: sign up, confirm the email, sign in, approval by an administrator."""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import select

from accounts.passwords import hash_password, verify_password
from accounts.roles import Permission, require
from accounts.service import StaffIdentity
from accounts.tenant import owned
from customers import mail
from customers.commands import SignUp
from customers.errors import BadConsumerLogin, EmailTaken, UnknownToken
from customers.models import Consumer
from customers.policy import policy
from customers.publishing import user_changed
from errors import N_
from realtime.events import Tx
from web.i18n import gettext

_DUMMY_HASH = hash_password("not a password")
ROLES = ("consumer", "staff", "guest")  # what an approved account may be
CONFIRM_SUBJECT = N_("Confirm your email")
CONFIRM_BODY = N_(
    "Hello %(name)s,\n\nConfirm your email to use the coffee machines:\n%(link)s\n"
)


async def signup(
    tx: Tx, company_id: int, new: SignUp, base_url: str, locale: str = "en"
) -> Consumer:
    """A new account, unconfirmed; the confirmation link goes out by mail, in the language
    the person signed up in."""
    address, display, secret = new.email, new.name, new.password
    session = tx.session
    taken = await session.scalar(
        select(Consumer.id).where(Consumer.company_id == company_id, Consumer.email == address)
    )
    if taken is not None:
        raise EmailTaken()
    rules = await policy(session, company_id)
    token = secrets.token_urlsafe(24)
    consumer = Consumer(
        company_id=company_id, email=address, name=display,
        password_hash=await asyncio.to_thread(hash_password, secret),
        email_token=token, verified=not rules.require_approval,
    )
    session.add(consumer)
    await session.flush()  # (company, email) is unique: a concurrent twin fails here
    link = f"{base_url}/account/confirm/{token}"
    mail.queue(
        session, consumer.id, address, gettext(locale, CONFIRM_SUBJECT),
        gettext(locale, CONFIRM_BODY) % {"name": display, "link": link},
    )
    return consumer


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
    stored = consumer.password_hash if consumer else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored)
    if consumer is None or not ok:
        raise BadConsumerLogin()
    return consumer


async def approve(tx: Tx, staff: StaffIdentity, consumer_id: int, role: str) -> Consumer:
    """An administrator approves a consumer's request and gives them a role."""
    require(staff.role, Permission.CONFIGURE)
    consumer = await owned(tx.session, staff, Consumer, consumer_id)
    consumer.verified = True
    consumer.role = role
    await tx.session.flush()
    await user_changed(tx, consumer.id, "account.approved", {"role": consumer.role})
    return consumer
