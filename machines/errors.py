"""What can go wrong at a machine, each with a stable code and a message for the phone."""

from __future__ import annotations

from pydantic import BaseModel

from errors import N_, Conflict, Forbidden, InvalidInput, NotFound


class UnknownMachine(NotFound):
    code = "unknown_machine"
    message = N_("This machine does not exist.")


class UnknownDrink(NotFound):
    code = "unknown_drink"
    message = N_("This drink is not offered at this machine.")


class UnknownBrew(NotFound):
    code = "unknown_brew"
    message = N_("This brew does not exist.")


class BadValue(InvalidInput):
    """A machine's message lacks a field, or gives one of the wrong type or out of the range
    the device protocol allows (docs/machines.md); `field` names it. Nothing changed."""

    code = "bad_value"
    message = N_("A value is missing, of the wrong type or out of range.")


class MachineOffline(Conflict):
    code = "machine_offline"
    message = N_("The machine is offline right now. Nothing was charged.")


class MachineBusy(Conflict):
    code = "machine_busy"
    message = N_("The machine is busy with another drink. Nothing was charged; try again shortly.")


class MachineInAlert(Conflict):
    code = "machine_alert"
    message = N_("The machine needs attention before it can make this drink. Nothing was charged.")


class SerialTaken(Conflict):
    code = "serial_taken"
    message = N_("Another machine already has this serial number.")


class GroupNameTaken(Conflict):
    code = "group_name_taken"
    message = N_("Another group already has this name.")


class AccountNotReady(Forbidden):
    code = "account_not_ready"
    message = N_("Your account is not active yet: confirm your email and wait for approval.")


class NotAuthorised(Forbidden):
    code = "not_authorised"
    message = N_("This machine is reserved for its users. Ask an administrator for access.")






class BadBrewTransition(Conflict):
    code = "bad_brew_transition"
    message = N_("A brew cannot go from %(current)s to %(target)s.")


class BadMode(InvalidInput):
    code = "bad_mode"
    message = N_("Unknown machine mode.")


















class ConfirmDeletion(InvalidInput):
    code = "confirm_deletion"
    message = N_("Type the machine's name to confirm: its usage data will be deleted too.")


class BadRecipe(InvalidInput):
    code = "bad_recipe"
    message = N_("Recipe parameters: strength 1–5, volume 10–500 ml, 60–96 °C, milk 0–300 ml.")


class BadDrinkType(InvalidInput):
    code = "bad_drink_type"
    message = N_("Unknown drink type.")


class BadName(InvalidInput):
    code = "bad_name"
    message = N_("Give a name of 1 to 120 characters.")


class WrongModel(InvalidInput):
    code = "wrong_model"
    message = N_("This selection is for another machine model.")


class BadMove(InvalidInput):
    code = "bad_move"
    message = N_("A drink moves up or down, within its selection.")


class Users(BaseModel):
    """`selection_in_use`: who still uses the selection, by name."""

    machines: list[str]
    groups: list[str]


class SelectionInUse(Conflict):
    """The selection is still offered: `detail` lists the machines and groups using it."""

    code = "selection_in_use"
    message = N_(
        "This selection is still used by %(users)s. Give them another selection first."
    )
    detail_model = Users

    def __init__(self, machines: list[str], groups: list[str]) -> None:
        super().__init__(users=", ".join([*machines, *groups]))
        self.machines = machines
        self.groups = groups
        self.detail = {"machines": machines, "groups": groups}






