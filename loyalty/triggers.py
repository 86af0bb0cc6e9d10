"""When a coupon trigger fires, and for which occasion: pure rules, no I/O.

A trigger fires once per occasion, and the occasion's key (kept unique on the coupon,
loyalty/models.py `Coupon.key`) says which: the k-th earning visit, the birthday of a
year, an absence that began on the day of the last visit. Whoever asks twice, or two
processes at once, name the same occasion, and the database keeps one coupon for it.

Days are the company's: `today` and the dates of visits are read in its time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

BIRTHDAY_MAX_DAYS = 90  # a year apart, two birthdays' windows never meet


class TriggerKind(StrEnum):
    VISITS = "visits"  # every `every` earning visits
    BIRTHDAY = "birthday"  # `every` days (or fewer) before the birthday
    ABSENCE = "absence"  # `every` days without a visit


@dataclass(frozen=True)
class Rule:
    """A trigger as the rules take it."""

    id: int
    kind: TriggerKind
    every: int


@dataclass(frozen=True)
class Facts:
    """What is known of a customer, as of `today` (the company's day).

    `visits`: how many earning visits they made (a visit that earned points: one under the
    delay between two visits earns nothing, and counts for nothing here); `last_visit`: the
    day of their latest visit (any visit heard, earning or not)."""

    consumer_id: int
    today: date
    visits: int = 0
    birthday: date | None = None
    last_visit: date | None = None


def birthday_in(year: int, birthday: date) -> date:
    """The birthday's day in `year`; 29 February is kept on 28 February in other years."""
    if birthday.month == 2 and birthday.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return birthday.replace(year=year)


def next_birthday(birthday: date, today: date) -> date:
    """The birthday's next day, today included."""
    this_year = birthday_in(today.year, birthday)
    return this_year if this_year >= today else birthday_in(today.year + 1, birthday)


def visits_key(rule: Rule, consumer_id: int, visits: int) -> str | None:
    """After the customer's `visits`-th earning visit: fires on every `every`-th."""
    if visits <= 0 or visits % rule.every:
        return None
    return f"visits:{rule.id}:{consumer_id}:{visits}"


def birthday_key(rule: Rule, consumer_id: int, birthday: date | None, today: date) -> str | None:
    """From `every` days before the birthday until the day itself; once for each year."""
    if birthday is None:
        return None
    coming = next_birthday(birthday, today)
    if (coming - today).days > rule.every:
        return None
    return f"birthday:{rule.id}:{consumer_id}:{coming.year}"


def absence_key(rule: Rule, consumer_id: int, last_visit: date | None, today: date) -> str | None:
    """`every` days or more since the last visit (a customer never seen is not absent).
    The key names the last visit's day: back and gone again, it is a new absence."""
    if last_visit is None or (today - last_visit).days < rule.every:
        return None
    return f"absence:{rule.id}:{consumer_id}:{last_visit.isoformat()}"


def occasion(rule: Rule, facts: Facts) -> str | None:
    """The occasion this trigger fires for now, by its key; None when it does not fire."""
    if rule.kind is TriggerKind.VISITS:
        return visits_key(rule, facts.consumer_id, facts.visits)
    if rule.kind is TriggerKind.BIRTHDAY:
        return birthday_key(rule, facts.consumer_id, facts.birthday, facts.today)
    return absence_key(rule, facts.consumer_id, facts.last_visit, facts.today)


def absent_since(rule: Rule, today: date) -> date:
    """The latest day a last visit may fall on for the customer to be absent today."""
    return today - timedelta(days=rule.every)


def birthdays_within(rule: Rule, today: date) -> set[tuple[int, int]]:
    """The (month, day) of the birthdays whose window may be open today, to look them up:
    from today to `every` days on, and 29 February with 28 February (kept on that day in
    the years without one). `birthday_key` decides."""
    days = {(d.month, d.day) for d in
            (today + timedelta(days=n) for n in range(rule.every + 1))}
    if (2, 28) in days:
        days.add((2, 29))
    return days
