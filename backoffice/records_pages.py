"""The till's records in the back office (Permission.CLOSE): each site's closings (days,
months, years) with their totals and whether their signature checks; closing a month or a
year; the company's archives (made on demand for a year or a range, and the yearly ones
Comptoir keeps); checking every chain; the company's public key for its auditors.

Staff limited to some sites see and close those sites only; the archives, the chains'
check and the kept archives span the whole company, so they are for staff of every site.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from babel.dates import format_date
from pydantic import Field
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import Errors, done, member_for, read_form, refused, scoped
from domain import audit
from errors import N_, DomainError, Forbidden, InvalidInput, NotFound
from pos import clock, signing
from pos.archive import make_archive
from pos.archives import kept_archives
from pos.closings import CloseMonth, CloseYear, close_month, close_year
from pos.journal import JournalKind, write
from pos.keys import company_key
from pos.models import Closing, SigningKey, StoredArchive
from pos.periods import local_day, zone_of
from pos.signing import sealing_box
from pos.sync_issues import IssueRow, deal_with, issues_of
from pos.verification import Mismatch, verify_company
from realtime.events import Tx
from web.commands import Collapsed, Command, Id, Invalid, Text
from web.state import app_state, locale_of, run_tx
from web.templating import page

DAYS_SHOWN = 40
MONTHS_SHOWN = 24
LONGEST_RANGE_DAYS = 3 * 366  # an archive on demand covers at most three years


class BadPeriod(InvalidInput):
    code = "bad_period"
    message = N_("Choose a month as YYYY-MM, or a year as YYYY.")
    field = "period"


class BadRange(InvalidInput):
    code = "bad_archive_range"
    message = N_("Choose a year, or a first and a last day (at most three years apart).")
    field = "first"


class WholeCompanyOnly(Forbidden):
    code = "records_whole_company"
    message = N_("The company's archives and chains are for staff of every site.")


class CloseForm(Command):
    """A month or a year of a site closed from the back office."""

    uuid: Annotated[uuid.UUID, Invalid(BadPeriod)]
    site_id: Id
    kind: Annotated[Literal["month", "year"], Invalid(BadPeriod)]
    period: Annotated[Text, Field(min_length=4, max_length=7), Invalid(BadPeriod)]


@dataclass(frozen=True)
class ClosingRow:
    id: int
    kind: str
    label: str
    total: int
    tickets: int
    currency: str
    signed: bool
    at: Any


@dataclass(frozen=True)
class SiteRecords:
    site: Site
    years: list[ClosingRow]
    months: list[ClosingRow]
    days: list[ClosingRow]
    issues: list[IssueRow]  # flagged by the tills' offline sync


def _label(kind: str, start: date, locale: str) -> str:
    if kind == "day":
        return format_date(start, "full", locale=locale)
    if kind == "month":
        return format_date(start, "MMMM y", locale=locale)
    return str(start.year)


async def _site_records(tx: Tx, site: Site, locale: str, keys: dict[int, str]
                        ) -> SiteRecords:
    found: dict[str, list[ClosingRow]] = {}
    for kind, limit in (("year", 50), ("month", MONTHS_SHOWN), ("day", DAYS_SHOWN)):
        closings = (await tx.session.scalars(
            select(Closing).where(Closing.site_id == site.id, Closing.kind == kind)
            .order_by(Closing.period_start.desc()).limit(limit))).all()
        rows = []
        for closing in closings:
            body = json.loads(closing.body)
            pem = keys.get(closing.key_id)
            rows.append(ClosingRow(
                closing.id, kind, _label(kind, closing.period_start, locale),
                int(body["report"]["total_incl"]), int(body["report"]["tickets"]),
                str(body.get("currency", "EUR")),
                bool(pem) and signing.verify(str(pem), closing.body.encode("utf-8"),
                                             closing.signature),
                clock.aware(closing.created_at)))
        found[kind] = rows
    return SiteRecords(site, found["year"], found["month"], found["day"],
                       await issues_of(tx.session, site.id))


async def _listing(request: Request, staff: StaffIdentity, *, status: int = 200,
                   errors: Errors | None = None, checked: list[Mismatch] | None = None
                   ) -> Response:
    locale = locale_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        company = await tx.session.get(Company, staff.company_id)
        assert company is not None
        sites = [s for s in (await tx.session.scalars(
            select(Site).where(Site.company_id == staff.company_id).order_by(Site.id))).all()
            if staff.may_use(s.id)]
        keys = {k.id: k.public_pem for k in (await tx.session.scalars(
            select(SigningKey).where(SigningKey.company_id == staff.company_id))).all()}
        zone = await zone_of(tx.session, staff.company_id)
        today = local_day(clock.now(), zone)
        return {
            "company": company, "today": today, "tz": str(zone),
            "records": [await _site_records(tx, s, locale, keys) for s in sites],
            "archives": (await kept_archives(tx.session, staff.company_id)
                         if staff.sites is None else []),
            "has_key": bool(keys),
        }

    context = await run_tx(request, op)
    today: date = context["today"]
    last_month = today.replace(day=1) - timedelta(days=1)
    return page(request, "backoffice/records.html", status=status, staff=staff,
                errors=errors or {}, checked=checked, whole=staff.sites is None,
                last_month=last_month.strftime("%Y-%m"), last_year=today.year - 1,
                years=list(range(today.year, today.year - 8, -1)), key=str(uuid.uuid4()),
                **context)


async def records_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    return await _listing(request, staff)


def _period(kind: str, text: str) -> tuple[int, int]:
    try:
        if kind == "month":
            year, month = text.split("-")
            if len(year) == 4 and 1 <= int(month) <= 12:
                return int(year), int(month)
        elif len(text) == 4 and text.isdecimal():
            return int(text), 0
    except ValueError:
        pass
    raise BadPeriod()


async def close_period(request: Request) -> Response:
    """Close a month (each of its days with tickets has its Z) or a year (each of its
    months with tickets is closed) of a site: signed, and entered in its tills' chains."""
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    form, _typed, errors = await read_form(request, CloseForm)
    if form is not None:
        chosen = form
        if not staff.may_use(chosen.site_id):
            raise NotFound()
        box = sealing_box(app_state(request).settings.secret_key)

        async def act(tx: Tx) -> Closing:
            site = await tx.session.get(Site, chosen.site_id)
            if site is None or site.company_id != staff.company_id:
                raise NotFound()
            year, month = _period(chosen.kind, chosen.period)
            again = await tx.session.scalar(select(Closing.id)
                                            .where(Closing.uuid == str(chosen.uuid)))
            if chosen.kind == "month":
                closing = await close_month(tx, box, CloseMonth(
                    chosen.uuid, staff.company_id, site.id, year, month, staff.id))
            else:
                closing = await close_year(tx, box, CloseYear(
                    chosen.uuid, staff.company_id, site.id, year, staff.id))
            if again is None:
                await audit.record(tx, staff.id, staff.company_id, f"{chosen.kind}.close",
                                   f"closing:{closing.id}",
                                   {"site_id": site.id, "period": chosen.period})
            return closing

        try:
            closing = await run_tx(request, act)
        except NotFound:
            raise
        except DomainError as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, f"/backoffice/records#closing-{closing.id}")
        return await _listing(request, staff, status=422,
                              errors=scoped(f"site-{chosen.site_id}", errors))
    return await _listing(request, staff, status=422, errors=scoped("close", errors))


def _whole(staff: StaffIdentity) -> None:
    if staff.sites is not None:
        raise WholeCompanyOnly()


def _range(request: Request) -> tuple[date, date]:
    params = request.query_params
    year = params.get("year", "")
    try:
        if year:
            if len(year) != 4 or not year.isdecimal():
                raise ValueError(year)
            return date(int(year), 1, 1), date(int(year), 12, 31)
        first = date.fromisoformat(params.get("first", ""))
        last = date.fromisoformat(params.get("last", ""))
    except ValueError:
        raise BadRange() from None
    if last < first or (last - first).days > LONGEST_RANGE_DAYS:
        raise BadRange()
    return first, last


def _zip(name: str, data: bytes) -> Response:
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


async def archive_download(request: Request) -> Response:
    """The archive of a year (`year`) or of a range (`first`, `last`), made now (the
    journal notes it): the zip `comptoir verify-records --archive` checks alone."""
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    _whole(staff)
    first, last = _range(request)
    box = sealing_box(app_state(request).settings.secret_key)

    async def act(tx: Tx) -> tuple[str, bytes]:
        made = await make_archive(tx, box, staff.company_id, first, last, staff.id)
        await audit.record(tx, staff.id, staff.company_id, "records.archive",
                           f"company:{staff.company_id}",
                           {"first": first.isoformat(), "last": last.isoformat()})
        return made.name, made.data

    name, data = await run_tx(request, act)
    return _zip(name, data)


async def kept_download(request: Request) -> Response:
    """An archive Comptoir kept (the yearly ones), as it was made."""
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    archive_id = int(request.path_params["archive_id"])
    async with app_state(request).sessionmaker() as session:
        kept = await session.get(StoredArchive, archive_id)
    if kept is None or kept.company_id != staff.company_id:
        raise NotFound()
    _whole(staff)
    return _zip(kept.name, kept.data)


async def public_key(request: Request) -> Response:
    """The company's Ed25519 public key (PEM): what an auditor checks closings and
    archives with. Made now if the company has none yet."""
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    box = sealing_box(app_state(request).settings.secret_key)
    key = await run_tx(request, lambda tx: company_key(tx, box, staff.company_id))
    return Response(key.public_pem, media_type="application/x-pem-file", headers={
        "Content-Disposition": f'attachment; filename="comptoir-{staff.company_id}-public-key'
                               f'.pem"'})


async def check_chains(request: Request) -> Response:
    """Recompute every till's chain and the journal, check every closing's signature; a
    mismatch is shown (the first of each chain) and journalled, as `verify-records` does."""
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    _whole(staff)
    async with app_state(request).sessionmaker() as session:
        found = await verify_company(session, staff.company_id)

    async def journal(tx: Tx) -> None:
        if found:
            await write(tx, staff.company_id, JournalKind.CHAIN_CHECK_FAILED,
                        {"mismatches": [str(m) for m in found]}, staff_id=staff.id)
        await audit.record(tx, staff.id, staff.company_id, "records.check",
                           f"company:{staff.company_id}", {"mismatches": len(found)})

    await run_tx(request, journal)
    return await _listing(request, staff, checked=found)


class DealtWith(Command):
    note: Annotated[Collapsed, Field(max_length=200),
                    Invalid(InvalidInput, N_("At most 200 characters."))] = ""


async def deal_with_issue(request: Request) -> Response:
    """A flagged sync issue dealt with: who, when, how (audited); it stays listed, marked."""
    staff = await member_for(request, Permission.CLOSE)
    if isinstance(staff, Response):
        return staff
    form, _typed, errors = await read_form(request, DealtWith)
    if form is None:
        return await _listing(request, staff, status=422, errors=errors)
    issue_id = int(request.path_params["issue_id"])
    note = form.note

    async def act(tx: Tx) -> None:
        issue = await deal_with(tx, staff.company_id, staff.sites, issue_id, staff.id, note)
        await audit.record(tx, staff.id, staff.company_id, "sync_issue.dealt",
                           f"sync_issue:{issue.id}", {"kind": issue.kind, "note": note})

    await run_tx(request, act)
    return done(request, "/backoffice/records")


routes = [
    Route("/backoffice/records", records_page, methods=["GET"]),
    Route("/backoffice/records/issues/{issue_id:id}/dealt", deal_with_issue, methods=["POST"]),
    Route("/backoffice/records/close", close_period, methods=["POST"]),
    Route("/backoffice/records/check", check_chains, methods=["POST"]),
    Route("/backoffice/records/export/archive", archive_download, methods=["GET"]),
    Route("/backoffice/records/export/public-key.pem", public_key, methods=["GET"]),
    Route("/backoffice/records/archives/{archive_id:id}/export", kept_download,
          methods=["GET"]),
]
