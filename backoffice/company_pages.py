"""Company and sites: the company's name, currency, time zone, language and launch date;
its sites with brand, address, opening hours and ordering mode; archiving a site.

The forms post here through htmx (CSRF header) and get back the same form: saved, or with
each bad field's message next to it (422) and nothing changed.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts import company_service
from accounts.company_service import CompanyDetails, SiteDetails
from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned_by, site_for
from backoffice.forms import Errors, member_for, read_form, refused
from backoffice.site_forms import CompanyForm, SiteForm
from errors import DomainError
from ordering import table_modes
from ordering.config import config_of
from realtime.events import Tx
from web.body import read_body
from web.commands import form_flag
from web.i18n import LOCALES
from web.state import app_state, locale_of, run_tx
from web.templating import page

COMMON_CURRENCIES = ("EUR", "CHF", "GBP", "USD", "CAD", "XOF", "XPF", "MAD", "TND")


def _choices() -> dict[str, Any]:
    return {"currencies": COMMON_CURRENCIES, "locales": LOCALES,
            "timezones": sorted(available_timezones()), "modes": table_modes.MODES}


def _company_values(company: Company) -> dict[str, str]:
    return {"name": company.name, "currency": company.currency, "timezone": company.timezone,
            "locale": company.locale,
            "launch_on": company.launch_on.isoformat() if company.launch_on else ""}


NEW_SITE = {"table_mode": "order", "ticket_amber_min": "10", "ticket_red_min": "20",
            "discount_limit_percent": "10", "offline_warn_hours": "24"}


def _site_values(site: Site) -> dict[str, str]:
    return {"name": site.name, "address": site.address, "opening_hours": site.opening_hours,
            "table_mode": site.table_mode, "ticket_amber_min": str(site.ticket_amber_min),
            "ticket_red_min": str(site.ticket_red_min),
            "discount_limit_percent": str(site.discount_limit_percent),
            "offline_warn_hours": str(site.offline_warn_hours)}


async def company_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CONFIGURE)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        company = await session.get(Company, staff.company_id)
        assert company is not None
        sites = [s for s in (await session.scalars(
            select(Site).where(owned_by(staff, Site.company_id)).order_by(Site.id)
        )).all() if staff.may_use(s.id)]  # a site-limited member: their sites only
    return page(
        request, "backoffice/company.html", staff=staff, company=company,
        values=_company_values(company), errors={},
        sites=[s for s in sites if s.archived_at is None],
        archived=[s for s in sites if s.archived_at is not None],
        site_values=NEW_SITE, site_errors={}, **_choices(),
    )


async def save_company(request: Request) -> Response:
    staff = await member_for(request, Permission.CONFIGURE)
    if isinstance(staff, Response):
        return staff
    form, typed, errors = await read_form(request, CompanyForm)
    if form is not None:
        details = CompanyDetails(form.name, form.currency, form.timezone, form.locale,
                                 form.launch_on)
        try:
            company = await run_tx(
                request, lambda tx: company_service.update_company(tx, staff, details)
            )
        except DomainError as refusal:
            if refusal.field is None:
                raise
            errors = refused(refusal, locale_of(request))
        else:
            return page(request, "backoffice/_company_form.html", values=_company_values(company),
                        errors={}, saved=True, **_choices())
    return page(request, "backoffice/_company_form.html", status=422, values=typed,
                errors=errors, **_choices())


async def _save_site(
    request: Request, staff: StaffIdentity, site_id: int | None
) -> tuple[Site | None, dict[str, str], Errors]:
    """Add (`site_id` None) or change a site from its form: the site, or what was typed and
    each field's error."""
    form, typed, errors = await read_form(request, SiteForm)
    if form is None:
        return None, typed, errors
    details = SiteDetails(form.name, form.address, form.opening_hours,
                          form.ticket_amber_min, form.ticket_red_min,
                          form.discount_limit_percent, form.offline_warn_hours)
    config = config_of(request)

    async def op(tx: Tx) -> Site:
        if site_id is None:
            return await company_service.add_site(tx, staff, details, form.table_mode)
        site = await company_service.update_site(tx, staff, site_id, details)
        await table_modes.set_site_mode(tx, config, staff, site.id, form.table_mode)
        return site

    try:
        return await run_tx(request, op), typed, {}
    except DomainError as refusal:
        if refusal.field is None:
            raise
        return None, typed, refused(refusal, locale_of(request))


async def add_site(request: Request) -> Response:
    staff = await member_for(request, Permission.CONFIGURE)
    if isinstance(staff, Response):
        return staff
    site, typed, errors = await _save_site(request, staff, None)
    if site is None:
        return page(request, "backoffice/_site_form.html", status=422, values=typed,
                    errors=errors, site=None, **_choices())
    response = page(request, "backoffice/_site_form.html", values=NEW_SITE,
                    errors={}, site=None, added=site, **_choices())
    response.headers["HX-Redirect"] = "/backoffice/company"  # the list shows the new site
    return response


async def site_page(request: Request) -> Response:
    staff = await member_for(request, Permission.CONFIGURE)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        site = await site_for(session, staff, request.path_params["site_id"])
    return page(request, "backoffice/site.html", staff=staff, site=site,
                values=_site_values(site), errors={}, **_choices())


async def save_site(request: Request) -> Response:
    staff = await member_for(request, Permission.CONFIGURE)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:  # another company's: not found
        site = await site_for(session, staff, request.path_params["site_id"])
    saved, typed, errors = await _save_site(request, staff, site.id)
    if saved is None:
        return page(request, "backoffice/_site_form.html", status=422, values=typed,
                    errors=errors, site=site, **_choices())
    return page(request, "backoffice/_site_form.html", values=_site_values(saved), errors={},
                site=saved, saved=True, **_choices())


async def archive_site(request: Request) -> Response:
    """Archive the site (after the page asked for confirmation), or bring it back with
    `archived=false`."""
    staff = await member_for(request, Permission.CONFIGURE)
    if isinstance(staff, Response):
        return staff
    body = await read_body(request)
    value = body.data.get("archived", "true")
    archived = form_flag(value) if isinstance(value, str) else value is not False
    await run_tx(request, lambda tx: company_service.archive_site(
        tx, staff, request.path_params["site_id"], archived))
    response = Response(status_code=200)
    response.headers["HX-Redirect"] = "/backoffice/company"
    return response


routes = [
    Route("/backoffice/company", company_page, methods=["GET"]),
    Route("/backoffice/company", save_company, methods=["POST"]),
    Route("/backoffice/sites", add_site, methods=["POST"]),
    Route("/backoffice/sites/{site_id:id}", site_page, methods=["GET"]),
    Route("/backoffice/sites/{site_id:id}", save_site, methods=["POST"]),
    Route("/backoffice/sites/{site_id:id}/archive", archive_site, methods=["POST"]),
]
