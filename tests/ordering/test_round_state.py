"""Rounds and tickets move only along their transition tables."""

from __future__ import annotations

import pytest

from ordering.errors import BadTransition
from ordering.round_state import (
    ROUND_TRANSITIONS,
    TICKET_TRANSITIONS,
    move,
    round_status_from_tickets,
)

TABLES = {"round": ROUND_TRANSITIONS, "ticket": TICKET_TRANSITIONS}


def _pairs(allowed: bool) -> list[tuple[str, str, str]]:
    return [
        (name, current, target)
        for name, table in TABLES.items()
        for current in table
        for target in table
        if (target in table[current]) is allowed
    ]


@pytest.mark.parametrize(("name", "current", "target"), _pairs(allowed=True))
def test_allowed_moves(name: str, current: str, target: str) -> None:
    assert move(TABLES[name], current, target) == target


@pytest.mark.parametrize(("name", "current", "target"), _pairs(allowed=False))
def test_every_other_move_is_refused(name: str, current: str, target: str) -> None:
    with pytest.raises(BadTransition) as refused:
        move(TABLES[name], current, target)
    assert refused.value.params == {"current": current, "target": target}
    assert refused.value.status == 409


def test_the_expected_journeys_are_allowed() -> None:
    # The happy paths staff actually take, spelled out so a table edit cannot drop one.
    for path in (
        ["to_validate", "validated", "in_production", "ready", "served"],
        ["to_validate", "validated", "served"],
        ["to_validate", "refused"],
    ):
        for current, target in zip(path, path[1:], strict=False):
            assert move(ROUND_TRANSITIONS, current, target) == target
    for path in (["queued", "in_preparation", "ready", "served"], ["queued", "ready", "served"]):
        for current, target in zip(path, path[1:], strict=False):
            assert move(TICKET_TRANSITIONS, current, target) == target


@pytest.mark.parametrize("final", ["served", "refused"])
def test_final_round_states_go_nowhere(final: str) -> None:
    for target in [*ROUND_TRANSITIONS, "edited"]:
        with pytest.raises(BadTransition):
            move(ROUND_TRANSITIONS, final, target)


def test_unknown_states_are_refused() -> None:
    with pytest.raises(BadTransition):
        move(ROUND_TRANSITIONS, "lost", "served")
    with pytest.raises(BadTransition):
        move(TICKET_TRANSITIONS, "queued", "burnt")


@pytest.mark.parametrize(
    ("tickets", "status"),
    [
        ([], "validated"),
        (["queued"], "validated"),
        (["queued", "queued"], "validated"),
        (["queued", "in_preparation"], "in_production"),
        (["in_preparation"], "in_production"),
        (["queued", "ready"], "in_production"),
        (["queued", "served"], "in_production"),
        (["in_preparation", "served"], "in_production"),
        (["ready"], "ready"),
        (["ready", "ready"], "ready"),
        (["ready", "served"], "ready"),
        (["served"], "served"),
        (["served", "served"], "served"),
    ],
)
def test_round_status_follows_its_slowest_ticket(tickets: list[str], status: str) -> None:
    assert round_status_from_tickets(tickets) == status
    assert round_status_from_tickets(iter(reversed(tickets))) == status
