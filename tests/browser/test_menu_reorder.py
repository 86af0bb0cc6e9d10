"""The menu's order from the back office, in a browser: categories and products dragged into
place on a tablet, moved by their arrow buttons (tapped on a phone, where dragging is poor),
the order kept after a reload, and a diner's open menu following at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import start
from tests.browser.conftest import ADMIN, PHONE, TABLET, Venue
from tests.browser.test_backoffice import overflow, shot

pytestmark = pytest.mark.browser

CATEGORIES = "ol[data-sortable] > li[data-id]"
PRODUCTS = "tbody[data-sortable] > tr[data-id]"
DINER_CATEGORIES = "#menu-live section.category"


def ids(page: Page, selector: str) -> list[str]:
    found: list[str] = page.eval_on_selector_all(selector, "(all) => all.map((e) => e.dataset.id)")
    return found


def diner_categories(diner: Page) -> list[str]:
    found: list[str] = diner.eval_on_selector_all(
        DINER_CATEGORIES, "(all) => all.map((e) => e.id.replace('category-', ''))")
    return found


def diner_products(diner: Page, category: str) -> list[str]:
    found: list[str] = diner.eval_on_selector_all(
        f"#category-{category} .product", "(all) => all.map((e) => e.dataset.product)")
    return found


def wait_order(diner: Page, selector: str, attribute: str, wanted: list[str]) -> None:
    """Until the diner's page lists these ids in this order (its live update)."""
    diner.wait_for_function(
        """([selector, attribute, wanted]) => {
            const now = [...document.querySelectorAll(selector)].map((e) =>
                attribute === "id" ? e.id.replace("category-", "") : e.dataset.product);
            return JSON.stringify(now) === JSON.stringify(wanted);
        }""", arg=[selector, attribute, wanted])


def opened(
    venue: Venue, staff: Callable[..., Page], phone: Callable[..., Page],
    viewport: dict[str, int], touch: bool,
) -> tuple[Page, Page, str]:
    """The administrator on the menu page, and a diner at table 1 watching the menu."""
    admin = staff(ADMIN, viewport, touch)
    diner = phone()
    start(diner, venue.table_url(0), "Léa")
    menu = f"{venue.url}/backoffice/menu/{venue.site_id}"
    admin.goto(menu)
    assert overflow(admin) == 0  # no page wider than the screen
    assert diner_categories(diner) == ids(admin, CATEGORIES)
    return admin, diner, menu


def drag_first(page: Page, selector: str, kind: str, index: int) -> list[str]:
    """Drag the list's item at `index` by the mouse onto the top of its first: it goes first;
    returns the new order. The first item is scrolled to the top third of the screen (clear
    of the sticky header), so that no scroll moves the list during the drag."""
    items = page.locator(selector)
    before = ids(page, selector)
    last = before[index]
    items.first.evaluate(
        "(e) => window.scrollBy(0, e.getBoundingClientRect().top - innerHeight / 4)")
    source, target = items.nth(index).bounding_box(), items.first.bounding_box()
    height = (page.viewport_size or {}).get("height", 0)
    assert source and target and source["y"] + source["height"] <= height
    with page.expect_response(
        lambda r: r.url.endswith(f"/{kind}/order") and r.request.method == "POST"
    ) as answer:
        page.mouse.move(source["x"] + 20, source["y"] + source["height"] / 2)
        page.mouse.down()
        page.mouse.move(target["x"] + 20, target["y"] + 4, steps=8)
        # Chromium hands dragover on at intervals: rest on the target until it has.
        for wiggle in range(20):
            if ids(page, selector)[0] == last:
                break
            page.mouse.move(target["x"] + 20 + wiggle % 2, target["y"] + 3)
            page.wait_for_timeout(50)
        page.mouse.up()
    assert answer.value.status == 204
    return [last, *(i for i in before if i != last)]


def tap_move(page: Page, row: str, direction: str, touch: bool) -> None:
    button = page.locator(f"{row} button[data-move={direction}]")
    box = button.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44, box  # a thumb's target
    with page.expect_navigation():  # the answer reloads the page (HX-Refresh)
        if touch:
            button.tap()
        else:
            button.click()


def test_dragging_reorders_the_menu_on_a_tablet_and_a_diner_sees_it_live(
    venue_server: Venue, staff: Callable[..., Page], phone: Callable[..., Page]
) -> None:
    admin, diner, menu = opened(venue_server, staff, phone, TABLET, touch=False)
    before = ids(admin, CATEGORIES)
    assert len(before) >= 3

    dragged = drag_first(admin, CATEGORIES, "categories", len(before) - 1)
    assert ids(admin, CATEGORIES) == dragged
    wait_order(diner, DINER_CATEGORIES, "id", dragged)  # live, without a reload
    admin.reload()
    assert ids(admin, CATEGORIES) == dragged  # kept

    # The arrows do the same, one step at a time.
    tap_move(admin, f"{CATEGORIES}[data-id='{dragged[0]}']", "down", touch=False)
    moved = [dragged[1], dragged[0], *dragged[2:]]
    assert ids(admin, CATEGORIES) == moved
    wait_order(diner, DINER_CATEGORIES, "id", moved)

    # One category's products: dragged too.
    category = moved[0]
    admin.goto(f"{menu}?category={category}")
    products = ids(admin, PRODUCTS)
    assert len(products) >= 2 and diner_products(diner, category) == products
    wanted = drag_first(admin, PRODUCTS, "products", 2)  # the rows on screen, at a tablet's
    wait_order(diner, f"#category-{category} .product", "product", wanted)
    admin.reload()
    assert ids(admin, PRODUCTS) == wanted
    admin.screenshot(path=shot("menu-reorder-tablet.png"), full_page=True)
    assert overflow(admin) == 0


def test_the_arrows_reorder_the_menu_on_a_phone_and_a_diner_sees_it_live(
    venue_server: Venue, staff: Callable[..., Page], phone: Callable[..., Page]
) -> None:
    admin, diner, menu = opened(venue_server, staff, phone, PHONE, touch=True)
    before = ids(admin, CATEGORIES)
    tap_move(admin, f"{CATEGORIES}[data-id='{before[1]}']", "up", touch=True)
    moved = [before[1], before[0], *before[2:]]
    assert ids(admin, CATEGORIES) == moved
    wait_order(diner, DINER_CATEGORIES, "id", moved)

    category = moved[0]
    admin.goto(f"{menu}?category={category}")
    products = ids(admin, PRODUCTS)
    tap_move(admin, f"{PRODUCTS}[data-id='{products[0]}']", "down", touch=True)
    wanted = [products[1], products[0], *products[2:]]
    assert ids(admin, PRODUCTS) == wanted
    wait_order(diner, f"#category-{category} .product", "product", wanted)
    admin.reload()
    assert ids(admin, PRODUCTS) == wanted  # kept
    assert overflow(admin) == 0
    admin.screenshot(path=shot("menu-reorder-phone.png"), full_page=True)
    expect(admin.locator(PRODUCTS).first).to_be_visible()

    # The archive: a category archived (the page asks first), then restored from the menu's
    # archive; the diner's menu loses it and gets it back, last.
    admin.goto(menu)
    first = ids(admin, CATEGORIES)[0]
    admin.once("dialog", lambda dialog: dialog.accept())
    with admin.expect_navigation():
        admin.locator(f"{CATEGORIES}[data-id='{first}'] button.danger").tap()
    assert first not in ids(admin, CATEGORIES)
    diner.wait_for_function("(id) => !document.getElementById('category-' + id)", arg=first)
    with admin.expect_navigation():
        admin.locator("a.archive-link").tap()
    archived = admin.locator(f".archived-categories li[data-id='{first}'] button.restore")
    box = archived.bounding_box()
    assert box and box["height"] >= 44
    assert overflow(admin) == 0
    admin.screenshot(path=shot("menu-archive-phone.png"), full_page=True)
    with admin.expect_navigation():
        archived.tap()
    expect(admin.locator(f".archived-categories li[data-id='{first}']")).to_have_count(0)
    wait_order(diner, DINER_CATEGORIES, "id", [*(i for i in moved if i != first), first])
