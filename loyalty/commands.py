"""What the till, the table and the back office ask of loyalty, typed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from loyalty.errors import BadLookup
from web.commands import ClientKey, Command, Id, Integer, Invalid, Money, Shape, Text


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


class Profile(Command):
    """What a customer tells the venue; consents by channel (True: given now)."""

    phone: Annotated[Text, Field(max_length=32)] | None = None
    birthday: date | None = None
    postcode: Annotated[Text, Field(max_length=12)] | None = None
    email_consent: bool = False
    sms_consent: bool = False
