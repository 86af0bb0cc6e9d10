"""A brew's life as a transition table: paying → requested → accepted → grinding →
brewing → done, or failed from any unfinished state.

Devices retry what they send, so an event that is a step behind the brew's state is
a repeat and is ignored, and so is any news of a finished brew; a move the table does
not allow is an error.
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
    """Apply the device's event, or ignore it as old news; BadBrewTransition otherwise.

    The table, as docs/machines.md publishes it:
    - a finished brew (done or failed, by the machine or by a server timeout) ignores every
      later report: the machine cannot know the server gave up on it;
    - a repeat, or a step behind the brew's state, is ignored (brewing → brewing applies:
      it carries progress);
    - a brew still waiting for its payment was never sent to the machine: refused.
    """
    if current in FINISHED:
        return Step.IGNORE
    if current == B.PAYING:
        raise BadBrewTransition(current=current, target=target)
    if target == current and target != B.BREWING:
        return Step.IGNORE
    if BREWS.allows(current, target):
        return Step.APPLY
    at, to = BREWS.state(current), BREWS.state(target)
    if at is not None and to is not None and ORDER.index(to) < ORDER.index(at):
        return Step.IGNORE
    raise BadBrewTransition(current=current, target=target)


def progress(current: int, status: str, reported: int | None) -> int:
    """Progress in percent only moves forward (a lower one is old news); done is 100."""
    if status == B.DONE:
        return 100
    return current if reported is None else max(current, reported)
