"""State machines as tables: a StrEnum of states, the moves each allows, one way to apply them.

No domain here: each room declares its states, its table and the error an invalid move
raises (rounds and tickets, brews, payments). A StrEnum member equals its string, so
status columns stay plain strings and compare with the enum directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from errors import DomainError

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Transitions(Generic[S]):
    """Which states each state may move to; an invalid move raises `error`."""

    states: type[S]
    moves: Mapping[S, frozenset[S]]
    error: type[DomainError]

    def __post_init__(self) -> None:
        # Every state has its row, even a final one: a state left out is a typo.
        assert set(self.moves) == set(self.states), set(self.states) ^ set(self.moves)

    def state(self, value: object) -> S | None:
        """The state this value names, or None if it names none."""
        if not isinstance(value, str):
            return None
        try:
            return self.states(value)
        except ValueError:
            return None

    def allows(self, current: str, target: str) -> bool:
        state = self.state(current)
        return state is not None and target in self.moves[state]

    def move(self, current: str, target: str) -> S:
        """The target state, if the table allows the move; the room's error otherwise."""
        if not self.allows(current, target):
            raise self.error(current=current, target=target)
        return self.states(target)

    @property
    def final(self) -> frozenset[S]:
        """The states nothing leaves."""
        return frozenset(state for state, targets in self.moves.items() if not targets)
