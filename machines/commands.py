"""What consumers and managers ask of the machines: the typed bodies of their requests.

Each field fails with the error it always had (same code and message); the rules that need
the database (whose machine, which drinks, the name typed to confirm) stay in the services.
The pages post the same commands as forms: ids and amounts as typed, a blank price free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from customers.errors import BadAmount, BadKey
from customers.ledger import MAX_AMOUNT, MAX_AMOUNT_MAJOR
from customers.schedule import BadSchedule
from customers.service import ROLES
from db.base import is_id
from errors import InvalidInput, NotFound
from machines import recipes
from machines.access import Mode
from machines.errors import (
    BadDrinkType,
    BadMode,
    BadMove,
    BadName,
    BadRecipe,
    ConfirmDeletion,
    UnknownDrink,
)
from web.commands import ClientKey, Command, Flag, Id, Integer, Invalid, Money, Text


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _text_or_nothing(value: Any) -> Any:
    """Optional text where anything else was always taken as none given."""
    return value if isinstance(value, str) else ""


# Free text a field may leave out (or send as anything but text): empty.
OptionalText = Annotated[str, BeforeValidator(_text_or_nothing)]


Key = Annotated[ClientKey, Invalid(BadKey)]
Name = Annotated[Text, BeforeValidator(_stripped), Field(min_length=1, max_length=120),
                 Invalid(BadName)]
# An amount a person may credit: 1 to MAX_AMOUNT minor units.
Amount = Annotated[
    Money, Field(ge=1, le=MAX_AMOUNT), Invalid(BadAmount, limit=MAX_AMOUNT_MAJOR)
]
# A price: 0 (or nothing) makes it free.
Price = Annotated[Annotated[Money, Field(ge=0, le=MAX_AMOUNT)] | None,
                  Invalid(BadAmount, limit=MAX_AMOUNT_MAJOR)]


def _known_type(value: str) -> str:
    if value not in recipes.TYPES:
        raise ValueError(value)
    return value


DrinkType = Annotated[Text, AfterValidator(_known_type),
                      Field(json_schema_extra={"enum": list(recipes.TYPES)}),
                      Invalid(BadDrinkType)]


class StartBrew(Command):
    idempotency_key: Key
    product_id: Annotated[Id, Invalid(UnknownDrink)]


class AddMachine(Command):
    site_id: Annotated[Id, Invalid(NotFound)]
    name: OptionalText = Field("", description="Up to 120 characters kept; the serial when "
                               "empty.")
    model: OptionalText = Field("", description="Up to 60 characters kept.")
    serial: OptionalText = Field("", description="Up to 60 characters kept.")
    mode: Annotated[Mode, BeforeValidator(lambda v: v or Mode.OPEN), Invalid(BadMode)] = (
        Mode.OPEN
    )


class SetMode(Command):
    mode: Annotated[Mode, Invalid(BadMode)]


class DeleteMachine(Command):
    confirm: Annotated[Text, Field(description="The machine's name, typed to confirm."),
                       Invalid(ConfirmDeletion)] = ""


class ManualCredit(Command):
    amount: Amount
    idempotency_key: Key
    note: OptionalText = Field("", description="Shown in the ledger after the staff member's "
                               "name; its first 150 characters are kept.")


def _role(value: Any) -> Any:
    return value if value in ROLES else "consumer"


class Approve(Command):
    role: Annotated[Literal["consumer", "staff", "guest"], BeforeValidator(_role),
                    Field(description="Any other value approves a consumer.")] = "consumer"


class GroupSettings(Command):
    """A group and its regular recharge: an amount every day, week or month at a local
    time like 07:00; without `recharge_every`, none."""

    name: Name
    recharge_every: Annotated[
        Literal["day", "week", "month"] | None,
        BeforeValidator(lambda v: None if v == "" else v), Invalid(BadSchedule),
    ] = None
    recharge_at: Annotated[
        Text, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        BeforeValidator(lambda v: v or "07:00"), Invalid(BadSchedule),
    ] = "07:00"
    recharge_amount: Price = None

    @model_validator(mode="before")
    @classmethod
    def _amount_only_when_recharged(cls, data: Any) -> Any:
        # Without a recharge the amount is not read (a form sends whatever its field holds).
        if isinstance(data, Mapping) and data.get("recharge_every") in (None, ""):
            return {k: v for k, v in data.items() if k != "recharge_amount"}
        return data

    @model_validator(mode="after")
    def _recharged_amount(self) -> GroupSettings:
        if self.recharge_every is not None and not self.recharge_amount:
            raise Invalid(BadAmount, limit=MAX_AMOUNT_MAJOR)("recharge_amount")
        return self


class AddMember(Command):
    consumer_id: Annotated[Id, Invalid(NotFound)]


def _id_or_none(value: Any) -> Any:
    return value if is_id(value) else None


class AttachGroup(Command):
    group_id: Annotated[Id, Invalid(NotFound)]
    selection_id: Annotated[Id | None, BeforeValidator(_id_or_none),
                            Field(description="The group's own selection (custom mode); "
                                  "anything but a selection's id: the machine's.")] = None


def _flag_or_unset(value: Any) -> Any:
    return value if isinstance(value, bool) else None  # a form's is parsed already


class SetPolicy(Command):
    """What the change leaves out (or sends as anything but a boolean) stays as it was."""

    require_approval: Annotated[Flag | None, BeforeValidator(_flag_or_unset)] = None
    topup_amounts: Annotated[
        list[Amount] | None, Field(min_length=1, max_length=8),
        Invalid(BadAmount, limit=MAX_AMOUNT_MAJOR),
    ] = None


class CreateSelection(Command):
    name: Name
    model: Annotated[Text, BeforeValidator(_stripped), Field(min_length=1, max_length=60),
                     Invalid(BadName)]
    copy_from: Annotated[Id | None, BeforeValidator(lambda v: v or None), Invalid(NotFound),
                         Field(description="A selection whose drinks are copied.")] = None


class Rename(Command):
    name: Name


LIMITS = recipes.RECIPE_LIMITS


class Recipe(Command):
    """Any of these; a parameter left out uses the machine's own setting."""

    model_config = ConfigDict(extra="forbid")
    invalid = Invalid(BadRecipe)

    strength: Annotated[Integer, Field(ge=LIMITS["strength"][0],
                                       le=LIMITS["strength"][1])] | None = None
    volume_ml: Annotated[Integer, Field(ge=LIMITS["volume_ml"][0],
                                        le=LIMITS["volume_ml"][1])] | None = None
    temperature_c: Annotated[Integer, Field(ge=LIMITS["temperature_c"][0],
                                            le=LIMITS["temperature_c"][1])] | None = None
    milk_ml: Annotated[Integer, Field(ge=LIMITS["milk_ml"][0],
                                      le=LIMITS["milk_ml"][1])] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and any(v is None for v in data.values()):
            raise Invalid(BadRecipe)("recipe")
        return data

    def values(self) -> dict[str, int]:
        return self.model_dump(exclude_none=True)


MaybeRecipe = Annotated[Recipe | None, Invalid(BadRecipe)]


class AddDrink(Command):
    name: Name
    type: DrinkType
    price: Price = None
    recipe: MaybeRecipe = None


class EditDrink(Command):
    """Only the fields sent change; all are checked before any is written."""

    name: Annotated[Name | None, Invalid(BadName)] = None
    type: Annotated[DrinkType | None, Invalid(BadDrinkType)] = None
    price: Price = None
    recipe: MaybeRecipe = None
    enabled: Annotated[Flag | None, Invalid(InvalidInput)] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> EditDrink:
        # Sent as null: a name, a type or a state cannot be nothing (a price can: free).
        refused = {"name": Invalid(BadName), "type": Invalid(BadDrinkType),
                   "enabled": Invalid(InvalidInput)}
        for field, invalid in refused.items():
            if field in self.model_fields_set and getattr(self, field) is None:
                raise invalid(field)
        return self


def drink_form(fields: Mapping[str, str]) -> dict[str, Any]:
    """The drink editor's form: the recipe as fields of their own, a blank one unset."""
    data: dict[str, Any] = {k: v for k, v in fields.items() if k not in recipes.RECIPE_LIMITS}
    if recipes.RECIPE_LIMITS.keys() & fields.keys():
        data["recipe"] = {k: v for k, v in fields.items()
                          if k in recipes.RECIPE_LIMITS and v.strip()}
    return data


class Reorder(Command):
    order: Annotated[list[Id], Invalid(BadMove),
                     Field(description="Every drink id of the selection, in the new order.")]


class Move(Command):
    direction: Annotated[Literal["up", "down"], Invalid(BadMove)]


class SetSelection(Command):
    selection_id: Annotated[Id, Invalid(NotFound)]
