"""The machine forms' typed shapes: the adding wizard's steps, the edit and the move.

Each step of the wizard carries the earlier steps' answers as hidden fields, and each step's
shape holds them all: every answer is checked again at every step (nothing waits in a
process's memory between two pages).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from errors import N_, InvalidInput
from machines.access import Mode
from machines.machine_setup import SERIAL
from web.commands import Collapsed, Command, Id, Invalid

MODEL_ERROR = N_("Choose a model from the list.")
SERIAL_ERROR = N_("Give the serial number printed on the machine: 2 to 60 letters, digits, "
                  "dots, dashes or slashes.")
SITE_ERROR = N_("Choose a site from the list.")


class ModelStep(Command):
    model: Annotated[Collapsed, Field(min_length=1, max_length=60),
                     Invalid(InvalidInput, MODEL_ERROR)]


class SerialStep(ModelStep):
    serial: Annotated[Collapsed, Field(pattern=f"^{SERIAL.pattern}$"),
                      Invalid(InvalidInput, SERIAL_ERROR)]


class PlaceStep(SerialStep):
    name: Annotated[Collapsed, Field(max_length=120),
                    Invalid(InvalidInput, N_("At most 120 characters."))] = ""
    site_id: Annotated[Id, Invalid(InvalidInput, SITE_ERROR)]
    mode: Annotated[Mode, Invalid(InvalidInput, N_("Choose an access mode."))]


# The wizard's steps in order, each with its shape and the fields it asks.
STEPS: list[tuple[str, type[Command], tuple[str, ...]]] = [
    ("model", ModelStep, ("model",)),
    ("serial", SerialStep, ("serial",)),
    ("place", PlaceStep, ("name", "site_id", "mode")),
]


class MachineEdit(Command):
    name: Annotated[Collapsed, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give a name of 1 to 120 characters."))]
    mode: Annotated[Mode, Invalid(InvalidInput, N_("Choose an access mode."))]


class MachineMove(Command):
    site_id: Annotated[Id, Invalid(InvalidInput, SITE_ERROR)]
    confirm: Annotated[str, Field(pattern="^yes$"),
                       Invalid(InvalidInput, N_("Confirm this action."))]
