"""Rounds and tickets move only along their transition tables."""

from __future__ import annotations

import pytest

from ordering.errors import BadTransition
from ordering.round_state import ROUNDS, TICKETS, RoundStatus, round_status_from_tickets


def test_the_expected_journeys_are_allowed() -> None:
    # The happy paths staff actually take, spelled out so a table edit cannot drop one.
    for path in (
        ["to_validate", "validated", "in_production", "ready", "served"],
        ["to_validate", "validated", "served"],
        ["to_validate", "refused"],
        ["awaiting_payment", "to_validate"],  # paid from the phone, then to staff
    ):
        for current, target in zip(path, path[1:], strict=False):
            assert ROUNDS.move(current, target) == target
    for path in (["queued", "in_preparation", "ready", "served"], ["queued", "ready", "served"]):
        for current, target in zip(path, path[1:], strict=False):
            assert TICKETS.move(current, target) == target


@pytest.mark.parametrize("final", ["served", "refused"])
def test_final_round_states_go_nowhere(final: str) -> None:
    assert final in ROUNDS.final
    for target in [*RoundStatus, "edited"]:
        with pytest.raises(BadTransition):
            ROUNDS.move(final, target)


def test_unpaid_rounds_never_reach_staff_screens_by_another_way() -> None:
    """A round waiting for its payment goes to staff only once paid, never straight on."""
    assert ROUNDS.moves[RoundStatus.AWAITING_PAYMENT] == {RoundStatus.TO_VALIDATE}


def test_unknown_states_are_refused() -> None:
    with pytest.raises(BadTransition):
        ROUNDS.move("lost", "served")
    with pytest.raises(BadTransition):
        TICKETS.move("queued", "burnt")


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
