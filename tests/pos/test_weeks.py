"""Weeks and the minutes of each day, by hand: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pos.errors import BadWeek
from pos.weeks import Span, Week, minutes_by_day

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_a_week_is_read_written_and_walked_as_iso_says():
    week = Week.parse("2026-W49")
    assert (week.monday, week.days[-1]) == (date(2026, 11, 30), date(2026, 12, 6))
    assert str(week.shifted(-1)) == "2026-W48" and str(week.shifted(5)) == "2027-W01"
    assert Week.of(date(2027, 1, 1)) == Week(2026, 53)  # 2026 has 53 weeks
    for wrong in ("2026-49", "2026-W54", "2025-W53", "2026-W00", "W49", ""):
        with pytest.raises(BadWeek):
            Week.parse(wrong)


def test_a_plain_week_counts_each_day_and_splits_a_shift_across_midnight():
    week = Week.parse("2026-W49")  # Monday 30 November
    spans = [
        Span(1, paris(2026, 11, 30, 8, 0), paris(2026, 11, 30, 15, 30)),  # 7 h 30
        Span(1, paris(2026, 12, 1, 9, 0), paris(2026, 12, 1, 12, 0)),  # 3 h
        Span(1, paris(2026, 12, 1, 14, 0), paris(2026, 12, 1, 18, 15)),  # 4 h 15
        Span(2, paris(2026, 12, 4, 20, 0), paris(2026, 12, 5, 2, 45)),  # Fri 4 h, Sat 2 h 45
        Span(2, paris(2026, 11, 29, 22, 0), paris(2026, 11, 30, 1, 0)),  # Sunday before: 1 h
        Span(2, paris(2026, 12, 6, 23, 0), paris(2026, 12, 7, 3, 0)),  # Sunday: 1 h
    ]
    assert minutes_by_day(spans, week, PARIS, NOW) == {
        1: [450, 435, 0, 0, 0, 0, 0],
        2: [60, 0, 0, 0, 240, 165, 60],
    }


def test_an_open_shift_counts_up_to_now_and_seconds_add_up_per_day():
    week = Week.parse("2026-W49")
    now = paris(2026, 12, 2, 11, 20, 30)
    spans = [
        Span(3, paris(2026, 12, 2, 9, 0), None),
        Span(4, paris(2026, 12, 2, 9, 0, 30), paris(2026, 12, 2, 9, 30, 0)),  # 29 min 30
        Span(4, paris(2026, 12, 2, 10, 0, 0), paris(2026, 12, 2, 10, 30, 30)),  # 30 min 30
    ]
    assert minutes_by_day(spans, week, PARIS, now) == {
        3: [0, 0, 140, 0, 0, 0, 0],
        4: [0, 0, 60, 0, 0, 0, 0],
    }


def test_the_night_the_clocks_go_forward_in_paris_lasts_an_hour_less():
    week = Week.parse("2026-W13")  # Sunday 29 March 2026: 2:00 becomes 3:00
    night = Span(1, paris(2026, 3, 28, 22, 0), paris(2026, 3, 29, 6, 0))
    sunday = Span(2, paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0))
    assert minutes_by_day([night, sunday], week, PARIS, NOW) == {
        1: [0, 0, 0, 0, 0, 120, 300],  # 7 hours in all, not 8
        2: [0, 0, 0, 0, 0, 0, 23 * 60],
    }


def test_the_night_the_clocks_go_back_in_paris_lasts_an_hour_more():
    week = Week.parse("2026-W43")  # Sunday 25 October 2026: 3:00 becomes 2:00
    night = Span(1, paris(2026, 10, 24, 22, 0), paris(2026, 10, 25, 6, 0))
    assert minutes_by_day([night], week, PARIS, NOW) == {1: [0, 0, 0, 0, 0, 120, 420]}
    assert week.bounds(PARIS)[1] - week.bounds(PARIS)[0] == paris(
        2026, 10, 26) - paris(2026, 10, 19)  # aware arithmetic in one zone is wall time
    start, end = week.bounds(PARIS)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == (7 * 24 + 1) * 3600
