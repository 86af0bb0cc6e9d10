"""When a commercial SMS may leave: quiet hours, Sundays and French public holidays in the
venue's time zone. Pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.sms_schedule import allowed, is_holiday, next_allowed

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")  # UTC+4 all year
MARTINIQUE = ZoneInfo("America/Martinique")  # UTC-4 all year


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("at", "held_until"), [
    ("2026-07-08 08:00", None),  # a Wednesday: the day opens at 08:00
    ("2026-07-08 19:59:59", None),
    ("2026-07-08 20:00", "2026-07-09 08:00"),  # 20:00 is quiet already
    ("2026-07-08 23:30", "2026-07-09 08:00"),
    ("2026-07-09 07:59", "2026-07-09 08:00"),
    ("2026-07-09 00:00", "2026-07-09 08:00"),
    ("2026-07-11 14:00", None),  # a Saturday is a working day
    ("2026-07-11 20:00", "2026-07-13 08:00"),  # Saturday night: Sunday skipped
    ("2026-07-12 10:00", "2026-07-13 08:00"),  # a Sunday, at any hour
])
def test_quiet_hours_and_sundays_in_paris(at: str, held_until: str | None) -> None:
    expected = paris(held_until) if held_until else paris(at)
    assert next_allowed(paris(at), PARIS) == expected
    assert allowed(paris(at), PARIS) is (held_until is None)


@pytest.mark.parametrize(("at", "held_until"), [
    ("2026-07-14 11:00", "2026-07-15 08:00"),  # Bastille Day, a Tuesday
    ("2026-07-13 20:00", "2026-07-15 08:00"),  # the evening before: the 14th is skipped
    ("2026-04-04 20:30", "2026-04-07 08:00"),  # Easter Saturday: Sunday, Easter Monday
    ("2026-04-06 09:00", "2026-04-07 08:00"),  # Easter Monday
    ("2026-05-13 20:30", "2026-05-15 08:00"),  # the eve of Ascension (Thursday 14 May)
    ("2026-05-25 12:00", "2026-05-26 08:00"),  # Whit Monday
    ("2026-12-24 21:00", "2026-12-26 08:00"),  # Christmas; 26 December is open in Paris
    ("2027-05-01 10:00", "2027-05-03 08:00"),  # Labour Day on a Saturday, then Sunday
])
def test_french_public_holidays_are_quiet_days(at: str, held_until: str) -> None:
    assert next_allowed(paris(at), PARIS) == paris(held_until)


def test_holidays_come_from_the_calendar_of_each_year() -> None:
    assert is_holiday(paris("2026-05-14").date())  # Ascension 2026
    assert is_holiday(paris("2027-05-06").date())  # Ascension 2027 moves with Easter
    assert not is_holiday(paris("2026-05-06").date())
    assert is_holiday(paris("2030-07-14").date())


def test_alsace_moselle_adds_good_friday_and_saint_stephen() -> None:
    good_friday = paris("2026-04-03 10:00")
    assert next_allowed(good_friday, PARIS) == good_friday
    assert next_allowed(good_friday, PARIS, subdiv="57") == paris("2026-04-04 08:00")
    assert next_allowed(paris("2026-12-24 21:00"), PARIS, subdiv="6AE") == paris(
        "2026-12-28 08:00")  # 25th, 26th, then Sunday 27th


def test_the_change_to_summer_time() -> None:
    # Saturday 28 March 2026 at 21:00 (UTC+1): held over Sunday, when clocks go forward, to
    # Monday 08:00 at UTC+2, which is 06:00 UTC.
    held = next_allowed(paris("2026-03-28 21:00"), PARIS)
    assert held == utc("2026-03-30 06:00")
    assert held.utcoffset() == timedelta(hours=2)
    # The same UTC clock time a week apart: 07:30 in Paris before, 08:30 after.
    assert not allowed(utc("2026-03-27 06:30"), PARIS)
    assert allowed(utc("2026-03-30 06:30"), PARIS)
    assert next_allowed(utc("2026-03-27 06:30"), PARIS) == utc("2026-03-27 07:00")


def test_the_change_to_winter_time() -> None:
    held = next_allowed(paris("2026-10-24 20:30"), PARIS)  # UTC+2; clocks go back Sunday
    assert held == utc("2026-10-26 07:00")
    assert held.utcoffset() == timedelta(hours=1)
    assert allowed(utc("2026-10-26 19:30"), PARIS) is False  # 20:30 in winter
    assert allowed(utc("2026-10-23 17:30"), PARIS) is True  # 19:30 in summer


def test_a_venue_in_another_time_zone_keeps_its_own_clock() -> None:
    monday_evening = utc("2026-07-13 16:30")  # 18:30 in Paris, 20:30 in Réunion
    assert next_allowed(monday_evening, PARIS) == monday_evening
    held = next_allowed(monday_evening, REUNION)  # then 14 July, a holiday there too
    assert held == datetime(2026, 7, 15, 8, 0, tzinfo=REUNION)
    assert held == utc("2026-07-15 04:00")
    night_in_paris = utc("2026-07-13 23:30")  # 01:30 in Paris, 19:30 in Martinique
    assert not allowed(night_in_paris, PARIS)
    assert next_allowed(night_in_paris, MARTINIQUE) == night_in_paris


def test_overseas_days_with_the_venues_subdivision() -> None:
    abolition = datetime(2027, 12, 20, 10, 0, tzinfo=REUNION)  # a Monday in Réunion
    assert next_allowed(abolition, REUNION) == abolition
    assert next_allowed(abolition, REUNION, subdiv="974") == datetime(
        2027, 12, 21, 8, 0, tzinfo=REUNION)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        next_allowed(datetime(2026, 7, 8, 12, 0), PARIS)


ZONES = st.sampled_from([PARIS, REUNION, MARTINIQUE, ZoneInfo("Europe/London")])


@settings(max_examples=80, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2031, 1, 1),
                    timezones=st.just(UTC)), ZONES)
def test_next_allowed_is_the_first_allowed_instant(at: datetime, tz: ZoneInfo) -> None:
    held = next_allowed(at, tz)
    assert allowed(held, tz)
    assert next_allowed(held, tz) == held
    if allowed(at, tz):
        assert held == at
    else:
        # Held to a day's opening, and no later than needed: no allowed window (12 hours
        # long) lies between, and nothing waits longer than a long weekend of holidays.
        assert held > at and held.astimezone(tz).time().isoformat() == "08:00:00"
        assert held - at < timedelta(days=4)
        step = at
        while step < held:
            assert not allowed(step, tz)
            step += timedelta(minutes=30)
