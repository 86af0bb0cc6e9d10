"""How many wrong sign-ins an address and a client get, for staff and consumers alike.

An address is counted whether or not an account has it, so that the answers do not tell
who has one. A client is its network address (behind a trusted proxy, the one the proxy
reports: docs/deploy.md): it bounds one machine trying many addresses.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from errors import N_
from settings import Settings
from web.ratelimit import Limited, Rule


class TooManySignIns(Limited):
    """Too many wrong sign-ins for this email address (default 10 in 10 minutes, whoever
    tries), or from this client (default 50): this try was not checked, even if the password
    is right. `Retry-After` says in how many seconds one may try again."""

    code = "too_many_sign_ins"
    message = N_("Too many wrong sign-ins. Try again in %(minutes)s min.")


def sign_in_tries(
    settings: Settings, kind: str, address: str, client: str
) -> list[tuple[Rule, str]]:
    """The limits a sign-in of `kind` (staff, consumer) is counted under, in the one order
    every sign-in takes them."""
    window = settings.login_failure_window_s
    return [
        (Rule(f"sign_in.{kind}", settings.login_max_failures, window), address),
        (Rule("sign_in.client", settings.login_max_failures_per_client, window), client),
    ]


def client_of(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"
