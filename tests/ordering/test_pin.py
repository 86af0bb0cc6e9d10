"""Table PINs and the limit on wrong guesses, without a database."""

from __future__ import annotations

import pytest

from ordering import pin


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


@pytest.mark.parametrize(
    ("at_table", "by_client", "blocked"),
    [
        (0, 0, False),
        (4, 4, False),
        (5, 0, True),
        (0, 5, True),
        (6, 1, True),
        (4, 5, True),
    ],
)
def test_is_blocked_at_the_limit(at_table: int, by_client: int, blocked: bool) -> None:
    assert pin.is_blocked(at_table, by_client, limit=5) is blocked


def test_is_blocked_follows_the_limit() -> None:
    assert pin.is_blocked(3, 0, limit=3)
    assert not pin.is_blocked(2, 2, limit=3)
