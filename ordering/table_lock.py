"""Who may do what at a table, and what state the table is in: plain Python."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ordering.round_state import IN_KITCHEN, RoundStatus
from ordering.session_state import SessionStatus
from ordering.table_payment import PAY_ONLY, UNBILLED


class Access(StrEnum):
    MENU_ONLY = "menu_only"  # the table or site is set to menu only
    START = "start"  # no party at the table: the first diner opens a session
    MEMBER = "member"  # a member of the open session: may order
    NEED_PIN = "need_pin"  # a party is ordering: joining needs their PIN
    SETTLED = "settled"  # a member of a paid session, waiting for the table to be freed
    LOCKED = "locked"  # a newcomer at a table whose party is paying or paid


def access(mode: str, session_status: str | None, is_member: bool) -> Access:
    if mode == "menu" or (mode == PAY_ONLY and session_status is None):
        return Access.MENU_ONLY  # pay only: staff open the table; phones pay its bill
    if session_status is None:
        return Access.START
    if session_status == SessionStatus.OPEN:
        return Access.MEMBER if is_member else Access.NEED_PIN
    return Access.SETTLED if is_member else Access.LOCKED


def table_state(session_status: str | None, round_statuses: Iterable[str]) -> str:
    """The table map's state: free, ordering, to_validate, in_production, to_settle, settled."""
    if session_status is None:
        return "free"
    if session_status == SessionStatus.SETTLED:
        return "settled"
    statuses = set(round_statuses) - UNBILLED
    if RoundStatus.TO_VALIDATE in statuses:
        return "to_validate"
    if statuses & IN_KITCHEN:
        return "in_production"
    if statuses:
        return "to_settle"
    return "ordering"
