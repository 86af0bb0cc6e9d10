"""The menu's pages: categories and products listed, searched, edited, ordered, archived.

Forms post here through htmx: a refused form comes back (422) with each error beside its
field; a saved one sends the browser on (HX-Redirect). The services are ordering's
(ordering/menu_admin.py); these routes only read forms and render.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity, workplace
from accounts.tenant import owned_by
from backoffice import forms
from ordering import menu_admin
from ordering.menu_errors import BadOrder, MenuInvalid
from ordering.menu_rules import ALLERGENS, format_price, format_vat, vat_rates
from ordering.models import Category, Product
from ordering.views import photo_url
from realtime.events import Tx
from web.redirects import redirect
from web.state import locale_of, run_tx
from web.templating import page

PAGE_SIZE = 25


async def signed_in(request: Request) -> StaffIdentity:
    """The menu is the venue's set-up: those who configure it."""
    staff = await forms.signed_in(request)
    staff.require(Permission.CONFIGURE)
    return staff


def _int(text: str | None, default: int = 0) -> int:
    return int(text) if text and text.isdecimal() and len(text) < 10 else default


async def menu_home(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.CONFIGURE)  # refused here, not after a redirect
    async with request.app.state.comptoir.sessionmaker() as session:
        _, sites = await workplace(session, staff)  # a site-limited member: their first
    return redirect(f"/backoffice/menu/{sites[0].id}" if sites else "/backoffice/company")


def product_row(product: Product, decimals: int) -> dict[str, Any]:
    return {"product": product, "price": format_price(product.price, decimals),
            "vat": format_vat(product.vat_rate), "photo": photo_url(product.photo),
            "allergens": [a for a in product.allergens.split(",") if a]}


async def menu_page(request: Request) -> Response:
    """Categories in their order; products searched (name, reference, description), filtered
    by category, a page of 25 at a time. `archived=1` is the menu's archive: the archived
    categories and products, each with its Restore button."""
    staff = await forms.member_for(request)
    if isinstance(staff, Response):
        return staff
    query = request.query_params
    q = " ".join(query.get("q", "").split())[:100]
    category_filter = _int(query.get("category"))
    archived = query.get("archived") == "1"
    number = max(1, _int(query.get("page"), 1))

    def shown(column: Any) -> Any:
        return column.is_not(None) if archived else column.is_(None)

    async def op(tx: Tx) -> dict[str, Any]:
        site = await menu_admin.menu_site(tx, staff, request.path_params["site_id"])
        every = (await tx.session.scalars(
            select(Category).where(Category.site_id == site.id)
            .order_by(Category.position, Category.id)
        )).all()
        where = [Product.site_id == site.id, shown(Product.archived_at)]
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
            "site": site, "sites": sites,
            "categories": [c for c in every if (c.archived_at is not None) == archived],
            # The filter offers every category of the list: in the archive, archived
            # products of live categories too.
            "choices": every if archived else [c for c in every if c.archived_at is None],
            "names": {c.id: c.name for c in every},
            "archived_categories": {c.id for c in every if c.archived_at is not None},
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


# Categories and products: one way to edit, archive, restore and move either ---------------

async def _site_of(tx: Tx, item: Category | Product) -> Site:
    site = await tx.session.get(Site, item.site_id)
    assert site is not None
    return site


async def _category_context(
    tx: Tx, staff: StaffIdentity, site: Site, category: Category | None
) -> dict[str, Any]:
    return {"category": category}


async def _product_context(
    tx: Tx, staff: StaffIdentity, site: Site, product: Product | None
) -> dict[str, Any]:
    categories = (await tx.session.scalars(
        select(Category).where(Category.site_id == site.id, Category.archived_at.is_(None))
        .order_by(Category.position, Category.id)
    )).all()
    return {"product": product, "photo": photo_url(product.photo) if product else None,
            "categories": categories,
            "vat_rates": [format_vat(r) for r in vat_rates()], "allergen_names": ALLERGENS}


async def _category_values(tx: Tx, site: Site, category: Category) -> dict[str, Any]:
    return {"name": category.name, "station": category.station}


def product_values(product: Product, decimals: int) -> dict[str, Any]:
    return {
        "reference": product.reference, "category_id": str(product.category_id),
        "name": product.name, "description": product.description,
        "price": format_price(product.price, decimals), "vat_rate": format_vat(product.vat_rate),
        "vat_rate_takeaway": (format_vat(product.vat_rate_takeaway)
                              if product.vat_rate_takeaway is not None else ""),
        "allergens": [a for a in product.allergens.split(",") if a],
        "station": product.station or "", "available": "yes" if product.available else "no",
    }


async def _product_values(tx: Tx, site: Site, product: Product) -> dict[str, Any]:
    return product_values(product, await menu_admin.decimals_of(tx, site))


async def _form_with_allergens(request: Request) -> dict[str, Any]:
    """The form's fields; the allergen checkboxes (several `allergens`) as one list."""
    values: dict[str, Any] = await forms.typed_of(request)  # first: it bounds the body
    form = await request.form()
    allergens = [v for v in form.getlist("allergens") if isinstance(v, str)]
    values["allergens"] = ",".join(allergens)
    values.setdefault("available", "no")  # an unticked box sends nothing
    return values


@dataclass(frozen=True)
class Editor:
    """What the category's and the product's pages differ in; the handlers below are one."""

    kind: menu_admin.Kind
    key: str  # the path parameter naming one
    page: str  # the whole page, and the form alone (swapped in with a 422)
    form: str
    context: Callable[[Tx, StaffIdentity, Site, Any], Awaitable[dict[str, Any]]]
    values: Callable[[Tx, Site, Any], Awaitable[dict[str, Any]]]
    blank: Callable[[Request], dict[str, Any]]  # a new one's form
    read: Callable[[Request], Awaitable[dict[str, Any]]]
    shown: Callable[[dict[str, Any]], dict[str, Any]]  # what was sent, as the form shows it
    saved: Callable[[Any], str]  # where the browser goes once it is saved


CATEGORIES = Editor(
    kind="categories", key="category_id", page="backoffice/menu_category.html",
    form="backoffice/_category_form.html", context=_category_context, values=_category_values,
    blank=lambda request: {"station": "kitchen"}, read=forms.typed_of, shown=lambda values: values,
    saved=lambda category: f"/backoffice/menu/{category.site_id}",
)
PRODUCTS = Editor(
    kind="products", key="product_id", page="backoffice/menu_product.html",
    form="backoffice/_product_form.html", context=_product_context, values=_product_values,
    blank=lambda request: {"vat_rate": "10", "available": "yes", "allergens": [],
                           "category_id": request.query_params.get("category", "")},
    read=_form_with_allergens,
    shown=lambda values: {**values, "allergens": values["allergens"].split(",")},
    saved=lambda product: f"/backoffice/menu/{product.site_id}?category={product.category_id}",
)


def editor(request: Request) -> Editor:
    return CATEGORIES if "/categories/" in request.url.path else PRODUCTS


async def _target(
    tx: Tx, staff: StaffIdentity, request: Request, edit: Editor
) -> tuple[Site, Category | Product | None]:
    """The site and the category or product a request names (None: a new one's site)."""
    if edit.key in request.path_params:
        item = await menu_admin.one_of(tx, staff, edit.kind, request.path_params[edit.key])
        return await _site_of(tx, item), item
    return await menu_admin.menu_site(tx, staff, request.path_params["site_id"]), None


async def edit_form(request: Request) -> Response:
    """A new category's or product's form (under a site), or an existing one's."""
    staff = await forms.member_for(request)
    if isinstance(staff, Response):
        return staff
    edit = editor(request)

    async def op(tx: Tx) -> dict[str, Any]:
        site, item = await _target(tx, staff, request, edit)
        values = edit.blank(request) if item is None else await edit.values(tx, site, item)
        return {"site": site, "values": values, **await edit.context(tx, staff, site, item)}

    return page(request, edit.page, staff=staff, errors={}, **await run_tx(request, op))


async def edit_save(request: Request) -> Response:
    staff = await signed_in(request)
    edit = editor(request)
    values = await edit.read(request)
    item_id = request.path_params.get(edit.key)
    try:
        item = await run_tx(request, lambda tx: menu_admin.save(
            tx, staff, edit.kind, values, item_id=item_id,
            site_id=request.path_params.get("site_id")))
    except MenuInvalid as error:
        async def op(tx: Tx) -> dict[str, Any]:
            site, kept = await _target(tx, staff, request, edit)
            return {"site": site, **await edit.context(tx, staff, site, kept)}

        errors = forms.problems_of(error.problems, locale_of(request))
        return page(request, edit.form, status=422, errors=errors,
                    values=edit.shown(values), action=request.url.path,
                    **await run_tx(request, op))
    return forms.done(request, edit.saved(item))


def _named(request: Request) -> tuple[menu_admin.Kind, object]:
    edit = editor(request)
    return edit.kind, request.path_params[edit.key]


async def archive(request: Request) -> Response:
    """Off the menu, once the page asked (`confirm=yes`)."""
    staff = await signed_in(request)
    kind, item_id = _named(request)
    confirm = (await forms.typed_of(request)).get("confirm", "")
    item = await run_tx(request, lambda tx: menu_admin.archive(tx, staff, kind, item_id, confirm))
    return forms.done(request, f"/backoffice/menu/{item.site_id}")


async def restore(request: Request) -> Response:
    """Back from the archive (no confirmation: nothing is lost); the archive stays shown."""
    staff = await signed_in(request)
    kind, item_id = _named(request)
    item = await run_tx(request, lambda tx: menu_admin.restore(tx, staff, kind, item_id))
    return forms.done(request, f"/backoffice/menu/{item.site_id}?archived=1")


async def move(request: Request) -> Response:
    """One step up or down (the buttons: the keyboard's and the touch screen's way)."""
    staff = await signed_in(request)
    kind, item_id = _named(request)
    direction = (await forms.typed_of(request)).get("direction", "")
    await run_tx(request, lambda tx: menu_admin.move(tx, staff, kind, item_id, direction))
    return Response(status_code=200, headers={"HX-Refresh": "true"})


def _order(values: Mapping[str, str]) -> list[int]:
    parts = [p for p in values.get("order", "").split(",") if p]
    if not parts or len(parts) > 1000 or not all(p.isdecimal() and len(p) < 19 for p in parts):
        raise BadOrder()
    return [int(p) for p in parts]


async def reorder(request: Request) -> Response:
    """The order a drag and drop left (`order`: ids, comma-separated; `category_id` for
    products)."""
    staff = await signed_in(request)
    kind = editor(request).kind
    values = await forms.typed_of(request)
    order = _order(values)
    await run_tx(request, lambda tx: menu_admin.reorder(
        tx, staff, request.path_params["site_id"], kind, order,
        _int(values.get("category_id")) or None))
    return Response(status_code=204)


def _one_kind(prefix: str, key: str) -> list[Route]:
    one = f"/backoffice/menu/{prefix}/{{{key}:id}}"
    return [
        Route(f"/backoffice/menu/{{site_id:id}}/{prefix}/new", edit_form),
        Route(f"/backoffice/menu/{{site_id:id}}/{prefix}/new", edit_save, methods=["POST"]),
        Route(f"/backoffice/menu/{{site_id:id}}/{prefix}/order", reorder, methods=["POST"]),
        Route(one, edit_form),
        Route(one, edit_save, methods=["POST"]),
        Route(f"{one}/archive", archive, methods=["POST"]),
        Route(f"{one}/restore", restore, methods=["POST"]),
        Route(f"{one}/move", move, methods=["POST"]),
    ]


routes = [
    Route("/backoffice/menu", menu_home),
    Route("/backoffice/menu/{site_id:id}", menu_page),
    *_one_kind("categories", "category_id"),
    *_one_kind("products", "product_id"),
]
