"""Rounds and production tickets as transition tables."""

from __future__ import annotations

from collections.abc import Iterable

from ordering.errors import BadTransition

ROUND_TRANSITIONS: dict[str, frozenset[str]] = {
    "to_validate": frozenset({"validated", "refused"}),
    "validated": frozenset({"in_production", "ready", "served"}),
    "in_production": frozenset({"ready", "served"}),
    "ready": frozenset({"in_production", "served"}),
    "served": frozenset(),
    "refused": frozenset(),
}

TICKET_TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"in_preparation", "ready"}),
    "in_preparation": frozenset({"ready", "queued"}),
    "ready": frozenset({"served", "in_preparation"}),
    "served": frozenset(),
}

EDITABLE = frozenset({"to_validate"})
OPEN_ROUND = frozenset({"to_validate", "validated", "in_production", "ready"})
IN_KITCHEN = frozenset({"validated", "in_production", "ready"})


def move(table: dict[str, frozenset[str]], current: str, target: str) -> str:
    if target not in table.get(current, frozenset()):
        raise BadTransition(current=current, target=target)
    return target


def round_status_from_tickets(statuses: Iterable[str]) -> str:
    """A validated round's status follows its slowest ticket."""
    found = set(statuses)
    if not found or found == {"queued"}:
        return "validated"
    if found == {"served"}:
        return "served"
    if found <= {"ready", "served"}:
        return "ready"
    return "in_production"
