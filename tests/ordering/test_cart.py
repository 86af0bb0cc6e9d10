"""The shared cart's rules and sums, without a database."""

from __future__ import annotations

import pytest

from ordering import cart
from ordering.cart import Limits, LineAmount
from ordering.errors import BadName, BadQuantity, NoteTooLong

LIMITS = Limits(max_quantity=50, max_note_length=20)


@pytest.mark.parametrize("quantity", [1, 2, 49, 50])
def test_quantity_within_bounds_is_kept(quantity: int) -> None:
    assert cart.check_quantity(quantity, LIMITS) == quantity


@pytest.mark.parametrize("quantity", [0, -1, 51, 1000])
def test_quantity_out_of_bounds_is_refused(quantity: int) -> None:
    with pytest.raises(BadQuantity) as refused:
        cart.check_quantity(quantity, LIMITS)
    assert refused.value.params == {"low": 1, "high": 50}
    assert str(refused.value) == "Quantity must be between 1 and 50."


def test_zero_is_allowed_only_when_asked() -> None:
    assert cart.check_quantity(0, LIMITS, allow_zero=True) == 0
    with pytest.raises(BadQuantity) as refused:
        cart.check_quantity(-1, LIMITS, allow_zero=True)
    assert refused.value.params == {"low": 0, "high": 50}


@pytest.mark.parametrize("quantity", [True, False, 1.0, 2.5, "2", None, [1]])
def test_quantity_must_be_a_real_integer(quantity: object) -> None:
    with pytest.raises(BadQuantity):
        cart.check_quantity(quantity, LIMITS)
    with pytest.raises(BadQuantity):
        cart.check_quantity(quantity, LIMITS, allow_zero=True)


def test_quantity_limit_follows_configuration() -> None:
    assert cart.check_quantity(5, Limits(max_quantity=5)) == 5
    with pytest.raises(BadQuantity):
        cart.check_quantity(6, Limits(max_quantity=5))


def test_note_whitespace_is_collapsed_and_trimmed() -> None:
    assert cart.clean_note("  bien \n cuit\t svp ", LIMITS) == "bien cuit svp"
    assert cart.clean_note("   ", LIMITS) == ""
    assert cart.clean_note(None, LIMITS) == ""
    assert cart.clean_note("", LIMITS) == ""


def test_note_limit_counts_the_cleaned_text() -> None:
    assert cart.clean_note("x" * 20, LIMITS) == "x" * 20
    assert cart.clean_note("  " + "x" * 20 + "  ", LIMITS) == "x" * 20
    with pytest.raises(NoteTooLong) as refused:
        cart.clean_note("x" * 21, LIMITS)
    assert refused.value.params == {"limit": 20}


@pytest.mark.parametrize("note", [12, ["a"], {"a": 1}, b"bytes"])
def test_note_must_be_text(note: object) -> None:
    with pytest.raises(NoteTooLong):
        cart.clean_note(note, LIMITS)


def test_name_is_cleaned() -> None:
    assert cart.clean_name("  Léa  ") == "Léa"
    assert cart.clean_name("Jean \t Paul") == "Jean Paul"
    assert cart.clean_name("x" * 40) == "x" * 40


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, None, 3, ["Léa"]])
def test_bad_names_are_refused(name: object) -> None:
    with pytest.raises(BadName):
        cart.clean_name(name)


def test_total_and_subtotals_per_member() -> None:
    lines = [
        LineAmount(member_id=1, quantity=2, unit_price=180),
        LineAmount(member_id=2, quantity=1, unit_price=150),
        LineAmount(member_id=1, quantity=1, unit_price=950),
        LineAmount(member_id=None, quantity=3, unit_price=100),  # added by staff
    ]
    assert cart.total(lines) == 360 + 150 + 950 + 300
    assert cart.subtotals(lines) == {1: 1310, 2: 150, None: 300}
    assert sum(cart.subtotals(lines).values()) == cart.total(lines)


def test_empty_cart_sums_to_nothing() -> None:
    assert cart.total([]) == 0
    assert cart.subtotals([]) == {}


def test_change_due() -> None:
    assert cart.change_due(amount_due=660, tendered=1000) == 340
    assert cart.change_due(amount_due=660, tendered=660) == 0
