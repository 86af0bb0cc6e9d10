"""Loyalty's rules, pure: points a visit earns, what a refund takes back, whether a
customer may redeem, and what a reward does to a bill."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MINOR_PER_UNIT = 100  # points per unit are per euro: 100 minor units


@dataclass(frozen=True)
class EarnRules:
    points_per_visit: int = 0
    points_per_unit: int = 1
    cap_per_visit: int = 0  # 0: no cap
    min_delay: timedelta = timedelta(0)


def too_soon(at: datetime, earning_visits: Iterable[datetime], delay: timedelta) -> bool:
    """Does another visit that earned lie closer than `delay` to this one, before or after?
    Both sides: an offline till's sale may be heard after a later one."""
    return delay > timedelta(0) and any(abs(at - other) < delay for other in earning_visits)


def points_for_visit(
    rules: EarnRules, spent: int, at: datetime, earning_visits: Iterable[datetime] = ()
) -> int:
    """Points a visit that paid `spent` (minor units) earns: per visit plus per whole unit
    spent, within the cap; none when nothing was paid or another earning visit is too
    close."""
    if spent <= 0 or too_soon(at, earning_visits, rules.min_delay):
        return 0
    points = rules.points_per_visit + rules.points_per_unit * (spent // MINOR_PER_UNIT)
    return min(points, rules.cap_per_visit) if rules.cap_per_visit else points


def taken_back(
    earned: int, spent: int, refunded_before: int, refunded_now: int, taken_before: int,
    balance: int,
) -> int:
    """Points a refund of `refunded_now` takes back from a visit that earned `earned` for
    `spent`: in proportion to all refunded so far, all of them once the whole was refunded,
    never more than it earned and never more than the balance holds."""
    if earned <= 0 or refunded_now <= 0 or spent <= 0:
        return 0
    refunded = refunded_before + refunded_now
    due = earned if refunded >= spent else earned * refunded // spent
    return max(0, min(due - taken_before, balance))


class Refusal(StrEnum):
    """Why a customer may not redeem (loyalty/errors.py has one error for each)."""

    OFF = "off"
    UNAVAILABLE = "unavailable"
    CONTACT_NEEDED = "contact_needed"
    NOT_ENOUGH_POINTS = "not_enough_points"


def redeem_refusal(
    *, enabled: bool, reward_active: bool, cost: int, balance: int, has_contact: bool,
    contactless_may_redeem: bool,
) -> Refusal | None:
    """None when the customer may take the reward; else why not."""
    if not enabled:
        return Refusal.OFF
    if not reward_active:
        return Refusal.UNAVAILABLE
    if not has_contact and not contactless_may_redeem:
        return Refusal.CONTACT_NEEDED
    if balance < cost:
        return Refusal.NOT_ENOUGH_POINTS
    return None


class EffectKind(StrEnum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    FREE_PRODUCT = "free_product"


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    amount: int = 0  # minor units off
    percent: int = 0
    product_id: int | None = None
    product_name: str = ""


@dataclass(frozen=True)
class BillLine:
    product_id: int | None
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class OnBill:
    """What the till or the table applies: `discount` off the bill (never more than it),
    and for a free product not on the bill yet, the product to add at no charge."""

    discount: int
    add_product_id: int | None = None
    add_product_name: str = ""


def on_bill(effect: Effect, total: int, lines: Sequence[BillLine] = ()) -> OnBill:
    """A reward's effect on a bill of `total` minor units made of `lines`."""
    total = max(total, 0)
    if effect.kind is EffectKind.AMOUNT_OFF:
        return OnBill(min(effect.amount, total))
    if effect.kind is EffectKind.PERCENT_OFF:
        return OnBill(min((total * effect.percent + 50) // 100, total))  # half a cent up
    prices = [line.unit_price for line in lines
              if line.product_id == effect.product_id and line.quantity > 0]
    if prices:
        return OnBill(min(min(prices), total))
    return OnBill(0, effect.product_id, effect.product_name)
