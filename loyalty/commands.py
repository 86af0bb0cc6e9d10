"""What the till, the table and the back office ask of loyalty, typed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from loyalty.errors import BadBirthday, BadLookup, BadPhone, BadPostcode
from web.commands import ClientKey, Command, Flag, Id, Integer, Invalid, Money, Shape, Text


class Lookup(Command):
    """Exactly one of the customer's QR token, phone number or e-mail."""

    invalid = Invalid(BadLookup)
    qr: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    phone: Annotated[Text, Field(min_length=1, max_length=32)] | None = None
    email: Annotated[Text, Field(min_length=3, max_length=254)] | None = None


class Line(Shape):
    """A line of the ticket or bill a reward is applied to."""

    product_id: Id | None = None
    unit_price: Money
    quantity: Annotated[Integer, Field(ge=-10_000, le=10_000)]


class Redeem(Command):
    """Take a reward with the customer's points; the same key again returns the first
    result and takes nothing more."""

    consumer_id: Id
    reward_id: Id
    idempotency_key: ClientKey
    total: Money = 0  # the ticket's or bill's total, for the amount the reward takes off
    lines: Annotated[list[Line], Field(max_length=500)] = []


class UseCoupon(Command):
    """Use a coupon scanned at the till or the table: once, whichever till scans first."""

    token: Annotated[Text, Field(min_length=1, max_length=64)]
    idempotency_key: ClientKey
    total: Money = 0
    lines: Annotated[list[Line], Field(max_length=500)] = []


Points = Annotated[Integer, Field(ge=0, le=1_000_000)]


class SetRules(Command):
    """A company's loyalty rules (points per visit and per euro spent, a cap per visit, a
    delay between two visits that earn, the points of referrals and profiles) and the
    sign-up fields it asks its customers for (the e-mail is always asked)."""

    enabled: bool = True
    points_per_visit: Points = 0
    points_per_unit: Points = 1
    cap_per_visit: Points = 0
    min_delay_minutes: Annotated[Integer, Field(ge=0, le=525_600)] = 0
    contactless_may_redeem: bool = False
    referrer_points: Points = 0
    referred_points: Points = 0
    profile_points: Points = 0
    ask_phone: bool = True
    ask_birthday: bool = True
    ask_postcode: bool = False


class AddReward(Command):
    """A reward, or a reward's new values (`setup.edit_reward`): only the field its effect
    uses is kept."""

    name: Annotated[Text, Field(min_length=1, max_length=120)]
    cost_points: Annotated[Integer, Field(ge=1, le=1_000_000)]
    venue_cost: Money = 0
    effect: Literal["amount_off", "percent_off", "free_product"]
    amount: Money = 0
    percent: Annotated[Integer, Field(ge=0, le=100)] = 0
    product_id: Id | None = None
    product_name: Annotated[Text, Field(max_length=120)] = ""


def _blank(value: Any) -> Any:
    """A field left empty in a form is no value."""
    return None if isinstance(value, str) and not value.strip() else value


_PHONE_MARKS = frozenset(" .-()")


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    body = value.strip().removeprefix("+")
    digits = sum(c.isdigit() for c in body)
    if not 6 <= digits <= 15 or any(not (c.isdigit() or c in _PHONE_MARKS) for c in body):
        raise ValueError(value)
    return value.strip()


def _birthday(value: date | None) -> date | None:
    if value is not None and not date(1900, 1, 1) <= value <= date.today():
        raise ValueError(value)
    return value


def _postcode(value: str | None) -> str | None:
    if value is None:
        return None
    code = " ".join(value.split()).upper()
    if not 2 <= len(code) <= 12 or any(not (c.isalnum() or c in " -") for c in code):
        raise ValueError(value)
    return code


class Profile(Command):
    """What a customer tells the venue (blank: nothing); consents by channel (True: given,
    dated the first time)."""

    phone: Annotated[Annotated[Text, Field(max_length=32)] | None, BeforeValidator(_blank),
                     AfterValidator(_phone), Invalid(BadPhone)] = None
    birthday: Annotated[date | None, BeforeValidator(_blank), AfterValidator(_birthday),
                        Invalid(BadBirthday)] = None
    postcode: Annotated[Annotated[Text, Field(max_length=12)] | None, BeforeValidator(_blank),
                        AfterValidator(_postcode), Invalid(BadPostcode)] = None
    email_consent: Flag = False
    sms_consent: Flag = False
