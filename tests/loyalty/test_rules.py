"""Loyalty's pure rules: what a visit earns, what a refund takes back, who may redeem and
what a reward does to a bill. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.rules import (
    BillLine,
    EarnRules,
    Effect,
    EffectKind,
    OnBill,
    Refusal,
    on_bill,
    points_for_visit,
    redeem_refusal,
    taken_back,
)

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_one_point_per_whole_euro_spent() -> None:
    assert points_for_visit(EarnRules(points_per_unit=1), 1250, NOON) == 12
    assert points_for_visit(EarnRules(points_per_unit=1), 99, NOON) == 0


def test_points_per_visit_whatever_the_amount() -> None:
    rules = EarnRules(points_per_visit=1, points_per_unit=0)
    assert points_for_visit(rules, 150, NOON) == 1
    assert points_for_visit(rules, 15_000, NOON) == 1


def test_a_visit_that_paid_nothing_earns_nothing() -> None:
    assert points_for_visit(EarnRules(points_per_visit=5), 0, NOON) == 0


def test_the_cap_per_visit_bounds_what_one_visit_earns() -> None:
    rules = EarnRules(points_per_visit=2, points_per_unit=1, cap_per_visit=20)
    assert points_for_visit(rules, 1000, NOON) == 12
    assert points_for_visit(rules, 9000, NOON) == 20


def test_a_visit_too_close_to_one_that_earned_earns_nothing_either_side() -> None:
    rules = EarnRules(points_per_visit=1, points_per_unit=0, min_delay=timedelta(hours=2))
    earlier, later = NOON - timedelta(minutes=90), NOON + timedelta(minutes=119)
    assert points_for_visit(rules, 500, NOON, [earlier]) == 0
    assert points_for_visit(rules, 500, NOON, [later]) == 0  # an offline sale heard late
    assert points_for_visit(rules, 500, NOON, [NOON - timedelta(hours=2)]) == 1
    assert points_for_visit(rules, 500, NOON, []) == 1


def test_no_delay_means_every_visit_earns() -> None:
    rules = EarnRules(points_per_visit=1, points_per_unit=0)
    assert points_for_visit(rules, 100, NOON, [NOON]) == 1


def test_a_full_refund_takes_back_all_a_visit_earned() -> None:
    assert taken_back(12, 1250, refunded_before=0, refunded_now=1250, taken_before=0,
                      balance=100) == 12


def test_a_partial_refund_takes_back_its_share_and_the_rest_follows_the_next() -> None:
    first = taken_back(12, 1200, refunded_before=0, refunded_now=400, taken_before=0,
                       balance=100)
    assert first == 4
    second = taken_back(12, 1200, refunded_before=400, refunded_now=800, taken_before=first,
                        balance=100)
    assert first + second == 12


def test_a_refund_never_takes_more_than_the_balance_holds() -> None:
    assert taken_back(12, 1200, refunded_before=0, refunded_now=1200, taken_before=0,
                      balance=5) == 5
    assert taken_back(12, 1200, refunded_before=0, refunded_now=1200, taken_before=0,
                      balance=0) == 0


def test_a_refund_never_takes_more_than_the_visit_earned() -> None:
    assert taken_back(12, 1200, refunded_before=1200, refunded_now=500, taken_before=12,
                      balance=100) == 0
    assert taken_back(0, 1200, refunded_before=0, refunded_now=1200, taken_before=0,
                      balance=100) == 0


def _refusal(**given: object) -> Refusal | None:
    values: dict[str, object] = {
        "enabled": True, "reward_active": True, "cost": 10, "balance": 10,
        "has_contact": True, "contactless_may_redeem": False,
    }
    return redeem_refusal(**{**values, **given})  # type: ignore[arg-type]


def test_redeem_allowed_when_the_balance_covers_the_cost() -> None:
    assert _refusal() is None


def test_redeem_refused_with_its_reason() -> None:
    assert _refusal(enabled=False) is Refusal.OFF
    assert _refusal(reward_active=False) is Refusal.UNAVAILABLE
    assert _refusal(balance=9) is Refusal.NOT_ENOUGH_POINTS
    assert _refusal(has_contact=False) is Refusal.CONTACT_NEEDED
    assert _refusal(has_contact=False, contactless_may_redeem=True) is None


def test_an_amount_off_never_exceeds_the_bill() -> None:
    effect = Effect(EffectKind.AMOUNT_OFF, amount=500)
    assert on_bill(effect, 1200) == OnBill(500)
    assert on_bill(effect, 300) == OnBill(300)


def test_a_percentage_off_rounds_half_a_cent_up() -> None:
    assert on_bill(Effect(EffectKind.PERCENT_OFF, percent=10), 1235) == OnBill(124)
    assert on_bill(Effect(EffectKind.PERCENT_OFF, percent=100), 1235) == OnBill(1235)


def test_a_free_product_on_the_bill_is_taken_off_at_its_price() -> None:
    effect = Effect(EffectKind.FREE_PRODUCT, product_id=7, product_name="Espresso")
    lines = [BillLine(3, 900, 1), BillLine(7, 180, 2)]
    assert on_bill(effect, 1260, lines) == OnBill(180)


def test_a_free_product_not_on_the_bill_is_a_line_to_add_at_no_charge() -> None:
    effect = Effect(EffectKind.FREE_PRODUCT, product_id=7, product_name="Espresso")
    assert on_bill(effect, 900, [BillLine(3, 900, 1)]) == OnBill(0, 7, "Espresso")
