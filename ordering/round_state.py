"""Rounds and production tickets as transition tables."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.states import Transitions
from ordering.errors import BadTransition


class RoundStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # sent, paid from the phone: not yet to staff
    TO_VALIDATE = "to_validate"
    VALIDATED = "validated"
    IN_PRODUCTION = "in_production"
    READY = "ready"
    SERVED = "served"
    REFUSED = "refused"


class TicketStatus(StrEnum):
    QUEUED = "queued"
    IN_PREPARATION = "in_preparation"
    READY = "ready"
    SERVED = "served"


R, T = RoundStatus, TicketStatus

ROUNDS = Transitions(RoundStatus, {
    R.AWAITING_PAYMENT: frozenset({R.TO_VALIDATE}),  # unpaid, it is taken back to the cart
    R.TO_VALIDATE: frozenset({R.VALIDATED, R.REFUSED}),
    R.VALIDATED: frozenset({R.IN_PRODUCTION, R.READY, R.SERVED}),
    R.IN_PRODUCTION: frozenset({R.READY, R.SERVED}),
    R.READY: frozenset({R.IN_PRODUCTION, R.SERVED}),
    R.SERVED: frozenset(),
    R.REFUSED: frozenset(),
}, BadTransition)

TICKETS = Transitions(TicketStatus, {
    T.QUEUED: frozenset({T.IN_PREPARATION, T.READY}),
    T.IN_PREPARATION: frozenset({T.READY, T.QUEUED}),
    T.READY: frozenset({T.SERVED, T.IN_PREPARATION}),
    T.SERVED: frozenset(),
}, BadTransition)

EDITABLE = frozenset({R.TO_VALIDATE})
OPEN_ROUND = frozenset({R.TO_VALIDATE, R.VALIDATED, R.IN_PRODUCTION, R.READY})
IN_KITCHEN = frozenset({R.VALIDATED, R.IN_PRODUCTION, R.READY})


def round_status_from_tickets(statuses: Iterable[str]) -> RoundStatus:
    """A validated round's status follows its slowest ticket."""
    found = set(statuses)
    if not found or found == {T.QUEUED}:
        return R.VALIDATED
    if found == {T.SERVED}:
        return R.SERVED
    if found <= {T.READY, T.SERVED}:
        return R.READY
    return R.IN_PRODUCTION
