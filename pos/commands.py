"""What a till sends: its pairing code, a switch of user; as typed commands (their JSON
Schemas make the API document)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from errors import N_, InvalidInput
from pos.errors import BadPrefix, BadPrinter, PairingRefused, PinRefused
from web.commands import Collapsed, Command, Id, Invalid, Text


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
