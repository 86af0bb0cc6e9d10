"""A table's session as a transition table: open, then settled (paid), then closed (free)."""

from __future__ import annotations

from enum import StrEnum

from domain.states import Transitions
from ordering.errors import BadTransition


class SessionStatus(StrEnum):
    OPEN = "open"  # diners order; its PIN lets latecomers in
    SETTLED = "settled"  # everything due is paid; the table stays locked until staff free it
    CLOSED = "closed"  # the table is free again (freed by staff, or idle and empty)


S = SessionStatus

SESSIONS = Transitions(SessionStatus, {
    S.OPEN: frozenset({S.SETTLED, S.CLOSED}),  # closed unsettled: idle and empty, or freed
    S.SETTLED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}, BadTransition)
