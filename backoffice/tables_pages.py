"""The tables pages: a site's tables by room, add one or a range, rename, archive, new token,
and the printable QR sheet (a page to print, and a PDF) per site or room."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import on_site, owned_by, site_for
from backoffice import qr_pdf
from backoffice.forms import (
    Errors,
    confirmed,
    done,
    member_for,
    read_form,
    refused,
    scoped,
    search_of,
    signed_in,
)
from errors import InvalidInput
from ordering import table_admin
from ordering.models import DiningTable
from ordering.pages import qr_svg
from ordering.table_codes import table_codes
from realtime.events import Tx
from web.state import app_state, locale_of, run_tx
from web.templating import page


def _room(request: Request) -> str | None:
    room = request.query_params.get("room")
    return room[:60] if room is not None else None


async def _site_id(request: Request, staff: StaffIdentity) -> object:
    """The site asked for (?site=), else the staff member's first site."""
    asked = request.query_params.get("site", "")
    if asked.isdecimal() and len(asked) < 19:
        return int(asked)
    async with app_state(request).sessionmaker() as session:
        ids = (await session.scalars(select(Site.id).where(
            owned_by(staff, Site.company_id)).order_by(Site.id))).all()
    return next((i for i in ids if staff.may_use(i)), 0)


async def _render(
    request: Request, staff: StaffIdentity, site_id: object, status: int = 200,
    errors: Errors | None = None,
) -> Response:
    staff.require(Permission.CONFIGURE)
    room = _room(request)
    archived = request.query_params.get("archived") == "1"

    search, number = search_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        found = await table_admin.site_tables(tx, staff, site_id, room, archived, search,
                                              number)
        sites = (await tx.session.scalars(select(Site).where(
            owned_by(staff, Site.company_id)).order_by(Site.id))).all()
        return {"site": found.site, "tables": found.rows, "listing": found,
                "rooms": await table_admin.rooms(tx, found.site.id),
                "sites": [s for s in sites if staff.may_use(s.id)]}

    context = await run_tx(request, op)
    return page(request, "backoffice/tables.html", status=status, staff=staff, room=room,
                archived=archived, errors=errors or {}, form=request.query_params, q=search,
                can_print=staff.may(Permission.PRINT), **context)


async def tables_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _render(request, staff, await _site_id(request, staff))


def _back(site_id: object) -> str:
    return f"/backoffice/tables?site={site_id}"


async def _change(
    request: Request, form: str, site_id: object,
    act: Callable[[StaffIdentity], Callable[[Tx], Awaitable[object]]],
) -> Response:
    """Run a change; a refused field shows the page again with its error."""
    staff = await signed_in(request)
    try:
        await run_tx(request, act(staff))
    except InvalidInput as error:
        errors = refused(error, locale_of(request))
        return await _render(request, staff, site_id, 422, scoped(form, errors))
    return done(request, _back(site_id))


async def add_one(request: Request) -> Response:
    site_id = request.path_params["site_id"]
    new, _, errors = await read_form(request, table_admin.NewTable)
    if new is None:
        staff = await signed_in(request)
        return await _render(request, staff, site_id, 422, scoped("one", errors))

    def act(staff: StaffIdentity) -> Callable[[Tx], Awaitable[object]]:
        return lambda tx: table_admin.add_tables(tx, staff, site_id, [new.label], new.room)

    return await _change(request, "one", site_id, act)


async def add_range(request: Request) -> Response:
    site_id = request.path_params["site_id"]
    new, _, errors = await read_form(request, table_admin.NewTables)
    if new is None:
        staff = await signed_in(request)
        return await _render(request, staff, site_id, 422, scoped("bulk", errors))

    def act(staff: StaffIdentity) -> Callable[[Tx], Awaitable[object]]:
        return lambda tx: table_admin.add_range(tx, staff, site_id, new)

    return await _change(request, "bulk", site_id, act)


async def _site_of_table(request: Request, staff: StaffIdentity) -> int:
    async def op(tx: Tx) -> int:
        table = await on_site(tx.session, staff, DiningTable,
                                          request.path_params["table_id"])
        return table.site_id
    return await run_tx(request, op)


async def change_table(request: Request) -> Response:
    staff = await signed_in(request)
    site_id = await _site_of_table(request, staff)
    table_id = request.path_params["table_id"]
    form = f"table-{table_id}"
    new, _, errors = await read_form(request, table_admin.TableChange)
    if new is None:
        return await _render(request, staff, site_id, 422, scoped(form, errors))

    def act(staff: StaffIdentity) -> Callable[[Tx], Awaitable[object]]:
        return lambda tx: table_admin.change(tx, staff, table_id, new)

    return await _change(request, form, site_id, act)


async def archive_table(request: Request) -> Response:
    staff = await signed_in(request)
    site_id = await _site_of_table(request, staff)
    return await confirmed(request, lambda tx: table_admin.archive(
        tx, staff, request.path_params["table_id"]), _back(site_id))


async def new_token(request: Request) -> Response:
    staff = await signed_in(request)
    site_id = await _site_of_table(request, staff)
    return await confirmed(request, lambda tx: table_admin.regenerate_token(
        tx, staff, request.path_params["table_id"]), _back(site_id))


async def _codes(request: Request, staff: StaffIdentity) -> tuple[Site, list[Any]]:
    base = app_state(request).settings.public_url

    async def op(tx: Tx) -> tuple[Site, list[Any]]:
        site = await site_for(tx.session, staff, request.path_params["site_id"])
        staff.require(Permission.PRINT)
        return site, await table_codes(tx.session, site.id, base, _room(request))

    return await run_tx(request, op)


async def qr_sheet(request: Request) -> Response:
    """The page to print: a card per table (of one room, with ?room=)."""
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    site, codes = await _codes(request, staff)
    cards = [{"label": c.label, "url": c.url, "svg": qr_svg(c.url)} for c in codes]
    return page(request, "backoffice/qr_sheet.html", site=site, cards=cards,
                room=_room(request))


async def qr_pdf_sheet(request: Request) -> Response:
    """The same sheet as a PDF; downloading it counts as printing the QR codes."""
    staff = await signed_in(request)
    site, codes = await _codes(request, staff)
    await run_tx(request, lambda tx: table_admin.printed(tx, staff, site.id))
    body = qr_pdf.sheet(site.name, [(c.label, c.url) for c in codes])
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="qr-{site.id}.pdf"'})


async def printed(request: Request) -> Response:
    """The print button of the sheet was pressed: the QR codes count as printed."""
    staff = await signed_in(request)
    await run_tx(request, lambda tx: table_admin.printed(
        tx, staff, request.path_params["site_id"]))
    return Response(status_code=204)


routes = [
    Route("/backoffice/tables", tables_page),
    Route("/backoffice/tables/sites/{site_id:id}/tables", add_one, methods=["POST"]),
    Route("/backoffice/tables/sites/{site_id:id}/range", add_range, methods=["POST"]),
    Route("/backoffice/tables/sites/{site_id:id}/qr", qr_sheet),
    Route("/backoffice/tables/sites/{site_id:id}/qr.pdf", qr_pdf_sheet),
    Route("/backoffice/tables/sites/{site_id:id}/printed", printed, methods=["POST"]),
    Route("/backoffice/tables/{table_id:id}", change_table, methods=["POST"]),
    Route("/backoffice/tables/{table_id:id}/archive", archive_table, methods=["POST"]),
    Route("/backoffice/tables/{table_id:id}/token", new_token, methods=["POST"]),
]
