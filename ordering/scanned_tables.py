"""The tables this browser scanned, remembered in its signed session cookie.

Holding a table's token (its QR code) is what lets a browser watch the table's public live
state; table ids are sequential and prove nothing. The page and the token API remember the
table here, and the live channel reads it back (accounts.context.viewer_of).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from web.recent_ids import SCANNED_TABLES, recent_ids, remember_id

KEY = SCANNED_TABLES
LIMIT = 20  # most recent last; keeps the cookie small


def scanned_tables(conn: HTTPConnection) -> tuple[int, ...]:
    return recent_ids(conn, KEY)


def remember_table(conn: HTTPConnection, table_id: int) -> None:
    """This browser scanned the table (it used its token)."""
    remember_id(conn, KEY, table_id, LIMIT)
