"""What diners and staff send to the ordering API, as typed commands: each field's shape and
the error it answers when wrong (the services keep the rules: limits, states, rights)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from errors import N_, InvalidInput, NotFound
from ordering.cart import Limits
from ordering.errors import (
    BadAmount,
    BadName,
    BadQuantity,
    BadRewardChoice,
    NoteTooLong,
    ReasonRequired,
    Underpaid,
    UnknownLine,
    UnknownProduct,
    WrongPin,
)
from ordering.staff_service import LineAdd, LineEdit
from ordering.table_modes import BadMode
from ordering.table_payment import BadPaymentAmount
from web.body import BadBody
from web.commands import (
    ClientKey,
    Collapsed,
    Command,
    Flag,
    FormValue,
    Id,
    Integer,
    Invalid,
    Money,
    Named,
    Shape,
    Text,
    form_integer,
)

LIMITS = Limits()  # the documented limits; the services apply the configured ones
MAX_REVISION = 2**31 - 1  # an INTEGER column

Name = Annotated[
    Collapsed, Field(min_length=1, max_length=40),
    Named("Name", "A diner's display name, shown to the party and to staff; whitespace is "
                  "collapsed."),
]
Note = Annotated[
    Collapsed, Field(max_length=LIMITS.max_note_length),
    Named("Note", 'Free text for the kitchen or bar ("bien cuit"); whitespace is collapsed.'),
]
Reason = Annotated[
    Collapsed, Field(min_length=1, max_length=200), Named("Reason", "Shown to the diners."),
]
Mode = Literal["menu", "order", "order_and_pay", "pay_only"]
MODE_MEANINGS = ("`menu`: diners read the menu only; `order`: diners order and pay at the counter. "
         "`order_and_pay`: diners pay each round from the phone when sending it; `pay_only`: "
         "staff take the orders, phones show the bill and pay it (needs a payment provider).")


def _quantity(low: int) -> Invalid:
    return Invalid(BadQuantity, low=low, high=LIMITS.max_quantity)


def _int_or_none(value: Any) -> Any:
    """A number the service compares: anything else simply matches nothing there."""
    return value if type(value) is int and 0 <= value <= MAX_REVISION else None


def _text_or_none(value: Any) -> Any:
    return value if isinstance(value, str) else None


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


Compared = Annotated[Annotated[int, Field(ge=0, le=MAX_REVISION)] | None,
                     BeforeValidator(_int_or_none), FormValue(form_integer)]
Quantity = Annotated[Integer, Field(ge=1, le=LIMITS.max_quantity), _quantity(1)]
NewQuantity = Annotated[Integer, Field(ge=0, le=LIMITS.max_quantity), _quantity(0)]
LineNote = Annotated[Note | None, Invalid(NoteTooLong, limit=LIMITS.max_note_length)]


# Diners


class StartTable(Command):
    name: Annotated[Name, Invalid(BadName)]


class JoinTable(Command):
    name: Annotated[Name, Invalid(BadName)]
    pin: Annotated[
        Text, Invalid(WrongPin),
        Field(description="The table's PIN (6 digits by default), as shown on the members' "
                          "screens and on the POS."),
    ] = ""


class AddLine(Command):
    client_id: Annotated[
        ClientKey, Invalid(InvalidInput, N_("Each line needs a client id of 8 to 64 characters."))
    ]
    quantity: Quantity
    note: LineNote = None
    product_id: Annotated[
        Id, Field(description="A product of this table's site, from the menu."),
        Invalid(UnknownProduct),
    ]


class ChangeLine(Command):
    quantity: Annotated[NewQuantity, Field(description="0 removes the line.")]
    note: Annotated[LineNote, Field(description="The line's new note (empty: none); "
                                                "absent or null: unchanged.")] = None


class SubmitRound(Command):
    idempotency_key: Annotated[
        ClientKey,
        Invalid(InvalidInput,
                N_("Each submission needs an idempotency key of 8 to 64 characters.")),
    ]


PaymentKey = Annotated[
    ClientKey,
    Invalid(InvalidInput, N_("Each payment needs an idempotency key of 8 to 64 characters.")),
]


class PayAndSend(Command):
    idempotency_key: PaymentKey


class PayBill(Command):
    idempotency_key: PaymentKey
    amount: Annotated[
        Money | None, Invalid(BadPaymentAmount),
        Field(description="Part of what is due; all of it when left out."),
    ] = None


# Staff


class RefuseRound(Command):
    reason: Annotated[Reason, Invalid(ReasonRequired)]


class RoundChange(Shape):
    missing = Invalid(BadBody)  # a list item without its fields is malformed
    line_id: Annotated[Id, Invalid(UnknownLine)]
    quantity: NewQuantity

    def edit(self) -> LineEdit:
        return LineEdit(self.line_id, self.quantity)


class RoundAddition(Shape):
    missing = Invalid(BadBody)  # a list item without its fields is malformed
    product_id: Annotated[Id, Invalid(NotFound, N_("This product is not on the menu."))]
    quantity: Quantity
    note: LineNote = None

    def line(self) -> LineAdd:
        return LineAdd(self.product_id, self.quantity, self.note or "")


class EditRound(Command):
    reason: Annotated[Reason, Invalid(ReasonRequired)]
    expected_revision: Annotated[
        Compared,
        Field(description="The revision the editor saw; another edit meanwhile makes this one "
                          "stale."),
    ] = None
    changes: Annotated[list[RoundChange], Invalid(BadBody)] = []
    additions: Annotated[list[RoundAddition], Invalid(BadBody)] = []


def edit_form(data: Mapping[str, str]) -> dict[str, Any]:
    """The POS's edit form: `qty-{line id}` per line, and one optional product to add."""
    additions = []
    if data.get("add_product"):
        additions.append({"product_id": data["add_product"],
                          "quantity": data.get("add_quantity") or "1",
                          "note": data.get("add_note") or ""})
    return {
        **data,
        "changes": [{"line_id": key[4:], "quantity": value} for key, value in data.items()
                    if key.startswith("qty-") and key[4:].isdigit()],
        "additions": additions,
    }


def _documented_as_required(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class MoveTicket(Command):
    # Left out or unknown, the ticket's service refuses the move, naming where the ticket is.
    status: Annotated[
        str | None, BeforeValidator(_text_or_none),
        WithJsonSchema({"type": "string", "enum": ["queued", "in_preparation", "ready",
                                                   "served"]}),
        Field(json_schema_extra=_documented_as_required),
    ] = None


class Settle(Command):
    method: Annotated[
        Literal["cash", "card"], Invalid(InvalidInput, N_("Payment method must be cash or card."))
    ]
    idempotency_key: PaymentKey
    tendered: Annotated[
        Money | None,
        Invalid(Underpaid, above=Invalid(InvalidInput, N_("The amount tendered is too large.")),
                malformed=Invalid(BadAmount)),
        Field(description="Cash handed over; for a card, the amount due when left out. A "
                          "form may send it as typed (\"50\", \"50,00\", \"50.00\")."),
    ] = None


class SetAvailability(Command):
    available: Annotated[Flag, Invalid(BadBody)]


class SetTableMode(Command):
    mode: Annotated[
        Mode | None, BeforeValidator(_blank_is_none), Invalid(BadMode),
        Field(description=MODE_MEANINGS + " null follows the site's mode."),
    ] = None


class SetSiteMode(Command):
    mode: Annotated[Mode, Invalid(BadMode), Field(description=MODE_MEANINGS)]


class OrderedLine(Shape):
    missing = Invalid(BadBody)  # a list item without its fields is malformed
    product_id: Annotated[Id, Invalid(UnknownProduct)]
    quantity: Quantity
    note: LineNote = None

    def line(self) -> LineAdd:
        return LineAdd(self.product_id, self.quantity, self.note or "")


class TakeOrder(Command):
    idempotency_key: Annotated[
        ClientKey,
        Invalid(InvalidInput, N_("Each order needs an idempotency key of 8 to 64 characters.")),
    ]
    lines: Annotated[list[OrderedLine], Invalid(BadBody)] = []


def order_form(data: Mapping[str, str]) -> dict[str, Any]:
    """The POS's order panel: `qty-{product id}` (empty or 0 when not wanted), `note-{id}`."""
    return {
        **data,
        "lines": [{"product_id": key[4:], "quantity": value,
                   "note": data.get(f"note-{key[4:]}") or ""}
                  for key, value in data.items()
                  if key.startswith("qty-") and key[4:].isdigit()
                  and value.strip() not in ("", "0")],
    }


class ApplyReward(Command):
    """A loyalty reward on the table's bill: one of the customer's rewards (taken with their
    points) or one of their coupons; a retry with the same key changes nothing."""

    invalid = Invalid(BadRewardChoice)
    reward_id: Id | None = None
    coupon: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    idempotency_key: Annotated[
        ClientKey,
        Invalid(InvalidInput, N_("Each reward needs an idempotency key of 8 to 64 characters.")),
    ]
