"""How many mails a stranger can make us send: sign-ups and password-reset requests, per
address and per client. Every request counts, answered or not (there is no "wrong" one
to give back), and the limit says nothing of whether the address has an account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from errors import N_
from settings import Settings
from web import ratelimit
from web.ratelimit import Limited, Rule


class TooManyMailRequests(Limited):
    """Too many sign-ups or password-reset requests for this address (default 5 an hour)
    or from this client (default 30): nothing was sent. `Retry-After` says when to try
    again."""

    code = "too_many_requests"
    message = N_("Too many requests. Try again in %(minutes)s min.")


def mail_tries(
    settings: Settings, kind: str, address: str, client: str
) -> list[tuple[Rule, str]]:
    """The limits a request of `kind` (signup, reset) is counted under, in one order."""
    window = settings.mail_request_window_s
    return [
        (Rule(f"mail.{kind}", settings.mail_requests_per_address, window), address),
        (Rule("mail.client", settings.mail_requests_per_client, window), client),
    ]


async def spend(
    sessionmaker: async_sessionmaker[AsyncSession], tries: Sequence[tuple[Rule, str]]
) -> None:
    """Count the request under its limits (committed at once, whatever follows), or
    refuse it."""
    async with sessionmaker() as session, session.begin():
        attempt = await ratelimit.take_all(session, tries)
    if attempt.refused is not None:
        raise TooManyMailRequests(attempt.refused)
