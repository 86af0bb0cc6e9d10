"""The tables this browser scanned, remembered in its signed session cookie.

Holding a table's token (its QR code) is what lets a browser watch the table's public live
state; table ids are sequential and prove nothing. The page and the token API remember the
table here, and the live channel reads it back (web.state.viewer_of).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

KEY = "tables"
LIMIT = 20  # most recent last; keeps the cookie small


def scanned_tables(conn: HTTPConnection) -> tuple[int, ...]:
    value = conn.session.get(KEY)
    if not isinstance(value, list):
        return ()
    return tuple(t for t in value if isinstance(t, int) and not isinstance(t, bool))


def remember_table(conn: HTTPConnection, table_id: int) -> None:
    """This browser scanned the table (it used its token)."""
    kept = [t for t in scanned_tables(conn) if t != table_id]
    conn.session[KEY] = [*kept[-(LIMIT - 1):], table_id]
