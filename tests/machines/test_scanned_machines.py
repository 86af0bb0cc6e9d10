"""The coffee machines a browser scanned, as its session cookie remembers them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from machines.scanned_machines import KEY, LIMIT, remember_machine, scanned_machines
from ordering.scanned_tables import remember_table, scanned_tables


def browser(session: dict[str, Any] | None = None) -> Any:
    return cast(Any, SimpleNamespace(session={} if session is None else session))


def test_the_last_machines_scanned_are_kept_most_recent_last() -> None:
    conn = browser()
    assert scanned_machines(conn) == ()
    for machine_id in (4, 7, 4):
        remember_machine(conn, machine_id)
    assert scanned_machines(conn) == (7, 4)  # scanned again: moves to the end, once

    for machine_id in range(100, 100 + LIMIT):
        remember_machine(conn, machine_id)
    assert scanned_machines(conn) == tuple(range(100, 100 + LIMIT))  # the oldest forgotten
    assert len(conn.session[KEY]) == LIMIT


def test_anything_else_in_the_cookie_is_no_machine() -> None:
    assert scanned_machines(browser({KEY: "12"})) == ()
    assert scanned_machines(browser({KEY: [3, "4", True, None, 5]})) == (3, 5)


def test_a_machine_is_not_a_table() -> None:
    """Ids of both are sequential and overlap: scanning table 3 gives no machine 3."""
    conn = browser()
    remember_table(conn, 3)
    remember_machine(conn, 8)
    assert scanned_machines(conn) == (8,)
    assert scanned_tables(conn) == (3,)
