"""VAT in integer cents, without drift: prices include VAT, a line carries its rate.

The rounding rule (docs/till.md):

1. A line's amount including VAT is exact: quantity x unit price - discount.
2. Per rate, the amount excluding VAT is computed once, on the sum of that rate's lines:
   incl x 10000 / (10000 + rate), rounded half away from zero to the cent; the VAT is the
   rest (incl - excl). So per rate excl + VAT = incl, and the ticket's total is exactly the
   sum of its lines.
3. That per-rate amount excluding VAT is shared among the rate's lines by the largest
   remainder (ties to the earlier line), so the lines' amounts excluding VAT add up to it.
4. Signs are symmetric: a refund of every line of a ticket has exactly the opposite amounts.

Rates are in basis points (hundredths of a percent): 5.5 % is 550.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

# French rates: reduced 5.5 % (most food to take away), intermediate 10 % (food and
# drinks served on the spot), standard 20 % (alcohol, most goods).
REDUCED = 550
INTERMEDIATE = 1000
STANDARD = 2000
FRENCH_RATES = (REDUCED, INTERMEDIATE, STANDARD)
MAX_RATE = 10000


@dataclass(frozen=True)
class Line:
    """A line as sold: `unit_price` and `discount` in cents, VAT included."""

    label: str
    quantity: int
    unit_price: int
    vat_rate: int
    discount: int = 0

    @property
    def total_incl(self) -> int:
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True)
class PricedLine:
    line: Line
    total_incl: int
    total_excl: int


@dataclass(frozen=True)
class RateTotal:
    rate: int
    total_excl: int
    total_vat: int
    total_incl: int


@dataclass(frozen=True)
class Totals:
    lines: tuple[PricedLine, ...]
    rates: tuple[RateTotal, ...]  # by rate, ascending
    total_incl: int
    total_excl: int
    total_vat: int
    discount: int


def round_half_away(value: Fraction) -> int:
    """To the nearest integer, a half away from zero (so -x rounds to -(x rounded))."""
    magnitude = abs(value)
    whole = int(magnitude)  # floor of a non-negative value
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return whole if value >= 0 else -whole


def excluding(incl: int, rate: int) -> Fraction:
    """The exact amount excluding VAT in an amount including it."""
    return Fraction(incl * 10000, 10000 + rate)


def share(target: int, exact: list[Fraction]) -> list[int]:
    """Integers adding up to `target`, each as close to its exact value as the largest
    remainder allows; ties go to the earlier value. Symmetric in sign."""
    if target < 0:
        return [-part for part in share(-target, [-value for value in exact])]
    floors = [value.numerator // value.denominator for value in exact]
    left = target - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    parts = list(floors)
    for index in order[:left]:
        parts[index] += 1
    return parts


def compute(lines: list[Line]) -> Totals:
    """The ticket's totals per rate and in all, and each line's amount excluding VAT."""
    by_rate: dict[int, list[int]] = {}
    for index, line in enumerate(lines):
        if not 0 <= line.vat_rate <= MAX_RATE:
            raise ValueError(f"VAT rate out of range: {line.vat_rate}")
        by_rate.setdefault(line.vat_rate, []).append(index)
    excl_of = [0] * len(lines)
    rates: list[RateTotal] = []
    for rate in sorted(by_rate):
        members = by_rate[rate]
        incl = sum(lines[i].total_incl for i in members)
        excl = round_half_away(excluding(incl, rate))
        parts = share(excl, [excluding(lines[i].total_incl, rate) for i in members])
        for i, part in zip(members, parts, strict=True):
            excl_of[i] = part
        rates.append(RateTotal(rate, excl, incl - excl, incl))
    priced = tuple(
        PricedLine(line, line.total_incl, excl_of[i]) for i, line in enumerate(lines)
    )
    return Totals(
        lines=priced,
        rates=tuple(rates),
        total_incl=sum(r.total_incl for r in rates),
        total_excl=sum(r.total_excl for r in rates),
        total_vat=sum(r.total_vat for r in rates),
        discount=sum(line.discount for line in lines),
    )


def rate_label(rate: int) -> str:
    """550 -> "5.5", 2000 -> "20": as a receipt prints it (without the % sign)."""
    whole, hundredths = divmod(rate, 100)
    return str(whole) if not hundredths else f"{whole}.{hundredths:02d}".rstrip("0")
