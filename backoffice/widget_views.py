"""What a dashboard widget shows: its period's dates (and the previous period's), its figure
or its chart, as absolute values, percentages or both; and whether it is live (its period
includes today, so that new sales and brews move it).

Percentages: a number's change against the previous period; a chart's points, each one's
share of the period's whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_time
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.service import StaffIdentity
from backoffice import charts, stats
from backoffice.facts import PTYPES
from backoffice.models import DashboardWidget
from backoffice.periods import Period, Span, previous, span_of
from backoffice.stat_filters import Venue, scope_of
from backoffice.stat_names import names
from backoffice.stat_tables import Formats, Kind, bucket_label, dates_label
from errors import N_
from web.i18n import gettext
from web.templating import environment

# A widget's measure: the statistics' measure, what it counts by (if anything), its kind.
MEASURES: dict[str, tuple[stats.Measure, str | None, Kind]] = {
    "brews": (stats.Measure.BREWS, None, "count"),
    "brews_category": (stats.Measure.BREWS, "ptype", "count"),  # the drink's type
    "brews_product": (stats.Measure.BREWS, "product", "count"),
    "revenue": (stats.Measure.REVENUE, None, "money"),
    "orders": (stats.Measure.ORDERS, None, "count"),
    "tickets": (stats.Measure.TICKETS, None, "count"),
    "basket": (stats.Measure.BASKET, None, "money"),
    "turn_time": (stats.Measure.TURN_TIME, None, "seconds"),
    "topups": (stats.Measure.TOPUPS, None, "money"),
}
MEASURE_NAMES = {
    "brews": N_("Brews"), "brews_category": N_("Brews by category"),
    "brews_product": N_("Brews by product"), "revenue": N_("Revenue"),
    "orders": N_("Orders"), "tickets": N_("Tickets"), "basket": N_("Average basket"),
    "turn_time": N_("Table turn time"), "topups": N_("Credit topped up"),
}
# Whose names a breakdown's ids are: a machine's drinks are its products.
NAME_KINDS = {"product": "drink"}


def drink_types(ids: list[int], locale: str) -> dict[int, str]:
    """Drink types' names (ids: backoffice/facts.py PTYPES), as the machines' pages say them."""
    label = environment(locale).get_template("machines/_labels.html").module.drink_type  # type: ignore[attr-defined]
    return {i: str(label(PTYPES[i - 1])) for i in ids if 0 < i <= len(PTYPES)}
TOP = 10  # a breakdown shows its ten largest


def spans(period: str, today: date, start: date | None = None,
          end: date | None = None) -> tuple[Span, Span]:
    """The period's dates (local, inclusive) and the previous period's, of the same kind
    (a range without its dates, as stored by an older form: today's)."""
    kind = Period(period) if period in Period.__members__.values() else Period.TODAY
    if kind is Period.RANGE and (start is None or end is None):
        kind = Period.TODAY
    now = span_of(kind, today, start, end)
    return now, previous(kind, now)


def granularity_of(period: str, span: Span) -> stats.Granularity:
    """A line's points: hours of a day, days of a week or month, months of a year."""
    if period == "today" or span.days <= 2:
        return stats.Granularity.HOUR
    if period == "year" or span.days > 92:
        return stats.Granularity.MONTH
    return stats.Granularity.DAY


def change(now: float, before: float) -> float | None:
    """The change against the previous period, as a fraction (None: nothing before)."""
    return None if not before else (now - before) / abs(before)


@dataclass(frozen=True)
class WidgetView:
    widget: DashboardWidget
    span: Span
    dates: str  # the span, as people read it
    live: bool
    kind: Kind
    value: str | None = None  # a number's figure, formatted
    before: str | None = None  # the previous period's, formatted
    change: str | None = None  # against the previous period, formatted
    rising: bool | None = None
    chart: charts.Chart | None = None


def _shown(value: float, total: float, values: str, formats: Formats, kind: Kind) -> str:
    share = formats.value(value / total if total else 0, "percent")
    if values == "percent":
        return share
    absolute = formats.value(value, kind)
    return f"{absolute} ({share})" if values == "both" else absolute


async def view_of(session: AsyncSession, staff: StaffIdentity, venue: Venue,
                  widget: DashboardWidget, locale: str) -> WidgetView:
    measure, by, kind = MEASURES.get(widget.measure, MEASURES["revenue"])
    today = venue.today()
    start = date.fromisoformat(widget.range_start) if widget.range_start else None
    end = date.fromisoformat(widget.range_end) if widget.range_end else None
    now, earlier_span = spans(widget.period, today, start, end)
    granularity = granularity_of(widget.period, now)
    live = now.start <= today <= now.end
    dates = dates_label(now.start, now.end, locale)
    filters = widget.filters or {}

    moment = datetime.now(ZoneInfo(venue.tz))
    current = moment.strftime("%Y-%m-%dT%H") if granularity is stats.Granularity.HOUR \
        else today.isoformat()

    def so_far(rows: list[stats.Row]) -> list[stats.Row]:
        """A running period's buckets up to now: the future is not a fall to nothing."""
        return [row for row in rows if row.key <= current] if live else rows

    def label(key: str) -> str:
        """A bucket's label; a day's hours without the day."""
        if granularity is stats.Granularity.HOUR and now.days == 1 and len(key) == 13:
            return format_time(time(int(key[11:13])), "short", locale=locale)
        return bucket_label(key, locale, granularity)

    scope = scope_of(staff, venue)
    formats = Formats(locale, venue.currency)

    def query(span: Span, granularity: stats.Granularity | None = None,
              dimension: str | None = None) -> stats.Query:
        return stats.Query(measure=measure, start=span.start, end=span.end,
                           granularity=granularity, by=dimension,
                           sites=frozenset(filters.get("sites", [])),
                           machines=frozenset(filters.get("machines", [])),
                           categories=frozenset(filters.get("categories", [])))

    title = gettext(locale, MEASURE_NAMES.get(widget.measure, "Revenue"))
    if widget.chart == "number" and by is None:
        value = await stats.figure(session, scope, query(now))
        view = WidgetView(widget, now, dates, live, kind, value=formats.value(value, kind))
        if widget.compare:
            before = await stats.figure(session, scope, query(earlier_span))
            moved = change(value, before)
            view = WidgetView(
                widget, now, dates, live, kind, value=formats.value(value, kind),
                before=formats.value(before, kind),
                change=None if moved is None else ("+" if moved > 0 else "")
                + formats.value(moved, "percent"),
                rising=None if moved is None else moved >= 0)
        if widget.values == "percent" and view.change is not None:
            view = WidgetView(widget, now, dates, live, kind, value=view.change, before=view.before,
                              rising=view.rising)
        return view
    if by is not None or widget.chart == "bar":
        rows = await stats.series(session, scope, query(
            now, None if by else granularity, by))
        rows = rows if by else so_far(rows)
        if by is not None:
            rows = sorted(rows, key=lambda row: (-row.value, row.key))[:TOP]
            ids = [int(r.key) for r in rows if r.key.isdecimal()]
            known = drink_types(ids, locale) if by == "ptype" else await names(
                session, staff.company_id, NAME_KINDS[by], ids)
            labels = [known.get(int(r.key), f"#{r.key}") if r.key.isdecimal() else r.key
                      for r in rows]
        else:
            labels = [label(r.key) for r in rows]
        total = sum(r.value for r in rows)
        shares = widget.values == "percent"
        points = [charts.Point(text, r.value / total if shares and total else r.value)
                  for text, r in zip(labels, rows, strict=True)]
        chart = charts.bar(points, _fmt(formats, kind, total, widget.values), title,
                           gettext(locale, N_("Period")) if by is None else title,
                           gettext(locale, N_("Value")))
        return WidgetView(widget, now, dates, live, kind, chart=chart)
    rows = so_far(await stats.series(session, scope, query(now, granularity)))
    earlier = await stats.series(session, scope, query(earlier_span, granularity)) \
        if widget.compare else None
    total = sum(r.value for r in rows)
    shares = widget.values == "percent"
    points = [charts.Point(label(r.key),
                           r.value / total if shares and total else r.value) for r in rows]
    compared = None
    if earlier is not None:
        whole = sum(r.value for r in earlier)
        compared = [charts.Point(label(r.key),
                                 r.value / whole if shares and whole else r.value)
                    for r in earlier]
    chart = charts.line(points, _fmt(formats, kind, total, widget.values), title,
                        gettext(locale, N_("Period")), gettext(locale, N_("Value")), compared,
                        gettext(locale, N_("Previous period")))
    return WidgetView(widget, now, dates, live, kind, chart=chart)


def _fmt(formats: Formats, kind: Kind, total: float, values: str) -> charts.Format:
    if values == "percent":
        return formats.of("percent")
    if values == "both":
        return lambda value: _shown(value, total, "both", formats, kind)
    return formats.of(kind)
