"""The hours page: per person and day of a week, the time clocked at the sites a manager
may see (HOURS), with a CSV export and the closing of a forgotten clock-out."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from pydantic import Field, Strict
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned_by, site_for
from backoffice.forms import Errors, done, member_for, read_form, refused, scoped, signed_in
from errors import N_, InvalidInput
from pos import clock, shifts
from pos.errors import BadClockOut, ReasonNeeded
from pos.weeks import Week
from realtime.events import Tx
from web.commands import Collapsed, Command, Invalid
from web.i18n import gettext
from web.state import locale_of, run_tx
from web.templating import page

DURATION = N_("%(hours)s h %(minutes)s")  # 7 h 30
LOCAL_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"  # as <input type=datetime-local>


class CloseShift(Command):
    """A forgotten clock-out: when the person left (the company's local time) and why."""

    clocked_out_at: Annotated[str, Strict(), Field(pattern=LOCAL_TIME), Invalid(BadClockOut)]
    reason: Annotated[Collapsed, Field(min_length=1, max_length=shifts.MAX_REASON),
                      Invalid(ReasonNeeded)]


def duration(minutes: int, locale: str) -> str:
    """Hours and minutes the locale's way: "7 h 30" in French, "7h 30m" in English."""
    hours, rest = divmod(minutes, 60)
    return gettext(locale, DURATION) % {"hours": hours,
                                                          "minutes": f"{rest:02d}"}


@dataclass(frozen=True)
class Chosen:
    """What the page shows: which sites (one, or all the manager's), which week."""

    site: Site | None
    sites: list[Site]  # every site the manager may see, for the filter
    week: Week
    tz: ZoneInfo

    @property
    def site_ids(self) -> list[int]:
        return [self.site.id] if self.site else [s.id for s in self.sites]

    def query(self, **more: object) -> str:
        params = {"site": self.site.id if self.site else "", "week": str(self.week), **more}
        return urlencode(params)


async def _chosen(tx: Tx, request: Request, staff: StaffIdentity) -> Chosen:
    staff.require(Permission.HOURS)
    params = request.query_params
    tz = await shifts.timezone_of(tx, staff.company_id)
    raw_site = params.get("site", "")
    site = await site_for(tx.session, staff, int(raw_site) if raw_site.isdecimal() and len(
        raw_site) < 19 else raw_site) if raw_site else None
    every = (await tx.session.scalars(select(Site).where(
        owned_by(staff, Site.company_id)).order_by(Site.id))).all()
    raw_week = params.get("week", "")
    week = Week.parse(raw_week) if raw_week else Week.of(clock.now().astimezone(tz).date())
    return Chosen(site, [s for s in every if staff.may_use(s.id)], week, tz)


def _day_label(day: date, locale: str) -> str:
    return format_date(day, "EEE d", locale=locale)


async def _render(request: Request, staff: StaffIdentity, status: int = 200,
                  errors: Errors | None = None, typed: dict[str, str] | None = None
                  ) -> Response:
    locale = locale_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        chosen = await _chosen(tx, request, staff)
        people = await shifts.hours_by_week(tx, staff.company_id, chosen.site_ids, chosen.week)
        still = await shifts.clocked_in(tx, chosen.site_ids)
        return {"chosen": chosen, "people": people, "still": still}

    context = await run_tx(request, op)
    chosen: Chosen = context["chosen"]
    week = chosen.week
    return page(
        request, "backoffice/hours.html", status=status, staff=staff, errors=errors or {},
        typed=typed or {}, duration=lambda m: duration(m, locale),
        days=[_day_label(d, locale) for d in week.days],
        first=format_date(week.days[0], "d MMM", locale=locale),
        last=format_date(week.days[-1], "d MMM y", locale=locale),
        tz=str(chosen.tz), now=datetime.now(chosen.tz).strftime("%Y-%m-%dT%H:%M"),
        closed=request.query_params.get("closed"), **context)


async def hours_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _render(request, staff)


def _cell(value: str) -> str:
    """A spreadsheet does not run a name that starts like a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def hours_csv(people: Sequence[shifts.PersonWeek], week: Week, name: str, total: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name, *(d.isoformat() for d in week.days), total])
    for person in people:
        writer.writerow([_cell(person.name),
                         *(f"{m // 60}:{m % 60:02d}" for m in [*person.minutes, person.total])])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM: Excel then reads UTF-8


async def hours_export(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    locale = locale_of(request)

    async def op(tx: Tx) -> tuple[Chosen, list[shifts.PersonWeek]]:
        chosen = await _chosen(tx, request, staff)
        return chosen, await shifts.hours_by_week(tx, staff.company_id, chosen.site_ids,
                                                  chosen.week)

    chosen, people = await run_tx(request, op)
    data = hours_csv(people, chosen.week, gettext(locale, "Name"), gettext(locale, "Total"))
    where = f"-site-{chosen.site.id}" if chosen.site else ""
    return Response(data, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="hours-{chosen.week}{where}.csv"'})


async def close_shift(request: Request) -> Response:
    """A manager closes a forgotten clock-out: on to the week of the shift's arrival."""
    staff = await signed_in(request)
    staff.require(Permission.HOURS)
    shift_id = request.path_params["shift_id"]
    form = f"shift-{shift_id}"
    new, typed, errors = await read_form(request, CloseShift)
    if new is None:
        return await _render(request, staff, 422, scoped(form, errors), typed)

    async def act(tx: Tx) -> Week:
        tz = await shifts.timezone_of(tx, staff.company_id)
        try:
            left = datetime.fromisoformat(new.clocked_out_at).replace(tzinfo=tz)
        except ValueError:
            raise BadClockOut() from None
        shift = await shifts.close_forgotten(tx, staff, shift_id, left, new.reason)
        return Week.of(shift.clocked_in_at.astimezone(tz).date())

    try:
        week = await run_tx(request, act)
    except InvalidInput as error:
        return await _render(request, staff, 422, scoped(form, refused(
            error, locale_of(request))), typed)
    site = request.query_params.get("site", "")
    query = urlencode({"site": site if site.isdecimal() else "", "week": str(week),
                       "closed": shift_id})
    return done(request, f"/backoffice/hours?{query}")


routes = [
    Route("/backoffice/hours", hours_page, methods=["GET"]),
    Route("/backoffice/hours.csv", hours_export, methods=["GET"]),
    Route("/backoffice/hours/shifts/{shift_id:id}/close", close_shift, methods=["POST"]),
]
