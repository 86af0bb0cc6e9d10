"""The menu's pages: forms with their errors beside the fields, audited prices and archives,
photos checked, order by drag or by buttons, archived products off the menu."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select

from demo.seed import DemoVenue
from domain.models import AuditEntry
from ordering.models import Category, Product
from ordering.photos import reencode, sniff
from tests.api.test_tenant import nothing_changes
from tests.backoffice.conftest import Admin, audit_actions
from tests.conftest import Database, client_for


async def _ids(db: Database, venue: DemoVenue) -> tuple[list[int], list[int]]:
    """The site's categories, and the first category's products, in their order."""
    async with db.sessionmaker() as session:
        categories = list((await session.scalars(
            select(Category.id).where(Category.site_id == venue.site_id)
            .order_by(Category.position))).all())
        products = list((await session.scalars(
            select(Product.id).where(Product.category_id == categories[0])
            .order_by(Product.position))).all())
    return categories, products


def _form(category_id: int, **changes: str) -> dict[str, object]:
    return {"reference": "LAT", "category_id": str(category_id), "name": "Latte",
            "description": "", "price": "4.20", "vat_rate": "10", "allergens": ["milk"],
            "station": "", "available": "yes", **changes}


def image(kind: str, size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, kind)
    return out.getvalue()


async def test_the_menu_page_lists_searches_and_paginates(admin: Admin) -> None:
    page = await admin.http.get(f"/backoffice/menu/{admin.site}")
    assert page.status_code == 200
    assert "Espresso" in page.text and "Croque-monsieur" in page.text  # 25: one page
    found = await admin.http.get(f"/backoffice/menu/{admin.site}?q=chocolat")
    assert "Mousse au chocolat" in found.text and "Espresso" not in found.text
    # The demo's 25 products and 10 more: a second page.
    categories = (await admin.http.get(f"/backoffice/menu/{admin.site}")).text
    assert 'aria-current="page">1<' not in categories  # one page: no pages to choose from
    for n in range(10):
        response = await admin.post(
            f"/backoffice/menu/{admin.site}/products/new",
            {**_form(0, reference=f"X{n}", name=f"Extra {n}"),
             "category_id": str(await _first_category(admin))})
        assert response.status_code == 200, response.text
    second = await admin.http.get(f"/backoffice/menu/{admin.site}?page=2")
    assert 'aria-current="page">2<' in second.text
    # Categories in their order, products in theirs: the extras (first category) come
    # first, and the last category's last product moves to page 2.
    assert "Café gourmand" in second.text and "Extra 9" not in second.text
    first = await admin.http.get(f"/backoffice/menu/{admin.site}?page=1")
    assert "Extra 9" in first.text and "Café gourmand" not in first.text


async def _first_category(admin: Admin) -> int:
    page = (await admin.http.get(f"/backoffice/menu/{admin.site}")).text
    return int(page.split('data-id="', 1)[1].split('"', 1)[0])


async def test_a_refused_form_shows_each_error_beside_its_field(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, _ = await _ids(db, venue)
    async with nothing_changes(db):
        response = await admin.post(
            f"/backoffice/menu/{admin.site}/products/new",
            _form(categories[0], name="", price="abc", vat_rate="7", reference="P101"))
    assert response.status_code == 422
    for field in ("name", "price", "vat_rate"):
        assert f'id="error-{field}"' in response.text, field
    assert 'value="abc"' in response.text  # what was typed stays
    taken = await admin.post(f"/backoffice/menu/{admin.site}/products/new",
                             _form(categories[0], reference="P101"))
    assert taken.status_code == 422 and 'id="error-reference"' in taken.text


async def test_a_new_product_reaches_the_menu_and_a_price_change_is_audited(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, _ = await _ids(db, venue)
    created = await admin.post(f"/backoffice/menu/{admin.site}/products/new",
                               _form(categories[0]))
    assert created.status_code == 200 and created.headers["HX-Redirect"].startswith(
        f"/backoffice/menu/{admin.site}")
    async with db.sessionmaker() as session:
        latte = await session.scalar(select(Product).where(Product.reference == "LAT"))
    assert latte and (latte.price, latte.allergens) == (420, "milk")
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    shown = [p for c in menu["categories"] for p in c["products"] if p["id"] == latte.id]
    assert shown and shown[0]["allergens"] == ["milk"]

    edited = await admin.post(f"/backoffice/menu/products/{latte.id}",
                              _form(categories[0], price="4.50"))
    assert edited.status_code == 200, edited.text
    async with db.sessionmaker() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert [(e.action, e.target) for e in entries] == [("product.price", f"product:{latte.id}")]
    assert entries[0].changes["price"] == [420, 450] and entries[0].actor_staff_id


async def test_archiving_asks_for_confirmation_is_audited_and_leaves_the_menu(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    _, products = await _ids(db, venue)
    espresso = products[0]
    async with nothing_changes(db):
        refused = await admin.post(f"/backoffice/menu/products/{espresso}/archive", {})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "not_confirmed"
    archived = await admin.post(f"/backoffice/menu/products/{espresso}/archive",
                                {"confirm": "yes"})
    assert archived.status_code == 200
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    assert espresso not in [p["id"] for c in menu["categories"] for p in c["products"]]
    back = await admin.http.post(f"/api/v1/staff/products/{espresso}/availability",
                                 json={"available": True})
    assert back.status_code == 404  # an archived product is not put back on sale by the POS
    listed = await admin.http.get(f"/backoffice/menu/{admin.site}?archived=1")
    assert "Espresso" in listed.text
    async with db.sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry))
        product = await session.get(Product, espresso)
    assert entry and entry.action == "product.archived" and product and product.archived_at
    restored = await admin.post(f"/backoffice/menu/products/{espresso}/restore")
    assert restored.status_code == 200
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    assert espresso in [p["id"] for c in menu["categories"] for p in c["products"]]


async def test_archiving_a_category_takes_its_products_off_the_menu(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, products = await _ids(db, venue)
    response = await admin.post(f"/backoffice/menu/categories/{categories[0]}/archive",
                                {"confirm": "yes"})
    assert response.status_code == 200
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    assert categories[0] not in [c["id"] for c in menu["categories"]]
    async with db.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
        left = (await session.scalars(
            select(Product.available).where(Product.id.in_(products)))).all()
    assert actions == ["category.archived"] and not any(left)


def _on_menu(menu: dict[str, Any]) -> tuple[list[int], list[int]]:
    return ([c["id"] for c in menu["categories"]],
            [p["id"] for c in menu["categories"] for p in c["products"]])


async def test_restoring_a_category_brings_back_what_was_archived_with_it(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, products = await _ids(db, venue)
    alone = products[0]  # archived on its own first: it stays archived
    await admin.post(f"/backoffice/menu/products/{alone}/archive", {"confirm": "yes"})
    await admin.post(f"/backoffice/menu/categories/{categories[0]}/archive", {"confirm": "yes"})
    archive = await admin.http.get(f"/backoffice/menu/{admin.site}?archived=1")
    assert archive.status_code == 200
    assert f'/backoffice/menu/categories/{categories[0]}/restore' in archive.text
    # A product of an archived category says, on its button, that the category comes too.
    assert "Restaurer avec sa catégorie" in archive.text
    restored = await admin.post(f"/backoffice/menu/categories/{categories[0]}/restore")
    assert restored.status_code == 200
    assert restored.headers["hx-redirect"] == f"/backoffice/menu/{admin.site}?archived=1"
    live_categories, live_products = _on_menu(
        (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json())
    assert live_categories[-1] == categories[0]  # back at the end of the list
    assert set(products[1:]) <= set(live_products) and alone not in live_products
    async with db.sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "category.restored"))
        on_sale = (await session.scalars(
            select(Product.available).where(Product.id.in_(products[1:])))).all()
    assert entry and entry.target == f"category:{categories[0]}" and entry.actor_staff_id
    assert sorted(entry.changes["products"]) == sorted(products[1:])
    assert not any(on_sale)  # sold out until staff put them back on sale
    again = await admin.post(f"/backoffice/menu/categories/{categories[0]}/restore")
    assert again.status_code == 200  # restoring a live category changes nothing


async def test_restoring_a_product_of_an_archived_category_restores_the_category_alone(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, products = await _ids(db, venue)
    await admin.post(f"/backoffice/menu/categories/{categories[0]}/archive", {"confirm": "yes"})
    restored = await admin.post(f"/backoffice/menu/products/{products[0]}/restore")
    assert restored.status_code == 200
    live_categories, live_products = _on_menu(
        (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json())
    assert categories[0] in live_categories
    assert products[0] in live_products and not set(products[1:]) & set(live_products)
    actions = [a for a, _ in await audit_actions(db)]
    assert actions == ["category.archived", "category.restored", "product.restored"]


async def test_a_category_is_not_restored_beside_a_live_twin(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, products = await _ids(db, venue)
    await admin.post(f"/backoffice/menu/categories/{categories[0]}/archive", {"confirm": "yes"})
    async with db.sessionmaker() as session:
        name = (await session.get(Category, categories[0])).name  # type: ignore[union-attr]
    await admin.post(f"/backoffice/menu/{admin.site}/categories/new",
                     {"name": name, "station": "bar"})
    async with nothing_changes(db):
        for url in (f"/backoffice/menu/categories/{categories[0]}/restore",
                    f"/backoffice/menu/products/{products[0]}/restore"):
            refused = await admin.post(url)
            assert refused.status_code == 422, url
            assert refused.json()["error"]["code"] == "menu_invalid"


async def test_categories_are_created_with_field_errors_and_no_twins(admin: Admin) -> None:
    empty = await admin.post(f"/backoffice/menu/{admin.site}/categories/new",
                             {"name": "", "station": ""})
    assert empty.status_code == 422
    assert 'id="error-name"' in empty.text and 'id="error-station"' in empty.text
    twin = await admin.post(f"/backoffice/menu/{admin.site}/categories/new",
                            {"name": "cafés", "station": "bar"})
    assert twin.status_code == 422 and 'id="error-name"' in twin.text
    made = await admin.post(f"/backoffice/menu/{admin.site}/categories/new",
                            {"name": "Vins", "station": "bar"})
    assert made.status_code == 200


async def test_reordering_by_drag_and_by_buttons(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, products = await _ids(db, venue)
    wanted = list(reversed(categories))
    response = await admin.post(f"/backoffice/menu/{admin.site}/categories/order",
                                {"order": ",".join(map(str, wanted))})
    assert response.status_code == 204
    assert (await _ids(db, venue))[0] == wanted
    async with nothing_changes(db):
        partial = await admin.post(f"/backoffice/menu/{admin.site}/categories/order",
                                   {"order": ",".join(map(str, wanted[:-1]))})
        assert partial.status_code == 422
    first = wanted[0]
    await admin.post(f"/backoffice/menu/{admin.site}/categories/order",
                     {"order": ",".join(map(str, categories))})
    moved = await admin.post(f"/backoffice/menu/products/{products[0]}/move",
                             {"direction": "down"})
    assert moved.status_code == 200
    now = (await _ids(db, venue))[1]
    assert now[:2] == [products[1], products[0]]
    dragged = await admin.post(f"/backoffice/menu/{admin.site}/products/order",
                               {"order": ",".join(map(str, products)),
                                "category_id": str(categories[0])})
    assert dragged.status_code == 204 and (await _ids(db, venue))[1] == products
    assert first  # (the categories' order was put back for the products' part)


def test_photos_are_recognised_by_their_bytes_and_re_encoded() -> None:
    for kind, name in (("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")):
        data = image(kind)
        assert sniff(data) == name
        clean, _ = reencode(data)
        assert sniff(clean) == name
    big, _ = reencode(image("PNG", (3000, 1000)))
    assert Image.open(io.BytesIO(big)).size == (1600, 533)


async def test_a_photo_is_accepted_served_and_replaced_and_junk_is_refused(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    _, products = await _ids(db, venue)
    url = f"/backoffice/menu/products/{products[0]}/photo"
    async with nothing_changes(db):
        for name, content in (("x.jpg", b"GIF89a" + b"\0" * 100),  # a GIF named .jpg
                              ("x.png", b"\x89PNG\r\n\x1a\n" + b"junk" * 50),  # truncated
                              ("x.svg", b"<svg onload='alert(1)'/>")):
            refused = await admin.post(url, files={"photo": (name, content, "image/jpeg")})
            assert refused.status_code == 422, name
            assert refused.json()["error"]["code"] == "bad_photo"
        too_big = await admin.post(url, files={"photo": (
            "x.jpg", b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024), "image/jpeg")})
        assert too_big.status_code == 413
    sent = await admin.post(url, files={"photo": ("x.jpg", image("JPEG"), "image/jpeg")})
    assert sent.status_code == 200, sent.text
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    photo = menu["categories"][0]["products"][0]["photo"]
    assert photo and photo.startswith("/media/products/")
    async with client_for(admin.app) as diner:
        served = await diner.get(photo)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert sniff(served.content) == "jpeg"
        assert (await diner.get("/media/products/..%2F..%2Fsettings.py")).status_code == 404
    replaced = await admin.post(url, files={"photo": ("y.webp", image("WEBP"), "image/webp")})
    assert replaced.status_code == 200
    assert (await admin.http.get(photo)).status_code == 404  # the old file went with it


async def test_staff_without_the_configure_permission_reach_no_menu_page(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    """Every menu page and form (the tenant test's list) refuses a cashier, changing nothing."""
    from tests.api.test_bad_input import CASHIER, login
    from tests.api.test_tenant import PAGES, ROUTES

    categories, products = await _ids(db, venue)
    ids = {"site": venue.site_id, "category": categories[0], "product": products[0]}
    forms = [(path, body) for _, path, body, _ in ROUTES if path.startswith("/backoffice/menu")]
    pages = [path for path in PAGES if path.startswith("/backoffice/menu")]
    assert len(forms) >= 16 and len(pages) >= 9
    async with client_for(admin.app) as cashier:
        csrf = await login(cashier, *CASHIER)
        async with nothing_changes(db):
            await _refused(cashier, csrf, pages, forms, ids)


async def _refused(cashier: Any, csrf: str, pages: list[str],
                   forms: list[tuple[str, Any]], ids: dict[str, int]) -> None:
    from tests.api.test_tenant import _fill

    for path in pages:
        page = await cashier.get(_fill(path, ids))
        assert page.status_code == 403, path
    for path, body in forms:
        post = await cashier.post(_fill(path, ids), data=_fill(body, ids),
                                  headers={"x-csrf-token": csrf})
        assert post.status_code == 403, path


async def test_every_menu_page_renders_for_its_manager(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, products = await _ids(db, venue)
    home = await admin.http.get("/backoffice/menu")
    assert home.status_code == 303 and home.headers["location"] == f"/backoffice/menu/{admin.site}"
    for url, text in (
        (f"/backoffice/menu/{admin.site}/categories/new", "Nouvelle catégorie"),
        (f"/backoffice/menu/categories/{categories[0]}", "Cafés"),
        (f"/backoffice/menu/{admin.site}/products/new", "Nouveau produit"),
        (f"/backoffice/menu/products/{products[0]}", 'value="P101"'),
        (f"/backoffice/menu/{admin.site}/import", "Télécharger le modèle (Excel)"),
        (f"/backoffice/menu/{admin.site}?category={categories[0]}", "data-sortable"),
    ):
        page = await admin.http.get(url)
        assert page.status_code == 200, url
        assert text in page.text, url


async def test_a_products_own_station_gets_its_ticket(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    """A dessert made at the bar: its ticket goes to the bar, not to its category's kitchen."""
    from sqlalchemy import update

    from ordering.models import Ticket
    from tests.api.test_bad_input import key

    async with db.sessionmaker() as session, session.begin():
        tatin = await session.scalar(select(Product).where(Product.name == "Tarte Tatin"))
        assert tatin is not None
        await session.execute(update(Product).where(Product.id == tatin.id).values(station="bar"))
    token = venue.table_tokens[0][1]
    async with client_for(admin.app) as lea:
        await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        added = await lea.post(f"/api/v1/tables/{token}/cart/lines",
                               json={"client_id": key(), "product_id": tatin.id, "quantity": 1})
        assert added.status_code == 201, added.text
        sent = await lea.post(f"/api/v1/tables/{token}/rounds", json={"idempotency_key": key()})
        round_id = sent.json()["round"]["id"]
    validated = await admin.http.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
    assert validated.status_code == 200, validated.text
    async with db.sessionmaker() as session:
        stations = (await session.scalars(
            select(Ticket.station).where(Ticket.round_id == round_id))).all()
    assert stations == ["bar"]
    bar = (await admin.http.get(f"/api/v1/staff/sites/{admin.site}/stations/bar")).json()
    assert [line["name"] for t in bar["tickets"] for line in t["lines"]] == ["Tarte Tatin"]
    kitchen = (await admin.http.get(f"/api/v1/staff/sites/{admin.site}/stations/kitchen")).json()
    assert kitchen["tickets"] == []


async def test_prices_and_vat_rates_are_written_the_readers_way(admin: Admin, db: Database
                                                                ) -> None:
    """A French form shows 3,50 and 5,5 %, as people there write them; an English one 3.50."""
    async with db.sessionmaker() as session:
        product = await session.scalar(select(Product).order_by(Product.id))
        assert product is not None
    admin.http.cookies.set("lang", "fr")
    response = await admin.post(f"/backoffice/menu/products/{product.id}",
                                _form(product.category_id, reference=product.reference or "",
                                      name=product.name, price="3,50", vat_rate="5,5"))
    assert response.status_code == 200, response.text
    async with db.sessionmaker() as session:
        saved = await session.get(Product, product.id)
        assert saved is not None and (saved.price, saved.vat_rate) == (350, 550)
    french = (await admin.http.get(f"/backoffice/menu/products/{product.id}")).text
    assert 'name="price" value="3,50"' in french and 'placeholder="3,50"' in french
    assert 'selected>5,5 %</option>' in french
    listing = (await admin.http.get(f"/backoffice/menu/{admin.site}")).text
    assert ">5,5 %</td>" in listing and ">5.5 %<" not in listing
    admin.http.cookies.set("lang", "en")
    english = (await admin.http.get(f"/backoffice/menu/products/{product.id}")).text
    assert 'name="price" value="3.50"' in english and 'selected>5.5 %</option>' in english
