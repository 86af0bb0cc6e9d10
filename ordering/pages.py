"""HTML pages: the diner's table, the POS, the production display and the QR sheet.

Pages render the same fragments the live channel pushes; their forms post to /api/v1.
"""

from __future__ import annotations

import secrets
from typing import Any

import segno
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import consumer_id_of, staff_of, viewer_of
from accounts.models import Site
from accounts.roles import Permission
from accounts.service import NotSignedIn, StaffIdentity, workplace
from accounts.tenant import site_for
from errors import NotFound
from loyalty import service as loyalty_service
from ordering import diner_service, readiness, views
from ordering.config import config_of
from ordering.live import TableTopic, pos_actions_of
from ordering.models import Category, DiningTable, Product
from ordering.scanned_tables import remember_table
from ordering.session_state import SessionStatus
from ordering.table_codes import table_codes
from ordering.table_view import table_view
from realtime.events import Tx
from realtime.models import current_version
from web.i18n import LOCALES
from web.redirects import redirect
from web.state import app_state, run_tx
from web.templating import page


async def home(request: Request) -> Response:
    return page(request, "home.html", staff=await staff_of(request))


async def set_language(request: Request) -> Response:
    code = request.path_params["code"]
    response = redirect(request.query_params.get("next", "/"))
    if code in LOCALES:
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


async def table_page(request: Request) -> Response:
    token = request.path_params["token"]
    config = config_of(request)
    viewer = await viewer_of(request)

    async def op(tx: Tx) -> dict[str, Any]:
        found = await diner_service.table_access(tx, config, token, viewer.device_key or "")
        remember_table(request, found.table.id)
        table_topic = views.table_topic(found.table.id)
        menu_topic = views.menu_topic(found.table.site_id)
        view = await table_view(tx.session, found.table.id, found.header)
        view["version"] = await current_version(tx.session, table_topic)
        menu = await views.menu_view(tx.session, found.table.site_id)
        menu["version"] = await current_version(tx.session, menu_topic)
        customer_id = consumer_id_of(request)
        ts = found.session
        # The customer who collects the table's points, on a member's phone: their rewards
        # and coupons, to apply one to the bill (ordering/reward_service.py).
        loyalty = await loyalty_service.customer(tx, found.header.company_id, customer_id) \
            if found.member and ts and ts.status == SessionStatus.OPEN and customer_id \
            and ts.customer_id == customer_id else None
        return {
            "token": token,
            "found": found,
            "view": view,
            "menu": menu,
            "audience": TableTopic().audience(view, viewer),
            "customer_id": customer_id,
            "loyalty": loyalty,
            "topics": [table_topic, menu_topic],
        }

    return page(request, "table.html", **await run_tx(request, op))


async def _staff_site(request: Request) -> tuple[StaffIdentity, Site]:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    staff.require(Permission.FLOOR)  # not the machines' roles
    async with app_state(request).sessionmaker() as session:
        site = await site_for(session, staff, request.path_params["site_id"])
    return staff, site


async def login_page(request: Request) -> Response:
    return page(request, "login.html")


async def staff_home(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    if not staff.may(Permission.FLOOR):  # the machines' roles: their own first page
        for permission, where in ((Permission.MACHINES, "/staff/machines"),
                                  (Permission.PRODUCTS, "/staff/selections"),
                                  (Permission.PEOPLE, "/backoffice/people"),
                                  (Permission.REPORT, "/backoffice/dashboard")):
            if staff.may(permission):
                return redirect(where)
        return redirect("/backoffice")
    async with app_state(request).sessionmaker() as session:
        _, sites = await workplace(session, staff)  # a site-limited member: their first
    site_id = sites[0].id if sites else None
    if site_id is None:  # no open site yet: setting one up starts in the back office
        return redirect("/backoffice")
    if staff.role == "kitchen":
        return redirect(f"/pos/{site_id}/station/kitchen")
    return redirect(f"/pos/{site_id}")


async def _signed_in(request: Request) -> Response | None:
    if await staff_of(request) is None:
        return redirect("/staff/login")
    return None


async def pos_page(request: Request, **order: Any) -> Response:
    """The POS; `order`: the order panel to show open (pos_order_panel without htmx)."""
    if (to_login := await _signed_in(request)) is not None:
        return to_login
    staff, site = await _staff_site(request)
    if site.archived_at is not None:  # its history stays; its POS is closed
        raise NotFound()
    state = app_state(request)
    config = config_of(request)
    async with state.sessionmaker() as session:
        missing = await readiness.missing(session, site.id)
        view = await views.pos_view(session, site.id, config)
        menu = await views.menu_view(session, site.id)
        stations = (
            await session.scalars(
                select(views.station_of_product()).select_from(Category)
                .join(Product, Product.category_id == Category.id)
                .where(Category.site_id == site.id).distinct()
            )
        ).all()
    return page(
        request, "pos.html", staff=staff, site=site, view=view, menu=menu,
        stations=sorted(stations), topics=[views.pos_topic(site.id), views.menu_topic(site.id)],
        missing=missing, may=pos_actions_of(staff), **order,
    )


async def pos_order_panel(request: Request) -> Response:
    """Staff take an order for a table (ordering/pos_order.py): the menu to pick from."""
    if (to_login := await _signed_in(request)) is not None:
        return to_login
    staff, site = await _staff_site(request)
    staff.require(Permission.VALIDATE)
    async with app_state(request).sessionmaker() as session:
        table = await session.get(DiningTable, request.path_params["table_id"])
        if table is None or table.site_id != site.id:
            raise NotFound()
        ts = await views.active_session(session, table.id)
        menu = await views.menu_view(session, site.id)
    panel: dict[str, Any] = {
        "table": table,
        "pin": ts.pin if ts is not None and ts.status == SessionStatus.OPEN else None,
        "key": secrets.token_hex(16),  # one per panel: a double press makes one round
    }
    if request.headers.get("hx-request") != "true":
        return await pos_page(request, order=True, **panel)
    return page(request, "_pos_order.html", menu=menu, **panel)


def may_open_pos(staff: StaffIdentity) -> bool:
    """Whether the POS has something for this member to do: validate rounds or take payment
    (a kitchen account has none, so its display shows no way there)."""
    return staff.may(Permission.VALIDATE) or staff.may(Permission.SETTLE)


async def station_page(request: Request) -> Response:
    if (to_login := await _signed_in(request)) is not None:
        return to_login
    staff, site = await _staff_site(request)
    station = request.path_params["station"]
    async with app_state(request).sessionmaker() as session:
        view = await views.station_view(session, site.id, station)
    return page(
        request, "station.html", staff=staff, site=site, view=view,
        topics=[views.station_topic(site.id, station)], may_open_pos=may_open_pos(staff),
    )


def qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=4, border=2)


async def qr_sheet(request: Request) -> Response:
    if (to_login := await _signed_in(request)) is not None:
        return to_login
    staff, site = await _staff_site(request)
    staff.require(Permission.PRINT)  # a page in their language, with a way back
    base = app_state(request).settings.public_url
    async with app_state(request).sessionmaker() as session:
        tables = await table_codes(session, site.id, base)
    cards = [{"label": t.label, "url": t.url, "svg": qr_svg(t.url)} for t in tables]
    return page(request, "qr_sheet.html", site=site, cards=cards)


routes = [
    Route("/", home),
    Route("/lang/{code}", set_language),
    Route("/t/{token}", table_page),
    Route("/staff", staff_home),
    Route("/staff/login", login_page),
    Route("/pos/{site_id:id}", pos_page),
    Route("/pos/{site_id:id}/tables/{table_id:id}/order", pos_order_panel),
    Route("/pos/{site_id:id}/station/{station}", station_page),
    Route("/pos/{site_id:id}/qr", qr_sheet),
]
