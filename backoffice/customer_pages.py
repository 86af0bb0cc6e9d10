"""The customers pages (`Permission.CUSTOMERS`): the loyalty customers searched and paged,
added, edited, deleted after a page that says what goes and what is kept, each one's
history with points added or taken by hand, and the list as CSV (the rules:
loyalty/customer_admin.py and loyalty/customer_history.py)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import (
    Confirmed,
    Errors,
    done,
    member_for,
    read_form,
    refused,
    scoped,
    search_of,
    signed_in,
)
from backoffice.stat_tables import safe_cell
from errors import N_, DomainError
from loyalty import customer_admin as admin
from loyalty import customer_history
from loyalty.errors import NotEnoughPoints
from pos.models import Ticket
from realtime.events import Tx
from web.i18n import gettext
from web.state import app_state, locale_of, run_tx
from web.templating import page

BASE = "/backoffice/customers"
SAID = {"added", "saved", "visit", "redeem"}  # what the customer's page confirms


def _id(request: Request) -> Any:
    return request.path_params["consumer_id"]


async def _currency(session: AsyncSession, staff: StaffIdentity) -> str:
    return await session.scalar(
        select(Company.currency).where(Company.id == staff.company_id)) or "EUR"


async def customers_list(request: Request) -> Response:
    staff = await member_for(request, Permission.CUSTOMERS)
    if isinstance(staff, Response):
        return staff
    text, wanted = search_of(request)
    async with app_state(request).sessionmaker() as session:
        listing = await admin.listing(session, staff, text, wanted)
    return page(request, "backoffice/customers.html", staff=staff, listing=listing, q=text,
                gone=request.query_params.get("deleted") == "1")


def _form_of(consumer: Any, profile: Any) -> dict[str, Any]:
    return {"name": consumer.name, "email": consumer.email, "phone": profile.phone or "",
            "birthday": profile.birthday.isoformat() if profile.birthday else "",
            "postcode": profile.postcode or "",
            "email_consent": "1" if profile.email_consent_at else "",
            "sms_consent": "1" if profile.sms_consent_at else ""}


async def _form_page(request: Request, staff: StaffIdentity, form: Mapping[str, Any],
                     status: int = 200, errors: Errors | None = None,
                     consumer_id: int | None = None, name: str = "") -> Response:
    return page(request, "backoffice/customers_form.html", status=status, staff=staff,
                form=form, errors=errors or {}, consumer_id=consumer_id, customer_name=name)


async def new_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CUSTOMERS)
    if isinstance(staff, Response):
        return staff
    return await _form_page(request, staff, {})


async def add(request: Request) -> Response:
    staff = await signed_in(request)
    staff.require(Permission.CUSTOMERS)
    given, typed, errors = await read_form(request, admin.CustomerForm)
    if given is None:
        return await _form_page(request, staff, typed, 422, errors)
    try:
        added = await run_tx(request, lambda tx: admin.add(tx, staff, given))
    except DomainError as error:
        if error.field is None:
            raise
        return await _form_page(request, staff, typed, 422, refused(error, locale_of(request)))
    return done(request, f"{BASE}/{added.id}?said=added")


async def edit_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CUSTOMERS)
    if isinstance(staff, Response):
        return staff

    async def op(tx: Tx) -> tuple[int, str, dict[str, Any]]:
        consumer = await admin.customer_of(tx.session, staff, _id(request))
        profile = await admin.profile_of(tx, staff, consumer)
        return consumer.id, consumer.name, _form_of(consumer, profile)

    consumer_id, name, form = await run_tx(request, op)
    return await _form_page(request, staff, form, consumer_id=consumer_id, name=name)


async def edit(request: Request) -> Response:
    staff = await signed_in(request)
    async with app_state(request).sessionmaker() as session:
        consumer = await admin.customer_of(session, staff, _id(request))
    given, typed, errors = await read_form(request, admin.CustomerForm)
    if given is None:
        return await _form_page(request, staff, typed, 422, errors, consumer.id, consumer.name)
    try:
        await run_tx(request, lambda tx: admin.edit(tx, staff, consumer.id, given))
    except DomainError as error:
        if error.field is None:
            raise
        return await _form_page(request, staff, typed, 422, refused(error, locale_of(request)),
                                consumer.id, consumer.name)
    return done(request, f"{BASE}/{consumer.id}?said=saved")


async def _customer_page(request: Request, staff: StaffIdentity, status: int = 200,
                         errors: Errors | None = None,
                         typed: Mapping[str, Any] | None = None) -> Response:
    async def op(tx: Tx) -> dict[str, Any]:
        consumer = await admin.customer_of(tx.session, staff, _id(request))
        profile = await admin.profile_of(tx, staff, consumer)
        sites = (await tx.session.execute(
            select(Site.id, Site.name).where(Site.company_id == staff.company_id,
                                             Site.archived_at.is_(None))
            .order_by(Site.name, Site.id))).all()
        return {"person": consumer, "profile": profile,
                "history": await customer_history.history(tx.session, staff, consumer.id),
                "sites": [(i, n) for i, n in sites if staff.may_use(i)],
                "currency": await _currency(tx.session, staff),
                "tz": await tx.session.scalar(select(Company.timezone).where(
                    Company.id == staff.company_id))}

    context = await run_tx(request, op)
    said = request.query_params.get("said")
    return page(request, "backoffice/customers_person.html", status=status, staff=staff,
                errors=errors or {}, typed=typed or {}, said=said if said in SAID else None,
                key=uuid.uuid4().hex, **context)


async def customer_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CUSTOMERS)
    if isinstance(staff, Response):
        return staff
    return await _customer_page(request, staff)


async def by_hand(request: Request) -> Response:
    """A visit or a redemption added by hand; the form's key makes a second send count
    once (its answer is the same)."""
    staff = await signed_in(request)
    async with app_state(request).sessionmaker() as session:
        consumer = await admin.customer_of(session, staff, _id(request))
    given, typed, errors = await read_form(request, admin.HandEntry)
    if given is None:
        return await _customer_page(request, staff, 422, scoped("hand", errors), typed)
    try:
        await run_tx(request, lambda tx: admin.by_hand(tx, staff, consumer.id, given))
    except DomainError as error:  # a bad site, or points the balance does not hold
        if error.field is None and not isinstance(error, NotEnoughPoints):
            raise
        return await _customer_page(request, staff, 422,
                                    scoped("hand", refused(error, locale_of(request))), typed)
    return done(request, f"{BASE}/{consumer.id}?said={given.kind}")


async def _delete_page(request: Request, staff: StaffIdentity, status: int = 200,
                       errors: Errors | None = None) -> Response:
    async with app_state(request).sessionmaker() as session:
        consumer = await admin.customer_of(session, staff, _id(request))
        removal = await admin.removal(session, consumer)
        tickets = await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.company_id == staff.company_id, Ticket.customer_id == consumer.id)) or 0
        currency = await _currency(session, staff)
    return page(request, "backoffice/customers_delete.html", status=status, staff=staff,
                errors=errors or {}, person=consumer, removal=removal, tickets=tickets,
                currency=currency)


async def delete_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CUSTOMERS)
    if isinstance(staff, Response):
        return staff
    return await _delete_page(request, staff)


async def delete(request: Request) -> Response:
    staff = await signed_in(request)
    async with app_state(request).sessionmaker() as session:
        consumer = await admin.customer_of(session, staff, _id(request))
    yes, _, errors = await read_form(request, Confirmed)
    if yes is None:
        return await _delete_page(request, staff, 422, scoped("delete", errors))
    await run_tx(request, lambda tx: admin.remove(tx, staff, consumer.id))
    return done(request, f"{BASE}?deleted=1")


HEADERS = (N_("Name"), N_("E-mail"), N_("Phone"), N_("Birthday"), N_("Postcode"),
           N_("E-mail consent since"), N_("SMS consent since"), N_("Points"), N_("Visits"),
           N_("Spend"), N_("Last visit"))


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(
        [safe_cell(v) if isinstance(v, str) else v for v in values])
    return out.getvalue()


def _iso(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


async def export(request: Request) -> Response:
    """The searched list as CSV, written as it is read (a batch of customers at a time);
    money in major units with the currency in the header, dates as ISO 8601 (UTC)."""
    staff = await member_for(request, Permission.CUSTOMERS)
    if isinstance(staff, Response):
        return staff
    text, _ = search_of(request)
    locale = locale_of(request)
    sessions = app_state(request).sessionmaker
    async with sessions() as session:
        currency = await _currency(session, staff)
    titles = [gettext(locale, h) for h in HEADERS]
    titles[9] = f"{titles[9]} ({currency})"
    places = get_currency_precision(currency)

    async def lines() -> AsyncIterator[str]:
        yield "\ufeff" + _csv_line(titles)  # the BOM: a spreadsheet then reads UTF-8
        async for batch in customer_history.exported(sessions, staff, text):
            yield "".join(_csv_line([
                row.name, row.email, row.phone or "", _iso(row.birthday), row.postcode or "",
                _iso(row.email_consent_at), _iso(row.sms_consent_at), row.balance,
                row.visits, Decimal(row.spend).scaleb(-places), _iso(row.last_visit)])
                for row in batch)

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="customers.csv"'})


routes = [
    Route(BASE, customers_list),
    Route(f"{BASE}.csv", export),
    Route(f"{BASE}/new", new_page),
    Route(f"{BASE}/new", add, methods=["POST"]),
    Route(BASE + "/{consumer_id:id}", customer_page),
    Route(BASE + "/{consumer_id:id}/points", by_hand, methods=["POST"]),
    Route(BASE + "/{consumer_id:id}/edit", edit_page),
    Route(BASE + "/{consumer_id:id}/edit", edit, methods=["POST"]),
    Route(BASE + "/{consumer_id:id}/delete", delete_page),
    Route(BASE + "/{consumer_id:id}/delete", delete, methods=["POST"]),
]
