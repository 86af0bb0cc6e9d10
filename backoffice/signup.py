"""An operator's sign-up from the public page, with its mail: accounts/signups.py keeps
the sign-up, the one outbox (customers/mail.py) carries the link, or tells the owner of an
address that has an account already."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from accounts import signups
from accounts.service import normal_email
from customers import mail
from customers.commands import Email, Password
from customers.errors import BadEmail
from errors import N_
from realtime.events import Tx
from web import ratelimit
from web.commands import Command, Invalid
from web.i18n import gettext

CONFIRM_SUBJECT = N_("Confirm your address to create your venue")
CONFIRM_BODY = N_(
    "Hello,\n\nConfirm your address to go on creating your venue on Comptoir (the link "
    "works for %(hours)s hours, once):\n%(link)s\n\nThen sign in with your address and "
    "password, and name your company.\n\nIf it was not you, ignore this message: nothing "
    "will be created.\n"
)
TAKEN_SUBJECT = N_("Someone tried to sign up with your address")
TAKEN_BODY = N_(
    "Hello,\n\nSomeone tried to create a venue on Comptoir with this address, which "
    "already has an account. If it was you, sign in:\n%(sign_in)s\n\nForgot your password? "
    "Choose a new one here:\n%(forgot)s\n\nIf it was not you, ignore this message: nothing "
    "changed.\n"
)
# The owner of a taken address hears of it at most once an hour, however often it is tried.
TAKEN_NOTICE = ratelimit.Rule("signup.notice", 1, 3600)


class OperatorSignUp(Command):
    """An operator's address and password; the company comes after the address is
    confirmed."""

    email: Annotated[Email, Invalid(BadEmail)]
    password: Password


@dataclass(frozen=True)
class SignupLinks:
    base_url: str
    ttl: timedelta


async def sign_up(
    tx: Tx, new: OperatorSignUp, links: SignupLinks, locale: str, now: datetime
) -> None:
    """A link to confirm a new address, or a word to the owner of a known one: the caller
    answers both alike."""
    session = tx.session
    address = normal_email(new.email)
    token = await signups.request(session, address, new.password, locale, links.ttl, now)
    if token is not None:
        link = f"{links.base_url}/signup/confirm/{token}"
        hours = max(1, int(links.ttl.total_seconds() // 3600))
        mail.queue(session, None, address, gettext(locale, CONFIRM_SUBJECT),
                   gettext(locale, CONFIRM_BODY) % {"link": link, "hours": hours})
        return
    notice = await ratelimit.take(session, TAKEN_NOTICE, address, now)
    if notice.allowed:
        mail.queue(session, None, address, gettext(locale, TAKEN_SUBJECT),
                   gettext(locale, TAKEN_BODY) % {
                       "sign_in": f"{links.base_url}/staff/login",
                       "forgot": f"{links.base_url}/password/forgot"})
