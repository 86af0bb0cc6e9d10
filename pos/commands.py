"""What a till sends: its pairing code, a switch of user; as typed commands (their JSON
Schemas make the API document)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from errors import N_, InvalidInput
from pos.approval import Approval
from pos.errors import BadPrefix, BadPrinter, PairingRefused, PinRefused
from web.commands import Collapsed, Command, Flag, Id, Invalid, Text


class PairTill(Command):
    invalid = Invalid(PairingRefused)
    code: Annotated[Text, Field(min_length=1, max_length=20,
                                description="The pairing code shown in the back office "
                                            "(ABCD-2345; case, spaces and dashes ignored).")]


class SwitchIn(Command):
    invalid = Invalid(PinRefused)  # a malformed PIN says no more than a wrong one
    staff_id: Id
    pin: Annotated[Text, Field(min_length=4, max_length=6, pattern=r"^[0-9]+$")]


class NewTillForm(Command):
    """A till added in the back office (it is paired afterwards)."""

    site_id: Id
    name: Annotated[Collapsed, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give a name of 1 to 120 characters."))]
    prefix: Annotated[Text, Field(min_length=1, max_length=8), Invalid(BadPrefix)]
    printer: Annotated[Text, Field(max_length=200), Invalid(BadPrinter)] = ""


class PrinterForm(Command):
    printer: Annotated[Text, Field(max_length=200), Invalid(BadPrinter)] = ""


def approval_in(form: Mapping[str, str]) -> dict[str, Any]:
    """A page's form carries a supervisor's approval as two fields (`approval_staff_id`,
    `approval_pin`, templates/till/_approval.html): as the body's `approval`, if typed."""
    if not form.get("approval_pin"):
        return {}
    return {"approval": {"staff_id": form.get("approval_staff_id", ""),
                         "pin": form["approval_pin"]}}


def approval_of_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A page's form as a body: its fields, the approval's two as one."""
    return {**{k: v for k, v in form.items()
               if k not in ("approval_staff_id", "approval_pin")}, **approval_in(form)}


class OpenDrawer(Command):
    """Open the cash drawer outside a sale: why, and a supervisor's approval unless the
    member switched in is one."""

    reason: Annotated[Collapsed, Field(min_length=1, max_length=200),
                      Invalid(InvalidInput, N_("Say why the drawer is opened."))]
    approval: Approval | None = None


class Training(Command):
    """Training mode on (a supervisor approves it) or off."""

    on: Flag
    approval: Approval | None = None
