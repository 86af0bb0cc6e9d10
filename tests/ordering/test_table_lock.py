"""Who may do what at a table, and the state the table map shows."""

from __future__ import annotations

import pytest

from ordering.table_lock import Access, access, table_state

SESSION_STATUSES = [None, "open", "settled"]


@pytest.mark.parametrize("session_status", SESSION_STATUSES)
@pytest.mark.parametrize("is_member", [True, False])
def test_menu_mode_is_read_only_whatever_the_session(
    session_status: str | None, is_member: bool
) -> None:
    assert access("menu", session_status, is_member) is Access.MENU_ONLY


@pytest.mark.parametrize(
    ("session_status", "is_member", "expected"),
    [
        (None, False, Access.START),
        (None, True, Access.START),  # a member of a closed session starts afresh
        ("open", True, Access.MEMBER),
        ("open", False, Access.NEED_PIN),
        ("settled", True, Access.SETTLED),
        ("settled", False, Access.LOCKED),
    ],
)
def test_order_mode(session_status: str | None, is_member: bool, expected: Access) -> None:
    assert access("order", session_status, is_member) is expected


def test_access_values_are_stable_strings() -> None:
    # The API and the templates send these values to phones.
    assert {a.value for a in Access} == {
        "menu_only", "start", "member", "need_pin", "settled", "locked",
    }


@pytest.mark.parametrize(
    ("session_status", "rounds", "state"),
    [
        (None, [], "free"),
        ("open", [], "ordering"),
        ("open", ["refused"], "ordering"),
        ("open", ["to_validate"], "to_validate"),
        ("open", ["served", "to_validate"], "to_validate"),
        ("open", ["validated", "to_validate"], "to_validate"),
        ("open", ["validated"], "in_production"),
        ("open", ["in_production", "refused"], "in_production"),
        ("open", ["ready", "served"], "in_production"),
        ("open", ["served"], "to_settle"),
        ("open", ["served", "refused"], "to_settle"),
        ("settled", ["served"], "settled"),
        ("settled", [], "settled"),
    ],
)
def test_table_state(session_status: str | None, rounds: list[str], state: str) -> None:
    assert table_state(session_status, rounds) == state
    assert table_state(session_status, iter(rounds)) == state
