"""VAT in cents: hand-computed tickets, and no drift whatever the lines (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pos.vat import (
    FRENCH_RATES,
    INTERMEDIATE,
    REDUCED,
    STANDARD,
    Line,
    compute,
    rate_label,
    round_half_away,
)


def test_a_coffee_at_ten_percent_is_split_by_hand():
    # 1.50 incl. 10 %: 150 / 1.1 = 136.36 -> 136 excl., 14 VAT
    totals = compute([Line("Café", 1, 150, INTERMEDIATE)])
    assert (totals.total_excl, totals.total_vat, totals.total_incl) == (136, 14, 150)
    assert totals.lines[0].total_excl == 136


def test_a_mixed_ticket_is_computed_per_rate_and_adds_up():
    # 3 coffees at 1.50 (10 %) = 4.50 -> 450/1.1 = 409.09 -> 409, VAT 41
    # a beer at 4.00 (20 %) = 400/1.2 = 333.33 -> 333, VAT 67
    # 2 sandwiches to take away at 3.95 (5.5 %) minus 0.40 = 7.50
    #   -> 750/1.055 = 710.90 -> 711, VAT 39
    totals = compute([
        Line("Café", 3, 150, INTERMEDIATE),
        Line("Bière", 1, 400, STANDARD),
        Line("Sandwich", 2, 395, REDUCED, discount=40),
    ])
    assert [(r.rate, r.total_excl, r.total_vat, r.total_incl) for r in totals.rates] == [
        (REDUCED, 711, 39, 750), (INTERMEDIATE, 409, 41, 450), (STANDARD, 333, 67, 400)]
    assert totals.total_incl == 1600 and totals.total_excl == 1453 and totals.total_vat == 147
    assert totals.discount == 40


def test_per_rate_rounding_is_on_the_sum_and_lines_share_it_by_largest_remainder():
    # Three lines at 0.10 (20 %): each 8.33 excl.; the rate's 30/1.2 = 25 exactly: the
    # lines share 25 as 9 + 8 + 8 (the first takes the spare cent on a tie).
    totals = compute([Line("A", 1, 10, STANDARD), Line("B", 1, 10, STANDARD),
                      Line("C", 1, 10, STANDARD)])
    assert totals.rates[0].total_excl == 25
    assert [line.total_excl for line in totals.lines] == [9, 8, 8]


def test_half_a_cent_rounds_away_from_zero_both_ways():
    assert round_half_away(Fraction(5, 2)) == 3
    assert round_half_away(Fraction(-5, 2)) == -3
    assert round_half_away(Fraction(-7, 3)) == -2


def test_a_refund_of_every_line_is_the_exact_opposite():
    sale = compute([Line("Café", 3, 155, INTERMEDIATE), Line("Croissant", 1, 120, REDUCED)])
    refund = compute([Line("Café", -3, 155, INTERMEDIATE), Line("Croissant", -1, 120, REDUCED)])
    assert [(r.total_excl, r.total_vat) for r in refund.rates] == [
        (-r.total_excl, -r.total_vat) for r in sale.rates]
    assert [line.total_excl for line in refund.lines] == [
        -line.total_excl for line in sale.lines]


def test_rates_print_as_receipts_say_them():
    assert [rate_label(rate) for rate in FRENCH_RATES] == ["5.5", "10", "20"]


lines = st.lists(
    st.builds(Line, label=st.just("x"), quantity=st.integers(1, 50),
              unit_price=st.integers(0, 50_000), vat_rate=st.sampled_from(FRENCH_RATES)),
    min_size=1, max_size=12,
)


@settings(max_examples=30, deadline=None, database=None)
@given(lines)
def test_no_drift_lines_add_up_to_rates_and_rates_to_the_ticket(drawn):
    totals = compute(drawn)
    assert totals.total_incl == sum(line.quantity * line.unit_price for line in drawn)
    assert sum(line.total_incl for line in totals.lines) == totals.total_incl
    assert sum(line.total_excl for line in totals.lines) == totals.total_excl
    for rate in totals.rates:
        assert rate.total_excl + rate.total_vat == rate.total_incl
        exact = Fraction(rate.total_incl * 10000, 10000 + rate.rate)
        assert abs(rate.total_excl - exact) <= Fraction(1, 2)
        shares = [p.total_excl for p in totals.lines if p.line.vat_rate == rate.rate]
        assert sum(shares) == rate.total_excl
        for priced in totals.lines:
            if priced.line.vat_rate == rate.rate:
                assert abs(priced.total_excl - Fraction(priced.total_incl * 10000,
                                                        10000 + rate.rate)) < 1
    assert totals.total_excl + totals.total_vat == totals.total_incl
