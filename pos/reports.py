"""A period's totals from its records (pure): what an X or Z report says.

Training records never count. Amounts are net: refunds and voids are negative records, so
they come off the sales' totals; they are also shown apart, with the discounts the sales
granted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fact:
    """One record as a report needs it."""

    till: str  # the till's prefix
    sequence: int
    kind: str
    training: bool
    total_incl: int
    total_excl: int
    total_vat: int
    discount: int
    taxes: Sequence[tuple[int, int, int, int]]  # rate, excl, vat, incl
    payments: Sequence[tuple[str, int]]  # method, amount


def _number(till: str, sequence: int) -> str:
    return f"{till}-{sequence:06d}"


def report(facts: Iterable[Fact]) -> dict[str, Any]:
    counted = [fact for fact in facts if not fact.training]
    kinds: dict[str, dict[str, int]] = {
        kind: {"count": 0, "total_incl": 0} for kind in ("sale", "refund", "void")
    }
    methods: dict[str, int] = {"card": 0, "cash": 0}
    rates: dict[int, list[int]] = {}
    tills: dict[str, list[int]] = {}
    duplicates = discounts = 0
    for fact in counted:
        tills.setdefault(fact.till, []).append(fact.sequence)
        if fact.kind == "duplicate":
            duplicates += 1
            continue
        kinds[fact.kind]["count"] += 1
        kinds[fact.kind]["total_incl"] += fact.total_incl
        if fact.kind == "sale":
            discounts += fact.discount
        for method, amount in fact.payments:
            methods[method] = methods.get(method, 0) + amount
        for rate, excl, vat, incl in fact.taxes:
            sums = rates.setdefault(rate, [0, 0, 0])
            sums[0] += excl
            sums[1] += vat
            sums[2] += incl
    money = [fact for fact in counted if fact.kind != "duplicate"]
    return {
        "tickets": kinds["sale"]["count"],
        "sales": kinds["sale"],
        "refunds": kinds["refund"],
        "voids": kinds["void"],
        "duplicates": duplicates,
        "discounts": discounts,
        "total_incl": sum(fact.total_incl for fact in money),
        "total_excl": sum(fact.total_excl for fact in money),
        "total_vat": sum(fact.total_vat for fact in money),
        "by_method": [{"method": method, "amount": amount}
                      for method, amount in sorted(methods.items())],
        "by_rate": [{"vat_rate": rate, "total_excl": sums[0], "total_vat": sums[1],
                     "total_incl": sums[2]} for rate, sums in sorted(rates.items())],
        "tills": [{"till": till, "first": _number(till, min(numbers)),
                   "last": _number(till, max(numbers)), "records": len(numbers)}
                  for till, numbers in sorted(tills.items())],
    }


def cash_expected(totals: dict[str, Any]) -> int:
    """The cash the drawer should hold from the period's records (change already out)."""
    return sum(int(row["amount"]) for row in totals["by_method"] if row["method"] == "cash")


def missing_numbers(numbers: Iterable[int]) -> list[int]:
    """The gaps in a till's numbers, from 1 to the highest it used."""
    seen = set(numbers)
    return [n for n in range(1, max(seen, default=0) + 1) if n not in seen]
