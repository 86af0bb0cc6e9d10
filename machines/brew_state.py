"""A brew's life as a transition table: paying → requested → accepted → grinding →
brewing → done, or failed from any unfinished state.

Devices retry what they send, so an event that is a step behind the brew's state is
a repeat and is ignored; a move the table does not allow is an error.
"""

from __future__ import annotations

from enum import Enum, StrEnum

from domain.states import Transitions
from machines.errors import BadBrewTransition


class BrewStatus(StrEnum):
    PAYING = "paying"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    GRINDING = "grinding"
    BREWING = "brewing"
    DONE = "done"
    FAILED = "failed"


B = BrewStatus

BREWS = Transitions(BrewStatus, {
    B.PAYING: frozenset({B.REQUESTED, B.FAILED}),
    # A machine may skip steps it does not have (no grinder for hot water…).
    B.REQUESTED: frozenset({B.ACCEPTED, B.GRINDING, B.BREWING, B.DONE, B.FAILED}),
    B.ACCEPTED: frozenset({B.GRINDING, B.BREWING, B.DONE, B.FAILED}),
    B.GRINDING: frozenset({B.BREWING, B.DONE, B.FAILED}),
    B.BREWING: frozenset({B.BREWING, B.DONE, B.FAILED}),  # brewing → brewing: progress
    B.DONE: frozenset(),
    B.FAILED: frozenset(),
}, BadBrewTransition)
ORDER = list(BrewStatus)  # the order a brew goes through its states
FINISHED = BREWS.final
ACTIVE = frozenset(BrewStatus) - FINISHED
DEVICE_STATES = frozenset({B.ACCEPTED, B.GRINDING, B.BREWING, B.DONE, B.FAILED})


class Step(Enum):
    APPLY = "apply"
    IGNORE = "ignore"  # a repeat of something already applied


def step(current: str, target: str) -> Step:
    """Apply the device's event, or ignore it as a repeat; BadBrewTransition otherwise."""
    if target == current and target != B.BREWING:
        return Step.IGNORE
    if current in FINISHED:
        if target in FINISHED:
            return Step.IGNORE  # the server already finished it (a timeout): keep that
        raise BadBrewTransition(current=current, target=target)
    if BREWS.allows(current, target):
        return Step.APPLY
    at, to = BREWS.state(current), BREWS.state(target)
    if at is not None and to is not None and ORDER.index(to) < ORDER.index(at):
        return Step.IGNORE
    raise BadBrewTransition(current=current, target=target)


def progress(current: int, status: str, reported: object) -> int:
    """Progress in percent only moves forward; done is 100."""
    if status == B.DONE:
        return 100
    if isinstance(reported, bool) or not isinstance(reported, int | float):
        return current
    return max(current, min(99, max(0, int(reported))))
