"""Each member's own dashboard (REPORT): their widgets in their order, each one's form, and
each widget alone as a fragment, fetched again when the statistics move (the live topic
`stats:{company_id}` while the page is open: static/dashboard.js)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice import widget_views, widgets
from backoffice.forms import (
    Errors,
    confirmed,
    done,
    member_for,
    read_form,
    refused,
    signed_in,
)
from backoffice.stat_filters import company_of
from backoffice.stat_names import choices
from backoffice.widgets import Move, WidgetSettings
from errors import N_, InvalidInput
from realtime import topics
from realtime.events import Tx
from web.commands import command
from web.i18n import gettext
from web.state import app_state, locale_of, run_tx
from web.templating import page

HOME = "/backoffice/dashboard"


async def _reporter(request: Request) -> StaffIdentity:
    staff = await signed_in(request)
    staff.require(Permission.REPORT)
    return staff


def _topics(staff: StaffIdentity) -> list[str]:
    """The company's statistics topic, once a room registered its kind (backoffice/rollups)."""
    topic = f"stats:{staff.company_id}"
    return [topic] if topics.parse(topic) is not None else []


async def dashboard(request: Request) -> Response:
    staff = await member_for(request, Permission.REPORT)
    if isinstance(staff, Response):
        return staff
    locale = locale_of(request)
    async with app_state(request).sessionmaker() as session:
        venue = await company_of(session, staff)
        views = [await widget_views.view_of(session, staff, venue, widget, locale)
                 for widget in await widgets.widgets_of(session, staff)]
    return page(request, "backoffice/dashboard.html", staff=staff, views=views,
                topics=_topics(staff), measure_names=widget_views.MEASURE_NAMES,
                moved=request.query_params.get("moved", ""))


async def widget_fragment(request: Request) -> Response:
    """One widget, as the dashboard shows it: what htmx fetches when the figures move."""
    staff = await _reporter(request)
    locale = locale_of(request)
    async with app_state(request).sessionmaker() as session:
        venue = await company_of(session, staff)
        widget = await widgets.widget_of(session, staff, request.path_params["widget_id"])
        view = await widget_views.view_of(session, staff, venue, widget, locale)
        order = [w.id for w in await widgets.widgets_of(session, staff)]
    return page(request, "backoffice/_widget.html", staff=staff, view=view,
                measure_names=widget_views.MEASURE_NAMES, first=order[0] == widget.id,
                last=order[-1] == widget.id)


def _values_of(settings: WidgetSettings) -> dict[str, Any]:
    """A widget's settings as its form shows them: strings, ticked boxes by id."""
    data: dict[str, Any] = {
        "title": settings.title, "subtitle": settings.subtitle, "measure": settings.measure,
        "period": settings.period, "values": settings.values, "chart": settings.chart,
        "range_start": settings.range_start.isoformat() if settings.range_start else "",
        "range_end": settings.range_end.isoformat() if settings.range_end else "",
        "compare": "on" if settings.compare else ""}
    for field, kind in widgets.FILTERS.items():
        data.update({f"{kind}-{i}": "on" for i in getattr(settings, field)})
    return data


async def _form(request: Request, staff: StaffIdentity, values: dict[str, Any],
                errors: Errors, widget_id: int | None, status: int = 200) -> Response:
    async with app_state(request).sessionmaker() as session:
        options = {kind: await choices(session, staff.company_id, kind, staff.sites)
                   for kind in widgets.FILTERS.values()}
    locale = locale_of(request)

    def listed(labels: dict[str, str]) -> list[tuple[str, str]]:
        return [(key, gettext(locale, label)) for key, label in labels.items()]

    return page(request, "backoffice/widget_form.html", status=status, staff=staff,
                values=values, errors=errors, widget_id=widget_id, options=options,
                measure_options=listed(widget_views.MEASURE_NAMES),
                period_options=listed(PERIOD_NAMES), values_options=listed(VALUES_NAMES),
                chart_options=listed(CHART_NAMES))


PERIOD_NAMES = {"today": N_("Today"), "week": N_("This week"), "month": N_("This month"),
                "year": N_("This year"), "range": N_("A chosen range")}
VALUES_NAMES = {"absolute": N_("Absolute values"), "percent": N_("Percentages"),
                "both": N_("Both")}
CHART_NAMES = {"number": N_("A number"), "bar": N_("A bar chart"), "line": N_("A line chart")}


NEW = {"title": "", "subtitle": "", "measure": "revenue", "period": "today",
       "values": "absolute", "chart": "number", "compare": "on"}


async def new_widget(request: Request) -> Response:
    staff = await member_for(request, Permission.REPORT)
    if isinstance(staff, Response):
        return staff
    return await _form(request, staff, dict(NEW), {}, None)


async def edit_widget(request: Request) -> Response:
    staff = await member_for(request, Permission.REPORT)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        widget = await widgets.widget_of(session, staff, request.path_params["widget_id"])
    return await _form(request, staff, _values_of(widgets.settings_of(widget)), {}, widget.id)


async def _save(request: Request, widget_id: int | None) -> Response:
    staff = await _reporter(request)
    if widget_id is not None:  # someone else's widget: as a missing one, before the form
        async with app_state(request).sessionmaker() as session:
            await widgets.widget_of(session, staff, widget_id)
    settings, typed, errors = await read_form(request, WidgetSettings, widgets.form_shape)
    if settings is not None:
        chosen = settings

        async def act(tx: Tx) -> int:
            if widget_id is None:
                return (await widgets.add(tx, staff, chosen)).id
            return (await widgets.configure(tx, staff, widget_id, chosen)).id

        try:
            saved = await run_tx(request, act)
        except InvalidInput as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, f"{HOME}#widget-{saved}")
    return await _form(request, staff, typed, errors, widget_id, 422)


async def add_widget(request: Request) -> Response:
    return await _save(request, None)


async def save_widget(request: Request) -> Response:
    return await _save(request, request.path_params["widget_id"])


async def move_widget(request: Request) -> Response:
    staff = await _reporter(request)
    widget_id = request.path_params["widget_id"]
    move = await command(request, Move)
    await run_tx(request, lambda tx: widgets.move(
        tx, staff, widget_id, -1 if move.direction == "up" else 1))
    return done(request, f"{HOME}?moved={widget_id}#widget-{widget_id}")


async def remove_widget(request: Request) -> Response:
    staff = await _reporter(request)
    widget_id = request.path_params["widget_id"]
    return await confirmed(request, lambda tx: widgets.remove(tx, staff, widget_id), HOME)


routes = [
    Route(HOME, dashboard, methods=["GET"]),
    Route(f"{HOME}/widgets", add_widget, methods=["POST"]),
    Route(f"{HOME}/widgets/new", new_widget, methods=["GET"]),
    Route(f"{HOME}/widgets/{{widget_id:id}}", widget_fragment, methods=["GET"]),
    Route(f"{HOME}/widgets/{{widget_id:id}}", save_widget, methods=["POST"]),
    Route(f"{HOME}/widgets/{{widget_id:id}}/edit", edit_widget, methods=["GET"]),
    Route(f"{HOME}/widgets/{{widget_id:id}}/move", move_widget, methods=["POST"]),
    Route(f"{HOME}/widgets/{{widget_id:id}}/remove", remove_widget, methods=["POST"]),
]
