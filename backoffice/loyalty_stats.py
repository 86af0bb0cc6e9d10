"""Loyalty's statistics page (REPORT): the identified customers' visits, new and returning
customers, revenue and basket, the cost of the rewards taken against what they spent, the
most chosen rewards, the last customers and rewards, the busiest days and hours; over a
range of days, all the member's sites or one. The figures come from loyalty/figures.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from babel.dates import format_time, get_day_names
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import site_for
from backoffice import charts, stat_filters
from backoffice.forms import member_for
from backoffice.periods import Period, span_of
from backoffice.stat_filters import Venue
from backoffice.stat_names import choices
from backoffice.stat_tables import Formats, dates_label
from errors import N_
from loyalty import figures
from loyalty.programme import programme_of
from web.i18n import gettext
from web.state import app_state, locale_of
from web.templating import page

WIDE = 900


def window_of(staff: StaffIdentity, venue: Venue, start: date, end: date,
              site: int | None) -> figures.Window:
    """The member's window: their company, the site asked (theirs: the caller checked it),
    else every site they may see."""
    sites = frozenset({site}) if site is not None else staff.sites
    return figures.window(staff.company_id, start, end, sites, venue.tz)


def heat_chart(cells: dict[tuple[int, int], int], locale: str) -> charts.Chart:
    names_of = get_day_names("abbreviated", locale=locale)
    days = [names_of[day] for day in range(7)]  # Babel's 0 is Monday
    hours = [format_time(time(hour), "short", locale=locale) for hour in range(24)]
    count = Formats(locale, "").of("count")
    return charts.heat_map({k: float(v) for k, v in cells.items()}, days, count,
                           gettext(locale, N_("Visits by day and hour")),
                           gettext(locale, N_("Day")), hours, width=WIDE)


async def _figures(session: AsyncSession, staff: StaffIdentity, window: figures.Window
                   ) -> figures.Figures | None:
    """None: the company's programme is off."""
    if not (await programme_of(session, staff.company_id)).enabled:
        return None
    return await figures.figures(session, window)


@dataclass(frozen=True)
class Week:
    """This week so far, for the home's loyalty block."""

    start: date
    end: date
    totals: figures.Totals
    currency: str
    share: str  # the cost against revenue, as the locale shows a percentage


async def this_week(session: AsyncSession, staff: StaffIdentity, site: int | None,
                    locale: str) -> Week | None:
    """None: not for this member (no REPORT), or the programme is off. `site`: one of the
    member's sites (the home checked it), or None for all of them."""
    if not staff.may(Permission.REPORT) or not (
            await programme_of(session, staff.company_id)).enabled:
        return None
    venue = await stat_filters.company_of(session, staff)
    week = span_of(Period.WEEK, venue.today())
    totals = await figures.totals(session, window_of(staff, venue, week.start, week.end, site))
    share = totals.cost_share
    return Week(week.start, week.end, totals, venue.currency,
                Formats(locale, venue.currency).value(share, "percent")
                if share is not None else "–")


async def loyalty_page(request: Request) -> Response:
    staff = await member_for(request, Permission.REPORT)
    if isinstance(staff, Response):
        return staff
    locale = locale_of(request)
    async with app_state(request).sessionmaker() as session:
        venue = await stat_filters.company_of(session, staff)
        asked, errors = stat_filters.read(request, venue.today(), locale)
        if asked.site is not None:
            await site_for(session, staff, asked.site)  # another's site: as a missing one
        found = await _figures(session, staff,
                               window_of(staff, venue, asked.start, asked.end, asked.site))
        sites = await choices(session, staff.company_id, "site", staff.sites)
    formats = Formats(locale, venue.currency)
    share = found.totals.cost_share if found is not None else None
    return page(
        request, "backoffice/loyalty.html", status=422 if errors else 200, staff=staff,
        asked=asked, errors=errors, figures=found, currency=venue.currency, tz=venue.tz,
        dates=dates_label(asked.start, asked.end, locale),
        share=formats.value(share, "percent") if share is not None else "–",
        heat=heat_chart(found.heat, locale) if found is not None and not found.empty else None,
        # Customers' names are for those who may see the customers (Permission.CUSTOMERS).
        names=staff.may(Permission.CUSTOMERS),
        site_options=[("", gettext(locale, N_("All my sites"))),
                      *((str(i), name) for i, name in sites)])


routes = [Route("/backoffice/loyalty", loyalty_page, methods=["GET"])]
