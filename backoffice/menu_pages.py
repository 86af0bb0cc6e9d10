"""The menu's pages: categories and products listed, searched, edited, ordered, archived.

Forms post here through htmx: a refused form comes back (422) with each error beside its
field; a saved one sends the browser on (HX-Redirect). The services are ordering's
(ordering/menu_admin.py); these routes only read forms and render.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.models import Company, Site
from accounts.roles import Permission, require
from accounts.service import NotSignedIn, StaffIdentity
from accounts.tenant import owned_by
from ordering import menu_admin
from ordering.menu_errors import BadOrder, MenuInvalid
from ordering.menu_rules import ALLERGENS, Problem, format_price, format_vat, vat_rates
from ordering.models import Category, Product
from ordering.views import photo_url
from realtime.events import Tx
from web.body import read_body
from web.i18n import gettext
from web.redirects import redirect
from web.state import locale_of, run_tx
from web.templating import page

PAGE_SIZE = 25


async def signed_in(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    require(staff.role, Permission.CONFIGURE)
    return staff


def done(to: str) -> Response:
    """A saved form: htmx sends the browser to `to`."""
    return Response(status_code=200, headers={"HX-Redirect": to})


def explain(request: Request, problems: list[Problem]) -> dict[str, str]:
    """Each field's first problem, translated."""
    locale = locale_of(request)
    errors: dict[str, str] = {}
    for problem in problems:
        text = gettext(locale, problem.message)
        errors.setdefault(problem.field, text % dict(problem.params) if problem.params else text)
    return errors


async def form_of(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await read_body(request)).data.items() if isinstance(v, str)}


def _int(text: str | None, default: int = 0) -> int:
    return int(text) if text and text.isdecimal() and len(text) < 10 else default


async def menu_home(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    async with request.app.state.comptoir.sessionmaker() as session:
        site_id = await session.scalar(
            select(Site.id).where(owned_by(staff, Site.company_id)).order_by(Site.id)
        )
    return redirect(f"/backoffice/menu/{site_id}")


def product_row(product: Product, decimals: int) -> dict[str, Any]:
    return {"product": product, "price": format_price(product.price, decimals),
            "vat": format_vat(product.vat_rate), "photo": photo_url(product.photo),
            "allergens": [a for a in product.allergens.split(",") if a]}


async def menu_page(request: Request) -> Response:
    """Categories in their order; products searched (name, reference, description), filtered
    by category, archived ones on request, a page of 25 at a time."""
    if await staff_of(request) is None:
        return redirect("/staff/login")
    staff = await signed_in(request)
    query = request.query_params
    q = " ".join(query.get("q", "").split())[:100]
    category_filter = _int(query.get("category"))
    archived = query.get("archived") == "1"
    number = max(1, _int(query.get("page"), 1))

    async def op(tx: Tx) -> dict[str, Any]:
        site = await menu_admin.menu_site(tx, staff, request.path_params["site_id"])
        categories = (await tx.session.scalars(
            select(Category).where(Category.site_id == site.id, Category.archived_at.is_(None))
            .order_by(Category.position, Category.id)
        )).all()
        where = [Product.site_id == site.id,
                 Product.archived_at.is_not(None) if archived else Product.archived_at.is_(None)]
        if q:
            where.append(or_(*(func.lower(column).contains(q.lower(), autoescape=True)
                               for column in (Product.name, Product.reference,
                                              Product.description))))
        if category_filter:
            where.append(Product.category_id == category_filter)
        total = await tx.session.scalar(select(func.count()).select_from(Product).where(*where))
        products = (await tx.session.scalars(
            select(Product).join(Category, Category.id == Product.category_id).where(*where)
            .order_by(Category.position, Category.id, Product.position, Product.id)
            .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
        )).all()
        decimals = await menu_admin.decimals_of(tx, site)
        currency = await tx.session.scalar(
            select(Company.currency).where(Company.id == site.company_id))
        sites = (await tx.session.scalars(
            select(Site).where(owned_by(staff, Site.company_id)).order_by(Site.id))).all()
        return {
            "site": site, "sites": sites, "categories": categories,
            "names": {c.id: c.name for c in categories},
            "rows": [product_row(p, decimals) for p in products],
            "total": total or 0, "currency": currency,
        }

    context = await run_tx(request, op)
    pages = max(1, -(-context["total"] // PAGE_SIZE))
    return page(
        request, "backoffice/menu.html", staff=staff, q=q, category=category_filter,
        archived=archived, page_number=min(number, pages), pages=pages,
        # Dragging orders a whole list: only when one category's products are all shown.
        sortable=bool(category_filter) and not q and not archived and pages == 1,
        **context,
    )


# Categories ------------------------------------------------------------------------------

async def category_form(request: Request) -> Response:
    """New category (under a site) or an existing one's form."""
    if await staff_of(request) is None:
        return redirect("/staff/login")
    staff = await signed_in(request)

    async def op(tx: Tx) -> dict[str, Any]:
        if "category_id" in request.path_params:
            category = await menu_admin.category_of(tx, staff, request.path_params["category_id"])
            site = await tx.session.get(Site, category.site_id)
            return {"category": category, "site": site,
                    "values": {"name": category.name, "station": category.station}}
        site = await menu_admin.menu_site(tx, staff, request.path_params["site_id"])
        return {"category": None, "site": site, "values": {"station": "kitchen"}}

    return page(request, "backoffice/menu_category.html", staff=staff, errors={},
                **await run_tx(request, op))


async def category_save(request: Request) -> Response:
    staff = await signed_in(request)
    values = await form_of(request)
    category_id = request.path_params.get("category_id")
    try:
        if category_id is None:
            category = await run_tx(request, lambda tx: menu_admin.create_category(
                tx, staff, request.path_params["site_id"], values))
        else:
            category = await run_tx(request, lambda tx: menu_admin.update_category(
                tx, staff, category_id, values))
    except MenuInvalid as error:
        return page(request, "backoffice/_category_form.html", status=422,
                    errors=explain(request, error.problems), values=values,
                    action=request.url.path)
    return done(f"/backoffice/menu/{category.site_id}")


async def category_archive(request: Request) -> Response:
    staff = await signed_in(request)
    confirm = (await form_of(request)).get("confirm", "")
    category = await run_tx(request, lambda tx: menu_admin.archive_category(
        tx, staff, request.path_params["category_id"], confirm))
    return done(f"/backoffice/menu/{category.site_id}")


def _order(values: Mapping[str, str]) -> list[int]:
    parts = [p for p in values.get("order", "").split(",") if p]
    if not parts or len(parts) > 1000 or not all(p.isdecimal() and len(p) < 19 for p in parts):
        raise BadOrder()
    return [int(p) for p in parts]


async def reorder(request: Request) -> Response:
    """The order a drag and drop left (`order`: ids, comma-separated; `category_id` for
    products)."""
    staff = await signed_in(request)
    kind: menu_admin.Kind = (
        "categories" if request.url.path.endswith("/categories/order") else "products")
    values = await form_of(request)
    order = _order(values)
    await run_tx(request, lambda tx: menu_admin.reorder(
        tx, staff, request.path_params["site_id"], kind, order,
        _int(values.get("category_id")) or None))
    return Response(status_code=204)


async def move(request: Request) -> Response:
    """One step up or down (the buttons: the keyboard's way to reorder)."""
    staff = await signed_in(request)
    kind: menu_admin.Kind = (
        "categories" if "category_id" in request.path_params else "products")
    object_id = request.path_params.get("category_id") or request.path_params["product_id"]
    direction = (await form_of(request)).get("direction", "")
    await run_tx(request, lambda tx: menu_admin.move(tx, staff, kind, object_id, direction))
    return Response(status_code=200, headers={"HX-Refresh": "true"})


# Products ---------------------------------------------------------------------------------

async def _product_context(tx: Tx, staff: StaffIdentity, site: Site) -> dict[str, Any]:
    categories = (await tx.session.scalars(
        select(Category).where(Category.site_id == site.id, Category.archived_at.is_(None))
        .order_by(Category.position, Category.id)
    )).all()
    return {"site": site, "categories": categories,
            "vat_rates": [format_vat(r) for r in vat_rates()], "allergen_names": ALLERGENS}


def product_values(product: Product, decimals: int) -> dict[str, Any]:
    return {
        "reference": product.reference, "category_id": str(product.category_id),
        "name": product.name, "description": product.description,
        "price": format_price(product.price, decimals), "vat_rate": format_vat(product.vat_rate),
        "allergens": [a for a in product.allergens.split(",") if a],
        "station": product.station or "", "available": "yes" if product.available else "no",
    }


async def product_form(request: Request) -> Response:
    if await staff_of(request) is None:
        return redirect("/staff/login")
    staff = await signed_in(request)

    async def op(tx: Tx) -> dict[str, Any]:
        if "product_id" in request.path_params:
            product = await menu_admin.product_of(tx, staff, request.path_params["product_id"])
            site = await tx.session.get(Site, product.site_id)
            assert site is not None
            decimals = await menu_admin.decimals_of(tx, site)
            return {"product": product, "photo": photo_url(product.photo),
                    "values": product_values(product, decimals),
                    **await _product_context(tx, staff, site)}
        site = await menu_admin.menu_site(tx, staff, request.path_params["site_id"])
        return {"product": None, "photo": None,
                "values": {"vat_rate": "10", "available": "yes", "allergens": [],
                           "category_id": request.query_params.get("category", "")},
                **await _product_context(tx, staff, site)}

    return page(request, "backoffice/menu_product.html", staff=staff, errors={},
                **await run_tx(request, op))


async def _form_with_allergens(request: Request) -> dict[str, Any]:
    """The form's fields; the allergen checkboxes (several `allergens`) as one list."""
    values: dict[str, Any] = await form_of(request)  # first: it bounds the body
    form = await request.form()
    allergens = [v for v in form.getlist("allergens") if isinstance(v, str)]
    values["allergens"] = ",".join(allergens)
    values.setdefault("available", "no")  # an unticked box sends nothing
    return values


async def product_save(request: Request) -> Response:
    staff = await signed_in(request)
    values = await _form_with_allergens(request)
    product_id = request.path_params.get("product_id")
    try:
        if product_id is None:
            product = await run_tx(request, lambda tx: menu_admin.create_product(
                tx, staff, request.path_params["site_id"], values))
        else:
            product = await run_tx(request, lambda tx: menu_admin.update_product(
                tx, staff, product_id, values))
    except MenuInvalid as error:
        async def op(tx: Tx) -> dict[str, Any]:
            if product_id is None:
                site = await menu_admin.menu_site(tx, staff, request.path_params["site_id"])
            else:
                found = await menu_admin.product_of(tx, staff, product_id)
                kept = await tx.session.get(Site, found.site_id)
                assert kept is not None
                site = kept
            return await _product_context(tx, staff, site)

        shown = {**values, "allergens": values["allergens"].split(",")}
        return page(request, "backoffice/_product_form.html", status=422,
                    errors=explain(request, error.problems), values=shown,
                    action=request.url.path, **await run_tx(request, op))
    return done(f"/backoffice/menu/{product.site_id}?category={product.category_id}")


async def product_archive(request: Request) -> Response:
    staff = await signed_in(request)
    confirm = (await form_of(request)).get("confirm", "")
    product = await run_tx(request, lambda tx: menu_admin.archive_product(
        tx, staff, request.path_params["product_id"], confirm))
    return done(f"/backoffice/menu/{product.site_id}")


async def product_restore(request: Request) -> Response:
    staff = await signed_in(request)
    product = await run_tx(request, lambda tx: menu_admin.restore_product(
        tx, staff, request.path_params["product_id"]))
    return done(f"/backoffice/menu/{product.site_id}?archived=1")


routes = [
    Route("/backoffice/menu", menu_home),
    Route("/backoffice/menu/{site_id:id}", menu_page),
    Route("/backoffice/menu/{site_id:id}/categories/new", category_form),
    Route("/backoffice/menu/{site_id:id}/categories/new", category_save, methods=["POST"]),
    Route("/backoffice/menu/{site_id:id}/categories/order", reorder, methods=["POST"]),
    Route("/backoffice/menu/{site_id:id}/products/order", reorder, methods=["POST"]),
    Route("/backoffice/menu/categories/{category_id:id}", category_form),
    Route("/backoffice/menu/categories/{category_id:id}", category_save, methods=["POST"]),
    Route("/backoffice/menu/categories/{category_id:id}/archive", category_archive,
          methods=["POST"]),
    Route("/backoffice/menu/categories/{category_id:id}/move", move, methods=["POST"]),
    Route("/backoffice/menu/{site_id:id}/products/new", product_form),
    Route("/backoffice/menu/{site_id:id}/products/new", product_save, methods=["POST"]),
    Route("/backoffice/menu/products/{product_id:id}", product_form),
    Route("/backoffice/menu/products/{product_id:id}", product_save, methods=["POST"]),
    Route("/backoffice/menu/products/{product_id:id}/archive", product_archive,
          methods=["POST"]),
    Route("/backoffice/menu/products/{product_id:id}/restore", product_restore,
          methods=["POST"]),
    Route("/backoffice/menu/products/{product_id:id}/move", move, methods=["POST"]),
]
