"""Periods of the company's calendar and their buckets, in local time. Pure.

A period is a span of whole local days, both ends included: today, this week (Monday to
Sunday), this month, this year, or a chosen range. Its previous period is the one just before
of the same kind (yesterday, last week, last month, last year; for a range, as many days
just before it). Buckets are the keys of stat_rollup and of `stats.series`: an hour
"2026-10-25T02", a day "2026-10-25", a week by its Monday "2026-10-19", a month "2026-10".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Period(StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    RANGE = "range"


class Granularity(StrEnum):
    """How a span is cut into buckets."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Span:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def local_today(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()


def month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def span_of(period: Period, today: date, start: date | None = None,
            end: date | None = None) -> Span:
    """The whole period that holds `today` (a range: `start` to `end`, in either order)."""
    match period:
        case Period.TODAY:
            return Span(today, today)
        case Period.WEEK:
            monday = today - timedelta(days=today.weekday())
            return Span(monday, monday + timedelta(days=6))
        case Period.MONTH:
            return Span(today.replace(day=1), month_end(today))
        case Period.YEAR:
            return Span(date(today.year, 1, 1), date(today.year, 12, 31))
    if start is None or end is None:
        raise ValueError("a range has a start and an end")
    return Span(min(start, end), max(start, end))


def previous(period: Period, span: Span) -> Span:
    """The period just before `span`, of the same kind."""
    match period:
        case Period.MONTH:
            last = span.start - timedelta(days=1)
            return Span(last.replace(day=1), last)
        case Period.YEAR:
            return Span(date(span.start.year - 1, 1, 1), date(span.start.year - 1, 12, 31))
    return Span(span.start - timedelta(days=span.days), span.start - timedelta(days=1))


def to_date(span: Span, today: date) -> Span:
    """The part of a span up to today (a period still running), to compare like with like."""
    return Span(span.start, min(span.end, max(today, span.start)))


def same_days_before(current: Span, before: Span) -> Span:
    """As many days of `before` as `current` has (this month so far against the same days
    of last month), never past its end."""
    return Span(before.start, min(before.end, before.start + timedelta(days=current.days - 1)))


def days(span: Span) -> list[date]:
    return [span.start + timedelta(days=n) for n in range(span.days)]


def hours(day: date, tz: str) -> list[str]:
    """The local hours a day has: 23 when the clocks go forward, 24 when they go back (its
    repeated hour is one bucket)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    found: list[str] = []
    at = start
    while at < end:
        key = at.astimezone(zone).strftime("%Y-%m-%dT%H")
        if key not in found:
            found.append(key)
        at += timedelta(hours=1)
    return found


def week_of(day: date) -> str:
    return (day - timedelta(days=day.weekday())).isoformat()


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def bucket_of(day: date, grain: Granularity) -> str:
    """The bucket (day, week or month) a day falls in."""
    if grain is Granularity.WEEK:
        return week_of(day)
    if grain is Granularity.MONTH:
        return month_of(day)
    return day.isoformat()


def buckets(span: Span, grain: Granularity, tz: str) -> list[str]:
    """Every bucket of the span, in order (weeks and months cut by the span's ends keep
    their key: the week's Monday, the month)."""
    if grain is Granularity.HOUR:
        return [hour for day in days(span) for hour in hours(day, tz)]
    found: list[str] = []
    for day in days(span):
        key = bucket_of(day, grain)
        if not found or found[-1] != key:
            found.append(key)
    return found


def whole_months(span: Span) -> tuple[list[str], list[Span]]:
    """The months a span covers whole, and the spans of days left at its edges: what the
    monthly rows answer and what the daily rows must."""
    months: list[str] = []
    edges: list[Span] = []
    day = span.start
    loose: date | None = None
    while day <= span.end:
        last = month_end(day)
        if day.day == 1 and last <= span.end:
            if loose is not None:
                edges.append(Span(loose, day - timedelta(days=1)))
                loose = None
            months.append(month_of(day))
            day = last + timedelta(days=1)
        else:
            loose = loose or day
            day += timedelta(days=1)
    if loose is not None:
        edges.append(Span(loose, span.end))
    return months, edges
