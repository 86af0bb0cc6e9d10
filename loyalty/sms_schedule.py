"""When a commercial SMS may leave, pure: not between 20:00 and 08:00, nor on a Sunday, nor
on a French public holiday, all in the venue's time zone. A send asked for at a quiet time
is held until the next allowed instant.

The holidays are the `holidays` package's for France (maintained, with Easter's moving days
and each year's law); `subdiv` adds a region's own days, in the package's codes: "57"
(Moselle) and "6AE" (Alsace) add Good Friday and 26 December, "971" to "976" (overseas) the
abolition of slavery's day.
Operators' own rules vary around these (some close at 22:00, or on Saturday afternoons):
20:00-08:00 is the strictest common rule, so it is the one kept.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

OPENS = time(8, 0)
CLOSES = time(20, 0)
SUNDAY = 6


@lru_cache(maxsize=32)
def _calendar(subdiv: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", subdiv=subdiv)


def is_holiday(day: date, subdiv: str | None = None) -> bool:
    return day in _calendar(subdiv)


def open_day(day: date, subdiv: str | None = None) -> bool:
    return day.weekday() != SUNDAY and not is_holiday(day, subdiv)


def allowed(at: datetime, tz: tzinfo, subdiv: str | None = None) -> bool:
    local = at.astimezone(tz)
    return open_day(local.date(), subdiv) and OPENS <= local.time() < CLOSES


def next_allowed(at: datetime, tz: tzinfo, subdiv: str | None = None) -> datetime:
    """`at` itself when a commercial SMS may leave then, else 08:00 on the next open day,
    in the venue's zone. `at` must be aware: a naive time means nothing across zones."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("next_allowed needs an aware datetime")
    if allowed(at, tz, subdiv):
        return at
    local = at.astimezone(tz)
    day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
    while not open_day(day, subdiv):
        day += timedelta(days=1)
    return datetime.combine(day, OPENS, tzinfo=tz)
