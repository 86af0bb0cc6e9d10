"""What a machine may send (docs/machines.md, 1): each message type's fields, bounded.

A field that is missing, of the wrong type or out of its range refuses the whole message
with `bad_value`, naming the field, and changes nothing; fields the protocol does not
know are ignored, so that it can grow by adding some.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from db.base import MAX_ID
from machines.errors import BadValue
from web.commands import Command, Integer, Invalid, Text

# One text frame, in bytes once UTF-8 encoded (the server closes the socket with 1009 past it).
MAX_FRAME = 64 * 1024
MAX_ALERTS = 16
MAX_REASON = 60

BrewId = Annotated[Integer, Field(ge=1, le=MAX_ID)]
Percent = Annotated[Integer, Field(ge=0, le=100)]
Reason = Annotated[Text, Field(min_length=1, max_length=MAX_REASON)]
# Codes the server does not know are ignored (machines/recipes.py), but each must be text.
Alerts = Annotated[list[Annotated[Text, Field(max_length=40)]], Field(max_length=MAX_ALERTS)]
DeviceStatus = Literal["accepted", "grinding", "brewing", "done", "failed"]


class DeviceMessage(Command):
    invalid = Invalid(BadValue)


class Heartbeat(DeviceMessage):
    alerts: Alerts | None = None


class AlertsReport(DeviceMessage):
    alerts: Alerts


class BrewReport(DeviceMessage):
    brew_id: BrewId
    status: DeviceStatus
    progress: Percent | None = None
    reason: Reason | None = None


MESSAGES: dict[str, type[DeviceMessage]] = {
    "heartbeat": Heartbeat,
    "alerts": AlertsReport,
    "brew": BrewReport,
}
