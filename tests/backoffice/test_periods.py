"""Periods of the company's calendar and their buckets (backoffice/periods.py): pure."""

from __future__ import annotations

from datetime import date

from backoffice.periods import (
    Granularity,
    Period,
    Span,
    buckets,
    hours,
    previous,
    same_days_before,
    span_of,
    to_date,
    whole_months,
)

PARIS = "Europe/Paris"
WEDNESDAY = date(2026, 3, 18)


def test_periods_hold_today_and_their_previous_one_is_just_before() -> None:
    assert span_of(Period.TODAY, WEDNESDAY) == Span(WEDNESDAY, WEDNESDAY)
    week = span_of(Period.WEEK, WEDNESDAY)
    assert week == Span(date(2026, 3, 16), date(2026, 3, 22))
    assert previous(Period.WEEK, week) == Span(date(2026, 3, 9), date(2026, 3, 15))
    month = span_of(Period.MONTH, WEDNESDAY)
    assert month == Span(date(2026, 3, 1), date(2026, 3, 31))
    assert previous(Period.MONTH, month) == Span(date(2026, 2, 1), date(2026, 2, 28))
    year = span_of(Period.YEAR, WEDNESDAY)
    assert previous(Period.YEAR, year) == Span(date(2025, 1, 1), date(2025, 12, 31))
    chosen = span_of(Period.RANGE, WEDNESDAY, date(2026, 1, 10), date(2026, 1, 1))
    assert chosen == Span(date(2026, 1, 1), date(2026, 1, 10))
    assert previous(Period.RANGE, chosen) == Span(date(2025, 12, 22), date(2025, 12, 31))
    assert previous(Period.TODAY, Span(WEDNESDAY, WEDNESDAY)) == Span(date(2026, 3, 17),
                                                                      date(2026, 3, 17))


def test_a_running_period_compares_with_the_same_days_before() -> None:
    so_far = to_date(span_of(Period.MONTH, WEDNESDAY), WEDNESDAY)
    assert so_far == Span(date(2026, 3, 1), WEDNESDAY)
    before = previous(Period.MONTH, span_of(Period.MONTH, WEDNESDAY))
    assert same_days_before(so_far, before) == Span(date(2026, 2, 1), date(2026, 2, 18))
    assert same_days_before(Span(date(2026, 3, 1), date(2026, 3, 31)), before) == before


def test_days_have_the_hours_their_clocks_show() -> None:
    assert len(hours(date(2026, 3, 29), PARIS)) == 23
    assert "2026-03-29T02" not in hours(date(2026, 3, 29), PARIS)
    autumn = hours(date(2026, 10, 25), PARIS)
    assert len(autumn) == 24 and autumn.count("2026-10-25T02") == 1
    assert hours(date(2026, 10, 26), PARIS)[0] == "2026-10-26T00"


def test_buckets_of_each_granularity() -> None:
    span = Span(date(2026, 10, 24), date(2026, 11, 3))
    assert buckets(span, Granularity.DAY, PARIS)[:2] == ["2026-10-24", "2026-10-25"]
    assert len(buckets(span, Granularity.DAY, PARIS)) == 11
    assert buckets(span, Granularity.WEEK, PARIS) == ["2026-10-19", "2026-10-26", "2026-11-02"]
    assert buckets(span, Granularity.MONTH, PARIS) == ["2026-10", "2026-11"]
    assert len(buckets(span, Granularity.HOUR, PARIS)) == 11 * 24


def test_a_range_is_read_as_whole_months_and_the_days_at_its_edges() -> None:
    assert whole_months(Span(date(2026, 1, 15), date(2026, 4, 10))) == (
        ["2026-02", "2026-03"],
        [Span(date(2026, 1, 15), date(2026, 1, 31)), Span(date(2026, 4, 1), date(2026, 4, 10))])
    assert whole_months(Span(date(2026, 1, 1), date(2026, 12, 31)))[1] == []
    assert whole_months(Span(date(2026, 2, 3), date(2026, 2, 20))) == (
        [], [Span(date(2026, 2, 3), date(2026, 2, 20))])
    assert whole_months(Span(date(2025, 12, 1), date(2026, 1, 31)))[0] == ["2025-12", "2026-01"]
