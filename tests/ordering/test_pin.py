"""Table PINs and the limits on wrong guesses, without a database."""

from __future__ import annotations

import pytest

from ordering import pin
from ordering.config import OrderingConfig


@pytest.mark.parametrize("length", [4, 6, 8])
def test_new_pin_has_the_configured_number_of_digits(length: int) -> None:
    for _ in range(50):
        value = pin.new_pin(length)
        assert len(value) == length
        assert value.isdigit() and value.isascii()


def test_new_pins_vary() -> None:
    assert len({pin.new_pin(6) for _ in range(50)}) > 40


def test_matches_the_exact_pin() -> None:
    assert pin.matches("042917", "042917")
    assert not pin.matches("042917", "042918")
    assert not pin.matches("042917", "42917")  # leading zeros matter
    assert not pin.matches("042917", "0429170")
    assert not pin.matches("042917", "")


def test_matches_ignores_surrounding_whitespace_only() -> None:
    assert pin.matches("042917", " 042917 ")
    assert pin.matches("042917", "042917\n")
    assert not pin.matches("042917", "042 917")


@pytest.mark.parametrize("given", [42917, 42917.0, None, ["042917"], b"042917", True])
def test_matches_refuses_non_strings(given: object) -> None:
    assert not pin.matches("042917", given)


def test_a_phone_gets_five_wrong_pins_per_ten_minutes_then_none() -> None:
    rule = pin.device_rule(OrderingConfig())
    assert (rule.scope, rule.limit, rule.window_s, rule.pace_s) == (pin.DEVICE, 5, 600, 0)


def test_a_table_gets_ten_then_one_try_per_thirty_seconds() -> None:
    rule = pin.table_rule(OrderingConfig())
    assert (rule.scope, rule.limit, rule.window_s, rule.pace_s) == (pin.TABLE, 10, 600, 30)


def test_the_rules_follow_the_configuration() -> None:
    config = OrderingConfig(pin_limit=3, pin_window_s=60, pin_table_limit=7, pin_table_pace_s=5)
    assert (pin.device_rule(config).limit, pin.device_rule(config).window_s) == (3, 60)
    table = pin.table_rule(config)
    assert (table.limit, table.window_s, table.pace_s) == (7, 60, 5)
