"""The shared cart's rules and sums: plain Python, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ordering.errors import BadName, BadQuantity, NoteTooLong


@dataclass(frozen=True)
class Limits:
    max_quantity: int = 50
    max_note_length: int = 200
    max_cart_lines: int = 100


def check_quantity(quantity: object, limits: Limits, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BadQuantity(low=low, high=limits.max_quantity)
    if not low <= quantity <= limits.max_quantity:
        raise BadQuantity(low=low, high=limits.max_quantity)
    return quantity


def clean_note(note: object, limits: Limits) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise NoteTooLong(limit=limits.max_note_length)
    note = " ".join(note.split())
    if len(note) > limits.max_note_length:
        raise NoteTooLong(limit=limits.max_note_length)
    return note


def clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise BadName()
    name = " ".join(name.split())
    if not 1 <= len(name) <= 40:
        raise BadName()
    return name


@dataclass(frozen=True)
class LineAmount:
    member_id: int | None
    quantity: int
    unit_price: int


def total(lines: Iterable[LineAmount]) -> int:
    return sum(line.quantity * line.unit_price for line in lines)


def subtotals(lines: Iterable[LineAmount]) -> dict[int | None, int]:
    """Each diner's share of the lines they added (None: added by staff)."""
    sums: dict[int | None, int] = {}
    for line in lines:
        sums[line.member_id] = sums.get(line.member_id, 0) + line.quantity * line.unit_price
    return sums


def change_due(amount_due: int, tendered: int) -> int:
    return tendered - amount_due
