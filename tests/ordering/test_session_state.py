"""A table's session moves open -> settled -> closed, or open -> closed; nothing reopens."""

from __future__ import annotations

import pytest

from ordering.errors import BadTransition
from ordering.session_state import SESSIONS, SessionStatus

S = SessionStatus


@pytest.mark.parametrize(("current", "target"), [
    (S.OPEN, S.SETTLED), (S.OPEN, S.CLOSED), (S.SETTLED, S.CLOSED),
])
def test_a_session_is_settled_then_freed_or_closed_while_open(current: S, target: S) -> None:
    assert SESSIONS.move(current, target) is target


@pytest.mark.parametrize(("current", "target"), [
    (S.SETTLED, S.OPEN), (S.CLOSED, S.OPEN), (S.CLOSED, S.SETTLED), (S.OPEN, S.OPEN),
    ("reopened", S.OPEN),
])
def test_nothing_reopens_a_session_or_settles_a_closed_one(current: str, target: S) -> None:
    with pytest.raises(BadTransition):
        SESSIONS.move(current, target)


def test_only_a_closed_session_is_final() -> None:
    assert SESSIONS.final == {S.CLOSED}
