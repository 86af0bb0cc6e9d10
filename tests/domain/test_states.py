"""Every status moves only along its room's transition table, with one idiom for all:
rounds and tickets (ordering), brews (machines), payments (payments)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from domain.states import Transitions
from errors import DomainError
from machines.brew_state import BREWS
from machines.errors import BadBrewTransition
from ordering.errors import BadTransition
from ordering.round_state import ROUNDS, TICKETS
from payments.errors import BadPaymentTransition
from payments.payment_state import PAYMENTS

TABLES: dict[str, tuple[Transitions[Any], type[DomainError]]] = {
    "round": (ROUNDS, BadTransition),
    "ticket": (TICKETS, BadTransition),
    "brew": (BREWS, BadBrewTransition),
    "payment": (PAYMENTS, BadPaymentTransition),
}


def _pairs(allowed: bool) -> list[tuple[str, str, str]]:
    return [
        (name, current, target)
        for name, (table, _) in TABLES.items()
        for current in table.states
        for target in table.states
        if (target in table.moves[current]) is allowed
    ]


@pytest.mark.parametrize(("name", "current", "target"), _pairs(allowed=True))
def test_allowed_moves_land_on_the_target_state(name: str, current: str, target: str) -> None:
    table, _ = TABLES[name]
    moved = table.move(current, target)
    assert moved == target and isinstance(moved, table.states)


@pytest.mark.parametrize(("name", "current", "target"), _pairs(allowed=False))
def test_every_other_move_raises_the_rooms_conflict(name: str, current: str, target: str) -> None:
    table, error = TABLES[name]
    with pytest.raises(error) as refused:
        table.move(current, target)
    assert refused.value.params == {"current": current, "target": target}
    assert refused.value.status == 409


@pytest.mark.parametrize("name", TABLES)
def test_a_word_that_is_no_state_is_refused_either_way(name: str) -> None:
    table, error = TABLES[name]
    some_state = next(iter(table.states))
    for current, target in ((some_state, "burnt"), ("burnt", some_state), ("", "")):
        assert not table.allows(current, target)
        with pytest.raises(error):
            table.move(current, target)
    assert table.state("burnt") is None and table.state(["a", "list"]) is None


def test_statuses_are_the_strings_the_columns_hold() -> None:
    """StrEnum members equal the stored strings, so the columns need no migration."""
    assert ROUNDS.move("to_validate", "validated") == "validated"
    assert {status.value for status in PAYMENTS.states} == {
        "pending", "succeeded", "failed", "canceled", "refund_due", "refunded",
    }


def test_payments_settle_once_and_refund_only_what_was_taken() -> None:
    assert PAYMENTS.final == {"failed", "refunded"}
    for taken in ("succeeded", "canceled"):  # canceled: paid after all, once we gave up
        assert PAYMENTS.move(taken, "refund_due") == "refund_due"
    for never_taken in ("pending", "failed"):
        assert not PAYMENTS.allows(never_taken, "refund_due")
    assert PAYMENTS.move("refund_due", "refunded") == "refunded"


def test_brews_fail_from_any_unfinished_state_and_finish_once() -> None:
    assert BREWS.final == {"done", "failed"}
    for state in BREWS.states:
        assert BREWS.allows(state, "failed") is (state not in BREWS.final)


def test_a_table_that_forgets_a_state_is_refused_when_declared() -> None:
    class Light(StrEnum):
        ON = "on"
        OFF = "off"

    with pytest.raises(AssertionError):
        Transitions(Light, {Light.ON: frozenset({Light.OFF})}, DomainError)
