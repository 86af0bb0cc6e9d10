"""A brew's life as a transition table: paying → requested → accepted → grinding →
brewing → done, or failed from any unfinished state.

Devices retry what they send, so an event that is a step behind the brew's state is
a repeat and is ignored; a move the table does not allow is an error.
"""

from __future__ import annotations

from enum import Enum

from machines.errors import BadBrewTransition

TRANSITIONS: dict[str, frozenset[str]] = {
    "paying": frozenset({"requested", "failed"}),
    # A machine may skip steps it does not have (no grinder for hot water…).
    "requested": frozenset({"accepted", "grinding", "brewing", "done", "failed"}),
    "accepted": frozenset({"grinding", "brewing", "done", "failed"}),
    "grinding": frozenset({"brewing", "done", "failed"}),
    "brewing": frozenset({"brewing", "done", "failed"}),  # brewing → brewing: progress
    "done": frozenset(),
    "failed": frozenset(),
}
ORDER = ["paying", "requested", "accepted", "grinding", "brewing", "done", "failed"]
FINISHED = frozenset({"done", "failed"})
ACTIVE = frozenset(TRANSITIONS) - FINISHED
DEVICE_STATES = frozenset({"accepted", "grinding", "brewing", "done", "failed"})


class Step(Enum):
    APPLY = "apply"
    IGNORE = "ignore"  # a repeat of something already applied


def step(current: str, target: str) -> Step:
    if target == current and target != "brewing":
        return Step.IGNORE
    if current in FINISHED:
        if target in FINISHED:
            return Step.IGNORE  # the server already finished it (a timeout): keep that
        raise BadBrewTransition(current=current, target=target)
    if target in TRANSITIONS[current]:
        return Step.APPLY
    if target in ORDER and current in ORDER and ORDER.index(target) < ORDER.index(current):
        return Step.IGNORE
    raise BadBrewTransition(current=current, target=target)


def progress(current: int, status: str, reported: object) -> int:
    """Progress in percent only moves forward; done is 100."""
    if status == "done":
        return 100
    if isinstance(reported, bool) or not isinstance(reported, int | float):
        return current
    return max(current, min(99, max(0, int(reported))))
