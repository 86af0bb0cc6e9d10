"""The tills page: a company's tills by site, each paired once with a code valid ten
minutes, listed with its last sync; add one, set its receipt printer, revoke its device."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned_by
from backoffice.forms import (
    Errors,
    confirmed,
    done,
    member_for,
    read_form,
    refused,
    scoped,
)
from domain import audit
from errors import DomainError, NotFound
from machines.pages import qr
from pos import clock, device, tills
from pos.commands import NewTillForm, PrinterForm
from pos.models import Till
from realtime.events import Tx
from web.state import app_state, locale_of, run_tx
from web.templating import page

NO_STORE = {"Cache-Control": "no-store"}  # a pairing code's page: no copy in any cache


async def _listing(request: Request, staff: StaffIdentity, *, status: int = 200,
                   errors: Errors | None = None, values: dict[str, str] | None = None
                   ) -> Response:
    async def op(tx: Tx) -> dict[str, Any]:
        sites = [s for s in (await tx.session.scalars(
            select(Site).where(owned_by(staff, Site.company_id), Site.archived_at.is_(None))
            .order_by(Site.id))).all() if staff.may_use(s.id)]
        rows = (await tx.session.scalars(
            select(Till).where(owned_by(staff, Till.company_id)).order_by(Till.site_id, Till.id)
        )).all()
        return {"sites": sites, "tills": [t for t in rows if staff.may_use(t.site_id)],
                "prefix": await tills.next_prefix(tx, staff.company_id)}

    context = await run_tx(request, op)
    names = {s.id: s.name for s in context["sites"]}
    filled = values or {"prefix": context["prefix"],
                        "site_id": str(context["sites"][0].id) if context["sites"] else ""}
    return page(request, "backoffice/tills.html", status=status, staff=staff,
                tills=context["tills"], sites=context["sites"], site_names=names,
                site_options=[(str(s.id), s.name) for s in context["sites"]],
                values=filled, errors=errors or {}, now=clock.now())


async def tills_page(request: Request) -> Response:
    staff = await member_for(request, Permission.TILLS)
    if isinstance(staff, Response):
        return staff
    return await _listing(request, staff)


async def add_till(request: Request) -> Response:
    staff = await member_for(request, Permission.TILLS)
    if isinstance(staff, Response):
        return staff
    form, typed, errors = await read_form(request, NewTillForm)
    if form is not None and not staff.may_use(form.site_id):
        raise NotFound()
    if form is not None:
        chosen = form

        async def act(tx: Tx) -> Till:
            till = await tills.create_till(tx, tills.NewTill(
                company_id=staff.company_id, site_id=chosen.site_id, prefix=chosen.prefix,
                name=chosen.name, staff_id=staff.id))
            await tills.set_printer(tx, staff.company_id, till.id, chosen.printer, staff.id)
            await audit.record(tx, staff.id, staff.company_id, "till.added", f"till:{till.id}",
                               {"prefix": till.prefix, "name": till.name,
                                "site_id": till.site_id})
            return till

        try:
            await run_tx(request, act)
        except DomainError as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, "/backoffice/tills")
    return await _listing(request, staff, status=422, errors=errors, values=typed)


async def _till_of(request: Request, staff: StaffIdentity) -> int:
    """The till named by the path, if the staff member's company and sites have it."""
    till_id = request.path_params["till_id"]
    async with app_state(request).sessionmaker() as session:
        till = await session.get(Till, till_id)
    if till is None or till.company_id != staff.company_id or not staff.may_use(till.site_id):
        raise NotFound()
    return int(till.id)


async def pairing(request: Request) -> Response:
    """A new pairing code, shown once with its QR code (the page is not cached)."""
    staff = await member_for(request, Permission.TILLS)
    if isinstance(staff, Response):
        return staff
    till_id = await _till_of(request, staff)

    async def act(tx: Tx) -> tuple[str, Till]:
        code = await device.issue_pairing(tx, staff.company_id, till_id, staff.id)
        await audit.record(tx, staff.id, staff.company_id, "till.pairing", f"till:{till_id}",
                           {})
        till = await tx.session.get(Till, till_id)
        assert till is not None
        return code, till

    code, till = await run_tx(request, act)
    url = f"{app_state(request).settings.public_url}/till/pair?code={code}"
    response = page(request, "backoffice/till_pairing.html", staff=staff, till=till,
                    code=code, url=url, qr_svg=qr(url).svg_inline(scale=5, border=2),
                    minutes=device.PAIRING_MINUTES,
                    until=clock.now() + timedelta(minutes=device.PAIRING_MINUTES))
    response.headers.update(NO_STORE)
    return response


async def revoke(request: Request) -> Response:
    """The till's device opens nothing any more (the till and its records stay)."""
    staff = await member_for(request, Permission.TILLS)
    if isinstance(staff, Response):
        return staff
    till_id = await _till_of(request, staff)

    async def act(tx: Tx) -> None:
        await device.revoke_device(tx, staff.company_id, till_id, staff.id)
        await audit.record(tx, staff.id, staff.company_id, "till.revoked", f"till:{till_id}",
                           {})

    return await confirmed(request, act, "/backoffice/tills")


async def printer(request: Request) -> Response:
    staff = await member_for(request, Permission.TILLS)
    if isinstance(staff, Response):
        return staff
    till_id = await _till_of(request, staff)
    form, typed, errors = await read_form(request, PrinterForm)
    if form is not None:
        chosen = form.printer

        async def act(tx: Tx) -> None:
            before = (await tx.session.get(Till, till_id))
            old = before.printer if before else None
            till = await tills.set_printer(tx, staff.company_id, till_id, chosen, staff.id)
            if till.printer != old:
                await audit.record(tx, staff.id, staff.company_id, "till.printer",
                                   f"till:{till_id}", {"printer": [old, till.printer]})

        try:
            await run_tx(request, act)
        except DomainError as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, "/backoffice/tills")
    return await _listing(request, staff, status=422,
                          errors=scoped(f"till-{till_id}", errors))


routes = [
    Route("/backoffice/tills", tills_page, methods=["GET"]),
    Route("/backoffice/tills", add_till, methods=["POST"]),
    Route("/backoffice/tills/{till_id:id}/pairing", pairing, methods=["POST"]),
    Route("/backoffice/tills/{till_id:id}/revoke", revoke, methods=["POST"]),
    Route("/backoffice/tills/{till_id:id}/printer", printer, methods=["POST"]),
]
