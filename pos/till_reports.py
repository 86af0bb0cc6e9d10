"""The till's reports: the X (today so far, any time, Permission.REPORT) and the daily Z
(Permission.CLOSE, with the cash counted), each approved by a supervisor's PIN on a
cashier's screen; the signed Z shown and printable on 80 mm paper.

A Z is refused while a till of the site has sales waiting to sync or a gap in its numbers:
pos/closings.py raises the refusal, which names the till.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_percent
from pydantic import Field
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from accounts.models import Company, Site, Staff
from accounts.roles import Permission
from api.endpoint import SESSION, Endpoint, Param, Reply, Tag
from domain import audit
from errors import N_, InvalidInput, NotFound
from pos import clock, device, signing
from pos.approval import Approval, approver
from pos.closings import CloseDay, close_day, x_report
from pos.commands import approval_in
from pos.errors import (
    AlreadyClosed,
    ApprovalNeeded,
    NotAtTill,
    NoTill,
    NotPaired,
    PeriodNotOver,
    PinRefused,
    SalesWaiting,
    SequenceGap,
    SigningKeyUnreadable,
    TooManyPinTries,
)
from pos.models import Closing, SigningKey, Till
from pos.periods import local_day, zone_of
from pos.signing import sealing_box
from pos.sync_closing import ask_to_close, tills_status
from pos.till_offline import indicator
from pos.till_tickets import at, supervisors
from realtime.events import Tx
from web.commands import Command, Invalid, Money, command
from web.htmx import is_htmx
from web.state import app_state, locale_of, run_tx
from web.templating import page, render

TILL_REPORTS = Tag("till-reports", "A till's reports: the X at any time, the day's signed Z.")
CLOSING = Param("ClosingId", "closing_id", "A closing of this till's site.")
NO_STORE = {"Cache-Control": "no-store"}
RECENT_CLOSINGS = 10


class UnknownClosing(NotFound):
    code = "unknown_closing"
    message = N_("No such closing at this till's site.")


class BadCount(InvalidInput):
    code = "bad_counted_cash"
    message = N_("Type the cash counted in the drawer (for example 152,40).")
    field = "counted_cash"


class BadDay(InvalidInput):
    code = "bad_day"
    message = N_("Give the day to close as YYYY-MM-DD.")
    field = "day"


class ReadX(Command):
    approval: Approval | None = None


class CloseTheDay(Command):
    """The day's Z: the cash counted in the drawer; the day (today unless said)."""

    uuid: Annotated[uuid.UUID, Field(description="Chosen by the till: a retry returns the "
                                                 "first closing.")]
    counted_cash: Annotated[Money, Invalid(BadCount)]
    day: Annotated[date | None, Invalid(BadDay),
                   Field(description="The day to close (the company's calendar); today "
                                     "when left out.")] = None
    approval: Approval | None = None


def _approval_shape(data: Mapping[str, str]) -> dict[str, Any]:
    shaped: dict[str, Any] = {k: v for k, v in data.items()
                              if k in ("uuid", "counted_cash", "day") and v != ""}
    return {**shaped, **approval_in(data)}


def labelled(report: dict[str, Any], locale: str) -> dict[str, Any]:
    """The report with each VAT rate's name the locale's way ("5,5 %", "5.5%")."""
    rates = [{**row, "label": format_percent(Decimal(row["vat_rate"]) / 10000, "#,##0.##%",
                                             locale=locale)}
             for row in report.get("by_rate", [])]
    return {**report, "by_rate": rates}


def day_name(day: date | str, locale: str) -> str:
    """A day the locale's way: "lundi 7 décembre 2026", "Monday, 7 December 2026"."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(value, "full", locale=locale)


@dataclass(frozen=True)
class Shown:
    """A closing as the till shows and prints it."""

    closing: Closing
    body: dict[str, Any]
    signed: bool  # its signature checks with the company's public key
    staff: str
    site: str
    company: str
    tz: str


async def shown(tx: Tx, closing: Closing) -> Shown:
    pem = await tx.session.scalar(select(SigningKey.public_pem)
                                  .where(SigningKey.id == closing.key_id))
    staff = await tx.session.scalar(select(Staff.name).where(Staff.id == closing.staff_id))
    company = await tx.session.get(Company, closing.company_id)
    site = await tx.session.get(Site, closing.site_id)
    return Shown(closing, json.loads(closing.body),
                 bool(pem) and signing.verify(str(pem), closing.body.encode("utf-8"),
                                              closing.signature),
                 str(staff or ""), site.name if site else "", company.name if company else "",
                 company.timezone if company else "Europe/Paris")


async def reports_page(request: Request) -> Response:
    """The X and Z of this till's site; its latest closings."""
    here = await at(request, Permission.SELL)
    if isinstance(here, Response):
        return here

    async def op(tx: Tx) -> dict[str, Any]:
        zone = await zone_of(tx.session, here.till.company_id)
        company = await tx.session.get(Company, here.till.company_id)
        closings = (await tx.session.scalars(
            select(Closing).where(Closing.site_id == here.till.site_id)
            .order_by(Closing.id.desc()).limit(RECENT_CLOSINGS))).all()
        today = local_day(clock.now(), zone)
        tills = await tills_status(tx.session, here.till.company_id, here.till.site_id, today)
        return {"today": today, "tz": str(zone), "tills": tills,
                "currency": company.currency if company else "EUR",
                "closings": [(c, json.loads(c.body)) for c in closings]}

    context = await run_tx(request, op)
    locale = locale_of(request)
    response = page(
        request, "till/reports.html", till=here.till, staff=here.staff,
        key=str(uuid.uuid4()), today_name=day_name(context["today"], locale),
        day_name=lambda d: day_name(d, locale), **context,
        may_report=here.staff.may(Permission.REPORT),
        may_close=here.staff.may(Permission.CLOSE),
        report_approvers=await supervisors(request, here.till, Permission.REPORT),
        close_approvers=await supervisors(request, here.till, Permission.CLOSE),
        **(await indicator(request, here.till)))
    response.headers.update(NO_STORE)
    return response


async def read_x(request: Request) -> Response:
    """Today's totals so far at this till's site (not a record: the journal notes who read
    it). Needs Permission.REPORT, or a supervisor's PIN in `approval`."""
    here = await device.at_till(request, Permission.SELL)
    body = await command(request, ReadX, _approval_shape)
    await approver(app_state(request), till=here.till, acting=here.staff,
                   permission=Permission.REPORT, approval=body.approval)

    async def op(tx: Tx) -> tuple[dict[str, Any], str, str]:
        company = await tx.session.get(Company, here.till.company_id)
        assert company is not None
        report = await x_report(tx, here.till.company_id, here.till.site_id, here.staff.id)
        return report, company.currency, company.timezone

    report, currency, tz = await run_tx(request, op)
    if is_htmx(request):
        locale = locale_of(request)
        return HTMLResponse(render(
            locale, "till/_x_report.html", report=labelled(report, locale), currency=currency,
            till=here.till,
            tz=tz, day=day_name(report["day"], locale), at=clock.now()))
    return JSONResponse({"report": report, "currency": currency})


async def close_today(request: Request) -> Response:
    """Closes the day at this till's site (today unless `day` says): the Z, signed, with
    the cash counted. Refused while a till of the site has sales waiting to sync or a gap
    in its numbers (the refusal names it). Needs Permission.CLOSE, or a supervisor's PIN."""
    here = await device.at_till(request, Permission.SELL)
    body = await command(request, CloseTheDay, _approval_shape)
    state = app_state(request)
    approved_by = await approver(state, till=here.till, acting=here.staff,
                                 permission=Permission.CLOSE, approval=body.approval)
    box = sealing_box(state.settings.secret_key)
    # Noted in a transaction of its own (a refusal rolls the closing's back): a till that
    # has not synced since holds the Z back, and is asked to sync at once.
    await run_tx(request, lambda tx: ask_to_close(tx, here.till.company_id,
                                                  here.till.site_id, body.day))

    async def act(tx: Tx) -> Shown:
        zone = await zone_of(tx.session, here.till.company_id)
        day = body.day or local_day(clock.now(), zone)
        again = await tx.session.scalar(select(Closing.id)
                                        .where(Closing.uuid == str(body.uuid)))
        closing = await close_day(tx, box, CloseDay(
            body.uuid, here.till.company_id, here.till.site_id, day, approved_by,
            body.counted_cash))
        if again is None:
            await audit.record(tx, here.staff.id, here.till.company_id, "day.close",
                               f"closing:{closing.id}", {
                                   "day": day.isoformat(), "acted_by": here.staff.id,
                                   "approved_by": approved_by, "till": here.till.prefix,
                                   "counted_cash": body.counted_cash})
        return await shown(tx, closing)

    done = await run_tx(request, act)
    if is_htmx(request):
        return HTMLResponse(_z_html(request, done, here.till))
    return JSONResponse({
        "closing": {"id": done.closing.id, "uuid": done.closing.uuid, "kind": "day",
                    "period_start": done.closing.period_start.isoformat(),
                    "signature": done.closing.signature, "signed": done.signed},
        "body": done.body,
        "redirect": f"/till/reports/z/{done.closing.id}",
    })


def _z_html(request: Request, done: Shown, till: Till) -> str:
    locale = locale_of(request)
    return render(locale, "till/_z_report.html", z=done, body=done.body, tz=done.tz,
                  report=labelled(done.body["report"], locale), currency=done.body["currency"],
                  till=till,
                  day=day_name(done.body["period_start"], locale),
                  at=datetime.fromisoformat(done.body["at"].replace("Z", "+00:00")))


async def z_page(request: Request) -> Response:
    """A signed Z of this till's site, to read again and print (80 mm)."""
    here = await at(request, Permission.REPORT)
    if isinstance(here, Response):
        return here
    closing_id = int(request.path_params["closing_id"])

    async def op(tx: Tx) -> Shown:
        closing = await tx.session.get(Closing, closing_id)
        if closing is None or closing.site_id != here.till.site_id \
                or closing.company_id != here.till.company_id:
            raise UnknownClosing()
        return await shown(tx, closing)

    done = await run_tx(request, op)
    response = page(request, "till/z.html", till=here.till, staff=here.staff,
                    fragment=_z_html(request, done, here.till))
    response.headers.update(NO_STORE)
    return response


REPORT_ANSWER = {"type": "object", "properties": {
    "report": {"type": "object", "description": "day, tickets, sales, refunds, voids, "
               "duplicates, discounts, total_incl/excl/vat, by_method, by_rate, tills (first "
               "and last number of each)."},
    "currency": {"type": "string"}}}
CLOSED = {"type": "object", "properties": {
    "closing": {"type": "object", "description": "id, uuid, kind, period_start, signature, "
                                                 "signed (the signature checks)."},
    "body": {"type": "object", "description": "What was signed: the report, the cash "
                                              "expected and counted, the grand totals."},
    "redirect": {"type": "string"}}}
ASKED = [NotPaired, NotAtTill, ApprovalNeeded, PinRefused, TooManyPinTries]

api_routes = [
    Endpoint("/till/reports/x", read_x, "POST", tag=TILL_REPORTS, summary="Read the X report",
             body=ReadX, example={"approval": {"staff_id": 3, "pin": "2002"}},
             responses={200: Reply(REPORT_ANSWER, "Today's totals so far.")},
             errors=ASKED, security=SESSION),
    Endpoint("/till/reports/z", close_today, "POST", tag=TILL_REPORTS,
             summary="Close the day (the Z)", body=CloseTheDay,
             example={"uuid": "9a7b6c5d-4e3f-4a1b-8c2d-1e0f9a8b7c6d", "counted_cash": 15240},
             responses={200: Reply(CLOSED, "Closed and signed (or the first closing of this "
                                           "uuid).")},
             errors=[*ASKED, BadCount, BadDay, SequenceGap, SalesWaiting, AlreadyClosed,
                     PeriodNotOver, NoTill, SigningKeyUnreadable], security=SESSION),
]

routes = [
    Route("/till/reports", reports_page, methods=["GET"]),
    Route("/till/reports/z/{closing_id:id}", z_page, methods=["GET"]),
]
