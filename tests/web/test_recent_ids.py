"""What a browser scanned (tables, coffee machines), as its session cookie remembers it."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest

from machines import scanned_machines as machines
from ordering import scanned_tables as tables


def browser(session: dict[str, Any] | None = None) -> Any:
    return cast(Any, SimpleNamespace(session={} if session is None else session))


SCANNED = [
    pytest.param(tables.scanned_tables, tables.remember_table, tables.KEY, tables.LIMIT,
                 id="tables"),
    pytest.param(machines.scanned_machines, machines.remember_machine, machines.KEY,
                 machines.LIMIT, id="machines"),
]
Read = Callable[[Any], tuple[int, ...]]
Remember = Callable[[Any, int], None]


@pytest.mark.parametrize(("scanned", "remember", "key", "limit"), SCANNED)
def test_the_last_ones_scanned_are_kept_most_recent_last(
    scanned: Read, remember: Remember, key: str, limit: int
) -> None:
    conn = browser()
    assert scanned(conn) == ()
    for scanned_id in (4, 7, 4):
        remember(conn, scanned_id)
    assert scanned(conn) == (7, 4)  # scanned again: moves to the end, once

    for scanned_id in range(100, 100 + limit):
        remember(conn, scanned_id)
    assert scanned(conn) == tuple(range(100, 100 + limit))  # the oldest forgotten
    assert len(conn.session[key]) == limit


@pytest.mark.parametrize(("scanned", "remember", "key", "limit"), SCANNED)
def test_anything_else_in_the_cookie_is_ignored(
    scanned: Read, remember: Remember, key: str, limit: int
) -> None:
    assert scanned(browser({key: "12"})) == ()
    assert scanned(browser({key: [3, "4", True, None, 5]})) == (3, 5)


def test_a_machine_is_not_a_table() -> None:
    """Ids of both are sequential and overlap: scanning table 3 gives no machine 3."""
    conn = browser()
    tables.remember_table(conn, 3)
    machines.remember_machine(conn, 8)
    assert machines.scanned_machines(conn) == (8,)
    assert tables.scanned_tables(conn) == (3,)
