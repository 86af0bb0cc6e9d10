"""When a group's regular recharge is due: its periods, in the company's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from errors import N_, InvalidInput

EVERY = ("day", "week", "month")


class BadSchedule(InvalidInput):
    code = "bad_schedule"
    message = N_("A recharge runs every day, week or month, at a time like 07:00.")


def parse_time(value: object) -> time:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise BadSchedule()
    try:
        return time(int(value[:2]), int(value[3:]))
    except ValueError as error:
        raise BadSchedule() from error


def _start(every: str, day: date) -> date:
    """The day the period containing `day` starts: itself, its Monday, its first."""
    if every == "day":
        return day
    if every == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _previous(every: str, start: date) -> date:
    if every == "day":
        return start - timedelta(days=1)
    if every == "week":
        return start - timedelta(days=7)
    return (start - timedelta(days=1)).replace(day=1)


def _name(every: str, start: date) -> str:
    if every == "day":
        return start.isoformat()
    if every == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def current_period(every: str, at: str, tz: str, now: datetime) -> tuple[str, datetime]:
    """The latest period whose recharge time has passed: its name and when it was due."""
    if every not in EVERY:
        raise BadSchedule()
    at_time = parse_time(at)
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start = _start(every, local.date())
    due = datetime.combine(start, at_time, tzinfo=zone)
    if local < due:
        start = _previous(every, start)
        due = datetime.combine(start, at_time, tzinfo=zone)
    return _name(every, start), due
