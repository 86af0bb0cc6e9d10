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
from customers.errors import BadConsumerLogin, BadSignup, EmailTaken, UnknownToken
from customers.models import Consumer
from customers.policy import policy
from customers.publishing import user_changed
from errors import N_
from realtime.events import Tx
from web.i18n import gettext

_DUMMY_HASH = hash_password("not a password")
ROLES = ("consumer", "staff", "guest")
CONFIRM_SUBJECT = N_("Confirm your email")
CONFIRM_BODY = N_(
    "Hello %(name)s,\n\nConfirm your email to use the coffee machines:\n%(link)s\n"
)


def _clean(email: object, name: object, password: object) -> tuple[str, str, str]:
    if not isinstance(email, str) or not isinstance(name, str) or not isinstance(password, str):
        raise BadSignup()
    email = email.strip().lower()
    name = name.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or " " in email:
        raise BadSignup()
    if not 1 <= len(name) <= 120 or not 8 <= len(password) <= 200:
        raise BadSignup()
    return email, name, password


async def signup(
    tx: Tx, company_id: int, email: object, name: object, password: object, base_url: str,
    locale: str = "en",
) -> Consumer:
    """A new account, unconfirmed; the confirmation link goes out by mail, in the language
    the person signed up in."""
    address, display, secret = _clean(email, name, password)
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


async def login(tx: Tx, company_id: int, email: object, password: object) -> Consumer:
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > 200:
        raise BadConsumerLogin()
    consumer = await tx.session.scalar(
        select(Consumer).where(
            Consumer.company_id == company_id, Consumer.email == email.strip().lower()
        )
    )
    # Hash even for an unknown email, so timing does not tell who has an account.
    stored = consumer.password_hash if consumer else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, stored)
    if consumer is None or not ok:
        raise BadConsumerLogin()
    return consumer


async def approve(tx: Tx, staff: StaffIdentity, consumer_id: object, role: object) -> Consumer:
    """An administrator approves a consumer's request and gives them a role."""
    require(staff.role, Permission.CONFIGURE)
    consumer = await owned(tx.session, staff, Consumer, consumer_id)
    consumer.verified = True
    consumer.role = role if isinstance(role, str) and role in ROLES else "consumer"
    await tx.session.flush()
    await user_changed(tx, consumer.id, "account.approved", {"role": consumer.role})
    return consumer
