"""A supervisor approves an action on a cashier's screen by typing their PIN there.

The approval travels inside the action's own request (their staff id and PIN) and is
checked in it: nothing is kept between the two, so an approval cannot be replayed for
another action. A member who holds the permission approves their own actions.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from uuid import UUID

from pydantic import Field

from accounts.roles import Permission
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
    if acting.may(permission) and (approval is None or approval.staff_id == acting.id):
        return acting.id
    if approval is None:
        raise ApprovalNeeded()
    member = await check_member_pin(state, till, approval.staff_id, approval.pin,
                                    wanted=permission)
    return member.id


# An approval checked online for a sale the till records on the device first: the server
# gives the till a token for that sale instead of the till keeping the supervisor's PIN
# until the upload.
TOKEN_VERSION = "a1"


def approval_token(secret: str, till_id: int, staff_id: int, sale: UUID) -> str:
    """A token saying that `staff_id` approved the sale `sale` on the till `till_id`."""
    message = f"{TOKEN_VERSION}|{till_id}|{staff_id}|{sale}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{TOKEN_VERSION}.{digest}"


def token_holds(secret: str, token: str, till_id: int, staff_id: int, sale: UUID) -> bool:
    return hmac.compare_digest(token, approval_token(secret, till_id, staff_id, sale))
