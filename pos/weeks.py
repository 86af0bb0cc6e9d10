"""Weeks and the time worked in each of their days: pure rules, no I/O.

A day is a calendar day of the company's time zone, so that a shift across midnight counts
on both days, and a day when the clocks change lasts 23 or 25 hours of real time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pos.errors import BadWeek

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
DAYS = 7


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week (Monday to Sunday), written "2026-W49"."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        found = WEEK.match(text.strip())
        if found is None:
            raise BadWeek()
        try:
            monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
        except ValueError:
            raise BadWeek() from None
        return cls.of(monday)

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(DAYS)]

    def shifted(self, weeks: int) -> Week:
        return Week.of(self.monday + timedelta(weeks=weeks))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Its first and last instant (Monday's and the next Monday's midnight), aware."""
        return midnight(self.monday, tz), midnight(self.monday + timedelta(days=DAYS), tz)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


@dataclass(frozen=True)
class Span:
    """A member of staff's shift: from `start` to `end` (None: still open, counts to now)."""

    staff_id: int
    start: datetime
    end: datetime | None


def minutes_by_day(
    spans: Iterable[Span], week: Week, tz: ZoneInfo, now: datetime
) -> dict[int, list[int]]:
    """Per member of staff, the minutes worked on each day of the week (Monday first).

    Seconds are summed per day, then counted in whole minutes; the week's total is the sum
    of its days, so that a table's rows add up to what it shows."""
    # In UTC: Python subtracts two times of one zone as wall-clock times, which would
    # give the night the clocks change an hour too many or too few.
    starts = [midnight(day, tz).astimezone(UTC) for day in week.days]
    ends = [*starts[1:], midnight(week.days[-1] + timedelta(days=1), tz).astimezone(UTC)]
    seconds: dict[int, list[float]] = {}
    for span in spans:
        start = span.start.astimezone(UTC)
        end = (span.end or max(now, span.start)).astimezone(UTC)
        row = seconds.setdefault(span.staff_id, [0.0] * DAYS)
        for i, (day_start, day_end) in enumerate(zip(starts, ends, strict=True)):
            overlap = (min(end, day_end) - max(start, day_start)).total_seconds()
            if overlap > 0:
                row[i] += overlap
    return {staff: [int(s // 60) for s in row] for staff, row in seconds.items()}


def hours_and_minutes(minutes: int) -> tuple[int, int]:
    return divmod(minutes, 60)
