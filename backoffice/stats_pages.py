"""The statistics pages (REPORT): sales, tickets and brews over a range by month, week, day
or hour; the busiest days and hours as a heat map; consumption by consumer, group,
selection, machine and site. All sites of the member's or one; each table also as CSV and
as an Excel workbook (the same route, `format=csv` or `xlsx`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_time, get_day_names
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import site_for
from backoffice import charts, stat_filters, stats
from backoffice.forms import Errors, member_for
from backoffice.stat_filters import Asked, Venue
from backoffice.stat_names import choices, names
from backoffice.stat_tables import (
    PAGE_ROWS,
    Column,
    Formats,
    Kind,
    Table,
    as_csv,
    as_xlsx,
    bucket_label,
    dates_label,
    shown,
)
from backoffice.stat_tables import sorted_keys as keys_of
from errors import N_
from web.i18n import gettext
from web.state import app_state, locale_of
from web.templating import page

WIDE = 900  # a page's chart: drawn up to 960 px, scrolled sideways on a phone

# The measures of the sales page, each with its title and how its values are shown.
SALES: dict[str, tuple[stats.Measure, str, Kind]] = {
    "revenue": (stats.Measure.REVENUE, N_("Revenue"), "money"),
    "tickets": (stats.Measure.TICKETS, N_("Tickets"), "count"),
    "brews": (stats.Measure.BREWS, N_("Brews"), "count")}
BY = {"site": N_("Site"), "machine": N_("Machine"), "consumer": N_("Consumer"),
      "group": N_("Group"), "selection": N_("Selection")}
GRANULARITIES = {"month": N_("By month"), "week": N_("By week"), "day": N_("By day"),
                 "hour": N_("By hour")}


@dataclass
class View:
    """What a statistics page shows: the question, a chart, the table, the site choices."""

    asked: Asked
    chart: charts.Chart | None
    table: Table
    sites: list[tuple[int, str]]


Build = Callable[[AsyncSession, StaffIdentity, Venue, Asked, str], Awaitable[tuple[
    charts.Chart | None, Table]]]


async def _sales(session: AsyncSession, staff: StaffIdentity, venue: Venue, asked: Asked,
                 locale: str) -> tuple[charts.Chart | None, Table]:
    scope = stat_filters.scope_of(staff, venue)
    figures: dict[str, dict[str, float]] = {}
    for name, (measure, _, _) in SALES.items():
        rows = await stats.series(session, scope, stats.Query(
            measure=measure, start=asked.start, end=asked.end,
            granularity=asked.granularity, sites=asked.sites))
        figures[name] = {row.key: row.value for row in rows}
    buckets = keys_of(*(list(f) for f in figures.values()))
    table = Table(
        gettext(locale, N_("Sales")),
        (Column(gettext(locale, N_("Period")), "text"),
         *(Column(gettext(locale, title), kind) for _, title, kind in SALES.values())),
        tuple((bucket_label(key, locale, asked.granularity),
               *(figures[name].get(key, 0) for name in SALES)) for key in buckets))
    _, title, kind = SALES[asked.measure]
    formats = Formats(locale, venue.currency)
    points = [charts.Point(bucket_label(key, locale, asked.granularity),
                           figures[asked.measure].get(key, 0)) for key in buckets]
    chart = charts.line(points, formats.of(kind), gettext(locale, title),
                        gettext(locale, N_("Period")), gettext(locale, title), width=WIDE)
    return chart, table


async def _hours(session: AsyncSession, staff: StaffIdentity, venue: Venue, asked: Asked,
                 locale: str) -> tuple[charts.Chart | None, Table]:
    measure, title, kind = SALES[asked.measure]
    scope = stat_filters.scope_of(staff, venue)
    if asked.site is not None:  # one site's (the page checked it is the member's)
        scope = stats.Scope(staff.company_id, frozenset({asked.site}), venue.tz)
    cells = await stats.heat_map(session, scope, measure, asked.start, asked.end)
    names_of = get_day_names("abbreviated", locale=locale)
    days = [names_of[day] for day in range(7)]  # Babel's 0 is Monday
    hours = [format_time(time(hour), "short", locale=locale) for hour in range(24)]
    corner = gettext(locale, N_("Day"))
    formats = Formats(locale, venue.currency)
    chart = charts.heat_map({k: float(v) for k, v in cells.items()}, days,
                            formats.of(kind), gettext(locale, title),
                            corner, hours, width=WIDE)
    table = Table(gettext(locale, N_("Busiest hours")),
                  (Column(corner, "text"), *(Column(h, kind) for h in hours)),
                  tuple((day, *(cells.get((row, hour), 0) for hour in range(24)))
                        for row, day in enumerate(days, start=1)))
    return chart, table


async def _consumption(session: AsyncSession, staff: StaffIdentity, venue: Venue,
                       asked: Asked, locale: str) -> tuple[charts.Chart | None, Table]:
    """Brews by the chosen dimension; by site, the sites' revenue and tickets beside."""
    scope = stat_filters.scope_of(staff, venue)

    # The page shows the first rows only: it asks the database for them (the exports, all).
    top = PAGE_ROWS if asked.format == "html" else None

    async def by_dimension(measure: stats.Measure) -> dict[str, float]:
        return {row.key: row.value for row in await stats.series(session, scope, stats.Query(
            measure=measure, start=asked.start, end=asked.end, sites=asked.sites,
            by=asked.by, top=top))}

    brews = await by_dimension(stats.Measure.BREWS)
    beside = [(key, await by_dimension(measure)) for key, (measure, _, _) in SALES.items()
              if key != "brews"] if asked.by == "site" else []
    keys = set(brews).union(*(values for _, values in beside))
    ids = [int(key) for key in keys if key.isdecimal()]
    # Consumers' names are for those who may see the people (Permission.PEOPLE).
    known = await names(session, staff.company_id, asked.by, ids) if (
        asked.by != "consumer" or staff.may(Permission.PEOPLE)) else {}
    total = (await stats.figure(session, scope, stats.Query(
        stats.Measure.BREWS, asked.start, asked.end, sites=asked.sites))
        if top is not None and len(brews) >= top else sum(brews.values())) or 1
    ranked = sorted(keys, key=lambda key: (-brews.get(key, 0), key))
    label = gettext(locale, BY[asked.by])

    def name(key: str) -> str:
        return known.get(int(key), f"{label} #{key}") if key.isdecimal() else key

    table = Table(gettext(locale, N_("Consumption")),
                  (Column(label, "text"), Column(gettext(locale, N_("Brews"))),
                   Column(gettext(locale, N_("Share")), "percent"),
                   *(Column(gettext(locale, SALES[key][1]), SALES[key][2])
                     for key, _ in beside)),
                  tuple((name(key), brews.get(key, 0), brews.get(key, 0) / total,
                         *(values.get(key, 0) for _, values in beside)) for key in ranked))
    formats = Formats(locale, venue.currency)
    chart = charts.bar([charts.Point(name(key), brews.get(key, 0)) for key in ranked[:12]],
                       formats.of("count"), gettext(locale, N_("Brews")), label,
                       gettext(locale, N_("Brews")), width=WIDE) if ranked else None
    return chart, table


PAGES: dict[str, tuple[Build, str, str]] = {
    "sales": (_sales, "backoffice/stats.html", "sales"),
    "hours": (_hours, "backoffice/stats.html", "busiest-hours"),
    "consumption": (_consumption, "backoffice/stats.html", "consumption"),
}


def _export(table: Table, asked: Asked, currency: str, name: str) -> Response:
    where = f"-site-{asked.site}" if asked.site is not None else ""
    filename = f"{name}-{asked.start}-{asked.end}{where}.{asked.format}"
    if asked.format == "csv":
        data, media = as_csv(table, currency), "text/csv; charset=utf-8"
    else:
        data = as_xlsx(table, currency)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _page(request: Request, which: str) -> Response:
    staff = await member_for(request, Permission.REPORT)
    if isinstance(staff, Response):
        return staff
    locale = locale_of(request)
    build, template, filename = PAGES[which]
    async with app_state(request).sessionmaker() as session:
        venue = await stat_filters.company_of(session, staff)
        asked, errors = stat_filters.read(request, venue.today(), locale)
        if asked.site is not None:
            await site_for(session, staff, asked.site)  # another's site: as a missing one
        chart, table = await build(session, staff, venue, asked, locale)
        sites = await choices(session, staff.company_id, "site", staff.sites)
    if asked.format != "html" and not errors:
        return _export(table, asked, venue.currency, filename)
    return _render(request, template, staff, View(asked, chart, table, sites), errors,
                   Formats(locale, venue.currency), which)


def _render(request: Request, template: str, staff: StaffIdentity, view: View,
            errors: Errors, formats: Formats, which: str) -> Response:
    asked = view.asked
    query: dict[str, Any] = {"start": asked.start, "end": asked.end,
                             "granularity": asked.granularity.value,
                             "site": asked.site or "", "measure": asked.measure,
                             "by": asked.by}
    locale = formats.locale
    return page(
        request, template, status=422 if errors else 200, staff=staff, view=view,
        errors=errors, cells=shown(view.table, formats), which=which,
        hidden=max(0, len(view.table.rows) - PAGE_ROWS), page_rows=PAGE_ROWS,
        dates=dates_label(asked.start, asked.end, locale),
        export=lambda kind: f"{request.url.path}?{urlencode({**query, 'format': kind})}",
        site_options=[("", gettext(locale, N_("All my sites"))),
                      *((str(i), name) for i, name in view.sites)],
        granularity_options=[(k, gettext(locale, v)) for k, v in GRANULARITIES.items()],
        measure_options=[(k, gettext(locale, v[1])) for k, v in SALES.items()],
        dimension_options=[(k, gettext(locale, v)) for k, v in BY.items()])


async def sales_page(request: Request) -> Response:
    return await _page(request, "sales")


async def hours_page(request: Request) -> Response:
    return await _page(request, "hours")


async def consumption_page(request: Request) -> Response:
    return await _page(request, "consumption")


routes = [
    Route("/backoffice/stats", sales_page, methods=["GET"]),
    Route("/backoffice/stats/hours", hours_page, methods=["GET"]),
    Route("/backoffice/stats/consumption", consumption_page, methods=["GET"]),
]
