"""The till's counter-sale screen: the catalog by category, the ticket, the payment.

The ticket lives in the page (static/sell.js) and is kept in the tab's sessionStorage, so
a reload or a crash of the page loses nothing; it reaches the server once, whole, when it
is paid (POST /api/v1/till/sales), with a UUID the page keeps until it has an answer: a
payment sent again after a lost answer records nothing twice. Nothing of an unpaid ticket
is written on the server, so an abandoned ticket leaves no trace to clean up, and the
server takes names, prices and VAT rates from the menu when it records.

`/till/sell?table=<id>` loads that table's bill instead of the catalog and pays it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Company, Site
from accounts.roles import Permission
from errors import DomainError
from ordering.models import Category, Product
from ordering.pos_tables import pos_tables
from pos import device, rewards, sell
from pos.till_offline import indicator
from pos.till_pages import NO_STORE
from realtime.events import Tx
from web.errors import error_body
from web.state import locale_of, run_tx
from web.templating import page


async def _catalog(tx: Tx, site_id: int) -> list[dict[str, Any]]:
    """The site's menu as the till sells it: live categories and products, sold-out ones
    included (shown greyed), archived ones not."""
    categories = (await tx.session.scalars(
        select(Category).where(Category.site_id == site_id, Category.archived_at.is_(None))
        .order_by(Category.position, Category.id))).all()
    products = (await tx.session.scalars(
        select(Product).where(Product.site_id == site_id, Product.archived_at.is_(None))
        .order_by(Product.position, Product.id))).all()
    by_category: dict[int, list[Product]] = {}
    for product in products:
        by_category.setdefault(product.category_id, []).append(product)
    return [{"id": c.id, "name": c.name, "products": by_category[c.id]}
            for c in categories if by_category.get(c.id)]


async def sell_page(request: Request) -> Response:
    at = await device.page_at_till(request, Permission.SELL)
    if isinstance(at, Response):
        return at
    till = at.till
    raw_table = request.query_params.get("table", "")
    table_id = int(raw_table) if raw_table.isdecimal() and len(raw_table) < 18 else None

    async def read(tx: Tx) -> dict[str, Any]:
        site = await tx.session.get(Site, till.site_id)
        company = await tx.session.get(Company, till.company_id)
        assert site is not None and company is not None
        members = await device.staff_of_till(tx.session, till)
        context: dict[str, Any] = {
            "site": site, "currency": company.currency,
            "supervisors": [m for m in members if m.may(Permission.DISCOUNT)
                            and m.id != at.staff.id],
            "may_discount": at.staff.may(Permission.DISCOUNT),
            "catalog": [], "tables_due": [], "table": None, "table_lines": [], "table_error": None,
            "table_reward": None,
        }
        if table_id is None:
            context["catalog"] = await _catalog(tx, till.site_id)
            context["tables_due"] = [
                t.tile for t in await pos_tables(tx.session, till.site_id)
                if t.tile["due"] and not t.tile["paid"] and not t.tile["payment"]
                and t.tile["state"] in ("ordering", "in_production", "to_settle")]
            return context
        try:
            table, lines = await sell.table_bill(tx, till, table_id)
            products = await sell.table_products(tx, till, table_id)
        except DomainError as refused:
            context["table_error"] = refused
            return context
        context["table"] = table
        on_bill = await rewards.table_discount(tx, till, table_id)
        if on_bill is not None:  # applied from a diner's phone: the sale names its key
            context["table_reward"] = {"name": on_bill[0].reward_name,
                                       "key": on_bill[0].reward_key, "discount": on_bill[1]}
        context["table_lines"] = [
            {"product_id": product, "label": line.label, "quantity": line.quantity,
             "unit_price": line.unit_price, "vat_rate": line.vat_rate,
             "amount": line.total_incl} for line, product in zip(lines, products, strict=True)]
        return context

    context = await run_tx(request, read)
    error = context.pop("table_error")
    if error is not None:
        context["table_error"] = error_body(error, locale_of(request))["error"]["message"]
    training = device.training_of(request)
    # The till's own topic, and the site's menu: a change there makes the till sync (and
    # its catalog follow).
    live = await indicator(request, till)
    live["topics"] = [*live.get("topics", []), f"menu:{till.site_id}"]
    response = page(request, "till/sell.html", till=till, acting=at.staff,
                    training=training is not None, training_by=training, **context, **live)
    response.headers.update(NO_STORE)
    return response


routes = [
    Route("/till/sell", sell_page, methods=["GET"]),
]
