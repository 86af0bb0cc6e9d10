"""A new password by a mailed link, for staff and consumers alike.

Asking never says whether the address has an account: the answer is the same, and only an
account's own address gets a mail. The link is used once and expires (RESET_LINK_TTL_S);
the database keeps its sha256 only. Choosing the new password spends every other link of
the account as well. The mail goes through the one outbox (customers/mail.py): SMTP, or
the server's log without a mail server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as staff_accounts
from accounts.models import Staff
from accounts.passwords import hash_password
from accounts.tokens import digest, new_token, well_formed
from customers import mail
from customers.errors import UnknownToken
from customers.models import Consumer, PasswordReset
from db.base import changed
from errors import N_
from realtime.events import Tx
from web import session_store
from web.i18n import gettext

RESET_SUBJECT = N_("Choose a new password")
RESET_BODY = N_(
    "Hello,\n\nSomeone, you we hope, asked for a new password for this address. Choose it "
    "here within %(minutes)s minutes (the link works once):\n%(link)s\n\nIf it was not "
    "you, ignore this message: your password has not changed.\n"
)
STAFF_SIGN_IN = "/staff/login"


@dataclass(frozen=True)
class ResetLinks:
    """Where the mailed link leads (this site) and how long it works."""

    base_url: str
    ttl: timedelta


async def ask_for_staff(tx: Tx, email: str, links: ResetLinks, locale: str,
                        now: datetime) -> None:
    """A link to the member of staff with this address, if there is one (active)."""
    staff = await tx.session.scalar(
        select(Staff).where(Staff.email == staff_accounts.normal_email(email), Staff.active)
    )
    if staff is not None:
        await _mail_link(tx.session, staff.email, PasswordReset(staff_id=staff.id),
                         STAFF_SIGN_IN, links, locale, now)


async def ask_for_consumer(tx: Tx, company_id: int, email: str, sign_in: str,
                           links: ResetLinks, locale: str, now: datetime) -> None:
    """A link to the company's consumer with this address, if there is one; after the new
    password they sign in at `sign_in` (the place they asked from)."""
    consumer = await tx.session.scalar(
        select(Consumer).where(Consumer.company_id == company_id, Consumer.email == email)
    )
    if consumer is not None:
        await _mail_link(tx.session, consumer.email, PasswordReset(consumer_id=consumer.id),
                         sign_in, links, locale, now)


async def _mail_link(session: AsyncSession, to: str, reset: PasswordReset, sign_in: str,
                     links: ResetLinks, locale: str, now: datetime) -> None:
    token, token_hash = new_token()
    reset.token_hash = token_hash
    reset.sign_in = sign_in
    reset.expires_at = now + links.ttl
    session.add(reset)
    link = f"{links.base_url}/password/reset/{token}"
    minutes = max(1, int(links.ttl.total_seconds() // 60))
    # Tied to no consumer: the company's administrators read their consumers' mail on the
    # outbox page (without SMTP), and a reset link there would let them take an account.
    mail.queue(session, None, to, gettext(locale, RESET_SUBJECT),
               gettext(locale, RESET_BODY) % {"link": link, "minutes": minutes})


async def usable(session: AsyncSession, token: object, now: datetime) -> PasswordReset:
    """The reset this link names, unused and unexpired; else `UnknownToken`."""
    if not well_formed(token):
        raise UnknownToken()
    assert isinstance(token, str)
    reset = await session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == digest(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise UnknownToken()
    return reset


async def choose(tx: Tx, token: object, password: str, now: datetime) -> str:
    """The new password, hashed like every other; the link and the account's other links
    are spent. Returns where the account signs in."""
    password_hash = await asyncio.to_thread(hash_password, password)
    session = tx.session
    reset = await usable(session, token, now)
    # Spent by a conditional write: of two uses at once, one wins.
    spent = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    if changed(spent) != 1:
        raise UnknownToken()
    if reset.staff_id is not None:
        await staff_accounts.set_password(session, reset.staff_id, password_hash)
        others = PasswordReset.staff_id == reset.staff_id
    else:
        consumer = await session.get(Consumer, reset.consumer_id)
        assert consumer is not None  # the reset goes with its account (cascade)
        consumer.password_hash = password_hash
        # The link reached the address: it is confirmed now, if it was not.
        consumer.email_confirmed = True
        consumer.email_token = None
        others = PasswordReset.consumer_id == reset.consumer_id
    await session.execute(
        update(PasswordReset).where(others, PasswordReset.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    await session.flush()
    await end_other_sessions(tx, staff_id=reset.staff_id, consumer_id=reset.consumer_id)
    return reset.sign_in


async def end_other_sessions(tx: Tx, *, staff_id: int | None, consumer_id: int | None) -> None:
    """A password reset ends every session the account had signed in on, in the reset's own
    transaction: whoever knew the old password is signed out everywhere (their sockets
    close); the person signs in again with the new one."""
    if staff_id is not None:
        await session_store.end_all_of(tx, staff_id=staff_id)
    elif consumer_id is not None:
        await session_store.end_all_of(tx, consumer_id=consumer_id)
