"""Ids a browser proved it holds the token of, remembered in its signed session cookie.

A bounded list per key, most recent last: the tables it scanned (ordering/scanned_tables.py),
the coffee machines (machines/scanned_machines.py). The live channel reads them back to let
the browser watch what it scanned (accounts.context.viewer_of): the keys are named here, with
the realtime Viewer's fields they fill, so that neither side imports the other's room.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

SCANNED_TABLES = "tables"
SCANNED_MACHINES = "machines"


def recent_ids(conn: HTTPConnection, key: str) -> tuple[int, ...]:
    value = conn.session.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(i for i in value if isinstance(i, int) and not isinstance(i, bool))


def remember_id(conn: HTTPConnection, key: str, id: int, limit: int) -> None:
    """Add `id` last (once), forgetting the oldest beyond `limit` to keep the cookie small."""
    kept = [i for i in recent_ids(conn, key) if i != id]
    conn.session[key] = [*kept[-(limit - 1):], id]
