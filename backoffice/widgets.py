"""A member's own dashboard widgets: list, add, configure, move, reorder and remove them.

A widget is its owner's alone: another member's (or another company's) answers as a missing
one. Its settings are a typed command (`WidgetSettings`), read from the widget form with
every bad field's message at once; what the form cannot tell (a range's end before its
start, a site the member may not see) the service refuses with the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.service import StaffIdentity
from backoffice.models import DashboardWidget
from backoffice.stat_names import choices
from errors import N_, InvalidInput, NotFound
from realtime.events import Tx
from web.commands import Collapsed, Command, Flag, FormValue, Id, Invalid

MAX_WIDGETS = 24  # a member's dashboard holds at most so many
MAX_RANGE_DAYS = 3 * 366
MAX_FILTER_IDS = 200

Measure = Literal["brews", "brews_category", "brews_product", "revenue", "orders", "tickets",
                  "basket", "turn_time", "topups"]
MEASURES: tuple[str, ...] = Measure.__args__  # type: ignore[attr-defined]
Period = Literal["today", "week", "month", "year", "range"]
PERIODS: tuple[str, ...] = Period.__args__  # type: ignore[attr-defined]
Values = Literal["absolute", "percent", "both"]
Chart = Literal["number", "bar", "line"]
FILTERS = {"sites": "site", "machines": "machine", "categories": "category"}


def _blank_is_none(value: str) -> str | None:
    return value.strip() or None


def _choose() -> Invalid:
    return Invalid(InvalidInput, N_("Choose one of the list."))


IdList = Annotated[list[Id], Field(max_length=MAX_FILTER_IDS),
                   Invalid(InvalidInput, N_("Choose from the list."))]
OptionalDate = Annotated[date | None, FormValue(_blank_is_none),
                         Invalid(InvalidInput, N_("Give a date, or leave it empty."))]


class WidgetSettings(Command):
    """What a widget shows and how: the widget form, or a JSON body alike."""

    title: Annotated[Collapsed, Field(min_length=1, max_length=80),
                     Invalid(InvalidInput, N_("Give a title of 1 to 80 characters."))]
    subtitle: Annotated[Collapsed, Field(max_length=120),
                        Invalid(InvalidInput, N_("At most 120 characters."))] = ""
    measure: Annotated[Measure, _choose()]
    sites: IdList = []
    machines: IdList = []
    categories: IdList = []
    period: Annotated[Period, _choose()] = "today"
    range_start: OptionalDate = None
    range_end: OptionalDate = None
    compare: Flag = False
    values: Annotated[Values, _choose()] = "absolute"
    chart: Annotated[Chart, _choose()] = "number"


class Move(Command):
    direction: Annotated[Literal["up", "down"], _choose()]


def form_shape(form: Mapping[str, str]) -> dict[str, Any]:
    """The widget form's tick boxes (`site-3`, `machine-5`, `category-7`) as lists of ids."""
    data: dict[str, Any] = {k: v for k, v in form.items() if "-" not in k}
    for field, kind in FILTERS.items():
        prefix = kind + "-"
        data[field] = [int(key[len(prefix):]) for key in form
                       if key.startswith(prefix) and key[len(prefix):].isdecimal()
                       and len(key) < 30]
    return data


def _refuse(field: str, message: str, **params: Any) -> InvalidInput:
    error = InvalidInput(message, **params)
    error.field = field
    return error


async def _check(session: AsyncSession, staff: StaffIdentity, settings: WidgetSettings) -> None:
    """What the form alone cannot tell: a whole range, and filters the member may use."""
    if settings.period == "range":
        start, end = settings.range_start, settings.range_end
        if start is None:
            raise _refuse("range_start", N_("Give the first day of the range."))
        if end is None:
            raise _refuse("range_end", N_("Give the last day of the range."))
        if end < start:
            raise _refuse("range_end", N_("The end comes after the start."))
        if (end - start).days >= MAX_RANGE_DAYS:
            raise _refuse("range_start", N_("At most three years at once."))
    for field, kind in FILTERS.items():
        wanted = set(getattr(settings, field))
        if wanted and not wanted <= {i for i, _ in await choices(
                session, staff.company_id, kind, staff.sites)}:
            raise _refuse(field, N_("Choose from the list."))


def _apply(widget: DashboardWidget, settings: WidgetSettings) -> None:
    widget.title = settings.title
    widget.subtitle = settings.subtitle
    widget.measure = settings.measure
    widget.filters = {field: sorted(set(getattr(settings, field))) for field in FILTERS}
    widget.period = settings.period
    ranged = settings.period == "range"
    widget.range_start = settings.range_start.isoformat() if ranged and settings.range_start \
        else None
    widget.range_end = settings.range_end.isoformat() if ranged and settings.range_end else None
    widget.compare = settings.compare
    widget.values = settings.values
    widget.chart = settings.chart


async def widgets_of(session: AsyncSession, staff: StaffIdentity) -> list[DashboardWidget]:
    """The member's widgets, in their order."""
    return list((await session.scalars(
        select(DashboardWidget).where(DashboardWidget.staff_id == staff.id,
                                      DashboardWidget.company_id == staff.company_id)
        .order_by(DashboardWidget.position, DashboardWidget.id))).all())


async def widget_of(session: AsyncSession, staff: StaffIdentity, widget_id: object
                    ) -> DashboardWidget:
    """The member's own widget; anyone else's answers as a missing one."""
    widget = await session.get(DashboardWidget, widget_id) if isinstance(widget_id, int) \
        else None
    if widget is None or widget.staff_id != staff.id or widget.company_id != staff.company_id:
        raise NotFound()
    return widget


async def add(tx: Tx, staff: StaffIdentity, settings: WidgetSettings) -> DashboardWidget:
    """A new widget, last on the member's dashboard."""
    session = tx.session
    count, last = (await session.execute(
        select(func.count(), func.max(DashboardWidget.position))
        .where(DashboardWidget.staff_id == staff.id))).one()
    if count >= MAX_WIDGETS:
        raise _refuse("_", N_("A dashboard holds at most %(most)s widgets: remove one "
                              "first."), most=MAX_WIDGETS)
    await _check(session, staff, settings)
    widget = DashboardWidget(company_id=staff.company_id, staff_id=staff.id,
                             position=(last if last is not None else -1) + 1)
    _apply(widget, settings)
    session.add(widget)
    await session.flush()
    return widget


async def configure(tx: Tx, staff: StaffIdentity, widget_id: int,
                    settings: WidgetSettings) -> DashboardWidget:
    widget = await widget_of(tx.session, staff, widget_id)
    await _check(tx.session, staff, settings)
    _apply(widget, settings)
    await tx.session.flush()
    return widget


async def remove(tx: Tx, staff: StaffIdentity, widget_id: int) -> None:
    widget = await widget_of(tx.session, staff, widget_id)
    await tx.session.delete(widget)
    await tx.session.flush()


def _number(widgets: Sequence[DashboardWidget]) -> None:
    for position, widget in enumerate(widgets):
        widget.position = position


async def move(tx: Tx, staff: StaffIdentity, widget_id: int, step: int) -> None:
    """One place up (-1) or down (+1); the first stays first, the last last."""
    widget = await widget_of(tx.session, staff, widget_id)
    widgets = await widgets_of(tx.session, staff)
    at = widgets.index(widget)
    to = max(0, min(len(widgets) - 1, at + step))
    widgets.insert(to, widgets.pop(at))
    _number(widgets)
    await tx.session.flush()


async def reorder(tx: Tx, staff: StaffIdentity, order: Sequence[int]) -> None:
    """The member's widgets in this order: every one of theirs, each once."""
    widgets = await widgets_of(tx.session, staff)
    by_id = {w.id: w for w in widgets}
    if sorted(order) != sorted(by_id):
        raise NotFound()
    _number([by_id[i] for i in order])
    await tx.session.flush()


def settings_of(widget: DashboardWidget) -> WidgetSettings:
    """A stored widget's settings, as its form shows them again."""
    filters = widget.filters or {}
    return WidgetSettings(
        title=widget.title, subtitle=widget.subtitle, measure=widget.measure,
        sites=list(filters.get("sites", [])), machines=list(filters.get("machines", [])),
        categories=list(filters.get("categories", [])),
        period=widget.period,
        range_start=date.fromisoformat(widget.range_start) if widget.range_start else None,
        range_end=date.fromisoformat(widget.range_end) if widget.range_end else None,
        compare=widget.compare, values=widget.values,
        chart=widget.chart)
