"""What a statistics page was asked for (a range of local dates, a granularity, one site or
all, a measure, a dimension), read from its query string with each bad field's message;
and who asks (the `Scope` the statistics service answers within)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from accounts.models import Company
from accounts.service import StaffIdentity
from backoffice import stats
from backoffice.forms import Errors, check
from errors import N_, InvalidInput
from web.commands import Command, FormValue, Id, Invalid, form_integer
from web.i18n import gettext

DEFAULT_DAYS = 30  # a page opened without a range shows the last thirty days
MAX_DAYS = 3 * 366  # three years at most in one view
MAX_HOUR_DAYS = 31  # by hour: a month at most (744 buckets)
BAD_DATE = N_("Give a date.")


def _blank_is_none(value: str) -> str | None:
    return value.strip() or None


def _blank_or_integer(value: str) -> Any:
    return None if not value.strip() else form_integer(value)


def _chosen() -> Invalid:
    return Invalid(InvalidInput, N_("Choose one of the list."))


class StatsFilter(Command):
    """The query string of a statistics page; left out, a field takes its default."""

    start: Annotated[date | None, FormValue(_blank_is_none),
                     Invalid(InvalidInput, BAD_DATE)] = None
    end: Annotated[date | None, FormValue(_blank_is_none), Invalid(InvalidInput, BAD_DATE)] = None
    granularity: Annotated[Literal["month", "week", "day", "hour"], _chosen()] = "day"
    site: Annotated[Id | None, FormValue(_blank_or_integer), _chosen()] = None
    measure: Annotated[Literal["revenue", "tickets", "brews"], _chosen()] = "revenue"
    by: Annotated[Literal["site", "machine", "consumer", "group", "selection"],
                  _chosen()] = "site"
    format: Annotated[Literal["html", "csv", "xlsx"], _chosen()] = "html"


@dataclass(frozen=True)
class Asked:
    """A page's question, checked: the range is whole and within bounds."""

    start: date
    end: date
    granularity: stats.Granularity
    site: int | None
    measure: str
    by: str
    format: str

    @property
    def sites(self) -> frozenset[int]:
        return frozenset({self.site}) if self.site is not None else frozenset()


def read(request: Request, today: date, locale: str) -> tuple[Asked, Errors]:
    """The page's question (the defaults where a field was wrong), and the errors."""
    params = {key: value for key, value in request.query_params.items() if len(value) < 40}
    asked, errors = check(StatsFilter, params, locale)
    if asked is None:
        good = {k: v for k, v in params.items() if k not in errors}
        asked, _ = check(StatsFilter, good, locale)
        assert asked is not None  # every field has a default
    end = asked.end or today
    start = asked.start or end - timedelta(days=DEFAULT_DAYS - 1)
    granularity = stats.Granularity(asked.granularity)
    if start > end:
        errors["end"] = gettext(locale, N_("The end comes after the start."))
        start = end
    elif (end - start).days >= MAX_DAYS:
        errors["start"] = gettext(locale, N_("At most three years at once."))
        start = end - timedelta(days=MAX_DAYS - 1)
    if granularity is stats.Granularity.HOUR and (end - start).days >= MAX_HOUR_DAYS:
        errors["granularity"] = gettext(locale, N_("By hour, at most 31 days at once."))
        granularity = stats.Granularity.DAY
    return Asked(start, end, granularity, asked.site, asked.measure, asked.by,
                 asked.format), errors


@dataclass(frozen=True)
class Venue:
    """What the pages need of the company: its time zone and currency."""

    tz: str
    currency: str

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.tz)).date()


async def company_of(session: AsyncSession, staff: StaffIdentity) -> Venue:
    company = await session.get(Company, staff.company_id)
    assert company is not None  # a staff row refers to its company
    return Venue(company.timezone or "Europe/Paris", company.currency)


def scope_of(staff: StaffIdentity, company: Venue) -> stats.Scope:
    """What this member may see: their company, their sites (a site-limited member's)."""
    return stats.Scope(company_id=staff.company_id, sites=staff.sites, tz=company.tz)
