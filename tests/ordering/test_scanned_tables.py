"""The tables a browser scanned, as its session cookie remembers them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from ordering.scanned_tables import KEY, LIMIT, remember_table, scanned_tables


def browser(session: dict[str, Any] | None = None) -> Any:
    return cast(Any, SimpleNamespace(session={} if session is None else session))


def test_the_last_tables_scanned_are_kept_most_recent_last() -> None:
    conn = browser()
    assert scanned_tables(conn) == ()
    for table_id in (4, 7, 4):
        remember_table(conn, table_id)
    assert scanned_tables(conn) == (7, 4)  # scanned again: moves to the end, once

    for table_id in range(100, 100 + LIMIT):
        remember_table(conn, table_id)
    assert scanned_tables(conn) == tuple(range(100, 100 + LIMIT))  # the oldest forgotten
    assert len(conn.session[KEY]) == LIMIT


def test_anything_else_in_the_cookie_is_no_table() -> None:
    assert scanned_tables(browser({KEY: "12"})) == ()
    assert scanned_tables(browser({KEY: [3, "4", True, None, 5]})) == (3, 5)
