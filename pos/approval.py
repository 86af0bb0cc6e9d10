"""A supervisor approves an action on a cashier's screen by typing their PIN there.

The approval travels inside the action's own request (their staff id and PIN) and is
checked in it: nothing is kept between the two, so an approval cannot be replayed for
another action. A member who holds the permission approves their own actions.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from accounts.roles import Permission, can
from accounts.service import StaffIdentity
from pos.device import check_member_pin
from pos.errors import ApprovalNeeded
from pos.models import Till
from web.commands import Id, Shape
from web.state import AppState


class Approval(Shape):
    """A supervisor's approval: who, and their PIN, typed on this till."""

    staff_id: Annotated[Id, Field(description="The approving member of staff.")]
    pin: Annotated[str, Field(min_length=4, max_length=6, pattern=r"^[0-9]+$",
                              description="Their personal PIN (4 to 6 digits).")]


async def approver(state: AppState, *, till: Till, acting: StaffIdentity,
                   permission: Permission, approval: Approval | None) -> int:
    """Who approves: the acting member when they hold `permission`, else the member whose
    PIN was typed, who must hold it and work at this till (tries limited as a switch of
    user's). Raises ApprovalNeeded without an approval, PinRefused with a wrong one."""
    if can(acting.role, permission) and (approval is None or approval.staff_id == acting.id):
        return acting.id
    if approval is None:
        raise ApprovalNeeded()
    member = await check_member_pin(state, till, approval.staff_id, approval.pin,
                                    wanted=permission)
    return member.id
