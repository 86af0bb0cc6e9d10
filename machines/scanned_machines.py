"""The coffee machines this browser scanned, remembered in its signed session cookie.

Holding a machine's token (its QR code) is what lets a browser watch the machine's public
live status; machine ids are sequential and prove nothing. The machine's pages and its
token API remember it here, and the live channel reads it back (accounts.context.viewer_of).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from web.recent_ids import SCANNED_MACHINES, recent_ids, remember_id

KEY = SCANNED_MACHINES
LIMIT = 20  # most recent last; keeps the cookie small


def scanned_machines(conn: HTTPConnection) -> tuple[int, ...]:
    return recent_ids(conn, KEY)


def remember_machine(conn: HTTPConnection, machine_id: int) -> None:
    """This browser scanned the machine (it used its token)."""
    remember_id(conn, KEY, machine_id, LIMIT)
