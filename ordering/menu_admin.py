"""What managers do with a site's menu: categories and products, their order, archives.

Each change publishes `menu.changed` on `menu:{site_id}` after commit, so open menus follow;
price changes, archives and restores are written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from babel.numbers import get_currency_precision
from sqlalchemy import func, select, update

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import on_site, site_for
from domain import audit
from errors import N_
from ordering.menu_errors import BadOrder, MenuInvalid, NotConfirmed
from ordering.menu_rules import Problem, ProductFields, check_category, check_product
from ordering.models import Category, Product
from ordering.publishing import menu_changed
from realtime.events import Tx

M = TypeVar("M", Category, Product)
Kind = Literal["categories", "products"]
_NOUN: dict[Kind, str] = {"categories": "category", "products": "product"}
# What a product's audit entry and the import compare (allergens as stored: comma-separated).
COMPARED = ("category_id", "name", "description", "price", "vat_rate", "allergens", "station",
            "available")


async def menu_site(tx: Tx, staff: StaffIdentity | None, site_id: object) -> Site:
    """The site whose menu this staff member may change (another company's: not found)."""
    site = await site_for(tx.session, staff, site_id)
    assert staff is not None
    staff.require(Permission.CONFIGURE)
    return site


async def decimals_of(tx: Tx, site: Site) -> int:
    currency = await tx.session.scalar(
        select(Company.currency).where(Company.id == site.company_id))
    return int(get_currency_precision(currency or "EUR"))


async def _own(tx: Tx, staff: StaffIdentity | None, model: type[M], object_id: object) -> M:
    found = await on_site(tx.session, staff, model, object_id)
    assert staff is not None
    staff.require(Permission.CONFIGURE)
    return found


async def category_of(tx: Tx, staff: StaffIdentity | None, category_id: object) -> Category:
    return await _own(tx, staff, Category, category_id)


async def product_of(tx: Tx, staff: StaffIdentity | None, product_id: object) -> Product:
    return await _own(tx, staff, Product, product_id)


async def _next_position(tx: Tx, column: Any, *where: Any) -> int:
    last = await tx.session.scalar(select(func.max(column)).where(*where))
    return 0 if last is None else int(last) + 1


async def _published(
    tx: Tx, site_id: int, change: dict[str, Any], products: Sequence[int] = ()
) -> None:
    """`products`: those whose price, name or availability changed (open carts follow)."""
    await tx.session.flush()
    await menu_changed(tx, site_id, change, products)


# Categories ------------------------------------------------------------------------------

async def create_category(
    tx: Tx, staff: StaffIdentity, site_id: object, values: Mapping[str, str]
) -> Category:
    site = await menu_site(tx, staff, site_id)
    checked, problems = check_category(values)
    if checked is None:
        raise MenuInvalid(problems)
    await _unique_category(tx, site.id, checked[0], None)
    category = Category(
        site_id=site.id, name=checked[0], station=checked[1],
        position=await _next_position(tx, Category.position, Category.site_id == site.id),
    )
    tx.session.add(category)
    await tx.session.flush()
    await _published(tx, site.id, {"category_id": category.id, "created": True})
    return category


async def _unique_category(tx: Tx, site_id: int, name: str, own_id: int | None) -> None:
    """Imports name categories: two live ones of the same name could not be told apart."""
    same = await tx.session.scalar(
        select(Category.id).where(
            Category.site_id == site_id, func.lower(Category.name) == name.lower(),
            Category.archived_at.is_(None), Category.id != (own_id or 0),
        )
    )
    if same is not None:
        raise MenuInvalid([Problem("name", N_("A category of this name already exists."))])


async def update_category(
    tx: Tx, staff: StaffIdentity, category_id: object, values: Mapping[str, str]
) -> Category:
    category = await category_of(tx, staff, category_id)
    checked, problems = check_category(values)
    if checked is None:
        raise MenuInvalid(problems)
    await _unique_category(tx, category.site_id, checked[0], category.id)
    if (category.name, category.station) != checked:
        category.name, category.station = checked
        await _published(tx, category.site_id, {"category_id": category.id})
    return category


# Products ---------------------------------------------------------------------------------

async def _live_category(tx: Tx, site_id: int, category_id: object) -> int | None:
    if not isinstance(category_id, int):
        return None
    return await tx.session.scalar(
        select(Category.id).where(Category.id == category_id, Category.site_id == site_id,
                                  Category.archived_at.is_(None))
    )


def _category_id(values: Mapping[str, str]) -> object:
    raw = str(values.get("category_id") or "")
    return int(raw) if raw.isdecimal() and len(raw) < 19 else None


async def _reference_free(tx: Tx, site_id: int, reference: str, own_id: int | None) -> None:
    taken = await tx.session.scalar(
        select(Product.id).where(Product.site_id == site_id, Product.reference == reference,
                                 Product.id != (own_id or 0))
    )
    if taken is not None:
        raise MenuInvalid([Problem("reference", N_("Another product has this reference."))])


def stored(fields: ProductFields) -> dict[str, Any]:
    """The product's columns as `fields` would set them."""
    return {
        "category_id": fields.category_id, "name": fields.name,
        "description": fields.description, "price": fields.price,
        "vat_rate": fields.vat_rate, "vat_rate_takeaway": fields.vat_rate_takeaway,
        "allergens": ",".join(fields.allergens),
        "station": fields.station, "available": fields.available,
    }


async def _checked(tx: Tx, site: Site, values: Mapping[str, str]) -> ProductFields:
    category = await _live_category(tx, site.id, _category_id(values))
    fields, problems = check_product(
        {**values, "category": str(values.get("category_id") or "")}, category,
        await decimals_of(tx, site),
    )
    if fields is None:
        raise MenuInvalid(problems)
    return fields


async def create_product(
    tx: Tx, staff: StaffIdentity, site_id: object, values: Mapping[str, str]
) -> Product:
    site = await menu_site(tx, staff, site_id)
    fields = await _checked(tx, site, values)
    await _reference_free(tx, site.id, fields.reference, None)
    product = Product(
        site_id=site.id, reference=fields.reference, **stored(fields),
        position=await _next_position(tx, Product.position,
                                      Product.category_id == fields.category_id),
    )
    tx.session.add(product)
    await tx.session.flush()
    await _published(tx, site.id, {"product_id": product.id, "created": True})
    return product


async def apply_fields(
    tx: Tx, staff_id: int | None, company_id: int, product: Product, fields: ProductFields,
    *, restore: bool = True,
) -> dict[str, list[Any]]:
    """Write what differs (an archived product comes back when `restore`); a change of price
    or VAT rate goes to the audit log. Returns the changes, empty when there were none."""
    wanted = stored(fields)
    if product.archived_at is not None and not restore:
        wanted["available"] = False  # archived products stay unavailable
    changes = {key: [getattr(product, key), value]
               for key, value in wanted.items() if getattr(product, key) != value}
    if product.reference != fields.reference:
        changes["reference"] = [product.reference, fields.reference]
    for key, (_, value) in changes.items():
        setattr(product, key, value)
    if product.archived_at is not None and restore:
        changes["archived"] = [True, False]
        product.archived_at = None
    if changes.keys() & {"price", "vat_rate", "vat_rate_takeaway"}:
        await audit.record(
            tx, staff_id, company_id, "product.price", f"product:{product.id}",
            {k: v for k, v in changes.items() if k in ("price", "vat_rate", "vat_rate_takeaway")}
            | {"name": product.name},
        )
    return changes


async def update_product(
    tx: Tx, staff: StaffIdentity, product_id: object, values: Mapping[str, str]
) -> Product:
    product = await product_of(tx, staff, product_id)
    site = await tx.session.get(Site, product.site_id)
    assert site is not None
    fields = await _checked(tx, site, values)
    await _reference_free(tx, site.id, fields.reference, product.id)
    changed = await apply_fields(tx, staff.id, staff.company_id, product, fields, restore=False)
    if changed:
        await _published(tx, product.site_id, {"product_id": product.id,
                                                "fields": sorted(changed),
                                                "product": product.name}
                         | ({"available": product.available} if "available" in changed else {}),
                         [product.id])
    return product


async def restore_product(tx: Tx, staff: StaffIdentity, product_id: object) -> Product:
    """Back on the menu, sold out until staff say it is on sale. An archived category comes
    back with it (alone: its other archived products stay archived), since a product is
    only on the menu inside its category; the page's button says so before the click."""
    product = await product_of(tx, staff, product_id)
    if product.archived_at is None:
        return product
    category = await category_of(tx, staff, product.category_id)
    if category.archived_at is not None:
        await _restore_category(tx, staff, category, [])
    product.archived_at = None
    await audit.record(tx, staff.id, staff.company_id, "product.restored",
                       f"product:{product.id}", {"name": product.name})
    await _published(tx, product.site_id, {"product_id": product.id, "restored": True})
    return product


async def restore_category(tx: Tx, staff: StaffIdentity, category_id: object) -> Category:
    """Undo an archive: the category comes back last in the list, with the products that
    were archived with it (sold out until staff say they are on sale); products archived
    on their own before it stay archived."""
    category = await category_of(tx, staff, category_id)
    if category.archived_at is None:
        return category
    products = list((await tx.session.scalars(
        select(Product).where(Product.category_id == category.id,
                              Product.archived_at == category.archived_at)
        .order_by(Product.position, Product.id)
    )).all())
    for product in products:
        product.archived_at = None
    await _restore_category(tx, staff, category, [p.id for p in products])
    await _published(tx, category.site_id, {"category_id": category.id, "restored": True})
    return category


async def _restore_category(
    tx: Tx, staff: StaffIdentity, category: Category, products: list[int]
) -> None:
    """Live again, at the end of the list; refused while a live category has its name."""
    await _unique_category(tx, category.site_id, category.name, category.id)
    category.archived_at = None
    category.position = await _next_position(
        tx, Category.position, Category.site_id == category.site_id)
    await audit.record(tx, staff.id, staff.company_id, "category.restored",
                       f"category:{category.id}", {"name": category.name, "products": products})


async def set_photo(
    tx: Tx, staff: StaffIdentity, product_id: object, key: str | None
) -> str | None:
    """The product's photo is now `key` (None: no photo); returns the one it replaced."""
    product = await product_of(tx, staff, product_id)
    old = product.photo
    if old != key:
        product.photo = key
        await _published(tx, product.site_id, {"product_id": product.id, "photo": True})
    return old


# Order ------------------------------------------------------------------------------------


async def _siblings(tx: Tx, kind: Kind, site_id: int, category_id: int | None) -> list[Any]:
    if kind == "categories":
        query = select(Category).where(Category.site_id == site_id,
                                       Category.archived_at.is_(None))
        return list((await tx.session.scalars(query.order_by(Category.position,
                                                             Category.id))).all())
    query2 = select(Product).where(Product.site_id == site_id,
                                   Product.category_id == category_id,
                                   Product.archived_at.is_(None))
    return list((await tx.session.scalars(query2.order_by(Product.position, Product.id))).all())


async def _write_order(tx: Tx, items: Sequence[Any], site_id: int, kind: Kind) -> None:
    moved = False
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            moved = True
    if moved:
        await _published(tx, site_id, {"reordered": kind})


async def reorder(
    tx: Tx, staff: StaffIdentity, site_id: object, kind: Kind, order: Sequence[int],
    category_id: object = None,
) -> None:
    """Put the site's categories (or one category's products) in this order: each exactly
    once, as the page listed them."""
    site = await menu_site(tx, staff, site_id)
    parent = None
    if kind == "products":
        parent = await _live_category(tx, site.id, category_id)
        if parent is None:
            raise BadOrder()
    items = await _siblings(tx, kind, site.id, parent)
    by_id = {item.id: item for item in items}
    if sorted(order) != sorted(by_id) or len(set(order)) != len(order):
        raise BadOrder()
    await _write_order(tx, [by_id[i] for i in order], site.id, kind)


async def move(
    tx: Tx, staff: StaffIdentity, kind: Kind, object_id: object, direction: str
) -> None:
    """One step up or down: the keyboard's (and the touch screen's) way to reorder."""
    item = await one_of(tx, staff, kind, object_id)
    parent = item.category_id if isinstance(item, Product) else None
    items = await _siblings(tx, kind, item.site_id, parent)
    if item not in items or direction not in ("up", "down"):
        raise BadOrder()
    at = items.index(item)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(items):
        items[at], items[to] = items[to], items[at]
    await _write_order(tx, items, item.site_id, kind)


# One entry for either kind (the back office's pages) ----------------------------------------

async def one_of(tx: Tx, staff: StaffIdentity, kind: Kind, object_id: object) -> Category | Product:
    """The category or product this staff member may change (another site's: not found)."""
    if kind == "categories":
        return await category_of(tx, staff, object_id)
    return await product_of(tx, staff, object_id)


async def save(
    tx: Tx, staff: StaffIdentity, kind: Kind, values: Mapping[str, str], *,
    item_id: object = None, site_id: object = None,
) -> Category | Product:
    """Create one under `site_id` (no `item_id`), or change the one `item_id` names."""
    if kind == "categories":
        if item_id is None:
            return await create_category(tx, staff, site_id, values)
        return await update_category(tx, staff, item_id, values)
    if item_id is None:
        return await create_product(tx, staff, site_id, values)
    return await update_product(tx, staff, item_id, values)


async def archive(
    tx: Tx, staff: StaffIdentity, kind: Kind, object_id: object, confirm: str
) -> Category | Product:
    """Off the menu, once the page asked (`confirm=yes`): a product sold out until restored;
    a category with its live products. Orders keep naming them."""
    item = await one_of(tx, staff, kind, object_id)
    if confirm != "yes":
        raise NotConfirmed()
    if item.archived_at is not None:
        return item
    now = datetime.now(UTC)
    item.archived_at = now
    changes: dict[str, Any] = {"name": item.name}
    if isinstance(item, Category):
        products = (await tx.session.scalars(
            select(Product.id).where(Product.category_id == item.id,
                                     Product.archived_at.is_(None))
        )).all()
        await tx.session.execute(
            update(Product).where(Product.id.in_(products))
            .values(archived_at=now, available=False)
            .execution_options(synchronize_session=False)
        )
        changes["products"] = gone = list(products)
        change: dict[str, Any] = {"category_id": item.id, "archived": True}
    else:
        item.available = False
        changes["reference"] = item.reference
        gone = [item.id]
        change = {"product_id": item.id, "archived": True, "product": item.name,
                  "available": False}
    noun = _NOUN[kind]
    await audit.record(tx, staff.id, staff.company_id, f"{noun}.archived",
                       f"{noun}:{item.id}", changes)
    await _published(tx, item.site_id, change, gone)  # open carts holding them follow
    return item


async def restore(
    tx: Tx, staff: StaffIdentity, kind: Kind, object_id: object
) -> Category | Product:
    if kind == "categories":
        return await restore_category(tx, staff, object_id)
    return await restore_product(tx, staff, object_id)
