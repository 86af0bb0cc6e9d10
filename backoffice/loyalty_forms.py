"""The loyalty settings' and the rewards' forms: their typed shapes, the checks that weigh
one field against another, and the commands loyalty's services take.

Every bound here is one a person could type by mistake (a thousand points a visit, a
reward of ten thousand euros off): the form names it, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from errors import N_, InvalidInput
from loyalty.commands import AddReward, SetRules
from loyalty.models import LoyaltyRules, Reward
from loyalty.rules import EffectKind
from web.commands import (
    Collapsed,
    Command,
    Flag,
    FormValue,
    Id,
    Integer,
    Invalid,
    Money,
    form_integer,
)
from web.i18n import typed_amount

MAX_POINTS = 10_000  # points a visit, a cap, a referral or a profile gives
MAX_PER_EURO = 100
MAX_DELAY_HOURS = 720  # thirty days between two visits that earn
MAX_COST_POINTS = 100_000
MAX_AMOUNT = 100_000  # minor units: 1,000.00 off, or what a reward costs the venue
UNITS = {"minutes": 1, "hours": 60}

_POINTS_ERROR = Invalid(InvalidInput, N_("Give a whole number of points from 0 to %(high)s."),
                        high=MAX_POINTS)
Points = Annotated[Integer, Field(ge=0, le=MAX_POINTS), _POINTS_ERROR]


def _blank_is_none(parse: Any) -> FormValue:
    return FormValue(lambda value: None if not value.strip() else parse(value))


class RulesForm(Command):
    """The settings page's form; an unticked box sends nothing (no)."""

    enabled: Flag = False
    points_per_visit: Points
    points_per_unit: Annotated[
        Integer, Field(ge=0, le=MAX_PER_EURO),
        Invalid(InvalidInput, N_("Give a whole number of points from 0 to %(high)s."),
                high=MAX_PER_EURO)]
    cap_per_visit: Points
    min_delay: Annotated[
        Integer, Field(ge=0, le=MAX_DELAY_HOURS * 60),
        Invalid(InvalidInput, N_("Give a whole number, 0 for no delay, up to 30 days."))]
    min_delay_unit: Annotated[Literal["minutes", "hours"],
                              Invalid(InvalidInput, N_("Choose minutes or hours."))]
    contactless_may_redeem: Flag = False
    referrer_points: Points
    referred_points: Points
    profile_points: Points
    ask_phone: Flag = False
    ask_birthday: Flag = False
    ask_postcode: Flag = False


def rules_problems(form: RulesForm) -> dict[str, str]:
    """What one field says against another, by field (messages to translate)."""
    problems: dict[str, str] = {}
    if form.min_delay * UNITS[form.min_delay_unit] > MAX_DELAY_HOURS * 60:
        problems["min_delay"] = N_("Give a whole number, 0 for no delay, up to 30 days.")
    if form.cap_per_visit and form.cap_per_visit < form.points_per_visit:
        problems["cap_per_visit"] = N_("The cap is below the points a visit earns by itself: "
                                       "raise it, or give 0 for no cap.")
    if form.enabled and not form.points_per_visit and not form.points_per_unit:
        problems["points_per_visit"] = N_("A programme that is on needs points per visit or "
                                          "per euro spent.")
    return problems


def rules_command(form: RulesForm) -> SetRules:
    return SetRules(
        enabled=form.enabled, points_per_visit=form.points_per_visit,
        points_per_unit=form.points_per_unit, cap_per_visit=form.cap_per_visit,
        min_delay_minutes=form.min_delay * UNITS[form.min_delay_unit],
        contactless_may_redeem=form.contactless_may_redeem,
        referrer_points=form.referrer_points, referred_points=form.referred_points,
        profile_points=form.profile_points, ask_phone=form.ask_phone,
        ask_birthday=form.ask_birthday, ask_postcode=form.ask_postcode,
    )


def _flag(value: bool) -> str:
    return "yes" if value else ""


def rules_values(rules: LoyaltyRules | None) -> dict[str, str]:
    """The form's fields as the page shows them: a company that never set its rules sees
    the programme off, one point per euro, and the phone and birthday asked."""
    if rules is None:
        rules = LoyaltyRules(enabled=False, points_per_visit=0, points_per_unit=1,
                             cap_per_visit=0, min_delay_minutes=0, contactless_may_redeem=False,
                             referrer_points=0, referred_points=0, profile_points=0,
                             ask_phone=True, ask_birthday=True, ask_postcode=False)
    minutes = rules.min_delay_minutes
    hours = minutes > 0 and minutes % 60 == 0
    return {
        "enabled": _flag(rules.enabled), "points_per_visit": str(rules.points_per_visit),
        "points_per_unit": str(rules.points_per_unit), "cap_per_visit": str(rules.cap_per_visit),
        "min_delay": str(minutes // 60 if hours else minutes),
        "min_delay_unit": "hours" if hours else "minutes",
        "contactless_may_redeem": _flag(rules.contactless_may_redeem),
        "referrer_points": str(rules.referrer_points),
        "referred_points": str(rules.referred_points),
        "profile_points": str(rules.profile_points), "ask_phone": _flag(rules.ask_phone),
        "ask_birthday": _flag(rules.ask_birthday), "ask_postcode": _flag(rules.ask_postcode),
    }


def rules_audit(rules: LoyaltyRules | None) -> dict[str, Any]:
    """The rules as the audit log records them (`programme`: whether it is on)."""
    if rules is None:
        return {}
    fields = SetRules.model_fields.keys() - {"enabled"}
    return {"programme": rules.enabled, **{name: getattr(rules, name) for name in fields}}


_AMOUNT_ERROR = N_("Give an amount above 0 and up to 1,000, such as 2.50.")
_PERCENT_ERROR = N_("Give a whole percentage from 1 to 100.")
PRODUCT_ERROR = N_("Choose the product given, from the menu.")


class RewardForm(Command):
    """A reward's form: every effect's field is sent, only the chosen effect's is read."""

    name: Annotated[Collapsed, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give a name of 1 to 120 characters."))]
    cost_points: Annotated[
        Integer, Field(ge=1, le=MAX_COST_POINTS),
        Invalid(InvalidInput, N_("Give a whole number of points from 1 to %(high)s."),
                high=MAX_COST_POINTS)]
    venue_cost: Annotated[
        Annotated[Money, Field(le=MAX_AMOUNT)] | None,
        Invalid(InvalidInput, N_("Give what it costs you, from 0 to 1,000, such as 1.20; "
                                 "empty for nothing."))] = None
    effect: Annotated[Literal["amount_off", "percent_off", "free_product"],
                      Invalid(InvalidInput, N_("Choose what the reward does."))]
    amount: Annotated[Annotated[Money, Field(le=MAX_AMOUNT)] | None,
                      Invalid(InvalidInput, _AMOUNT_ERROR)] = None
    percent: Annotated[Annotated[Integer, Field(ge=1, le=100)] | None,
                       _blank_is_none(form_integer), Invalid(InvalidInput, _PERCENT_ERROR)] = None
    product_id: Annotated[Id | None, _blank_is_none(form_integer),
                          Invalid(InvalidInput, PRODUCT_ERROR)] = None


def reward_problems(form: RewardForm) -> dict[str, str]:
    """The chosen effect's field, when it was left empty (messages to translate)."""
    effect = EffectKind(form.effect)
    if effect is EffectKind.AMOUNT_OFF and not form.amount:
        return {"amount": _AMOUNT_ERROR}
    if effect is EffectKind.PERCENT_OFF and form.percent is None:
        return {"percent": _PERCENT_ERROR}
    if effect is EffectKind.FREE_PRODUCT and form.product_id is None:
        return {"product_id": PRODUCT_ERROR}
    return {}


def reward_command(form: RewardForm, product_name: str = "") -> AddReward:
    """The reward as loyalty keeps it; the product's name is the menu's, read by the page."""
    return AddReward(
        name=form.name, cost_points=form.cost_points, venue_cost=form.venue_cost or 0,
        effect=form.effect, amount=form.amount or 0, percent=form.percent or 0,
        product_id=form.product_id, product_name=product_name[:120],
    )


def reward_values(reward: Reward, currency: str, locale: str) -> dict[str, str]:
    """A reward's form filled, its money as the reader types it ("3,50" in French)."""
    return {
        "name": reward.name, "cost_points": str(reward.cost_points),
        "venue_cost": typed_amount(reward.venue_cost, currency, locale),
        "effect": reward.effect,
        "amount": typed_amount(reward.amount, currency, locale) if reward.amount else "",
        "percent": str(reward.percent) if reward.percent else "",
        "product_id": str(reward.product_id) if reward.product_id else "",
    }


def reward_audit(reward: Reward) -> dict[str, Any]:
    """A reward as the audit log records it: only its effect's own value."""
    values: Mapping[EffectKind, dict[str, Any]] = {
        EffectKind.AMOUNT_OFF: {"amount": reward.amount},
        EffectKind.PERCENT_OFF: {"percent": reward.percent},
        EffectKind.FREE_PRODUCT: {"product_name": reward.product_name},
    }
    return {"name": reward.name, "cost_points": reward.cost_points,
            "venue_cost": reward.venue_cost, "effect": reward.effect,
            **values[EffectKind(reward.effect)]}
